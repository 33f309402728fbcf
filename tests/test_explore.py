"""livesim explore: sampled worlds, compositions, validation, common random numbers, reproducibility
whatever the workers, and resuming after SIGKILL."""

from __future__ import annotations

import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import tomli_w

from analysis.explore import (
    DesignSpec,
    Uncertainty,
    dirichlet_shares,
    explore,
    explore_from_dict,
    make_design,
)
from sim.cli import main
from tests.conftest import tiny_dict

ROOT = Path(__file__).resolve().parents[1]
BASE_MIX = {"honest": 0.84, "opportunist": 0.08, "counterfeit": 0.025, "misleading_claims": 0.02,
            "fake_engagement": 0.015, "offplatform_diversion": 0.01, "incentive_fraud": 0.005, "ban_evader": 0.005}


def _scenario() -> dict:
    data = tiny_dict(enforced=True, n_buyers=1_500, n_creators=80)
    data["days"] = 12
    data["warmup_days"] = 0
    return data


def _explore_dict(**extra: object) -> dict:
    data: dict = {
        "name": "ex",
        "scenario": _scenario(),
        "replications": 1,
        "outcomes": ["prevalence", "buyer_harm", "net_gmv"],
        "policies": {"points": {}, "health": {"policy_preset": "tiktok_health_score"}},
        "uncertainties": [
            {"path": "world.adaptation.learning_rate", "low": 0.05, "high": 0.6},
            {"path": "policy.detection.dprime_scale", "distribution": "triangular", "low": 0.5, "mode": 1.0,
             "high": 1.2},
            {"path": "world.creators.mix", "distribution": "dirichlet", "concentration": 50.0},
        ],
        "design": {"method": "lhs", "n": 3, "seed": 5},
        "targets": [{"metric": "prevalence", "max": 0.05}],
    }
    data.update(extra)
    return data


# ---------------------------------------------------------------------------------------
# Distributions and compositions
# ---------------------------------------------------------------------------------------


def test_quantile_functions_map_unit_coordinates_to_their_distributions() -> None:
    """Each distribution's value at u is its quantile: uniform and loguniform by formula, integers
    in equal strata, choices in equal strata, a truncated normal within its bounds."""
    assert Uncertainty(path="world.a", low=1.0, high=3.0).value(0.25) == 1.5
    assert Uncertainty(path="world.a", distribution="loguniform", low=0.01, high=1.0).value(0.5) == pytest.approx(0.1)
    integer = Uncertainty(path="world.a", distribution="integer", low=2, high=4)
    assert [integer.value(u) for u in (0.0, 0.33, 0.34, 0.66, 0.67, 1.0)] == [2, 2, 3, 3, 4, 4]
    choice = Uncertainty(path="world.a", distribution="choice", values=["x", "y"])
    assert [choice.value(u) for u in (0.0, 0.49, 0.5, 1.0)] == ["x", "x", "y", "y"]
    normal = Uncertainty(path="world.a", distribution="normal", mean=0.0, sd=1.0, low=-1.0, high=2.0)
    assert normal.value(0.0) == -1.0 and normal.value(1.0) == 2.0
    tri = Uncertainty(path="world.a", distribution="triangular", low=0.0, mode=1.0, high=1.0)
    assert tri.value(0.25) == pytest.approx(0.5)  # F(x) = x^2 on a right triangle


def test_dirichlet_mix_sums_to_one_and_centres_on_the_scenario_mix() -> None:
    """Dirichlet worlds: every mix sums to one (to 1e-12), keeps a zero share at zero, and the mean
    of 4096 worlds is the scenario's mix within 3 standard errors, with the Dirichlet's variance."""
    mix = dict(BASE_MIX, ban_evader=0.0, honest=0.845)
    unc = Uncertainty(path="world.creators.mix", distribution="dirichlet", concentration=100.0)
    design = make_design([unc], DesignSpec(method="sobol", n=4096, seed=1), mix)
    shares = pd.DataFrame(design.values)
    assert np.allclose(shares.sum(axis=1), 1.0, atol=1e-12, rtol=0)
    assert (shares["world.creators.mix.ban_evader"] == 0).all()
    for t, m in mix.items():
        col = shares[f"world.creators.mix.{t}"]
        var = m * (1 - m) / 101.0
        assert abs(col.mean() - m) <= 3 * math.sqrt(var / len(col)) + 1e-12, t
        if m > 0:
            assert col.var() == pytest.approx(var, rel=0.15), t


