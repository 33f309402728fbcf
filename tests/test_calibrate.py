"""Calibration: observed files, the search, resuming, the plausible set and identifiability."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.calibrate import SimulationNoise, calibrate, fit_table, identify, synthetic_observed
from analysis.observed import Observed, ObservedTarget, load_observed
from sim.cli import main
from sim.config import load_scenario, with_overrides
from sim.errors import ScenarioWarning

# A small world: a calibration of it runs in seconds.
SMALL = {"world.n_buyers": 3000, "world.n_creators": 150, "days": 60, "warmup_days": 20}
SMALL_ARGS = ["--set", "world.n_buyers=3000", "--set", "world.n_creators=150", "--set", "warmup_days=20", "--days", "60"]

OBSERVED = """
description = "a test dashboard"
replications = 2
batch = 3

[[targets]]
metric = "refund_rate"
value = 0.38
tolerance = 0.05

[[targets]]
metric = "conversion_rate"
max = 0.30

[[targets]]
metric = "buyer_trust"
value = 0.7
se = 0.02
held_out = true
days = [30, 60]

[[fit]]
path = "world.buyers.return_if_bad"
low = 0.3
high = 0.95

[[fit]]
path = "world.buyers.sessions_per_day"
low = 0.2
high = 1.5
log = true
"""


def _small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return with_overrides(load_scenario("baseline"), SMALL, check_timeline=False)


def _write(tmp_path: Path, text: str, name: str = "observed.toml") -> Path:
    p = tmp_path / name
    p.write_text(text)
    return p


# ---------------------------------------------------------------- the measures, exactly


def test_implausibility_and_normalised_error_of_each_kind_of_target():
    t = ObservedTarget(metric="refund_rate", value=0.3, tolerance=0.05)
    assert t.implausibility(0.3) == 0.0 and t.implausibility(0.35) == pytest.approx(1.0)
    assert t.implausibility(0.2) == pytest.approx(2.0)
    assert t.normalised_error(0.33) == pytest.approx(0.1)  # (sim - observed) / observed
    se = ObservedTarget(metric="refund_rate", value=0.3, se=0.01)
    # 3 x sqrt(se^2 + sd^2 / n): the simulation's own noise widens the band
    assert se.half_width() == pytest.approx(0.03)
    assert se.half_width(sim_sd=0.02, replications=4) == pytest.approx(3 * math.sqrt(0.01**2 + 0.02**2 / 4))
    # A band: any value inside is as good as any other; past an edge, 1 + the miss in half-widths.
    band = ObservedTarget(metric="refund_rate", min=0.2, max=0.4)
    assert band.implausibility(0.21) == 0.0 == band.implausibility(0.4) == band.normalised_error(0.39)
    assert band.implausibility(0.45) == pytest.approx(1.5) and band.normalised_error(0.5) == pytest.approx(0.25)
    assert band.normalised_error(0.1) == pytest.approx(-0.5)
    one = ObservedTarget(metric="conversion_rate", max=0.3)
    assert one.implausibility(0.1) == 0.0 and one.normalised_error(0.1) == 0.0
    assert one.implausibility(0.33) == pytest.approx(1.1) and one.normalised_error(0.33) == pytest.approx(0.1)
    assert t.implausibility(float("nan")) == math.inf


# ---------------------------------------------------------------- bad observed files


BAD = [
    ("colour = 1\n", "colour", "unknown key"),
    ("[[fit]]\npath = 'world.buyers.return_if_bad'\nlow = 0.1\nhigh = 0.9\n", "targets", "one or more [[targets]]"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\n", "fit", "one or more [[fit]]"),
    ("[[targets]]\nmetric = 'refund_rat'\nvalue = 0.3\ntolerance = 0.1\n", "targets[0].metric", "unknown metric"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\nse = 0.1\n", "targets[0]", "exactly one"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\n", "targets[0]", "exactly one"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\nmarket = 'xx'\n", "targets[0].market",
     "not a market"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\ndays = [10, 400]\n", "targets[0].days",
     "last day"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\ndays = [40, 10]\n", "targets[0].days",
     "after last day"),
    ("[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\nheld_out = true\n", "targets", "held_out"),
]
FIT_OK = "[[fit]]\npath = 'world.buyers.return_if_bad'\nlow = 0.3\nhigh = 0.9\n"
TARGET_OK = "[[targets]]\nmetric = 'refund_rate'\nvalue = 0.3\ntolerance = 0.1\n"
BAD_FIT = [
    ("[[fit]]\npath = 'policy.referral_fee'\nlow = 0.01\nhigh = 0.1\n", "fit[0].path", "only world"),
    ("[[fit]]\npath = 'world.buyers.no_such'\nlow = 0.01\nhigh = 0.1\n", "fit[0].path", "no_such"),
    ("[[fit]]\npath = 'world.buyers.return_if_bad'\nlow = 0.9\nhigh = 0.3\n", "fit[0]", "below high"),
    ("[[fit]]\npath = 'world.buyers.return_if_bad'\nlow = 0.0\nhigh = 0.3\nlog = true\n", "fit[0]", "low > 0"),
    ("[[fit]]\npath = 'world.buyers.return_if_bad'\nlow = 0.5\nhigh = 1.5\n", "fit[0].high", "not a value"),
    ("[[fit]]\npath = 'world.markets'\nlow = 0.5\nhigh = 1.5\n", "fit[0].path", "only a number"),
    (FIT_OK + FIT_OK, "fit[1].path", "fitted twice"),
]


@pytest.mark.parametrize(("text", "field", "says"),
                         [(t, f, s) for t, f, s in BAD if "[[fit]]" in t or f in ("fit",)]
                         + [(t + FIT_OK, f, s) for t, f, s in BAD if "[[fit]]" not in t and f != "fit"]
                         + [(TARGET_OK + t, f, s) for t, f, s in BAD_FIT])
def test_a_bad_observed_file_is_one_line_naming_file_and_field(tmp_path, capsys, text, field, says):
    path = _write(tmp_path, text)
    out = tmp_path / "cal"
    code = main(["calibrate", "baseline", "--observed", str(path), "--out", str(out), "--budget", "2", *SMALL_ARGS])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    line = err[-1]
    assert line.startswith("livesim: error: ") and str(path) in line and field in line and says in line, line
    assert "Traceback" not in "\n".join(err)
    assert not out.exists()  # checked before anything is made


def test_a_calibration_never_writes_into_a_folder_of_other_files(tmp_path, capsys):
    path = _write(tmp_path, OBSERVED)
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    code = main(["calibrate", "baseline", "--observed", str(path), "--out", str(out), "--budget", "2", *SMALL_ARGS])
    assert code == 2 and "not a livesim calibration folder" in capsys.readouterr().err
    assert [p.name for p in out.iterdir()] == ["notes.txt"] and (out / "notes.txt").read_text() == "keep me"
    code = main(["calibrate", "baseline", "--observed", str(path), "--out", str(tmp_path / "new"), "--resume",
                 "--budget", "2", *SMALL_ARGS])
    assert code == 2 and "no calibration to resume" in capsys.readouterr().err


# ---------------------------------------------------------------- a calibration


@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cal")
    path = _write(tmp, OBSERVED)
    scenario = _small()
    obs = load_observed(path, scenario)
    result = calibrate(scenario, obs, tmp / "out", budget=6, workers=1, check_replications=3)
    return tmp, path, scenario, obs, result


def test_a_calibration_writes_its_files_and_a_best_scenario_that_runs(small_run):
    tmp, _, _, obs, result = small_run
    out = tmp / "out"
    for name in ("calibration.db", "calibration.json", "trials.parquet", "plausible.parquet", "best.toml", "fit.md",
                 "marginals.png", "convergence.png"):
        assert (out / name).is_file(), name
    best = load_scenario(out / "best.toml")
    for p in obs.fit:
        assert getattr(best.world.buyers, p.path.rsplit(".", 1)[1]) == pytest.approx(result.best_params[p.path])
        assert p.low <= result.best_params[p.path] <= p.high
    doc = json.loads((out / "calibration.json").read_text())
    assert doc["status"] == "done" and doc["evaluations"] == 6
    fit = result.fit
    assert list(fit["held_out"]) == [False, False, True] and (fit["n"] == 3).all()
    assert (fit["low95"] <= fit["simulated"]).all() and (fit["simulated"] <= fit["high95"]).all()
    fitted = fit.loc[~fit["held_out"], "normalised_error"].to_numpy()
    assert result.nrmse == pytest.approx(float(np.sqrt(np.mean(fitted**2))))
    assert "NRMSE over the fitted targets" in (out / "fit.md").read_text()


def test_the_plausible_set_is_exactly_the_worlds_within_every_fitted_band(small_run):
    tmp, _, _, obs, result = small_run
    trials = pd.read_parquet(tmp / "out" / "trials.parquet")
    plausible = pd.read_parquet(tmp / "out" / "plausible.parquet")
    assert len(trials) == 6
    # The loss is the root mean square implausibility of the fitted targets, from the stored means.
    refund = trials["sim: " + obs.targets[0].describe()].to_numpy()
    conv = trials["sim: " + obs.targets[1].describe()].to_numpy()
    imp = np.array([[obs.targets[0].implausibility(a), obs.targets[1].implausibility(b)] for a, b in zip(refund, conv, strict=True)])
    assert np.allclose(trials["loss"], np.sqrt((imp**2).mean(axis=1)))
    within = (imp <= 1.0).all(axis=1)
    found = plausible[plausible["source"] == "search"]
    assert sorted(found["trial"]) == sorted(trials.loc[within, "trial"])
    # ...and the worlds on the slices through the best one that are within every band.
    profiles = pd.read_parquet(tmp / "out" / "profiles.parquet")
    on_slices = profiles[profiles["plausible"] & ~profiles["best"]]
    assert len(plausible) == len(found) + len(on_slices)
    assert set(profiles["path"]) == {p.path for p in obs.fit}
    # Each slice: the grid's worlds plus the best one (unless it falls on the grid).
    assert profiles.groupby("path").size().isin([obs.profile_points, obs.profile_points + 1]).all()
    assert (profiles.groupby("path")["best"].sum() == 1).all()
    # The best world has the lowest loss of every world evaluated on the search's replications.
    assert result.best_loss == min(trials["loss"].min(), profiles["loss"].min())


def test_every_world_is_judged_with_the_noise_pooled_over_the_worlds_evaluated(small_run):
    """The run-to-run noise recorded is every evaluated world's relative variance (sd / mean)^2
    pooled with its degrees of freedom (runs - 1), from the sds the search stored."""
    import optuna

    tmp, _, _, obs, result = small_run
    study = optuna.load_study(study_name="livesim", storage=f"sqlite:///{tmp / 'out' / 'calibration.db'}")
    worlds = [t for t in study.get_trials() if t.state.name == "COMPLETE"]
    rel = np.array([np.array(t.user_attrs["sd"]) / np.array(t.user_attrs["mean"]) for t in worlds])
    doc = json.loads((tmp / "out" / "calibration.json").read_text())["simulation_noise"]
    assert [d["df"] for d in doc] == [len(worlds) * (obs.replications - 1)] * len(obs.targets) == [6, 6, 6]
    assert [d["relative_sd"] for d in doc] == pytest.approx(list(np.sqrt((rel**2).mean(axis=0))), rel=1e-12)
    assert result.noise.df == (6, 6, 6)


def test_pooled_noise_and_the_synthetic_observations_own_runs_widen_an_se_band():
    """A pool weights each world's relative variance by its runs - 1 and skips a zero mean; an se
    target's band is 3 x sqrt(se^2 + sd^2 (1/n + 1/n_obs)) with the pooled sd scaled to the
    observed value, n the compared runs and n_obs the runs behind a synthetic observation."""
    noise = SimulationNoise.empty(2).add([10.0, 0.0], [1.0, 0.5], 2).add([20.0, 4.0], [4.0, 2.0], 4)
    assert noise.df == (4, 3)
    assert noise.relative_sd == pytest.approx([math.sqrt((0.1**2 + 3 * 0.2**2) / 4), 0.5])
    target = ObservedTarget(metric="refund_rate", value=0.3, tolerance=0.03)
    real = Observed("x", "", 2, 1, 0, [target], [], {})
    synthetic = synthetic_observed(real, np.array([0.32]), 5)
    (t,) = synthetic.targets
    assert (t.value, t.se, t.tolerance, synthetic.observation_runs) == (0.32, pytest.approx(0.01), None, 5)
    rel = 0.1  # one run's noise: 0.1 x 0.32
    fit = fit_table(synthetic, np.array([[0.34], [0.36]]), np.array([rel * 0.32]))
    half = 3 * math.sqrt(0.01**2 + (rel * 0.32) ** 2 * (1 / 2 + 1 / 5))
    assert fit["implausibility"].iloc[0] == pytest.approx(0.03 / half)
    # Real data (no runs behind it) counts only the compared runs' noise; a tolerance band none.
    se_real = Observed("x", "", 2, 1, 0, [ObservedTarget(metric="refund_rate", value=0.32, se=0.01)], [], {})
    fit = fit_table(se_real, np.array([[0.34], [0.36]]), np.array([rel * 0.32]))
    assert fit["implausibility"].iloc[0] == pytest.approx(0.03 / (3 * math.sqrt(0.01**2 + (rel * 0.32) ** 2 / 2)))
    assert fit_table(real, np.array([[0.34], [0.36]]), np.array([1.0]))["implausibility"].iloc[0] == pytest.approx(
        0.05 / 0.03)


def test_same_calibration_whatever_the_workers(small_run):
    tmp, _, scenario, obs, result = small_run
    again = calibrate(scenario, obs, tmp / "two", budget=6, workers=2, check_replications=3)
    a = pd.read_parquet(tmp / "out" / "trials.parquet")
    b = pd.read_parquet(tmp / "two" / "trials.parquet")
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(result.fit, again.fit)


def test_a_calibration_is_not_started_twice_in_one_folder(small_run, capsys):
    tmp, path, *_ = small_run
    before = {p.name: p.stat().st_mtime_ns for p in (tmp / "out").iterdir()}
    code = main(["calibrate", "baseline", "--observed", str(path), "--out", str(tmp / "out"), "--budget", "6",
                 *SMALL_ARGS])
    assert code == 2 and "already holds a calibration" in capsys.readouterr().err
    assert {p.name: p.stat().st_mtime_ns for p in (tmp / "out").iterdir()} == before


@pytest.mark.slow
def test_a_calibration_killed_and_resumed_ends_as_an_uninterrupted_one(tmp_path):
    """Killed mid-search and resumed, a calibration ends with the same trials and best world; its
    refund target has an se, so the losses hang on the noise pooled over earlier batches too."""
    path = _write(tmp_path, OBSERVED.replace("tolerance = 0.05", "se = 0.0167"))
    args = [sys.executable, "-m", "sim.cli", "calibrate", "baseline", "--observed", str(path), "--budget", "9",
            "--workers", "1", "--quiet", *SMALL_ARGS]
    whole = subprocess.run([*args, "--out", str(tmp_path / "whole")], capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr
    cut = tmp_path / "cut"
    proc = subprocess.Popen([*args, "--out", str(cut)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:  # kill it in the middle of the search: after the first batch is stored, before the end
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline and proc.poll() is None:
            if _complete_trials(cut / "calibration.db") >= 4:
                break
            time.sleep(0.05)
        assert proc.poll() is None, "the calibration ended before it could be interrupted"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert not (cut / "best.toml").exists()
    resumed = subprocess.run([*args, "--out", str(cut), "--resume"], capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    a = pd.read_parquet(tmp_path / "whole" / "trials.parquet")
    b = pd.read_parquet(cut / "trials.parquet")
    pd.testing.assert_frame_equal(a, b)
    assert (tmp_path / "whole" / "best.toml").read_text() == (cut / "best.toml").read_text()


def _complete_trials(db: Path) -> int:
    import sqlite3

    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as con:
            return con.execute("SELECT count(*) FROM trials WHERE state = 'COMPLETE'").fetchone()[0]
    except sqlite3.Error:
        return 0


# ---------------------------------------------------------------- identifiability

IDENTIFY = """
replications = 2
batch = 4

