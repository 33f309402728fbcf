"""Monitoring signals: observables per group from observed data only, detectors, alerts, and their
evaluation against the trends' ground truth after the run."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.signals import alarms, calibrate_limit, evaluate, rank_signals
from sim.config import scenario_from_dict
from sim.model import LiveShopModel
from sim.platform.monitoring.config import SignalConfig
from sim.platform.monitoring.monitor import SignalRun
from sim.platform.monitoring.observed import CREATOR_FLOWS, MARKET_VALUES, Observed, Observer
from sim.platform.monitoring.registry import DETECTORS
from sim.platform.signals.base import HIDDEN_CREATOR_COLUMNS, HIDDEN_DECISION_COLUMNS, PlatformView
from sim.runner import run

MARKETS = ("sg", "id")
CATEGORIES = ("beauty", "home")


def _day(day: int, refunded: list[float], settled: list[float]) -> Observed:
    """A hand-built observed day of four creators (sg/beauty, sg/home, id/beauty, id/home)."""
    flows = {k: np.zeros(4) for k in CREATOR_FLOWS}
    flows["refunded"], flows["settled"] = np.array(refunded, float), np.array(settled, float)
    return Observed(day=day, market_names=MARKETS, category_names=CATEGORIES,
                    creator_market=np.array([0, 0, 1, 1]), creator_category=np.array([0, 1, 0, 1]),
                    creator_level=np.zeros(4, np.int64), age_days=np.full(4, 100), present=np.ones(4, bool),
                    flows=flows, market={k: np.zeros(2) for k in MARKET_VALUES}, backlog_before=np.zeros(2))


def _signal(detector: dict, group_by: list[str], window: int = 1) -> SignalRun:
    cfg = SignalConfig.model_validate({"name": "s", "group_by": group_by, "detector": detector,
                                       "observable": {"kind": "refund_rate", "window_days": window}})
    return SignalRun(cfg, list(MARKETS), list(CATEGORIES))


def test_noiseless_threshold_fires_on_the_first_day_crossed() -> None:
    """A refund rate rising 1 point a day in sg/beauty only fires there, first on the day it passes the limit."""
    sig = _signal({"kind": "threshold", "limit": 0.105}, ["market", "category"])
    first = {}
    for day in range(1, 21):
        rate = 0.01 * day  # 0.11 on day 11: the first value above 0.105
        reading = sig.read(_day(day, [rate * 100, 5, 5, 5], [100, 100, 100, 100]))
        for g in reading.fired_groups():
            first.setdefault(sig.grouping.labels[g], day)
    assert first == {"market=sg,category=beauty": 11}


def test_window_sums_numerators_and_denominators() -> None:
    """A 2-day refund rate is refunds over orders of both days, not a mean of the two daily rates."""
    sig = _signal({"kind": "threshold", "limit": 1.0}, ["market"], window=2)
    sig.read(_day(1, [10, 0, 0, 0], [10, 0, 10, 0]))
    reading = sig.read(_day(2, [0, 0, 0, 0], [90, 0, 10, 0]))
    assert reading.value.tolist() == [10 / 100, 0.0]


def test_repeat_report_share_counts_live_accounts_over_the_report_line() -> None:
    """Of the accounts that went live, the share with at least min_reports reports that day, per account-day over
    the window; an account that did not go live counts in neither part, whatever its reports."""
    cfg = SignalConfig.model_validate({"name": "s", "group_by": ["market"], "detector": {"kind": "threshold", "limit": 1.0},
                                       "observable": {"kind": "repeat_report_share", "window_days": 2}})
    sig = SignalRun(cfg, list(MARKETS), list(CATEGORIES))

    def day(n: int, streams: list[float], reports: list[float]) -> Observed:
        obs = _day(n, [0, 0, 0, 0], [0, 0, 0, 0])
        obs.flows["streams"][:], obs.flows["reports"][:] = streams, reports
        return obs

    first = sig.read(day(1, [1, 2, 1, 0], [2, 1, 3, 5]))  # sg: 1 of 2 live over the line; id: 1 of 1 (the 4th is off)
    assert first.value.tolist() == [1 / 2, 1.0] and first.count.tolist() == [2.0, 1.0]
    second = sig.read(day(2, [1, 1, 1, 1], [1, 4, 0, 2]))  # sg: 1 of 2 again; id: 1 of 2
    assert second.value.tolist() == [2 / 4, 2 / 3] and second.count.tolist() == [4.0, 3.0]
    three = SignalConfig.model_validate({"name": "s", "group_by": [], "detector": {"kind": "threshold", "limit": 1.0},
                                         "observable": {"kind": "repeat_report_share", "min_reports": 3}})
    assert SignalRun(three, list(MARKETS), list(CATEGORIES)).read(day(1, [1, 2, 1, 0], [2, 1, 3, 5])).value.tolist() \
        == [1 / 3]


@pytest.mark.parametrize("detector", [{"kind": "zscore"}, {"kind": "ewma"}, {"kind": "cusum"},
                                      {"kind": "pelt", "min_shift": 2.0}])
def test_detectors_quiet_on_noise_and_fire_after_a_step(detector: dict) -> None:
    """On seeded noise around 0.1 no detector fires; after a step to 0.2 each fires within 5 days."""
    rng = np.random.default_rng(1)
    det = DETECTORS.get(detector["kind"])(DETECTORS.config_class(detector["kind"]).model_validate(detector), 1)
    x = np.concatenate([0.1 + 0.005 * rng.standard_normal(60), 0.2 + 0.005 * rng.standard_normal(20)])
    fired = [bool(det.update(np.array([v]))[1][0]) for v in x]
    assert not any(fired[:60])
    assert any(fired[60:65])


def test_detectors_skip_days_without_a_value() -> None:
    """A NaN value (too few orders) neither fires nor adds to the window's statistics."""
    cfg = DETECTORS.config_class("zscore").model_validate({"kind": "zscore", "window_days": 10, "min_days": 2})
    a, b = (DETECTORS.get("zscore")(cfg, 1) for _ in range(2))
    for v in (1.0, 1.1, 0.9):
        a.update(np.array([v]))
        b.update(np.array([v]))
        b.update(np.array([np.nan]))
    sa, fa = a.update(np.array([1.05]))
    sb, fb = b.update(np.array([1.05]))
    assert sa.tolist() == sb.tolist() and not fa[0] and not fb[0]
    score, fired = a.update(np.array([np.nan]))
    assert np.isnan(score[0]) and not fired[0]