def test_sampled_shares_leave_the_rest_in_scenario_proportions() -> None:
    """Sampling some shares keeps them exactly and fills the others in their scenario proportions up
    to one (sim.mix.mix_shares, the completion sim.ema uses too)."""
    mix = {"honest": 0.8, "opportunist": 0.1, "counterfeit": 0.1}
    unc = Uncertainty(path="world.creators.mix.counterfeit", low=0.2, high=0.4)
    design = make_design([unc], DesignSpec(method="lhs", n=16, seed=2), mix)
    for world in design.values:
        c = world["world.creators.mix.counterfeit"]
        assert c == unc.value(design.unit[design.values.index(world), 0])
        assert world == pytest.approx({"world.creators.mix.counterfeit": c,
                                       "world.creators.mix.honest": (1 - c) * 8 / 9,
                                       "world.creators.mix.opportunist": (1 - c) / 9})
        assert math.fsum(world.values()) == pytest.approx(1.0, abs=1e-15)


def test_dirichlet_at_the_cube_edges_stays_finite() -> None:
    """Morris grids reach u = 0 and u = 1: the Dirichlet's shares stay finite and sum to one there."""
    for u in (0.0, 1.0):
        shares = dirichlet_shares(BASE_MIX, 20.0, dict.fromkeys(BASE_MIX, u))
        assert all(math.isfinite(v) for v in shares.values())
        assert sum(shares.values()) == pytest.approx(1.0, abs=1e-12)


def test_a_saltelli_design_at_n_is_the_first_part_of_the_one_at_2n() -> None:
    """The convergence check reads the first half of the design: the n design is a prefix of the 2n one."""
    uncs = [Uncertainty(path="world.a", low=0.0, high=1.0), Uncertainty(path="world.b", low=0.0, high=1.0)]
    small = make_design(uncs, DesignSpec(method="saltelli", n=8, seed=4))
    big = make_design(uncs, DesignSpec(method="saltelli", n=16, seed=4))
    assert small.unit.shape == (8 * 4, 2)
    assert np.array_equal(big.unit[: len(small.unit)], small.unit)


def test_every_policy_meets_the_same_worlds_with_the_same_seeds() -> None:
    """Policies x worlds, worlds inner; replication r of every run has the same seed."""
    ex = explore_from_dict(_explore_dict(replications=2))
    runs = ex.sweep.runs()
    assert len(runs) == 2 * 3 * 2 and ex.policies == ["points", "health"]
    by = {(r.variant, r.point, r.replication): r for r in runs}
    for p in range(3):
        for rep in range(2):
            a, b = by[("points", p, rep)], by[("health", p, rep)]
            assert a.params == b.params and a.scenario.seed == b.scenario.seed
            assert a.scenario.world == b.scenario.world
            assert a.scenario.policy.detection.dprime_scale == b.scenario.policy.detection.dprime_scale
        assert a.scenario.policy.enforcement.kind != b.scenario.policy.enforcement.kind


# ---------------------------------------------------------------------------------------
# Validation: exit 2, one line naming the file, the field, the value and what is allowed
# ---------------------------------------------------------------------------------------


def _bad(unc: dict | None = None, **top: object) -> dict:
    data = _explore_dict(**top)
    if unc is not None:
        data["uncertainties"] = [unc]
    return data


