"""The scorecard: metric definitions, daily values and run summaries.

Metric names are part of the interface (design §4). Each is a pure function of the model's
state and the day's counts; ``METRICS`` carries the unit, a description and whether higher is
better, so reports can colour effects without guessing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.labels import ADVERSARY_TYPES, CreatorType

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["METRICS", "DayCounts", "Metric", "day_metrics", "gini", "run_summary", "top_share"]


@dataclass(frozen=True)
class Metric:
    """What a metric measures and which direction is good (None: neither)."""

    name: str
    unit: str
    description: str
    higher_is_better: bool | None
    summary: str  # how the run summary aggregates the daily series


def _m(name: str, unit: str, description: str, better: bool | None, summary: str) -> Metric:
    return Metric(name, unit, description, better, summary)


METRICS: dict[str, Metric] = {
    m.name: m
    for m in (
        _m("gmv", "currency", "on-platform gross merchandise value placed", True, "total"),
        _m("net_gmv", "currency", "GMV minus refunds paid", True, "total"),
        _m("orders", "orders", "on-platform orders placed", True, "total"),
        _m("refund_rate", "share", "share of settled orders that were refunded", False, "ratio of totals"),
        _m("prevalence", "share", "share of stream views that were views of violating streams", False,
           "ratio of totals"),
        _m("harmful_gmv_share", "share", "share of GMV placed on violating streams", False, "ratio of totals"),
        _m("buyer_harm", "currency", "money buyers lost to bad orders not made good (incl. off-platform)",
           False, "total"),
        _m("buyer_trust", "score 0-1", "mean trust of active buyers", True, "last day"),
        _m("buyer_retention", "share", "share of the buyers present on day 0 still active", True, "last day"),
        _m("honest_creator_income", "currency / 30 days",
           "median earnings of active honest creators over the last 30 days (scaled up before day 30)", True,
           "median over honest creators of earnings per 30 days present"),
        _m("honest_creator_retention", "share", "share of day-0 honest creators still on the platform", True,
           "last day"),
        _m("creator_gini", "0-1", "Gini coefficient of creator GMV (trailing 30 days)", None,
           "over whole-run GMV of all creators"),
        _m("top1pct_gmv_share", "share", "share of GMV made by the top 1 % of creators (trailing 30 days)",
           None, "over whole-run GMV"),
        _m("adversary_share", "share", "adversarial share of live creators (pilot or active, not suspended)", False,
           "last day"),
        _m("adversary_profit", "currency", "profit of adversarial creators net of their costs", False, "total"),
        _m("incentive_spend", "currency", "incentive bonuses paid", None, "total"),
        _m("incentive_roi", "ratio",
           "net GMV of streams incentives induced, per unit of bonus paid (cumulative; crowding-out of "
           "other creators is not subtracted: compare paired runs for the exact effect)", True, "ratio of totals"),
        _m("actions", "decisions", "enforcement decisions (confirmed violations sanctioned)", None, "total"),
        _m("enforcement_precision", "share", "share of enforcement decisions on streams that really violated",
           True, "ratio of totals"),
        _m("enforcement_recall", "share", "share of violating streams that drew at least one enforcement decision", True,
           "ratio of totals"),
        _m("wrongful_bans", "bans", "bans triggered by a decision on a stream that did not violate", False, "total"),
        _m("proactive_rate", "share", "share of actioned violations found by classifiers before any user report",
           True, "ratio of totals"),
        _m("time_to_action", "days", "median days from violation to enforcement decision", False,
           "median over all decisions"),
        _m("queue_backlog", "items", "flagged items waiting for review at the end of the day", False, "mean"),
        _m("appeals", "appeals", "appeals filed by sanctioned creators", None, "total"),
        _m("appeal_overturn_rate", "share", "share of decided appeals that overturned the decision", None,
           "ratio of totals"),
        _m("ban_evasions", "accounts", "banned evaders who re-entered through onboarding checks", False, "total"),
        _m("moderation_cost", "currency", "cost of reviews, auto-actions and appeals", False, "total"),
        _m("bans", "bans", "accounts banned", None, "total"),
        _m("violations", "streams", "violating streams held (ground truth)", False, "total"),
        _m("flags", "items", "streams or creators flagged by classifiers, reports or complaint spikes", None, "total"),
        _m("reviews", "items", "flags decided: reviewed by people or auto-actioned", None, "total"),
        _m("overturns", "decisions", "decisions overturned on appeal", None, "total"),
        _m("streams", "streams", "live streams held", None, "total"),
        _m("views", "views", "stream views (buyer sessions that reached a stream)", None, "total"),
        _m("offplatform_gmv", "currency", "sales diverted off the platform", False, "total"),
        _m("complaints", "complaints", "buyer complaints about settled orders", False, "total"),
        _m("reports", "reports", "buyer reports of streams (true and false)", None, "total"),
        _m("active_buyers", "buyers", "buyers still shopping", True, "last day"),
        _m("active_creators", "creators", "creators able to go live (pilot or active, not suspended)", None, "last day"),
    )
}


class DayCounts:
    """Today's flows, per market; reset at the start of each day."""

    FIELDS = (
        "streams", "violating_streams", "sessions", "views", "violating_views",
        "gmv", "violating_gmv", "orders", "settled", "refunded", "refund_value",
        "buyer_harm", "offplatform_gmv", "complaints", "reports", "false_reports",
        "incentive_spend", "induced_net_gmv", "adversary_profit",
        "actions", "actions_real", "auto_actions", "bans", "wrongful_bans", "proactive_actions",
        "time_to_action_sum", "reviews", "expired_items", "appeals", "appeal_decisions", "overturns",
        "moderation_cost", "ban_evasions", "ban_evasions_caught", "interrupted_views", "violations_actioned",
        "flags",
    )

    def __init__(self, n_markets: int) -> None:
        self.n_markets = n_markets
        self.reset()

    def reset(self) -> None:
        for f in self.FIELDS:
            setattr(self, f, np.zeros(self.n_markets))

    def add(self, field: str, market: np.ndarray, weights: np.ndarray | None = None) -> None:
        """Add per-item values (or counts) grouped by market."""
        getattr(self, field)[:] += np.bincount(market, weights=weights, minlength=self.n_markets)