def _alerts(rows: dict[str, list[int]], days: int = 60) -> pd.DataFrame:
    """Alerts of one signal grouped by market: ``rows`` maps a market to its fired days."""
    parts = []
    for m, fired_days in rows.items():
        parts.append(pd.DataFrame({"day": np.arange(1, days + 1, dtype=np.int32), "signal": "s", "group": f"market={m}",
                                   "market": m, "category": None, "level": None, "age_band": None, "value": 0.0,
                                   "count": 1.0, "score": 0.0, "fired": np.isin(np.arange(1, days + 1), fired_days)}))
    frame = pd.concat(parts, ignore_index=True)
    frame["signal"] = pd.Categorical(frame["signal"])
    return frame


TRENDS = pd.DataFrame({"name": ["wave"], "onset_day": [30], "markets": [["sg"]], "categories": [["beauty", "home"]]})


def test_delay_and_false_alarms_on_a_hand_built_series_are_exact() -> None:
    """sg fires on days 10-11 (before onset), 34-36 and 40; id on 20 and 45: delay 4, three false alarms in 60 days."""
    alerts = _alerts({"sg": [10, 11, 34, 35, 36, 40], "id": [20, 45]})
    assert alarms(alerts)["day"].tolist() == [20, 45, 10, 34, 40]
    row = evaluate(alerts, TRENDS, days=60).iloc[0]
    assert row["delay_days"] == 4.0 and row["first_alert_day"] == 34
    assert (row["alarms"], row["true_alarms"], row["false_alarms"]) == (5, 2, 3)
    assert row["false_alarms_per_30d"] == 1.5
    assert row["precision"] == 2 / 5
    assert row["recall"] == 1.0


def test_undetected_trend_has_no_delay_and_ranking_respects_the_budget() -> None:
    """A signal that never fires after onset has NaN delay; ranking keeps signals within the budget, fastest first."""
    quiet = evaluate(_alerts({"sg": [5], "id": []}), TRENDS, days=60).assign(signal="quiet")
    noisy = evaluate(_alerts({"sg": [31], "id": [3, 6, 9, 12, 15]}), TRENDS, days=60).assign(signal="noisy")
    fast = evaluate(_alerts({"sg": [33], "id": [50]}), TRENDS, days=60).assign(signal="fast")
    assert np.isnan(quiet["delay_days"].iloc[0]) and not quiet["detected"].iloc[0]
    ranked = rank_signals(pd.concat([quiet, noisy, fast]), budget=2.0)
    assert ranked["signal"].tolist() == ["fast", "quiet"]
    assert noisy["false_alarms_per_30d"].iloc[0] == 2.5


