"""Sweeps: paired variants, identical results whatever the workers or backend, storage that never loses work."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import mesa
import numpy as np
import pandas as pd
import pytest

import sim.runner
from analysis.load import load, query
from sim import LiveShopModel
from sim.cli import main
from sim.errors import ScenarioError
from sim.experiment import execute
from sim.metrics import METRICS
from sim.sweep import load_sweep
from tests.conftest import BASELINE, ROOT, sweep_file

TINY_SCENARIO = """
[scenario]
name = "tiny"
days = {days}
seed = 7
[scenario.world]
n_buyers = 2500
n_creators = 100
"""


def _sweep_file(tmp_path: Path, body: str, days: int = 12, name: str = "t") -> Path:
    return sweep_file(tmp_path, body, days=days, name=name, buyers=2500, creators=100)


def _summary(out: Path) -> pd.DataFrame:
    s = load(out).summary
    return s.sort_values(["run_id", "market"]).reset_index(drop=True)


def test_a_a_sweep_gives_zero_paired_difference(tmp_path):
    """Two identical variants give exactly the same results in every replication (common random numbers)."""
    path = _sweep_file(tmp_path, 'replications = 3\n[variants.a]\n"policy.referral_fee" = 0.07\n'
                                 '[variants.b]\n"policy.referral_fee" = 0.07\n')
    out = tmp_path / "out"
    execute(load_sweep(path), out, workers=1)
    s = load(out).summary
    s = s[s["market"] == "all"]
    a = s[s["variant"] == "a"].set_index("replication")[list(METRICS)].sort_index()
    b = s[s["variant"] == "b"].set_index("replication")[list(METRICS)].sort_index()
    assert len(a) == 3
    pd.testing.assert_frame_equal(a, b)
    assert a["gmv"].nunique() == 3  # replications are different worlds


def test_variants_are_paired_on_the_same_worlds(tmp_path):
    """Replication r of every variant starts from the same world: day-1 streams and the buyers
    still shopping at its end (no order has settled yet, so no policy has touched them) match."""
    path = _sweep_file(tmp_path, 'replications = 2\n[variants.strict]\npolicy_preset = "strict"\n')
    out = tmp_path / "out"
    execute(load_sweep(path), out, workers=1)
    d = load(out).daily
    d1 = d[(d["day"] == 1) & (d["market"] == "all")].set_index(["replication", "variant"])
    for r in (0, 1):
        assert d1.loc[(r, "baseline"), "streams"] == d1.loc[(r, "strict"), "streams"]
        assert d1.loc[(r, "baseline"), "active_buyers"] == d1.loc[(r, "strict"), "active_buyers"]
    assert d1.loc[(0, "baseline"), "streams"] != d1.loc[(1, "baseline"), "streams"]


def test_one_and_two_workers_give_identical_results(tmp_path):
    """The number of workers does not change any result."""
    path = _sweep_file(tmp_path, 'replications = 2\n[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n')
    execute(load_sweep(path), tmp_path / "w1", workers=1)
    execute(load_sweep(path), tmp_path / "w2", workers=2)
    pd.testing.assert_frame_equal(_summary(tmp_path / "w1"), _summary(tmp_path / "w2"))
    d1 = load(tmp_path / "w1").daily.sort_values(["run_id", "day", "market"]).reset_index(drop=True)
    d2 = load(tmp_path / "w2").daily.sort_values(["run_id", "day", "market"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(d1, d2)


def test_dask_local_cluster_matches_the_process_pool(tmp_path):
    """The dask backend gives the same results as the local pool."""
    pytest.importorskip("dask.distributed")
    path = _sweep_file(tmp_path, 'replications = 2\n[variants.lenient]\npolicy_preset = "lenient"\n')
    execute(load_sweep(path), tmp_path / "pool", workers=2)
    execute(load_sweep(path), tmp_path / "dask", workers=2, backend="dask")
    pd.testing.assert_frame_equal(_summary(tmp_path / "pool"), _summary(tmp_path / "dask"))


def test_a_failing_run_does_not_stop_the_others(tmp_path, monkeypatch):
    """A run that raises is recorded as failed with its error; every other run completes."""
    real_run = sim.runner.run

    def flaky(scenario, replication=0, **kw):
        if replication == 1:
            raise RuntimeError("boom in replication 1")
        return real_run(scenario, replication=replication, **kw)

    monkeypatch.setattr(sim.runner, "run", flaky)
    path = _sweep_file(tmp_path, "replications = 3\n")
    out = tmp_path / "out"
    outcome = execute(load_sweep(path), out, workers=1)
    assert (outcome.done, outcome.failed) == (2, 1)
    runs = load(out).runs.set_index("run_id")
    assert runs.loc["baseline__p0000__r001", "status"] == "failed"
    assert "boom in replication 1" in runs.loc["baseline__p0000__r001", "error"]
    assert set(load(out).summary["replication"]) == {0, 2}

    monkeypatch.setattr(sim.runner, "run", real_run)
    again = execute(load_sweep(path), out, workers=1, resume=True)
    assert (again.done, again.failed, again.skipped) == (1, 0, 2)
    assert set(load(out).summary["replication"]) == {0, 1, 2}


def test_resume_after_a_kill_completes_without_duplicates_or_losses(tmp_path):
    """A sweep killed with SIGKILL mid-way resumes: every run exactly once, every shard readable."""
    path = _sweep_file(tmp_path, "replications = 8\n", days=25)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    manifest = out / "manifest.json"
    deadline = time.time() + 120
    done = 0
    while time.time() < deadline:
        # The shards are the record of finished runs (the manifest may lag a little).
        done = len([p for p in (out / "summary").glob("*.parquet")]) if (out / "summary").exists() else 0
        if done >= 2:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out / "summary").glob("*.parquet")))
    assert 2 <= done < 8, "the sweep must be killed mid-way"
    # Whatever was written is readable now.
    partial = query(out, "SELECT count(*) AS n FROM summary WHERE market = 'all'")
    assert int(partial["n"][0]) == done

    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--resume", "--quiet"]) == 0
    s = load(out).summary
    s = s[s["market"] == "all"]
    assert sorted(s["replication"]) == list(range(8))
    assert s["run_id"].is_unique
    assert all(r["status"] == "done" for r in json.loads(manifest.read_text())["runs"].values())
    assert not list(out.glob("*/.*.tmp"))


def test_existing_results_need_resume_or_overwrite(tmp_path, capsys):
    """Running into a folder that holds a sweep is refused unless --resume or --overwrite."""
    path = _sweep_file(tmp_path, "replications = 1\n", days=5)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 2
    assert "--resume" in capsys.readouterr().err
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", "--overwrite"]) == 0


def test_resume_refuses_a_changed_sweep(tmp_path, capsys):
    """Resuming with a different sweep file is an error naming the hash mismatch."""
    path = _sweep_file(tmp_path, "replications = 1\n", days=5)
    out = tmp_path / "out"
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]) == 0
    path.write_text(path.read_text().replace("replications = 1", "replications = 2"))
    assert main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 2
    assert "changed" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("body", "field", "says"),
    [
        ('replications = 1\ntypo = 3\n', "typo", "unknown key"),
        ('replications = 1\n[variants.x]\n"policy.refferal_fee" = 0.1\n', "policy.refferal_fee", "referral_fee"),
        ('replications = 1\n[levers.grid]\n"policy.review.capacity_per_day" = [10, -5]\n', "policy.review.capacity_per_day",
         "greater than or equal to 0"),
        ('replications = 1\n[levers.grid]\n"policy.detection.threshold" = [2.0]\n[levers.sample]\nn = 3\n'
         'ranges = { "policy.referral_fee" = [0.01, 0.1] }\n', "grid", "not both"),
        ('replications = 0\n', "replications", "greater than or equal to 1"),
        ('replications = 1\n[levers.sample]\nn = 4\nranges = { "policy.referral_fee" = [0.2, 0.1] }\n', "sample.ranges",
         "min > max"),
    ],
)
def test_bad_sweep_files_name_the_field(tmp_path, body, field, says):
    """A bad sweep file raises ScenarioError naming the file, the field and what is wrong."""
    path = _sweep_file(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_sweep(path)
    assert str(path) in err.value.message
    assert field in err.value.message
    assert says in err.value.message


def test_bad_sweep_file_exits_2_without_traceback(tmp_path):
    """The CLI reports a bad sweep file in one line with exit status 2."""
    path = _sweep_file(tmp_path, 'replications = 1\n[variants.x]\n"policy.review.capcity_per_day" = 3\n')
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "o")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert "capcity_per_day" in proc.stderr and "capacity_per_day" in proc.stderr
    assert not (tmp_path / "o").exists()


def test_latin_hypercube_sample_is_stratified_and_reproducible(tmp_path):
    """LHS points fill each range once per stratum, integer ranges give integers, the seed fixes the points."""
    body = ('replications = 1\n[levers.sample]\nmethod = "lhs"\nn = 10\nseed = 3\n'
            'ranges = { "policy.referral_fee" = [0.0, 0.1], "policy.review.capacity_per_day" = [10, 110] }\n')
    s1 = load_sweep(_sweep_file(tmp_path, body, name="a"))
    s2 = load_sweep(_sweep_file(tmp_path, body, name="b"))
    assert s1.points == s2.points
    fee = np.array([p["policy.referral_fee"] for p in s1.points])
    assert sorted(np.floor(fee / 0.01).astype(int).tolist()) == list(range(10))
    assert all(isinstance(p["policy.review.capacity_per_day"], int) for p in s1.points)
    sobol = load_sweep(_sweep_file(tmp_path, body.replace('"lhs"', '"sobol"').replace("n = 10", "n = 8"), name="c"))
    assert len(sobol.points) == 8 and all(0.0 <= p["policy.referral_fee"] <= 0.1 for p in sobol.points)


def test_query_and_load_read_the_shards(tmp_path, capsys):
    """livesim query runs SQL over the shards (table or CSV); analysis.load gives tidy frames."""
    path = _sweep_file(tmp_path, 'replications = 2\n[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n', days=8)
    out = tmp_path / "out"
    execute(load_sweep(path), out, workers=1)
    sql = ('SELECT "policy.detection.threshold" AS thr, count(*) AS n, avg(actions) AS actions '
           "FROM summary WHERE market = 'all' GROUP BY 1 ORDER BY 1")
    assert main(["query", str(out), sql, "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    # The grid's two thresholds, and the base scenario's own (2.5) run as the reference.
    assert lines[0] == "thr,n,actions" and [line.split(",")[:2] for line in lines[1:]] == [
        ["2.0", "2"], ["2.5", "2"], ["3.0", "2"]]
    assert main(["query", str(out), "SELECT nonsense FROM summary"]) == 2
    assert "SQL failed" in capsys.readouterr().err
    res = load(out)
    assert len(res.summary[res.summary["market"] == "all"]) == 6
    assert res.daily["day"].max() == 8 and len(res.daily) == 6 * 8 * 3
    assert set(res.runs["status"]) == {"done"}
    assert res.manifest["versions"]["livesim"]


def test_bundled_sweeps_load(tmp_path):
    """The bundled sweeps validate and expand to the runs they describe."""
    # Lever grids and samples gain the base scenario's own lever values as a reference point.
    sizes = {"ladders": 3 * 1 * 5, "threshold_capacity": 1 * (9 + 1) * 3, "incentive_budget": 2 * (12 + 1) * 2}
    for name, n in sizes.items():
        assert len(load_sweep(ROOT / "scenarios" / "sweeps" / f"{name}.toml").runs()) == n


def test_batch_run_with_two_processes_still_works():
    """mesa.batch_run(..., number_processes=2) drives LiveShopModel."""
    rows = mesa.batch_run(
        LiveShopModel,
        parameters={"scenario": str(BASELINE), "n_buyers": 1_500, "n_creators": 60, "days": 5},
        rng=[1, 2],
        number_processes=2,
        display_progress=False,
    )
    assert len(rows) == 2 and all(r["Step"] == 5 for r in rows)


def test_overwrite_never_deletes_what_is_not_a_sweep(tmp_path):
    """--overwrite clears an earlier sweep's files only, and refuses a folder that holds no sweep."""
    path = _sweep_file(tmp_path, "replications = 1\n", days=4)
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(ScenarioError, match="holds no sweep"):
        execute(load_sweep(path), precious, workers=1, overwrite=True)
    assert (precious / "notes.txt").read_text() == "keep me"
    out = tmp_path / "out"
    execute(load_sweep(path), out, workers=1)
    (out / "notes.txt").write_text("mine")
    execute(load_sweep(path), out, workers=1, overwrite=True)
    assert (out / "notes.txt").read_text() == "mine" and (out / "manifest.json").is_file()


