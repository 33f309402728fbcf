"""Stylized facts: the bundled facts file, the Target bands, attainment counts, the fact metrics
and ``livesim check-facts``."""

from __future__ import annotations

import math
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from pydantic import ValidationError

from analysis.facts import attainment, check_facts, fact_table, load_facts, parameter_table
from sim.bundled import resolve_targets, targets_names
from sim.cli import main
from sim.config import Target, load_scenario, scenario_from_dict
from sim.errors import ScenarioError
from sim.metrics import METRICS
from sim.platform.enforcement import SOURCES
from sim.runner import run
from tests.conftest import BASELINE, ROOT, tiny_dict

FACTS = ROOT / "scenarios" / "targets" / "public_facts.toml"
REQUIRED_FACTS = 6  # outcome facts the bundled baseline must reproduce


# ---- the bundled facts file ------------------------------------------------------------------


def test_public_facts_is_bundled_and_valid():
    """public_facts resolves by name, validates, and every fact names a known metric, a source and a confidence."""
    assert "public_facts" in targets_names()
    assert resolve_targets("public_facts").resolve() == FACTS.resolve()
    facts = load_facts("public_facts")
    assert len(facts.targets) >= 10 and len(facts.parameters) >= 4
    for t in facts.targets:
        assert t.metric in METRICS and t.source and t.confidence in ("H", "M", "L")
        low, high = t.band
        assert low < high
    assert {t.metric for t in facts.targets} >= {"proactive_rate", "notice_action_rate", "refund_rate",
                                                 "campaign_gmv_multiple", "top1pct_gmv_share", "bans",
                                                 "time_to_action"}
    assert {p.path for p in facts.parameters} >= {"policy.appeals.window_days"}


def test_public_facts_ships_as_package_data():
    """pyproject's package data takes scenarios/targets/*.toml, as for the other bundled files."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "targets/*.toml" in data["tool"]["setuptools"]["package-data"]["livesim_scenarios"]


def test_every_input_fact_names_a_path_of_the_baseline():
    """Each [[parameters]] path exists in the resolved baseline, and the baseline encodes each fact."""
    table = parameter_table(load_scenario(BASELINE), load_facts(FACTS).parameters)
    assert table["observed"].notna().all()
    assert table["met"].all(), table


def test_earnings_band_is_pareto_alpha_1_5_to_2_5():
    """The top-1 % band is the share a Pareto tail gives for alpha 1.5 and 2.5: 0.01 ** (1 - 1/alpha)."""
    t = next(t for t in load_facts(FACTS).targets if t.metric == "top1pct_gmv_share")
    assert t.band[1] == pytest.approx(0.01 ** (1 - 1 / 1.5), abs=5e-4)
    assert t.band[0] == pytest.approx(0.01 ** (1 - 1 / 2.5), abs=5e-4)


# ---- the Target schema ------------------------------------------------------------------------


def test_target_value_with_tolerance_is_a_closed_band():
    """value +/- tolerance accepts both ends and nothing beyond; NaN is never met."""
    t = Target(metric="proactive_rate", value=0.88, tolerance=0.05)
    assert t.band == pytest.approx((0.83, 0.93))
    assert t.met(0.83) and t.met(0.93) and t.met(0.88)
    assert not t.met(0.8299) and not t.met(0.9301) and not t.met(float("nan"))
    assert t.describe() == "proactive_rate 0.88 +/- 0.05"


def test_target_range_and_one_sided_bounds():
    """min and max together are a range; one of them alone is open on the other side."""
    r = Target(metric="refund_rate", min=0.3, max=0.5)
    assert r.met(0.3) and r.met(0.5) and not r.met(0.29) and r.band_text() == "0.3 to 0.5"
    assert Target(metric="prevalence", max=0.01).band == (-math.inf, 0.01)
    assert Target(metric="gmv", min=1.0).band == (1.0, math.inf)


@pytest.mark.parametrize("fields, words", [
    ({}, "max and/or min, or value with tolerance"),
    ({"max": 1.0, "value": 0.5, "tolerance": 0.1}, "not both forms"),
    ({"value": 0.5}, "value and tolerance go together"),
    ({"min": 0.6, "max": 0.5}, "above max"),
    ({"value": 0.5, "tolerance": -0.1}, "greater than or equal to 0"),
    ({"max": float("nan")}, "finite"),
    ({"max": 1.0, "confidence": "high"}, "'H', 'M', 'L'"),
])
def test_bad_targets_are_refused(fields, words):
    """A target without a band, with two forms, half a point band, an inverted range, a negative
    tolerance, a NaN bound or an unknown confidence is refused with a reason."""
    with pytest.raises(ValidationError) as err:
        Target(metric="prevalence", **fields)
    assert words in str(err.value)


def test_facts_file_errors_name_file_and_field(tmp_path):
    """A facts file's bad parameter fact or unknown table is one error naming the file and the field."""
    path = tmp_path / "f.toml"
    path.write_text('[[targets]]\nmetric = "prevalence"\nmax = 0.1\n[[parameters]]\npath = "policy.pilot_days"\n')
    with pytest.raises(ScenarioError) as err:
        load_facts(path)
    assert str(path) in err.value.message and "parameters[0]" in err.value.message
    path.write_text('[[targets]]\nmetric = "prevalence"\nmax = 0.1\n[[parameters]]\npath = "polcy.x"\nvalue = 1\n')
    with pytest.raises(ScenarioError, match=r"parameters\[0\]\.path"):
        load_facts(path)
    path.write_text('[[targets]]\nmetric = "prevalence"\nmax = 0.1\n[[facts]]\nx = 1\n')
    with pytest.raises(ScenarioError, match="facts: unknown key"):
        load_facts(path)


