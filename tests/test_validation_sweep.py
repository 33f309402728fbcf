"""Sign checks: expected signs in sweep files, their validation, the report's "Sign checks"
section, and the bundled validation sweep."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from analysis.report import build_report, observed_sign, sign_checks, sign_result
from sim.errors import ScenarioError
from sim.experiment import execute
from sim.metrics import METRICS
from sim.sweep import SIGNS, load_sweep
from tests.conftest import sweep_file

LEVERS = {"threshold_low", "capacity_cut", "strict_preset", "lenient_preset", "interrupt_live",
          "incentive_bonus", "incentive_no_bonus", "mega_sale", "severity_high", "certainty_high",
          "enforcement_off"}


# ---- the bundled sweep -------------------------------------------------------------------------


def test_bundled_validation_sweep_declares_a_sign_for_every_lever():
    """validation: every lever variant declares at least one expected sign on a known metric, and the
    buyer-response assumptions are crossed at two ends each."""
    sweep = load_sweep("validation")
    assert set(sweep.variants) == LEVERS | {"baseline"}
    assert set(sweep.expectations) == LEVERS
    for expect in sweep.expectations.values():
        assert expect and all(m in METRICS and s in SIGNS for m, s in expect.items())
    assert sweep.axes["uncertainties"] == ["world.buyers.appetite_loss_bad", "world.buyers.churn_wary"]
    assert len(sweep.points) == 4 and sweep.axes["levers"] == []
    assert sweep.base.world.n_buyers <= 20_000 and sweep.base.days <= 90  # a few minutes with 2 workers
    assert "expectations" in sweep.config_document()


@pytest.mark.parametrize("name", ["validation", "enforcement_value"])
def test_bundled_sign_sweeps_run_on_the_baseline_world(name):
    """The validation sweeps' world is the bundled baseline's at a smaller size: every world value but
    the numbers of buyers and creators equals baseline.toml's (its fitted values included)."""
    from sim.config import load_scenario

    sizes = {"n_buyers", "n_creators"}
    world = load_sweep(name).base.world
    assert world.model_dump(exclude=sizes) == load_scenario("baseline").world.model_dump(exclude=sizes)


def test_bundled_kyc_sweep_runs_on_the_baseline_world_with_more_ban_evaders():
    """kyc: the validation sweep's world but for the creator mix, whose ban evaders (3 %, as in
    ban_evasion.toml) come out of the honest share; one lever, strict KYC, expected to let fewer in."""
    sweep, validation = load_sweep("kyc"), load_sweep("validation")
    world, base = sweep.base.world, validation.base.world
    assert world.model_dump(exclude={"creators"}) == base.model_dump(exclude={"creators"})
    assert world.creators.model_dump(exclude={"mix"}) == base.creators.model_dump(exclude={"mix"})
    mix, base_mix = world.creators.mix.model_dump(), base.creators.mix.model_dump()
    assert mix["ban_evader"] == 0.03 and mix["honest"] == pytest.approx(base_mix["honest"] - (0.03 - base_mix["ban_evader"]))
    assert {k: v for k, v in mix.items() if k not in ("honest", "ban_evader")} == \
        {k: v for k, v in base_mix.items() if k not in ("honest", "ban_evader")}
    assert (sweep.base.days, sweep.base.warmup_days, sweep.base.policy_preset) == \
        (validation.base.days, validation.base.warmup_days, validation.base.policy_preset)
    assert set(sweep.variants) == {"baseline", "kyc_strict"} and sweep.expectations == {"kyc_strict": {"ban_evasions": "down"}}


def test_expectations_do_not_change_the_runs(tmp_path):
    """An expect table is not an override: the variant's scenario and the config hash are those without it."""
    body = 'replications = 2\n[variants.off]\n"policy.detection.enabled" = false\n'
    plain = load_sweep(sweep_file(tmp_path, body, name="a"))
    expecting = load_sweep(sweep_file(tmp_path, body + '[variants.off.expect]\nactions = "down"\n', name="b"))
    assert expecting.config_hash() == plain.config_hash()
    assert expecting.expectations == {"off": {"actions": "down"}}


@pytest.mark.parametrize("table, field, words", [
    ('[variants.x.expect]\nprevalance = "down"\n', "variants.x.expect.prevalance", "prevalence"),
    ('[variants.x.expect]\nprevalence = "lower"\n', "variants.x.expect.prevalence", "allowed: up, down, flat"),
    ('[variants.x.expect]\nprevalence = 1\n', "variants.x.expect.prevalence", "allowed: up, down, flat"),
    ('[variants.baseline.expect]\nprevalence = "down"\n', "variants.baseline.expect", "compared with"),
    ('[variants.y]\nexpect = "down"\n', "variants.y.expect", "metric = sign"),
])
def test_bad_expectations_are_one_line_errors(tmp_path, table, field, words):
    """An unknown metric (with the closest name), an unknown sign, or an expectation on the baseline
    is one error naming the file and the field."""
    body = 'replications = 2\n[variants.x]\n"policy.detection.threshold" = 2.0\n' + table
    path = sweep_file(tmp_path, body)
    with pytest.raises(ScenarioError) as err:
        load_sweep(path)
    msg = err.value.message
    assert str(path) in msg and field in msg and words in msg and "\n" not in msg


# ---- the sign logic ------------------------------------------------------------------------------


@pytest.mark.parametrize("diff, low, high, sign", [
    (1.0, 0.5, 1.5, "up"), (-1.0, -1.5, -0.5, "down"), (0.0, 0.0, 0.0, "flat"), (0.2, -0.1, 0.5, "unclear"),
    (1.0, float("nan"), float("nan"), "unclear"), (0.0, 0.0, 0.1, "unclear"),
])
def test_observed_sign_comes_from_the_interval(diff, low, high, sign):
    """A sign is observed only when the interval excludes 0; every pair equal is flat."""
    assert observed_sign(diff, low, high) == sign