def test_config_hash_ignores_how_the_path_is_spelled(tmp_path, monkeypatch):
    """The same sweep file reached by a relative or an absolute path has the same hash."""
    path = _sweep_file(tmp_path, "replications = 1\n", days=4)
    monkeypatch.chdir(tmp_path)
    assert load_sweep(path.name).config_hash() == load_sweep(path.resolve()).config_hash()


def test_variant_preset_keeps_the_scenarios_own_policy_values(tmp_path):
    """A variant's preset replaces the scenario's preset, but the scenario's own [policy] values still win."""
    body = 'replications = 1\n[variants.hs]\npolicy_preset = "tiktok_health_score"\n'
    path = tmp_path / "p.toml"
    path.write_text('name = "p"\n' + body + TINY_SCENARIO.format(days=4)
                    + "[scenario.policy]\nreferral_fee = 0.11\n[scenario.policy.review]\ncapacity_per_day = 123\n")
    hs = load_sweep(path).variants["hs"]
    assert hs.policy.enforcement.kind == "health_score"
    assert hs.policy.referral_fee == 0.11 and hs.policy.review.capacity_per_day == 123


def test_integer_ranges_are_sampled_evenly(tmp_path):
    """Integer sample ranges give every integer an equal share of the points."""
    body = 'replications = 1\n[levers.sample]\nn = 300\nranges = { "policy.review.capacity_per_day" = [1, 3] }\n'
    values = [p["policy.review.capacity_per_day"] for p in load_sweep(_sweep_file(tmp_path, body)).points]
    assert {v: values.count(v) for v in (1, 2, 3)} == {1: 100, 2: 100, 3: 100}


