"""Controllers: feedback loops that move levers from observed data, and the run metrics that judge them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.metrics import CONTAINMENT_HOLD_DAYS, containment, containment_band
from sim.runner import run
from tests.conftest import escalated_by_day

ONE_MARKET = {"name": "loop", "days": 60, "seed": 4,
              "world": {"n_buyers": 6000, "n_creators": 400,
                        "markets": [{"name": "sg", "buyer_share": 1.0, "creator_share": 1.0}]},
              "policy": {"review": {"capacity_per_day": 40}}}


def test_pi_controller_holds_utilisation_near_target_where_the_fixed_threshold_does_not() -> None:
    """With spare review capacity the fixed threshold leaves utilisation far below 0.7; the PI rule brings its mean within 0.04."""
    fixed = run(scenario_from_dict(ONE_MARKET))
    pi = run(scenario_from_dict(ONE_MARKET | {"controllers": [{"kind": "pi_threshold", "name": "pi", "target": 0.7}]}))
    # The tolerance is backed by repeated runs: over seeds 1-8 of this world the PI rule's mean
    # utilisation after day 20 was 0.679-0.700 with its default gains (|error| at most 0.021), and
    # the fixed threshold's 0.270-0.339 (|error| at least 0.36). With the former gains (kp 1.0,
    # ki 0.1) it was 0.641-0.676: the integral had not caught up by day 60 (pi_threshold.py).
    settled = slice(20, None)  # after the first 20 days
    u_fixed = fixed.platform_daily["review_utilisation"].to_numpy()[settled]
    u_pi = pi.platform_daily["review_utilisation"].to_numpy()[settled]
    assert abs(np.nanmean(u_fixed) - 0.7) > 0.3
    assert abs(np.nanmean(u_pi) - 0.7) < 0.04
    actions = pi.controller_actions
    assert len(actions) == pi.summary["controller_actions"] > 0
    assert actions["change"].str.startswith("detection.threshold").all()
    assert pd.Series(pi.daily["day"]).equals(fixed.daily["day"])  # same days, same table shape


ROLLBACK = ONE_MARKET | {
    "days": 40, "world": ONE_MARKET["world"] | {"n_creators": 200, "n_buyers": 3000},
    "timeline": [{"kind": "policy", "name": "aggressive", "start_day": 15, "set": {"detection.threshold": 1.0}}],
    "signals": [{"name": "flag_watch", "observable": "flag_rate",
                 "detector": {"kind": "threshold", "limit": 0.3}}],
    "controllers": [{"kind": "guardrail_rollback", "name": "guard", "launch": "aggressive",
                     "observable": "flag_rate", "limit": 0.3, "consecutive_days": 3}],
}


def test_rollback_reverts_the_launch_on_the_day_the_breach_completes() -> None:
    """The launch is rolled back on the third day in a row, from its launch day, that the flag rate is above its limit."""
    result = run(scenario_from_dict(ROLLBACK))
    a = result.alerts
    fired = set(a.loc[a["fired"], "day"].astype(int))
    breach_done = next(d for d in range(17, 41) if {d - 2, d - 1, d} <= fired and d - 2 >= 15)
    actions = result.controller_actions
    assert actions["day"].tolist() == [breach_done]
    assert actions["change"].iloc[0] == "roll back aggressive: detection.threshold -> 2.5"
    # From the next day the launch's flags are gone: the flag rate falls back below the limit.
    after = a[(a["day"] > breach_done + 1)]
    assert not after["fired"].any()


def test_rollback_ignores_breaches_before_the_launch() -> None:
    """A guardrail already breached before its launch does not roll it back before the launch day."""
    scenario = ROLLBACK | {"controllers": [ROLLBACK["controllers"][0] | {"limit": 0.0, "consecutive_days": 2}]}
    actions = run(scenario_from_dict(scenario | {"days": 20})).controller_actions
    assert actions["day"].tolist() == [16]  # launch day 15, second breached day 16


def test_escalation_applies_for_n_days_after_the_last_alarm_then_reverts() -> None:
    """Each alarm escalates (or extends) for 5 days; the levers return on the 5th day after the last alarm, and cost is charged."""
    scenario = ONE_MARKET | {"days": 30, "world": ONE_MARKET["world"] | {"n_creators": 200, "n_buyers": 3000},
                             "signals": [{"name": "busy", "observable": "flag_rate",
                                          "detector": {"kind": "threshold", "limit": 0.1}}],
                             "controllers": [{"kind": "escalation", "name": "esc", "signal": "busy", "days": 5,
                                              "cost_per_day": 1000.0, "set": {"review.capacity_per_day": 80}}]}
    result = run(scenario_from_dict(scenario))
    fired = sorted(set(result.alerts.loc[result.alerts["fired"], "day"].astype(int)))
    assert fired
    actions = result.controller_actions
    expected, active_until = [], None
    for day in range(1, 31):
        if day in fired:
            expected.append((day, "escalate" if active_until is None else "extend"))
            active_until = day + 5
        elif active_until is not None and day >= active_until:
            expected.append((day, "revert"))
            active_until = None
    assert list(zip(actions["day"], actions["change"].str.split().str[0].str.rstrip(":"), strict=True)) == expected
    escalated = {d for day, kind in expected if kind in ("escalate", "extend") for d in range(day + 1, min(day + 6, 31))}
    plain = run(scenario_from_dict({k: v for k, v in scenario.items() if k != "controllers"}))
    extra = result.platform_daily["moderation_cost"] - plain.platform_daily["moderation_cost"]
    assert (extra.loc[sorted(escalated)] >= 1000.0 - 1e-6).all()
    assert extra.iloc[: fired[0]].abs().max() == 0.0  # identical until the first escalated day


def test_escalation_on_several_signals_acts_on_whichever_fires_first() -> None:
    """Keyed to a silent signal and a firing one, escalation starts on the firing one's first alarm, with its name as
    the reason, exactly as when keyed to that signal alone."""
    silent = {"name": "silent", "observable": "flag_rate", "detector": {"kind": "threshold", "limit": 1.0}}
    busy = {"name": "busy", "observable": "flag_rate", "detector": {"kind": "threshold", "limit": 0.1}}
    esc = {"kind": "escalation", "name": "esc", "days": 5, "set": {"review.capacity_per_day": 80}}
    base = ONE_MARKET | {"days": 12, "world": ONE_MARKET["world"] | {"n_creators": 200, "n_buyers": 3000},
                         "signals": [silent, busy]}
    both = run(scenario_from_dict(base | {"controllers": [esc | {"signal": ["silent", "busy"]}]})).controller_actions
    one = run(scenario_from_dict(base | {"controllers": [esc | {"signal": "busy"}]})).controller_actions
    alarms = both[~both["change"].str.startswith("revert")]
    assert len(alarms) and alarms["reason"].str.startswith("busy fired").all()
    pd.testing.assert_frame_equal(both, one)


def _series(p: list[float], views: float = 1000.0) -> dict[str, dict[str, list[float]]]:
    return {"sg": {"views": [views] * len(p), "prevalence_counterfeit": p, "buyer_harm": [1.0] * len(p)}}


def test_containment_on_a_hand_built_series_is_exact() -> None:
    """A prevalence of 1 % jumping to 5 % on day 31 and back on day 41 is contained 15 days after its onset day 31."""
    p = [0.01] * 30 + [0.05] * 10 + [0.01] * 30
    days, end, contained = containment(_series(p), ["sg"], "counterfeit", 31)
    # The band is 1.5 x 1 % + 0.1 % = 1.6 %. The 7-day mean is (2 x 5 + 5 x 1) / 7 = 2.14 % on day 45 (outside) and
    # (5 + 6 x 1) / 7 = 1.57 % on day 46 (inside), and stays inside for 7 days: contained on day 46.
    assert (days, end, contained) == (15, 46, True)
    never = containment(_series([0.01] * 70), ["sg"], "counterfeit", 31)
    assert never == (0, 31, True)
    late = containment(_series([0.01] * 30 + [0.05] * 40), ["sg"], "counterfeit", 31)
    assert late == (40, 71, False)
    assert CONTAINMENT_HOLD_DAYS == 7


def test_containment_band_covers_the_pre_onset_range() -> None:
    """One 15 % day before the onset lifts the band to that week's 7-day mean, 3 %, above 1.5 x the 28-day mean +
    0.1 % (2.3 %): a 2.5 % level after the onset stays inside; a 5 % one from day 31 to 40 is contained on day 44."""
    pre = [0.01] * 30
    pre[19] = 0.15
    assert containment_band(np.array(pre), 31) == pytest.approx(0.03)
    assert containment(_series(pre + [0.025] * 10 + [0.01] * 30), ["sg"], "counterfeit", 31) == (0, 31, True)
    # 7-day means: (4 x 5 + 3 x 1) / 7 = 3.29 % on day 43, (3 x 5 + 4 x 1) / 7 = 2.71 % on day 44.
    assert containment(_series(pre + [0.05] * 10 + [0.01] * 30), ["sg"], "counterfeit", 31) == (13, 44, True)


def test_trend_contained_reports_censoring() -> None:
    """A run whose trend is still outside its band at the end reports trend_contained 0 and its time up to the
    run's end; the same trend ending in time reports 1."""
    from sim.metrics import RUN_METRICS

    class Trend:
        def __init__(self) -> None:
            self.market_mask = [True]
            self.cfg = type("Cfg", (), {"tactic": "counterfeit", "start_day": 31})()

    model = type("Model", (), {"market_names": ["sg"], "timeline": type("T", (), {"trends": [Trend()]})()})()
    late = _series([0.01] * 30 + [0.05] * 40)
    ended = _series([0.01] * 30 + [0.05] * 10 + [0.01] * 30)
    assert RUN_METRICS["trend_contained"].compute(model, late) == {"all": 0.0, "sg": 0.0}
    assert RUN_METRICS["time_to_containment"].compute(model, late) == {"all": 40.0, "sg": 40.0}
    assert RUN_METRICS["trend_contained"].compute(model, ended) == {"all": 1.0, "sg": 1.0}


