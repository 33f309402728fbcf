"""Sweep files name their axes: levers (the platform's choices) and uncertainties (the world's
unknowns), each a grid or a sample; a path on the wrong side, or an old untyped [grid] or
[sample], is a one-line error that says where the path belongs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from analysis.load import load
from sim.errors import ScenarioError
from sim.experiment import execute
from sim.sweep import load_sweep
from tests.conftest import ROOT, sweep_file


def _sweep(tmp_path: Path, body: str, days: int = 3, name: str = "t") -> Path:
    return sweep_file(tmp_path, "replications = 1\n" + body, days=days, name=name)


def _error(path: Path) -> str:
    with pytest.raises(ScenarioError) as info:
        load_sweep(path)
    return info.value.message


# ---------------------------------------------------------------------------------------
# Old-style files
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field", "moves"), [
    ('[grid]\n"policy.detection.threshold" = [2.0, 3.0]\n', "grid", ["[levers.grid]", "[uncertainties.grid]"]),
    ('[sample]\nn = 2\nranges = { "policy.referral_fee" = [0.01, 0.1] }\n', "sample",
     ["[levers.sample]", "[uncertainties.sample]"]),
])
def test_old_style_grid_or_sample_says_where_to_move_the_paths(tmp_path, body, field, moves):
    """A top-level [grid] or [sample] is refused with one error naming the file, the table and both new tables."""
    path = _sweep(tmp_path, body)
    message = _error(path)
    assert message.startswith(f"{path}: {field}: sweep files now name their axes")
    assert all(m in message for m in moves) and "README" in message


def test_old_style_file_exits_2_in_one_line_and_writes_nothing(tmp_path):
    """`livesim sweep` on an old-style file exits 2 with one stderr line, no traceback and no results folder."""
    path = _sweep(tmp_path, '[grid]\n"policy.detection.threshold" = [2.0, 3.0]\n')
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "[levers.grid]" in proc.stderr and str(path) in proc.stderr
    assert not out.exists()


# ---------------------------------------------------------------------------------------
# Paths on the wrong side
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("body", "field", "belongs"), [
    ('[levers.grid]\n"world.adaptation.learning_rate" = [0.1, 0.5]\n',
     "levers.grid.world.adaptation.learning_rate", "[uncertainties.grid]"),
    ('[levers.grid]\nn_buyers = [1000, 2000]\n', "levers.grid.n_buyers", "[uncertainties.grid]"),
    ('[levers.sample]\nn = 2\nranges = { "world.adaptation.learning_rate" = [0.1, 0.5] }\n',
     "levers.sample.ranges.world.adaptation.learning_rate", "[uncertainties.sample]"),
    ('[uncertainties.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n',
     "uncertainties.grid.policy.detection.threshold", "[levers.grid]"),
    ('[uncertainties.grid]\n"timeline.sale.start_day" = [1, 2]\n', "uncertainties.grid.timeline.sale.start_day",
     "[levers.grid]"),
    ('[uncertainties.sample]\nn = 2\nranges = { "policy_overrides.sg.review.capacity_per_day" = [10, 20] }\n',
     "uncertainties.sample.ranges.policy_overrides.sg.review.capacity_per_day", "[levers.sample]"),
])
def test_a_path_on_the_wrong_side_is_an_error_saying_where_it_belongs(tmp_path, body, field, belongs):
    """A world.* path among the levers, or a policy/timeline path among the uncertainties, names the file,
    the key and the table it belongs in."""
    path = _sweep(tmp_path, body)
    message = _error(path)
    assert message.startswith(f"{path}: {field}: ")
    assert belongs in message


@pytest.mark.parametrize("variant", [
    '[variants.hot]\n"world.adaptation.learning_rate" = 0.5\n',
    '[variants.hot.world.adaptation]\nlearning_rate = 0.5\n',
])
def test_a_world_path_in_a_variant_is_an_error(tmp_path, variant):
    """Variants are policy choices: a world.* key in one (dotted or nested) points to the uncertainties."""
    path = _sweep(tmp_path, variant)
    message = _error(path)
    assert message.startswith(f"{path}: variants.hot.world.adaptation.learning_rate: ")
    assert "[uncertainties.grid]" in message


@pytest.mark.parametrize(("body", "field", "says"), [
    ('[levers.grid]\ndays = [3, 4]\n', "levers.grid.days", "top of the sweep file"),
    ('[uncertainties.grid]\nseed = [1, 2]\n', "uncertainties.grid.seed", "replications"),
    ('[variants.longer]\ndays = 4\n', "variants.longer.days", "top of the sweep file"),
])
def test_run_settings_are_not_axes(tmp_path, body, field, says):
    """`days` and `seed` are on neither side: the error says the run length is the top-level days and
    seeds come from replications."""
    path = _sweep(tmp_path, body)
    message = _error(path)
    assert message.startswith(f"{path}: {field}: ") and says in message


def test_a_misspelt_uncertainty_still_gets_a_suggestion(tmp_path):
    """An unknown path among the uncertainties is reported by the override check, with the closest name."""
    message = _error(_sweep(tmp_path, '[uncertainties.grid]\n"world.adaptation.lerning_rate" = [0.1, 0.5]\n'))
    assert "lerning_rate" in message and "learning_rate" in message


def test_grid_and_sample_on_one_side_is_an_error(tmp_path):
    """One side takes a grid or a sample, not both."""
    body = ('[uncertainties.grid]\n"world.adaptation.learning_rate" = [0.1]\n[uncertainties.sample]\nn = 2\n'
            'ranges = { "world.buyers.report_rate" = [0.01, 0.03] }\n')
    message = _error(_sweep(tmp_path, body))
    assert "uncertainties.grid" in message and "not both" in message


# ---------------------------------------------------------------------------------------
# Crossing levers with uncertainties
# ---------------------------------------------------------------------------------------


def test_lever_grid_crossed_with_uncertainty_grid(tmp_path):
    """Both grids give their cartesian product, lever points outer; the design stays `grid` and the
    manifest's config lists each side's paths."""
    body = ('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n'
            '[uncertainties.grid]\n"world.adaptation.learning_rate" = [0.1, 0.3, 0.5]\n')
    sweep = load_sweep(_sweep(tmp_path, body))
    assert sweep.points == [{"policy.detection.threshold": t, "world.adaptation.learning_rate": lr}
                            for t in (2.0, 3.0) for lr in (0.1, 0.3, 0.5)]
    assert sweep.design == "grid"
    assert sweep.config_document()["axes"] == {"levers": ["policy.detection.threshold"],
                                               "uncertainties": ["world.adaptation.learning_rate"]}
    runs = sweep.runs()
    assert [(r.scenario.policy.detection.threshold, r.scenario.world.adaptation.learning_rate) for r in runs] == [
        (p["policy.detection.threshold"], p["world.adaptation.learning_rate"]) for p in sweep.all_points]
    assert sweep.all_points[6:] == [{"policy.detection.threshold": 2.5, "world.adaptation.learning_rate": lr}
                                    for lr in (0.1, 0.3, 0.5)]  # the base's own threshold, on every world


def test_every_lever_point_meets_the_same_sampled_worlds(tmp_path):
    """A lever grid crossed with an uncertainty sample runs every lever value on the same sampled worlds;
    a sampled side makes the design `sample`."""
    body = ('[levers.grid]\n"policy.review.capacity_per_day" = [50, 400]\n'
            '[uncertainties.sample]\nn = 4\nseed = 5\nranges = { "world.buyers.report_rate" = [0.01, 0.03] }\n')
    sweep = load_sweep(_sweep(tmp_path, body))
    assert len(sweep.points) == 8 and sweep.design == "sample"
    worlds = {cap: [p["world.buyers.report_rate"] for p in sweep.points if p["policy.review.capacity_per_day"] == cap]
              for cap in (50, 400)}
    assert worlds[50] == worlds[400] and len(set(worlds[50])) == 4
    assert all(0.01 <= v <= 0.03 for v in worlds[50])


def test_uncertainties_alone_vary_the_world_only(tmp_path):
    """An uncertainty grid without levers changes the world and leaves every variant's policy as it was."""
    body = ('[variants.strict]\npolicy_preset = "strict"\n'
            '[uncertainties.grid]\n"world.adaptation.learning_rate" = [0.1, 0.5]\n')
    sweep = load_sweep(_sweep(tmp_path, body))
    assert sweep.config_document()["axes"] == {"levers": [], "uncertainties": ["world.adaptation.learning_rate"]}
    for run in sweep.runs():
        assert run.scenario.policy == sweep.variants[run.variant].policy
        assert run.scenario.world.adaptation.learning_rate == run.params["world.adaptation.learning_rate"]