# ---- attainment -------------------------------------------------------------------------------


def test_fact_table_counts_facts_met_exactly():
    """Per fact: the mean over replications, met by the band; a metric the results lack is listed, not met."""
    summary = pd.DataFrame({"label": ["a"] * 3, "market": ["all"] * 3, "refund_rate": [0.28, 0.35, 0.38],
                            "bans": [2.0, 4.0, 6.0]})
    targets = [Target(metric="refund_rate", min=0.3, max=0.5),
               Target(metric="bans", per_10k_creators=True, min=500.0, max=1500.0),
               Target(metric="proactive_rate", value=0.88, tolerance=0.05)]
    t = fact_table(summary, targets, n_creators=40)
    assert list(t["met"]) == [True, True, False]
    assert t.loc[0, "observed"] == pytest.approx(1.01 / 3) and t.loc[0, "share_met"] == pytest.approx(2 / 3)
    assert t.loc[1, "observed"] == pytest.approx(1000.0)  # 4 bans per 40 creators = 1,000 per 10k
    assert np.isnan(t.loc[2, "observed"]) and t.loc[2, "n"] == 0
    assert attainment(t) == (2, 3)


def test_fact_table_reads_each_facts_market():
    """A market fact reads that market's row, scaled by that market's share of creators."""
    summary = pd.DataFrame({"label": ["a", "a"], "market": ["all", "sg"], "bans": [10.0, 1.0]})
    t = fact_table(summary, [Target(metric="bans", market="sg", per_10k_creators=True, max=300.0)],
                   n_creators=100, creator_share={"sg": 0.5})
    assert t.loc[0, "observed"] == pytest.approx(200.0) and bool(t.loc[0, "met"])


# ---- the fact metrics --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def enforced_run():
    data = tiny_dict(enforced=True)
    data["days"] = 40
    data["timeline"] = [{"kind": "campaign", "name": "sale", "start_day": 20, "days": 3}]
    return run(scenario_from_dict(data), replication=0)