DEMOTE = {"name": "demote", "days": 24, "seed": 6,
          "world": {"n_buyers": 3000, "n_creators": 160,
                    "markets": [{"name": "sg", "buyer_share": 0.5, "creator_share": 0.5},
                                {"name": "id", "buyer_share": 0.5, "creator_share": 0.5, "price_level": 0.35}]},
          "signals": [{"name": "refunds", "group_by": ["market", "category"],
                       "observable": {"kind": "refund_rate", "window_days": 3},
                       "detector": {"kind": "threshold", "limit": 0.7}}]}
ESCALATE = {"kind": "escalation", "name": "esc", "signal": "refunds", "markets": ["sg"], "days": 3,
            "set": {"review.capacity_per_day": 150}}  # the default: the demotion is the only change


def _views_by_group(demote: float | None) -> tuple[list[np.ndarray | None], list[np.ndarray], pd.DataFrame]:
    """Per day: sg's category exposure in force, views per (market, category), and the controller's actions."""
    from sim.model import LiveShopModel

    esc = ESCALATE | ({"demote": demote} if demote is not None else {})
    model = LiveShopModel(scenario=scenario_from_dict(DEMOTE | {"controllers": [esc]}))
    exposure, views = [], []
    for _ in range(DEMOTE["days"]):
        lv = model.levers.category_exposure  # in force for the day about to run
        exposure.append(None if lv is None else lv.copy())
        model.step()
        s = model.today
        grid = np.zeros((model.n_markets, model.n_categories))
        np.add.at(grid, (s.market, s.category), s.views)
        views.append(grid)
    return exposure, views, model.monitor.controllers.frame()