def test_a_variant_and_the_grid_cannot_set_the_same_path(tmp_path):
    """Setting one path in a variant and in the grid is an error, not a silently lost override."""
    body = ('replications = 1\n[variants.x]\n"policy.review.capacity_per_day" = 300\n'
            '[levers.grid]\n"policy.review.capacity_per_day" = [50, 150]\n')
    with pytest.raises(ScenarioError, match=r"variants\.x\.policy\.review\.capacity_per_day"):
        load_sweep(_sweep_file(tmp_path, body))


def test_shards_are_the_record_when_the_manifest_lags(tmp_path):
    """A run whose shards exist counts as done on resume even if the manifest still says pending;
    a run whose shard vanished is run again."""
    path = _sweep_file(tmp_path, "replications = 3\n", days=4)
    out = tmp_path / "out"
    execute(load_sweep(path), out, workers=1)
    manifest = json.loads((out / "manifest.json").read_text())
    manifest["runs"]["baseline__p0000__r000"]["status"] = "pending"
    (out / "manifest.json").write_text(json.dumps(manifest))
    (out / "daily" / "baseline__p0000__r002.parquet").unlink()
    again = execute(load_sweep(path), out, workers=1, resume=True)
    assert (again.done, again.skipped) == (1, 2)
    runs = json.loads((out / "manifest.json").read_text())["runs"]
    assert all(r["status"] == "done" for r in runs.values())