def gini(x: np.ndarray) -> float:
    """Gini coefficient of non-negative values (0 = equal, 1 = one holds all)."""
    x = np.sort(np.clip(np.asarray(x, dtype=float), 0.0, None))
    n = x.size
    total = x.sum()
    if n == 0 or total <= 0:
        return float("nan")
    ranks = np.arange(1, n + 1)
    return float((2.0 * np.sum(ranks * x) / (n * total)) - (n + 1.0) / n)


def top_share(x: np.ndarray, fraction: float = 0.01) -> float:
    """Share of the total held by the top ``fraction`` of entries (at least one entry)."""
    x = np.asarray(x, dtype=float)
    total = x.sum()
    if x.size == 0 or total <= 0:
        return float("nan")
    k = max(1, int(np.ceil(fraction * x.size)))
    return float(np.sort(x)[-k:].sum() / total)


def _ratio(a: float, b: float) -> float:
    return float(a / b) if b > 0 else float("nan")


def _median(x: np.ndarray) -> float:
    return float(np.median(x)) if x.size else float("nan")


def day_metrics(model: LiveShopModel) -> dict[str, dict[str, float]]:
    """Today's metrics for the whole platform (``"all"``) and each market."""
    d = model.counts
    c = model.creators
    b = model.buyers
    names = model.market_names
    len(names)
    # Stocks per market, by bincount over buyers and creators.
    active_n = b.stock_active.astype(float)
    trust_sum = b.stock_trust
    init_n = b.stock_initial.astype(float)
    init_active = b.stock_initial_active.astype(float)

    c_market = c.col("market")
    ctype = c.col("ctype")
    present = c.present_mask()
    live = c.live_mask()
    honest = ctype == CreatorType.honest
    adversary = np.isin(ctype, [int(t) for t in ADVERSARY_TYPES])
    day0_honest = honest & (c.col("joined_day") == 0)
    # Trailing 30-day income, scaled to 30 days while fewer have passed (no warm-up ramp).
    income = model.income_30d.values * (30.0 / max(1, min(model.day, 30)))
    gmv30 = model.gmv_30d.values
    roi_num = model.totals["induced_net_gmv"]
    roi_den = model.totals["incentive_spend"]
    log = model.governance.enforcer.log
    today = np.flatnonzero(log.col("day") == model.day) if model.day > 0 else np.zeros(0, dtype=np.int64)
    delay_today = (log.col("day")[today] - log.col("violation_day")[today]).astype(float)
    log_market_today = log.col("market")[today]
    backlog = model.governance.backlog()

    out: dict[str, dict[str, float]] = {}
    for key in ["all", *names]:
        if key == "all":
            sel_m = slice(None)
            cm = np.ones(c.n, dtype=bool)
        else:
            m = names.index(key)
            sel_m = slice(m, m + 1)
            cm = c_market == m

        def s(field: str, sel: slice = sel_m) -> float:
            return float(getattr(d, field)[sel].sum())

        row = {
            "gmv": s("gmv"),
            "net_gmv": s("gmv") - s("refund_value"),
            "orders": s("orders"),
            "refund_rate": _ratio(s("refunded"), s("settled")),
            "prevalence": _ratio(s("violating_views"), s("views")),
            "harmful_gmv_share": _ratio(s("violating_gmv"), s("gmv")),
            "buyer_harm": s("buyer_harm"),
            "buyer_trust": _ratio(float(trust_sum[sel_m].sum()), float(active_n[sel_m].sum())),
            "buyer_retention": _ratio(float(init_active[sel_m].sum()), float(init_n[sel_m].sum())),
            "honest_creator_income": _median(income[honest & live & cm]),
            "honest_creator_retention": _ratio(float((day0_honest & present & cm).sum()),
                                               float((day0_honest & cm).sum())),
            "creator_gini": gini(gmv30[present & cm]),
            "top1pct_gmv_share": top_share(gmv30[present & cm]),
            "adversary_share": _ratio(float((adversary & live & cm).sum()), float((live & cm).sum())),
            "adversary_profit": s("adversary_profit"),
            "incentive_spend": s("incentive_spend"),
            "incentive_roi": _ratio(float(roi_num[sel_m].sum()), float(roi_den[sel_m].sum())),
            "actions": s("actions"),
            "enforcement_precision": _ratio(s("actions_real"), s("actions")),
            "enforcement_recall": _ratio(s("violations_actioned"), s("violating_streams")),
            "wrongful_bans": s("wrongful_bans"),
            "proactive_rate": _ratio(s("proactive_actions"), s("actions_real")),
            "time_to_action": _median(delay_today if key == "all" else delay_today[log_market_today == m]),
            "queue_backlog": float(backlog[sel_m].sum()),
            "appeals": s("appeals"),
            "appeal_overturn_rate": _ratio(s("overturns"), s("appeal_decisions")),
            "ban_evasions": s("ban_evasions"),
            "moderation_cost": s("moderation_cost"),
            "bans": s("bans"),
            "violations": s("violating_streams"),
            "flags": s("flags"),
            "reviews": s("reviews") + s("auto_actions"),
            "overturns": s("overturns"),
            "streams": s("streams"),
            "views": s("views"),
            "offplatform_gmv": s("offplatform_gmv"),
            "complaints": s("complaints"),
            "reports": s("reports"),
            "active_buyers": float(active_n[sel_m].sum()),
            "active_creators": float((live & cm).sum()),
        }
        out[key] = row
    return out