def test_calibrated_limit_is_the_lowest_within_the_false_alarm_budget() -> None:
    """Over 60 days, one alarm scores 5 (two days in a row count once), two score 3, two 1.5: the calibrated limit is
    the lowest score whose exceedances stay within budget x 60 / 30 alarms (3 alarms: 1.5; 1: 3.0; 5: 0)."""
    score = np.zeros(60)
    score[[10, 11]] = 5.0  # one alarm of two days
    score[[20, 40]] = 3.0
    score[[5, 50]] = 1.5
    scores = pd.DataFrame({"day": np.arange(1, 61), "group": "sg", "score": score})
    assert calibrate_limit(scores, budget=1.5, days=60) == 1.5  # fires above 1.5 only on the 3 alarms
    assert calibrate_limit(scores, budget=0.5, days=60) == 3.0  # one alarm
    assert calibrate_limit(scores, budget=2.5, days=60) == 0.0  # all five alarms fit
    down = scores.assign(score=-score)
    assert calibrate_limit(down, budget=0.5, days=60, direction="down") == 3.0
    with pytest.raises(ValueError, match="no scores to calibrate on"):  # a history without one score
        calibrate_limit(scores.assign(score=np.nan), budget=1.0, days=60)


TINY = {
    "name": "monitored", "days": 40, "seed": 11,
    "world": {"n_buyers": 2500, "n_creators": 90,
              "markets": [{"name": "sg", "buyer_share": 0.5, "creator_share": 0.5},
                          {"name": "id", "buyer_share": 0.5, "creator_share": 0.5, "price_level": 0.35}]},
    "timeline": [{"kind": "trend", "trend": "adoption_wave", "name": "wave", "tactic": "counterfeit",
                  "markets": ["sg"], "start_day": 20, "days": 3, "share": 0.5}],
    "signals": [
        {"name": "refunds", "group_by": ["market", "category"], "observable": {"kind": "refund_rate", "window_days": 3},
         "detector": {"kind": "zscore", "window_days": 14}},
        {"name": "flags", "observable": "flag_rate", "detector": {"kind": "cusum", "direction": "both"}},
        {"name": "young", "group_by": ["market", "age_band"], "observable": "young_gmv_share", "detector": "ewma"},
        {"name": "queue", "observable": "review_queue_growth", "detector": {"kind": "threshold", "limit": 5.0}},
        {"name": "repeats", "observable": {"kind": "repeat_report_share", "window_days": 2}, "detector": "ewma"},
    ],
}


def test_signals_read_no_ground_truth(monkeypatch: pytest.MonkeyPatch) -> None:
    """While the monitor runs (controllers included: a PI threshold and an escalation that demotes categories and
    requires stricter KYC in them), any read of a hidden creator or decision column fails, and the run still
    completes."""
    from sim.agents.creators import CreatorTable
    from sim.platform.enforcement import DecisionLog
    from sim.platform.monitoring.monitor import Monitor

    watching = {"on": False}
    col, dcol, end = CreatorTable.col, DecisionLog.col, Monitor.end_of_day

    def guarded(hidden: frozenset[str], read):
        def col_(self, name):
            if watching["on"] and name in hidden:
                raise AssertionError(f"monitoring read ground truth: {name}")
            return read(self, name)
        return col_

    def watched_end(self):
        watching["on"] = True
        try:
            return end(self)
        finally:
            watching["on"] = False

    monkeypatch.setattr(CreatorTable, "col", guarded(HIDDEN_CREATOR_COLUMNS, col))
    monkeypatch.setattr(DecisionLog, "col", guarded(HIDDEN_DECISION_COLUMNS, dcol))
    monkeypatch.setattr(Monitor, "end_of_day", watched_end)
    scenario = scenario_from_dict(TINY | {"days": 25, "controllers": [
        {"kind": "pi_threshold", "name": "pi"},
        {"kind": "escalation", "name": "esc", "signal": "refunds", "set": {"detection.threshold": 2.0},
         "demote": 0.3, "kyc": 0.9}]})
    model = LiveShopModel(scenario=scenario)
    for _ in range(25):
        model.step()
    assert model.monitor is not None and len(model.monitor.alerts()) > 0
    changes = model.monitor.controllers.frame()["change"]
    assert changes.str.contains("recommender.category_exposure .*: 0.3", regex=True).any()
    assert changes.str.contains("onboarding.kyc_strictness_by_category .*: 0.9", regex=True).any()