BAD = [
    ("unknown-distribution", _bad({"path": "world.adaptation.learning_rate", "distribution": "beta", "low": 0.1,
                                   "high": 0.2}), ["uncertainties[0].distribution", "'beta'"]),
    ("low-above-high", _bad({"path": "world.adaptation.learning_rate", "low": 0.5, "high": 0.2}),
     ["uncertainties[0].low", "above high"]),
    ("missing-high", _bad({"path": "world.adaptation.learning_rate", "low": 0.5}), ["uncertainties[0].high", "required"]),
    ("mix-as-uniform", _bad({"path": "world.creators.mix", "low": 0.0, "high": 1.0}),
     ["uncertainties[0].distribution", "composition"]),
    ("lever-as-uncertainty", _bad({"path": "policy.review.capacity_per_day", "low": 10, "high": 50}),
     ["uncertainties[0].path", "policy.review.capacity_per_day", "capabilities"]),
    ("unknown-path", _bad({"path": "world.adaptation.learning_rat", "low": 0.1, "high": 0.2}),
     ["uncertainties[0].path", "learning_rat"]),
    ("set-by-a-policy", _bad({"path": "policy.detection.dprime_scale", "low": 0.5, "high": 1.0},
                             policies={"a": {"policy.detection.dprime_scale": 0.8}}),
     ["policy.detection.dprime_scale", "also set by a policy"]),
    ("shares-too-large", _bad(None, uncertainties=[
        {"path": "world.creators.mix.counterfeit", "low": 0.0, "high": 0.6},
        {"path": "world.creators.mix.opportunist", "low": 0.0, "high": 0.5}]), ["uncertainties[1].high", "sum"]),
    ("unknown-outcome", _bad(outcomes=["prevalance"]), ["outcomes[0]", "prevalance", "did you mean"]),
    ("out-of-range-world", _bad({"path": "world.adaptation.learning_rate", "low": 0.5, "high": 3.0}),
     ["world.adaptation.learning_rate", "less than or equal to 1"]),
    ("sobol-n-not-power", _bad(design={"method": "saltelli", "n": 12}), ["design.n", "12", "powers of 2"]),
    ("difference-unknown-policy", _bad(sensitivity={"outcomes": ["prevalence"], "difference": ["points", "tiers"]},
                                       design={"method": "saltelli", "n": 4}),
     ["sensitivity.difference", "tiers", "allowed policys"]),
    ("unknown-key", _bad(colour=1), ["colour", "allowed keys"]),
    ("inf-bound", _bad({"path": "world.adaptation.learning_rate", "low": 0.1, "high": math.inf}),
     ["uncertainties[0].high"]),
]


@pytest.mark.parametrize(("case", "data", "expected"), BAD, ids=[c[0] for c in BAD])
def test_bad_explore_file_exits_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str], case: str,
                                                data: dict, expected: list[str]) -> None:
    """A bad explore file exits 2 with one line naming the file, the field and what is allowed; nothing is written."""
    path = tmp_path / "e.toml"
    path.write_text(tomli_w.dumps(data))
    assert main(["explore", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith(f"livesim: error: {path}"), err
    for part in expected:
        assert part in err, (part, err)
    assert not (tmp_path / "out").exists()


def test_a_folder_holding_other_files_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """explore writes only into a new or empty folder, or resumes its own."""
    path = tmp_path / "e.toml"
    path.write_text(tomli_w.dumps(_explore_dict()))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "notes.txt").write_text("mine")
    assert main(["explore", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]) == 2
    assert "not a livesim exploration folder" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["notes.txt"]


# ---------------------------------------------------------------------------------------
# Running: reproducible whatever the workers; resumes after SIGKILL
# ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def one_worker(tmp_path_factory: pytest.TempPathFactory) -> pd.DataFrame:
    out = tmp_path_factory.mktemp("explore") / "w1"
    result = explore(explore_from_dict(_explore_dict()), out, workers=1)
    assert result.failed == 0
    return pd.read_parquet(out / "outcomes.parquet")


def test_outcome_table_has_one_row_per_policy_world_and_market(one_worker: pd.DataFrame) -> None:
    """The outcome table: 2 policies x 3 worlds x (all + 2 markets), every outcome finite."""
    assert len(one_worker) == 2 * 3 * 3
    assert set(one_worker["market"]) == {"all", "aa", "bb"}
    assert np.isfinite(one_worker[["prevalence", "buyer_harm", "net_gmv"]].to_numpy()).all()
    assert (one_worker["replications"] == 1).all()


def test_exploring_is_identical_whatever_the_workers(tmp_path: Path, one_worker: pd.DataFrame) -> None:
    """Two workers give exactly the outcome table one worker gives."""
    explore(explore_from_dict(_explore_dict()), tmp_path / "w2", workers=2)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "w2" / "outcomes.parquet"), one_worker)


@pytest.mark.slow
def test_exploring_on_dask_is_identical(tmp_path: Path, one_worker: pd.DataFrame) -> None:
    """The dask backend gives exactly the outcome table of the local pool."""
    explore(explore_from_dict(_explore_dict()), tmp_path / "dask", workers=2, backend="dask")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "dask" / "outcomes.parquet"), one_worker)