def run_summary(model: LiveShopModel, daily: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, float]]:
    """Whole-run values per market and ``"all"``, following each metric's summary rule."""
    c = model.creators
    names = model.market_names
    t = model.totals
    days_present = np.where(c.col("left_day") >= 0, c.col("left_day"), model.day) - c.col("joined_day")
    honest = c.col("ctype") == CreatorType.honest
    log = model.governance.enforcer.log
    out: dict[str, dict[str, float]] = {}
    for key in ["all", *names]:
        series = daily[key]
        sel = slice(None) if key == "all" else slice(names.index(key), names.index(key) + 1)
        cm = np.ones(c.n, dtype=bool) if key == "all" else c.col("market") == names.index(key)

        def tot(field: str, sel: slice = sel) -> float:
            return float(t[field][sel].sum())

        row: dict[str, float] = {}
        for name, meta in METRICS.items():
            if meta.summary == "total":
                row[name] = float(np.nansum(series[name]))
            elif meta.summary == "last day":
                row[name] = float(series[name][-1]) if series[name] else float("nan")
            elif meta.summary == "mean":
                row[name] = float(np.nanmean(series[name])) if series[name] else float("nan")
        row["net_gmv"] = tot("gmv") - tot("refund_value")
        row["refund_rate"] = _ratio(tot("refunded"), tot("settled"))
        row["prevalence"] = _ratio(tot("violating_views"), tot("views"))
        row["harmful_gmv_share"] = _ratio(tot("violating_gmv"), tot("gmv"))
        row["incentive_roi"] = _ratio(tot("induced_net_gmv"), tot("incentive_spend"))
        row["enforcement_precision"] = _ratio(tot("actions_real"), tot("actions"))
        row["enforcement_recall"] = _ratio(tot("violations_actioned"), tot("violating_streams"))
        row["proactive_rate"] = _ratio(tot("proactive_actions"), tot("actions_real"))
        row["appeal_overturn_rate"] = _ratio(tot("overturns"), tot("appeal_decisions"))
        in_market = np.ones(log.n, dtype=bool) if key == "all" else log.col("market") == names.index(key)
        row["time_to_action"] = _median((log.col("day") - log.col("violation_day"))[in_market].astype(float))
        eligible = honest & cm & (days_present >= 1)
        monthly = c.col("earnings")[eligible] * 30.0 / days_present[eligible]
        row["honest_creator_income"] = _median(monthly)
        row["creator_gini"] = gini(c.col("gmv")[cm])
        row["top1pct_gmv_share"] = top_share(c.col("gmv")[cm])
        out[key] = row
    return out