@pytest.mark.parametrize("expected, observed, result", [
    ("up", "up", "pass"), ("up", "down", "fail"), ("up", "flat", "fail"), ("up", "unclear", "inconclusive"),
    ("down", "down", "pass"), ("flat", "flat", "pass"), ("flat", "unclear", "pass"), ("flat", "up", "fail"),
])
def test_sign_result(expected, observed, result):
    """pass: the expected sign; fail: another definite sign; inconclusive: an interval that holds 0."""
    assert sign_result(expected, observed) == result


def test_sign_checks_pair_runs_by_replication_and_point():
    """Paired differences per point: a variant up by exactly 1 in every pair passes 'up'; one whose
    pairs disagree in sign is inconclusive; a metric not expected is not checked."""
    rows = []
    for point in (0, 1):
        for r in range(4):
            base = 10.0 + r + point
            rows.append({"variant": "baseline", "point": point, "replication": r, "market": "all", "gmv": base,
                         "prevalence": 0.1})
            rows.append({"variant": "v", "point": point, "replication": r, "market": "all", "gmv": base + 1.0,
                         "prevalence": 0.1 + (0.01 if r % 2 else -0.01)})
    summary = pd.DataFrame(rows)
    checks = sign_checks(summary, {"v": {"gmv": "up", "prevalence": "down"}})
    assert len(checks) == 4
    gmv = checks[checks["metric"] == "gmv"]
    assert (gmv["result"] == "pass").all() and np.allclose(gmv["diff"], 1.0)
    assert (checks[checks["metric"] == "prevalence"]["result"] == "inconclusive").all()


# ---- the report ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def signed_sweep(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("signs")
    body = ('replications = 3\n[variants.off]\n"policy.detection.enabled" = false\n'
            '[variants.off.expect]\nactions = "down"\nflags = "up"\ngmv_bonus_spend = "flat"\n')
    path = sweep_file(tmp, body, days=10, buyers=3000, creators=120)
    out = tmp / "results"
    execute(load_sweep(path), out, workers=1)
    return out


def test_report_has_a_sign_checks_section(signed_sweep, tmp_path):
    """The report lists each expected sign with the paired difference, the observed sign and the
    result, and counts the checks that pass; the manifest keeps the expectations."""
    assert json.loads((signed_sweep / "manifest.json").read_text())["config"]["expectations"] == {
        "off": {"actions": "down", "flags": "up", "gmv_bonus_spend": "flat"}}
    report = build_report(signed_sweep, tmp_path / "r.html")
    s = report.signs.set_index("metric")
    assert s.loc["actions", "result"] == "pass"  # no detection: no decisions, in every pair
    assert s.loc["flags", "result"] == "fail"  # flags go down, not up
    assert s.loc["gmv_bonus_spend", "observed"] == "flat" and s.loc["gmv_bonus_spend", "result"] == "pass"
    page = report.html.read_text()
    assert 'id="signs"' in page and "<b>2 of 3</b> sign checks pass, 1 fail" in page
    assert "## Sign checks" in report.markdown.read_text()


def test_report_without_expectations_has_no_sign_checks(sweep_results, tmp_path):
    """A sweep that declares no signs gets no sign-check section."""
    report = build_report(sweep_results, tmp_path / "r.html")
    assert report.signs.empty and 'id="signs"' not in report.html.read_text()


def test_report_targets_show_band_and_attainment(signed_sweep, tmp_path):
    """With a facts file, each variant's targets show observed value, band and met, and 'k of n targets met'."""
    from analysis.facts import load_facts

    report = build_report(signed_sweep, tmp_path / "r.html", targets=load_facts("public_facts").targets)
    t = report.targets
    assert {"band", "mean", "met", "source", "confidence"} <= set(t.columns)
    page = report.html.read_text()
    assert 'id="attainment"' in page
    for _, g in t.groupby("label"):
        assert f"<b>{int(g['met'].sum())} of {len(g)}</b> targets met" in page


@pytest.mark.slow
def test_bundled_validation_sweep_signs_hold(tmp_path):
    """The bundled validation sweep, at its own 4 replications, fails no sign check: no lever moves a
    metric against its expected sign in any of the four worlds. (With 2 replications a t-interval
    from two nearly equal pairs can exclude zero for an effect far below the noise: the detection
    threshold's effect on prevalence, inconclusive in every world at 4, once read "up" at 2.)"""
    from analysis.load import load
    from analysis.report import sign_checks as checks_of

    sweep = load_sweep("validation")
    assert sweep.replications == 4
    out = tmp_path / "validation"
    execute(sweep, out, workers=2)
    checks = checks_of(load(out).summary, sweep.expectations)
    assert len(checks) == sum(len(e) for e in sweep.expectations.values()) * len(sweep.points)
    failed = checks[checks["result"] == "fail"]
    assert failed.empty, failed.to_string()


@pytest.mark.slow
def test_bundled_kyc_sweep_sign_passes(tmp_path):
    """Strict KYC lets fewer banned evaders back in, measurably: in the kyc sweep's world (enough
    ban evaders for a few re-entries a run) the paired difference in ban evasions is below 0 with
    its 95 % interval, at the sweep's 8 replications."""
    from analysis.load import load
    from analysis.report import sign_checks as checks_of

    sweep = load_sweep("kyc")
    out = tmp_path / "kyc"
    execute(sweep, out, workers=2)
    checks = checks_of(load(out).summary, sweep.expectations)
    assert len(checks) == 1 and checks["n"].iloc[0] == 8
    assert (checks["result"] == "pass").all(), checks.to_string()
