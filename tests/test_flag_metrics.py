"""True and false flags, and wrongly actioned decisions: the enforcement funnel split by ground truth.

``true_flags`` counts flags on items that really violated, ``false_flags`` the rest of ``flags``,
and ``false_actions`` the enforcement decisions on items that did not violate (the decision log's
``real`` false). All three are exact counts, so the claims here are exact.
"""

from __future__ import annotations

import pandas as pd
import pytest

from sim import run
from sim.config import scenario_from_dict
from sim.metrics import METRICS
from sim.runner import RunResult
from tests.conftest import tiny_dict

NEW = ("true_flags", "false_flags", "false_actions")
WARMUP = 5
PERFECT_DPRIME = dict.fromkeys(
    ("counterfeit", "misleading_claims", "fake_engagement", "offplatform_diversion", "incentive_fraud", "minor"), 10.0
)
PERFECT_REVIEW = {"capacity_per_day": 1_000_000, "sensitivity": 1.0, "specificity": 1.0, "auto_action": False}


def _run(data: dict) -> RunResult:
    return run(scenario_from_dict(data))


@pytest.fixture(scope="module")
def enforced() -> RunResult:
    """The tiny enforced world (every signal source on, adversaries adapting) with a warm-up."""
    data = tiny_dict(enforced=True)
    data["warmup_days"] = WARMUP
    return _run(data)


def _by_day_and_market(daily: pd.DataFrame, column: str) -> pd.DataFrame:
    """A column of the daily table as a day x market frame (the platform row under "all")."""
    return daily.pivot(index="day", columns="market", values=column)


def test_the_new_metrics_are_registered_with_their_units_and_directions():
    """The three follow the last built-in column in this order (earlier columns keep their places), with their units."""
    names = list(METRICS)
    first = names.index("honest_sanctioned_per_10k") + 1
    assert names[first:first + 3] == list(NEW)
    assert [(METRICS[n].unit, METRICS[n].higher_is_better, METRICS[n].summary) for n in NEW] == [
        ("items", None, "total"), ("items", False, "total"), ("decisions", False, "total")]


def test_true_and_false_flags_add_up_to_flags_every_day_in_every_market(enforced: RunResult):
    """On every day, in every market and the platform: true_flags + false_flags == flags, 0 <= true_flags <= flags."""
    d = enforced.daily
    assert set(d["market"]) == {"all", "aa", "bb"}
    assert (d["true_flags"] + d["false_flags"] == d["flags"]).all()
    assert ((d["true_flags"] >= 0) & (d["true_flags"] <= d["flags"])).all()
    # Both kinds occur in this world, so the identities are not about zeros.
    assert d.loc[d["market"] == "all", "true_flags"].sum() > 0
    assert d.loc[d["market"] == "all", "false_flags"].sum() > 0


def test_false_actions_are_the_decisions_on_items_that_did_not_violate(enforced: RunResult):
    """Each day's false_actions per market equals the decision log's rows that day and market with real == False."""
    d, s = enforced.daily, enforced.sanctions
    assert len(s) > 0 and (~s["real"]).any()  # at least one wrong decision to count
    wrong = s[~s["real"]]
    days = sorted(d["day"].unique())
    for market in ("aa", "bb"):
        expected = wrong[wrong["market"] == market].groupby("day").size().reindex(days, fill_value=0)
        got = d[d["market"] == market].set_index("day")["false_actions"].reindex(days)
        assert got.tolist() == expected.astype(float).tolist()
    expected_all = wrong.groupby("day").size().reindex(days, fill_value=0)
    assert d[d["market"] == "all"].set_index("day")["false_actions"].tolist() == expected_all.astype(float).tolist()
    # ...and the other decisions are the right ones.
    right = s[s["real"]].groupby("day").size().reindex(days, fill_value=0).astype(float)
    platform = d[d["market"] == "all"].set_index("day")
    assert (platform["actions"] - platform["false_actions"]).tolist() == right.tolist()


def test_decisions_never_outnumber_the_flags_they_came_from(enforced: RunResult):
    """Each decision comes from one flag and keeps its truth: right decisions <= true flags, wrong ones <= false flags."""
    platform = enforced.daily[enforced.daily["market"] == "all"]
    assert (platform["actions"] - platform["false_actions"]).sum() <= platform["true_flags"].sum()
    assert platform["false_actions"].sum() <= platform["false_flags"].sum()