def test_lever_sweeps_run_the_base_values_as_reference(tmp_path):
    """A lever grid without the base scenario's own values gains them as a reference point on every
    world (after the swept points); a grid that holds them, or ``reference = false``, gains nothing."""
    body = ('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]\n'
            '[uncertainties.grid]\n"world.buyers.report_rate" = [0.01, 0.02]\n')
    sweep = load_sweep(_sweep_file(tmp_path, body, name="a"))
    assert len(sweep.points) == 4 and len(sweep.all_points) == 6
    assert sweep.reference_points == [{"policy.detection.threshold": 2.5, "world.buyers.report_rate": r}
                                      for r in (0.01, 0.02)]
    ref = sweep.reference
    assert ref["levers"] == {"policy.detection.threshold": 2.5} and ref["points"] == [4, 5] and ref["added"]
    assert ref["n_worlds"] == 2
    assert sweep.config_document()["reference"] == ref
    held = load_sweep(_sweep_file(tmp_path, body.replace("[2.0, 3.0]", "[2.0, 2.5]"), name="b"))
    assert held.reference_points == [] and held.reference["points"] == [2, 3] and not held.reference["added"]
    off = load_sweep(_sweep_file(tmp_path, "reference = false\n" + body, name="c"))
    assert off.reference_points == [] and off.reference["levers"] is None
    market = load_sweep(_sweep_file(tmp_path, '[levers.grid]\n"policy_overrides.id.review.capacity_per_day" = [10]\n',
                                    name="d"))
    assert market.reference["levers"] == {"policy_overrides.id.review.capacity_per_day":
                                          market.base.policy.review.capacity_per_day}