def test_observed_day_has_no_ground_truth_fields() -> None:
    """The observed day's fields and flows name nothing hidden, and the platform view refuses hidden columns."""
    model = LiveShopModel(scenario=scenario_from_dict(TINY | {"days": 30}))
    model.step()
    view = PlatformView(model)
    obs = Observer(model.n_markets).observe(view, model.market_names, model.category_names)
    names = set(Observed.__dataclass_fields__) | set(obs.flows) | set(obs.market)
    assert not names & (HIDDEN_CREATOR_COLUMNS | HIDDEN_DECISION_COLUMNS | {"violating_views", "flags_real",
                                                                            "actions_real", "buyer_harm"})
    with pytest.raises(KeyError):
        view.col("ctype")
    with pytest.raises(KeyError):
        view.counter("violating_views")


def test_run_writes_alerts_and_evaluates(tmp_path) -> None:
    """A monitored run has one alert row per day, signal and group, written to alerts.parquet; an unmonitored one none."""
    from sim.runner import write_run

    result = run(scenario_from_dict(TINY))
    a = result.alerts
    n_groups = {"refunds": 2 * 6, "flags": 2, "young": 2 * 3, "queue": 2, "repeats": 2}
    assert len(a) == 40 * sum(n_groups.values())
    assert a.groupby("signal", observed=True).size().to_dict() == {k: 40 * v for k, v in n_groups.items()}
    write_run(result, tmp_path / "run", plot=False)
    assert pd.read_parquet(tmp_path / "run" / "alerts.parquet").equals(a)
    ev = evaluate(a, result.trends, result.scenario.days)
    assert set(ev["signal"]) == set(n_groups) and (ev["trend"] == "wave").all()
    plain = run(scenario_from_dict({k: v for k, v in TINY.items() if k not in ("signals", "timeline")} | {"days": 5}))
    assert plain.alerts is None and plain.controller_actions is None


def test_signals_change_no_other_output() -> None:
    """Signals only watch: daily metrics and sanctions are identical with and without them."""
    with_signals = run(scenario_from_dict(TINY | {"days": 25}))
    without = run(scenario_from_dict({k: v for k, v in TINY.items() if k != "signals"} | {"days": 25}))
    pd.testing.assert_frame_equal(with_signals.daily, without.daily)
    pd.testing.assert_frame_equal(with_signals.sanctions, without.sanctions)


def test_signal_timeline_draws_values_alerts_onsets_and_actions() -> None:
    """The alerts plot (report and dashboard): one value line per group, a red dot per fired day,
    a dashed line at each trend onset and a dotted one per day with controller actions, on both
    panels; an unknown signal is refused."""
    from matplotlib.lines import Line2D

    from analysis.plots import signal_timeline

    days = np.arange(1, 11)
    rows = [pd.DataFrame({"day": days, "signal": "s", "group": g, "value": days * k, "score": days * 0.1 * k,
                          "fired": days >= f}) for g, k, f in (("market=aa", 1.0, 8), ("market=bb", 2.0, 11))]
    alerts = pd.concat(rows, ignore_index=True)
    trends = pd.DataFrame({"name": ["wave"], "onset_day": [6]})
    actions = pd.DataFrame({"day": [8, 8, 9], "market": ["aa", "bb", "aa"]})
    fig = signal_timeline(alerts, "s", trends=trends, actions=actions)
    ax_v, ax_s = fig.axes
    drawn = [ln for ln in ax_v.get_lines() if len(ln.get_xdata()) == len(days)]
    assert sorted(ln.get_label() for ln in drawn) == ["market=aa", "market=bb"]
    assert sum(len(c.get_offsets()) for c in ax_v.collections) == 3  # aa fired on days 8, 9, 10
    for ax in (ax_v, ax_s):
        vertical = [ln for ln in ax.get_lines() if isinstance(ln, Line2D) and len(set(ln.get_xdata())) == 1
                    and len(ln.get_xdata()) == 2]
        assert sorted((ln.get_linestyle(), ln.get_xdata()[0]) for ln in vertical) == [("--", 6), (":", 8), (":", 9)]
    with pytest.raises(ValueError, match="no alerts rows"):
        signal_timeline(alerts, "other")