@pytest.mark.parametrize("metric", NEW)
def test_market_values_add_up_to_the_platform(enforced: RunResult, metric: str):
    """Each day's per-market values, and the per-market run values, sum exactly to the platform's."""
    table = _by_day_and_market(enforced.daily, metric)
    assert (table["aa"] + table["bb"] == table["all"]).all()
    by_market = enforced.summary_by_market
    assert by_market["aa"][metric] + by_market["bb"][metric] == enforced.summary[metric]


def test_run_values_are_totals_after_the_warm_up(enforced: RunResult):
    """The run values are the post-warm-up totals of the daily values, and still add up (true + false == flags)."""
    platform = enforced.daily[(enforced.daily["market"] == "all") & (enforced.daily["day"] > WARMUP)]
    everything = enforced.daily[enforced.daily["market"] == "all"]
    assert platform["flags"].sum() < everything["flags"].sum()  # the warm-up had flags to leave out
    for metric in NEW:
        assert enforced.summary[metric] == platform[metric].sum()
    for row in (enforced.summary, *enforced.summary_by_market.values()):
        assert row["true_flags"] + row["false_flags"] == row["flags"]
    s = enforced.sanctions
    assert enforced.summary["false_actions"] == float((~s["real"] & (s["day"] > WARMUP)).sum())


def test_without_violations_every_flag_is_false():
    """A world without violations or false reports has flags but no true flag, and every decision in it is wrong."""
    mix = {"honest": 1.0, "opportunist": 0.0, "counterfeit": 0.0, "misleading_claims": 0.0, "fake_engagement": 0.0,
           "offplatform_diversion": 0.0, "incentive_fraud": 0.0, "ban_evader": 0.0}
    data = tiny_dict(enforced=True, creators={"mix": mix}, tactics={"minor": {"intensity": 0.0}},
                     buyers={"false_report_rate": 0.0})
    # A low classifier threshold and complaint spikes of one complaint: clean streams and creators get flagged.
    data["policy"] = {"detection": {"threshold": 2.0, "complaint_threshold": 1}}
    d = _run(data).daily
    assert d["violations"].sum() == 0
    assert d.loc[d["market"] == "all", "flags"].sum() > 0
    assert (d["true_flags"] == 0).all()
    assert (d["false_flags"] == d["flags"]).all()
    assert (d["false_actions"] == d["actions"]).all()


def test_perfect_review_actions_every_true_flag_and_no_false_one():
    """Classifier flags, unlimited same-day review, perfect reviewers: actions == true_flags and no false action."""
    data = tiny_dict(enforced=True, adaptation={"enabled": False})
    data["policy"] = {"detection": {"dprime": PERFECT_DPRIME, "threshold": 2.5, "report_threshold": 10_000,
                                    "complaint_threshold": 10_000},
                      "review": PERFECT_REVIEW}
    d = _run(data).daily
    assert (d["false_actions"] == 0).all()
    assert (d["actions"] == d["true_flags"]).all()
    # With d' = 10 every violating stream is flagged; clean streams above 2.5 are flagged and cleared.
    assert (d["true_flags"] == d["violations"]).all()
    platform = d[d["market"] == "all"]
    assert platform["true_flags"].sum() > 0 and platform["false_flags"].sum() > 0


def test_flags_on_accounts_count_as_true_or_false_by_the_last_week():
    """Complaint spikes alone, perfect reviewers: no false action, and no day has more decisions than true flags."""
    data = tiny_dict(enforced=True, adaptation={"enabled": False})
    data["policy"] = {"detection": {"threshold": 20.0, "report_threshold": 10_000, "complaint_threshold": 1},
                      "review": PERFECT_REVIEW}
    result = _run(data)
    d = result.daily
    assert set(result.sanctions["source"]) == {"complaint"}
    assert (d["false_actions"] == 0).all()
    assert (d["actions"] <= d["true_flags"]).all()
    platform = d[d["market"] == "all"]
    assert platform["actions"].sum() > 0 and platform["false_flags"].sum() > 0