def test_a_second_run_needs_resume(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A finished exploration's folder is refused without --resume; with it nothing runs again,
    changed targets are re-analysed on the same runs, and changed worlds are refused."""
    path = tmp_path / "e.toml"
    path.write_text(tomli_w.dumps(_explore_dict(design={"method": "lhs", "n": 2})))
    argv = ["explore", str(path), "--out", str(tmp_path / "out"), "--quiet", "--workers", "1"]
    assert main(argv) == 0
    assert main(argv) == 2
    assert "--resume" in capsys.readouterr().err
    assert main([*argv, "--resume"]) == 0
    assert "0 runs done, 0 failed, 4 already done" in capsys.readouterr().out
    # New targets re-analyse the same runs; new worlds are refused.
    path.write_text(tomli_w.dumps(_explore_dict(design={"method": "lhs", "n": 2},
                                                targets=[{"metric": "prevalence", "max": -1.0}])))
    assert main([*argv, "--resume"]) == 0
    assert "0 runs done, 0 failed, 4 already done" in capsys.readouterr().out
    assert (pd.read_parquet(tmp_path / "out" / "satisficing.parquet")["satisficing"] == 0.0).all()
    path.write_text(tomli_w.dumps(_explore_dict(design={"method": "lhs", "n": 2, "seed": 99})))
    assert main([*argv, "--resume"]) == 2
    assert "policies or worlds changed" in capsys.readouterr().err


def test_resume_after_sigkill_ends_where_an_uninterrupted_run_does(tmp_path: Path, one_worker: pd.DataFrame) -> None:
    """An exploration killed with SIGKILL mid-way resumes to exactly the uninterrupted outcome table."""
    path = tmp_path / "e.toml"
    path.write_text(tomli_w.dumps(_explore_dict()))
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "explore", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline:
        done = len(list((out / "summary").glob("*.parquet"))) if (out / "summary").exists() else 0
        if done >= 2:
            break
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = len(list((out / "summary").glob("*.parquet")))
    assert 2 <= done < 6, "the exploration must be killed mid-way"
    assert not (out / "outcomes.parquet").exists()
    assert main(["explore", str(path), "--out", str(out), "--workers", "1", "--quiet", "--resume"]) == 0
    pd.testing.assert_frame_equal(pd.read_parquet(out / "outcomes.parquet"), one_worker)


@pytest.mark.slow
def test_the_report_of_an_exploration_shows_all_four_analyses(tmp_path: Path) -> None:
    """An exploration with targets, a Saltelli design with Morris trajectories, a policy difference
    and a red team: its report (HTML and Markdown) holds robustness, Sobol' and Morris indices,
    a PRIM box and the red team's minimax, each with its figure."""
    data = _explore_dict(design={"method": "saltelli", "n": 4, "seed": 2, "morris": 2},
                         sensitivity={"outcomes": ["prevalence"], "difference": ["health", "points"]},
                         targets=[{"metric": "prevalence", "max": 0.03}],
                         red_team={"objective": "buyer_harm", "budget": 2, "batch": 2,
                                   "ranges": {"world.creators.mix.counterfeit": [0.0, 0.1],
                                              "world.adaptation.learning_rate": [0.05, 1.0]}})
    path = tmp_path / "e.toml"
    path.write_text(tomli_w.dumps(data))
    out = tmp_path / "out"
    assert main(["explore", str(path), "--out", str(out), "--quiet", "--workers", "2"]) == 0
    for name in ("robustness.parquet", "sobol.parquet", "morris.parquet", "redteam.json", "redteam.db"):
        assert (out / name).is_file(), name
    sob = pd.read_parquet(out / "sobol.parquet")
    assert set(sob["target"]) == {"prevalence | points", "prevalence | health", "prevalence | health - points"}
    assert set(sob["input"]) == {"world.adaptation.learning_rate", "policy.detection.dprime_scale",
                                 "world.creators.mix"}
    assert main(["report", str(out)]) == 0
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    for tid in ("explore-ranking", "explore-robustness", "explore-sobol", "explore-morris", "explore-redteam",
                "explore-minimax"):
        assert f'id="{tid}"' in html, tid
    assert ("explore-prim" in html) == (out / "discovery.json").is_file()
    assert "## Robust decisions across worlds" in md and "Most robust:" in md and "Worst adversary found against" in md
    for png in ("explore_robustness", "explore_sobol", "explore_morris", "explore_redteam"):
        assert (out / f"report_{png}.png").is_file(), png