def test_too_many_crossed_points_is_an_error_before_they_are_made(tmp_path):
    """Levers x uncertainties beyond 100,000 points is refused, naming both sides' sizes."""
    body = (f'[levers.grid]\n"policy.review.capacity_per_day" = {list(range(400))}\n'
            f'[uncertainties.grid]\n"world.creators.arrival_rate" = {[i / 10_000 for i in range(400)]}\n')
    message = _error(_sweep(tmp_path, body))
    assert "points" in message and "160000" in message and "levers: 400" in message


def test_crossed_sweep_stores_both_sides_as_columns(tmp_path):
    """A crossed sweep runs, stores each lever and uncertainty value as a column, and records the axes in
    the manifest."""
    body = ('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n'
            '[uncertainties.grid]\n"world.buyers.report_rate" = [0.0, 0.05]\n')
    out = tmp_path / "out"
    execute(load_sweep(_sweep(tmp_path, body)), out, workers=1)
    summary = load(out).summary
    allm = summary[summary["market"] == "all"]
    pairs = sorted(zip(allm["policy.detection.threshold"], allm["world.buyers.report_rate"], strict=True))
    # The grid, and the base scenario's own threshold (2.5) as the reference on both worlds.
    assert pairs == [(2.0, 0.0), (2.0, 0.05), (2.5, 0.0), (2.5, 0.05), (3.0, 0.0), (3.0, 0.05)]
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["axes"] == {"levers": ["policy.detection.threshold"],
                                          "uncertainties": ["world.buyers.report_rate"]}