def test_notice_action_rate_is_reports_on_decided_streams_over_reports(enforced_run):
    """notice_action_rate = reports on the streams that drew a decision (whichever signal raised
    it) / reports filed, overall and per market; a decision on an account carries no report."""
    r = enforced_run
    s, d = r.sanctions, r.daily
    reports = d[d["market"] == "all"]["reports"].sum()
    assert reports > 0 and s["reports"].sum() > 0
    assert (s.loc[s["source"] == "complaint", "reports"] == 0).all()
    assert r.summary["notice_action_rate"] == pytest.approx(s["reports"].sum() / reports, rel=1e-12)
    for m, v in r.summary_by_market.items():
        mine = d[d["market"] == m]["reports"].sum()
        assert v["notice_action_rate"] == pytest.approx(s.loc[s["market"] == m, "reports"].sum() / mine, rel=1e-12)
    assert "report" in SOURCES


def test_campaign_gmv_multiple_is_campaign_over_other_days(enforced_run):
    """campaign_gmv_multiple = mean daily GMV on campaign days / mean daily GMV on the other days;
    its daily value is the day's GMV on campaign days and blank otherwise."""
    d = enforced_run.daily
    day = d[d["market"] == "all"].set_index("day")
    on = day["campaign_gmv_multiple"].notna()
    assert sorted(day.index[on]) == [20, 21, 22]
    assert np.allclose(day.loc[on, "campaign_gmv_multiple"], day.loc[on, "gmv"])
    expected = day.loc[on, "gmv"].mean() / day.loc[~on, "gmv"].mean()
    assert enforced_run.summary["campaign_gmv_multiple"] == pytest.approx(expected, rel=1e-9)
    assert expected > 1.3  # a 2x-traffic sale lifts GMV


def test_conversion_rate_is_orders_per_view(enforced_run):
    """conversion_rate = orders / views over the run."""
    s = enforced_run.summary
    assert s["conversion_rate"] == pytest.approx(s["orders"] / s["views"], rel=1e-12)


def test_campaign_gmv_multiple_is_undefined_without_a_campaign(tiny):
    """Without a campaign there is nothing to compare: NaN, not a warning or zero."""
    assert math.isnan(run(tiny, replication=0).summary["campaign_gmv_multiple"])


# ---- check-facts and the baseline ---------------------------------------------------------------


def test_check_facts_on_a_run_folder_prints_k_of_n(tmp_path, capsys):
    """check-facts on a run folder lists every fact with its band and ends with 'k of n facts met';
    --require above k exits 1."""
    out = tmp_path / "run"
    assert main(["run", "baseline", "--days", "30", "--set", "world.n_buyers=3000", "--set",
                 "world.n_creators=120", "--out", str(out), "--no-plot", "--quiet"]) == 0
    capsys.readouterr()
    assert main(["check-facts", str(out)]) == 0
    text = capsys.readouterr().out
    n = len(load_facts(FACTS))
    assert f" of {n} facts met" in text and "0.88 +/- 0.05" in text
    assert main(["check-facts", str(out), "--require", "11"]) == 1
    assert main(["check-facts", str(out), "--days", "3"]) == 2  # overrides apply to a scenario only
    assert "scenario only" in capsys.readouterr().err


def test_check_facts_unknown_facts_file_is_one_line(capsys):
    """An unknown --facts names the bundled facts files."""
    assert main(["check-facts", "baseline", "--facts", "nope"]) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "public_facts" in err


def test_bundled_baseline_reproduces_the_required_facts():
    """The bundled baseline (replication 0) meets at least 6 of the public outcome facts."""
    check = check_facts("baseline", FACTS)
    met, n = check.met
    assert n == len(load_facts(FACTS).targets)
    assert met >= REQUIRED_FACTS, check.text()


def test_facts_path_argument_is_a_file_too(tmp_path):
    """--facts accepts a path as well as a bundled name."""
    path = tmp_path / "mine.toml"
    path.write_text(Path(FACTS).read_text())
    assert len(load_facts(path)) == len(load_facts("public_facts"))