def test_demotion_lowers_views_only_in_the_fired_group_and_only_while_escalated() -> None:
    """Escalation with demote 0.2 sets the fired categories' exposure in sg to 0.2 exactly on the escalated days and
    nowhere else; on the first of them sg's demoted categories get fewer views than without it, id's views are
    unchanged, and the days before are identical."""
    exposure, views, actions = _views_by_group(0.2)
    plain_exposure, plain_views, plain_actions = _views_by_group(None)
    assert all(e is None for e in plain_exposure)
    first = int(actions["day"].iloc[0])
    assert int(plain_actions["day"].iloc[0]) == first  # the same world up to the first alarm
    assert actions["change"].str.startswith("revert").sum() >= 1  # the window sees a demotion end
    # Which categories are demoted on each day, from the log: the change applies from the day after an action.
    cats = ["beauty", "fashion", "electronics", "home", "food", "health"]
    expected = escalated_by_day(actions, cats, "0.2", DEMOTE["days"])
    assert expected[first + 1]
    for day in range(1, DEMOTE["days"] + 1):
        e = exposure[day - 1]
        want = expected.get(day, set())
        if not want:
            assert e is None
        else:
            assert {cats[k] for k in np.flatnonzero(e[0] < 1.0)} == want and (e[0][e[0] < 1.0] == 0.2).all()
            assert (e[1] == 1.0).all()  # id is never demoted
    for day in range(1, first + 1):
        assert np.array_equal(views[day - 1], plain_views[day - 1])
    on = first  # index of the first escalated day (day first + 1)
    group = [cats.index(c) for c in expected[first + 1]]
    assert np.array_equal(views[on][1], plain_views[on][1])
    assert views[on][0, group].sum() < 0.8 * plain_views[on][0, group].sum()
    assert views[on][0].sum() == plain_views[on][0].sum()  # sessions move between categories, none are lost