[[targets]]
metric = "views"
value = 1000.0
tolerance = 5000.0

[[targets]]
metric = "reports"
value = 100.0
tolerance = 10.0

[[targets]]
metric = "conversion_rate"
market = "sg"
value = 0.05
tolerance = 0.005

[[fit]]
path = "world.buyers.sessions_per_day"
low = 0.2
high = 2.0
log = true

[[fit]]
path = "world.buyers.false_report_rate"
low = 0.0001
high = 0.005
log = true

[[fit]]
path = "world.markets.0.base_conversion"
low = 0.01
high = 0.2
log = true
"""


@pytest.mark.slow
def test_identifiability_recovers_three_known_world_parameters(tmp_path):
    """Synthetic observations made at known values (the scenario's own: sessions_per_day 0.5,
    false_report_rate 0.000559, sg's base_conversion 0.05) are fitted back: each parameter is
    pinned down (its recovered interval spans at most half of its searched range, on the log
    scale it is searched on), the interval holds the truth, and the best value is within a
    factor 1.5 of the truth (the best single world is noisy; the interval is the claim)."""
    scenario = _small()
    obs = load_observed(_write(tmp_path, IDENTIFY), scenario)
    _, table = identify(scenario, obs, tmp_path / "id", budget=48, workers=2)
    assert (tmp_path / "id" / "identify.md").is_file() and (tmp_path / "id" / "profiles.png").is_file()
    truth = dict(zip(table["path"], table["truth"], strict=True))
    assert truth == pytest.approx({"world.buyers.sessions_per_day": 0.5, "world.buyers.false_report_rate": 0.000559,
                                   "world.markets.0.base_conversion": 0.05})
    for row in table.itertuples():
        assert row.verdict == "pinned down" and row.share_of_range <= 0.5, row
        assert row.interval_low <= row.truth <= row.interval_high and row.truth_in_interval, row
        assert abs(math.log(row.best / row.truth)) <= math.log(1.5), row


@pytest.mark.slow
def test_a_parameter_no_target_depends_on_is_left_open(tmp_path):
    """Views pin sessions_per_day down; nothing observed depends on complaint_rate (complaints
    come after the orders, and views before them), so every value of it stays plausible."""
    text = """
replications = 2
[[targets]]
metric = "views"
value = 1.0
tolerance = 1.0
[[fit]]
path = "world.buyers.sessions_per_day"
low = 0.2
high = 2.0
log = true
[[fit]]
path = "world.buyers.complaint_rate"
low = 0.05
high = 0.9
"""
    scenario = _small()
    obs = load_observed(_write(tmp_path, text), scenario)
    _, table = identify(scenario, obs, tmp_path / "id", budget=12, workers=2)
    verdict = dict(zip(table["path"], table["verdict"], strict=True))
    assert verdict == {"world.buyers.sessions_per_day": "pinned down", "world.buyers.complaint_rate": "left open"}
    assert table.set_index("path").loc["world.buyers.complaint_rate", "share_of_range"] == pytest.approx(1.0)


# ---------------------------------------------------------------- policies across the plausible worlds

SWEEP = """
name = "across_worlds"
scenario = "{scenario}"
replications = 1
days = 30
[variants.strict]
policy_preset = "strict"
"""


def _sweep_file(tmp_path: Path, extra: str = "", name: str = "sweep.toml") -> Path:
    scen = tmp_path / "small.toml"
    base = (Path(__file__).resolve().parent.parent / "scenarios" / "baseline.toml").read_text()
    base = base.replace("n_buyers = 120_000", "n_buyers = 2000").replace("n_creators = 2_500", "n_creators = 60")
    scen.write_text(base)
    path = tmp_path / name
    path.write_text(SWEEP.format(scenario=scen.name) + extra)
    return path


def test_a_sweep_meets_every_plausible_world(small_run, tmp_path, capsys):
    from sim.sweep import load_sweep

    tmp, *_ = small_run
    plausible = pd.read_parquet(tmp / "out" / "plausible.parquet")
    assert len(plausible) >= 2, "the small calibration should find a few plausible worlds"
    path = _sweep_file(tmp_path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        sweep = load_sweep(path, worlds=tmp / "out" / "plausible.parquet")
        cols = [c for c in plausible.columns if c.startswith("world.")]
        assert sweep.points == plausible[cols].to_dict("records")
        assert sweep.axes["uncertainties"] == cols and sweep.reference["n_worlds"] == len(plausible)
        runs = sweep.runs()
        assert len(runs) == 2 * len(plausible)  # both policies meet every world
        for spec in runs:
            for c in cols:
                leaf = c.rsplit(".", 1)[1]
                if c.startswith("world.buyers."):
                    assert getattr(spec.scenario.world.buyers, leaf) == pytest.approx(spec.params[c])
        two = load_sweep(path, worlds=tmp / "out" / "plausible.parquet", worlds_n=2)
        assert len(two.points) == 2 and all(p in sweep.points for p in two.points)
        assert two.points == load_sweep(path, worlds=tmp / "out" / "plausible.parquet", worlds_n=2).points
    out = tmp_path / "res"
    code = main(["sweep", str(path), "--worlds", str(tmp / "out" / "plausible.parquet"), "--worlds-n", "2",
                 "--workers", "1", "--out", str(out), "--quiet"])
    assert code == 0, capsys.readouterr().err
    summary = pd.read_parquet(out / "summary")
    assert summary.loc[summary["market"] == "all", "run_id"].nunique() == 4
    # The report of the sweep carries the calibration of the worlds it ran on.
    capsys.readouterr()
    assert main(["report", str(out), "--calibration", str(tmp / "out")]) == 0, capsys.readouterr().err
    html = (out / "report.html").read_text()
    md = (out / "report.md").read_text()
    doc = json.loads((tmp / "out" / "calibration.json").read_text())
    for text, esc in ((html, ""), (md, "\\")):  # Markdown escapes underscores
        assert "Calibration of the world" in text and f"{doc['nrmse']:.3f}" in text
        for name in ("world.buyers.return_if_bad", "refund_rate 0.38 +/- 0.05"):
            assert name.replace("_", esc + "_") in text, name
    code = main(["report", str(out), "--calibration", str(tmp_path)])
    assert code == 2 and "not a livesim calibration folder" in capsys.readouterr().err


def test_bad_worlds_are_one_line_errors(small_run, tmp_path, capsys):
    tmp, *_ = small_run
    path = _sweep_file(tmp_path)
    not_worlds = tmp_path / "x.parquet"
    pd.DataFrame({"policy.referral_fee": [0.1]}).to_parquet(not_worlds)
    junk = tmp_path / "junk.parquet"
    junk.write_text("not parquet")
    with_unc = _sweep_file(tmp_path, '[uncertainties.grid]\n"world.buyers.churn_rate" = [0.001]\n', "unc.toml")
    cases = [
        (["--worlds", str(tmp_path / "none.parquet")], "no such worlds file"),
        (["--worlds", str(not_worlds)], "no world.* column"),
        (["--worlds", str(junk)], "not a readable Parquet file"),
        (["--worlds-n", "2"], "needs --worlds"),
    ]
    for extra, says in cases:
        code = main(["sweep", str(path), *extra, "--out", str(tmp_path / "o"), "--quiet"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and says in err[-1] and len(err) == 1, (extra, err)
    code = main(["sweep", str(with_unc), "--worlds", str(tmp / "out" / "plausible.parquet"), "--out",
                 str(tmp_path / "o"), "--quiet"])
    assert code == 2 and "uncertainties" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_budget_zero_is_the_fit_of_the_scenario_as_it_is(small_run, capsys):
    """--budget 0 searches nothing and writes nothing: the scenario's own fit table, over the same
    fresh replications a calibration checks its best world on."""
    from analysis.calibrate import scenario_fit

    tmp, path, scenario, obs, _ = small_run
    fit, nrmse, nrmse_ho = scenario_fit(scenario, obs, replications=3)
    assert list(fit["n"]) == [3, 3, 3] and list(fit["held_out"]) == [False, False, True]
    fitted = fit.loc[~fit["held_out"], "normalised_error"].to_numpy()
    assert nrmse == pytest.approx(float(np.sqrt(np.mean(fitted**2))))
    assert nrmse_ho == pytest.approx(abs(fit.loc[fit["held_out"], "normalised_error"].iloc[0]))
    before = sorted(p.name for p in tmp.iterdir())
    code = main(["calibrate", "baseline", "--observed", str(path), "--budget", "0", "--workers", "1", *SMALL_ARGS])
    out = capsys.readouterr().out
    assert code == 0 and "Fit of scenario baseline as it is" in out and "NRMSE over the fitted targets" in out
    assert sorted(p.name for p in tmp.iterdir()) == before
    code = main(["calibrate", "baseline", "--observed", str(path), "--budget", "0", "--out", str(tmp / "x"),
                 *SMALL_ARGS])
    assert code == 2 and "writes nothing" in capsys.readouterr().err and not (tmp / "x").exists()


@pytest.mark.slow
def test_same_calibration_on_a_dask_cluster(small_run):
    """The backend does not change a calibration: a dask LocalCluster of two workers gives the
    trials and fit of the in-process run."""
    pytest.importorskip("dask.distributed")
    tmp, _, scenario, obs, result = small_run
    again = calibrate(scenario, obs, tmp / "dask", budget=6, workers=2, backend="dask", check_replications=3)
    pd.testing.assert_frame_equal(pd.read_parquet(tmp / "out" / "trials.parquet"),
                                  pd.read_parquet(tmp / "dask" / "trials.parquet"))
    pd.testing.assert_frame_equal(result.fit, again.fit)


def test_an_unreachable_scheduler_leaves_no_trace(tmp_path, capsys):
    import socket

    pytest.importorskip("dask.distributed")
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = _write(tmp_path, OBSERVED)
    out = tmp_path / "cal"
    code = main(["calibrate", "baseline", "--observed", str(path), "--out", str(out), "--budget", "2",
                 "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}", *SMALL_ARGS])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "no dask scheduler answered" in err[-1]
    assert not out.exists()