@pytest.mark.slow
def test_escalation_contains_the_bundled_trend_no_later_than_the_fixed_policy() -> None:
    """On the bundled signals sweep in a smaller world (12,000 buyers, 400 creators, 130 days: containment is censored
    at 41 days), escalation's mean time to containment in sg over replications 0-2 is at most the fixed policy's + 5 days.

    Direction only, with a tolerance backed by other seeds: over replications 200-205 of this world the paired
    differences (escalation - fixed) were -9, +3, -17, -20, +6 and 0 days (mean -6.2, sd 10.4), so a mean of three
    has an sd of about 6 days and exceeds +5 with a chance of about 3 % if the effect is as measured; it exceeds it
    surely if escalation slows containment. The full-size measurement is the README's (24 paired replications).
    Slower than most tests (six runs, 24 s in all measured with -n 0): it is the example's claim.
    """
    from sim.sweep import load_sweep
    from tests.conftest import ROOT

    sweep = load_sweep(ROOT / "scenarios" / "sweeps" / "signals.toml")
    times: dict[str, list[float]] = {}
    for variant in ("baseline", "escalate"):
        scenario = sweep.variants[variant]
        world = scenario.world.model_copy(update={"n_buyers": 12_000, "n_creators": 400})
        small = scenario.model_copy(update={"world": world, "days": 130})
        times[variant] = [run(small, rep).summary_by_market["sg"]["time_to_containment"] for rep in range(3)]
    assert np.mean(times["escalate"]) <= np.mean(times["baseline"]) + 5.0, times


def test_a_per_tactic_threshold_moves_only_its_classifier() -> None:
    """A counterfeit threshold equal to the market's changes nothing, bit for bit; a threshold of 1.0 (a false-positive
    rate of 16 % instead of 0.6 % on that classifier) more than doubles the flags."""
    small = ONE_MARKET | {"days": 15, "world": ONE_MARKET["world"] | {"n_creators": 200, "n_buyers": 3000}}
    plain = run(scenario_from_dict(small))
    same = run(scenario_from_dict(small | {"policy": small["policy"] | {
        "detection": {"threshold_by_tactic": {"counterfeit": 2.5}}}}))
    pd.testing.assert_frame_equal(plain.daily, same.daily)
    low = run(scenario_from_dict(small | {"policy": small["policy"] | {
        "detection": {"threshold_by_tactic": {"counterfeit": 1.0}}}}))
    assert low.summary["flags"] > plain.summary["flags"] * 2


def test_unknown_names_in_per_tactic_and_per_category_levers_are_refused() -> None:
    """A threshold for a tactic or an exposure for a category that does not exist is an error naming the field."""
    for policy, field in (({"detection": {"threshold_by_tactic": {"counterfit": 1.0}}}, "threshold_by_tactic"),
                          ({"recommender": {"category_exposure": {"toys": 0.5}}}, "category_exposure")):
        with pytest.raises(ScenarioError, match=field):
            scenario_from_dict(ONE_MARKET | {"policy": policy})
