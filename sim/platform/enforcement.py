"""Enforcement: ladders that turn confirmed violations into graduated sanctions, and the log.

Every confirmed violation is a *decision*: a row of ``DecisionLog`` with the creator, the day,
the reason the platform believed, the ground truth (was the stream really violating?), how it
was found, the points, the milestone reached and the sanction applied. Ladders differ only in
how a creator's standing moves, and that is the business of the market's ladder kind
(``sim/platform/ladders/``: ``points``, ``tiers``, ``health_score``, or one registered from
outside livesim): its start value, what a decision adds and when that lapses, which milestones
a move crosses, daily recovery and periodic resets. The Enforcer holds no branch on a kind.

Sanctions are timers on creator columns (``traffic_until``, ``campaign_until``,
``incentive_until``, ``suspended_until``), a ban, and commission freezes or forfeits; a
successful appeal reverses exactly what its decision did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorState
from sim.platform.ladders import ladder_for
from sim.policy import Milestone, Policy, Sanction
from sim.state import CREATORS, NEVER, Column, declare
from sim.table import ColumnTable
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["DECISION_COLUMNS", "SANCTION_NAMES", "SOURCES", "DecisionLog", "Enforcer"]

SOURCES = ("classifier", "report", "complaint")
# Most severe sanction a decision applied, for the log (index = rank).
SANCTION_NAMES = ("points_only", "warning", "traffic_penalty", "eligibility_loss", "suspension",
                  "commission_freeze", "commission_forfeit", "ban")


# The creator columns the enforcer owns: ladder standing, sanction timers (days until which
# each applies) and the per-creator levers sanctions set.
declare(CREATORS, __name__,
    Column("ladder", np.float64, doc="points, tier points or health score, by the market's ladder"),
    Column("penalty_multiplier", np.float64, 1.0),
    Column("traffic_multiplier", np.float64, 1.0, "recommender traffic factor (traffic sanctions)"),
    Column("campaign_eligible", np.bool_, True),
    Column("incentive_eligible", np.bool_, True),
    Column("traffic_until", np.int32, NEVER),
    Column("campaign_until", np.int32, NEVER),
    Column("incentive_until", np.int32, NEVER),
    Column("suspended_until", np.int32, NEVER),
    Column("suspended", np.bool_, doc="live selling suspended today (from suspended_until)"),
    Column("frozen", np.float64, doc="commission held pending the appeal window"),
    Column("sanctions", np.int64, doc="confirmed violations against this account"),
    Column("last_sanction_day", np.int32, NEVER),
    Column("last_confirmed_day", np.int32, NEVER),
)

DECISION_COLUMNS: dict[str, type] = {
    "creator": np.int64,
    "actor": np.int64,
    "market": np.int16,
    "day": np.int32,  # decision day
    "violation_day": np.int32,  # day of the stream judged
    "violation_hour": np.float64,  # hour of that day the stream went live (0-24)
    "decision_hour": np.float64,  # hours after the start of the decision day (past 24: after midnight)
    "reports": np.int64,  # viewer reports on the decided stream that day (user notices actioned)
    "reason": np.int8,  # tactic code the platform believed (sim.tactics)
    "label": np.int8,  # ground truth of the stream (tactic code; 0 = clean)
    "real": np.bool_,  # the stream really violated
    "source": np.int8,  # index in SOURCES
    "auto": np.bool_,  # actioned without human review
    "proactive": np.bool_,  # found by the classifier, before any user report
    "points": np.float64,
    "delta": np.float64,  # change applied to the creator's ladder value
    "milestone": np.int8,  # index of the milestone reached (-1: none)
    "sanction": np.int8,  # index in SANCTION_NAMES
    "ban": np.bool_,
    "frozen": np.float64,  # commission frozen (or forfeited) by this decision
    "set_traffic": np.int32,  # the 'until' days this decision set (to undo on appeal)
    "set_campaign": np.int32,
    "set_incentive": np.int32,
    "set_suspended": np.int32,
    "prev_traffic": np.int32,
    "prev_campaign": np.int32,
    "prev_incentive": np.int32,
    "prev_suspended": np.int32,
    "prev_penalty": np.float64,
    "prev_state": np.int8,  # account state before a ban (to restore on appeal)
    "expiry_day": np.int32,  # when the points lapse (points, health window); -1 never
    "expired": np.bool_,
    "resolve_day": np.int32,  # when frozen commission is forfeited unless overturned
    "resolved": np.bool_,
    "forfeited": np.bool_,  # the held commission went to the platform
    "appeal": np.int8,  # 0 none, 1 will appeal, 2 filed, 3 upheld, 4 overturned
    "appeal_day": np.int32,  # day the appeal is (to be) filed
    "appeal_decided_day": np.int32,
}


class DecisionLog(ColumnTable):
    """Every enforcement decision of the run (append-only; appeals update their row)."""

    def __init__(self) -> None:
        super().__init__(DECISION_COLUMNS, capacity=1024)


def _ladder_start(policy: Policy) -> float:
    e = policy.enforcement
    return ladder_for(e).start(e)


def _sanction_rank(s: Sanction) -> int:
    if s.ban:
        return 7
    if s.commission == "forfeit":
        return 6
    if s.commission == "freeze":
        return 5
    if s.suspension_days > 0:
        return 4
    if s.campaign_ban_days > 0 or s.incentive_ban_days > 0:
        return 3
    if s.traffic_days > 0 and s.traffic_multiplier < 1.0:
        return 2
    return 1 if s.warning else 0


class Enforcer:
    """Applies decisions to ladders and sanctions, expires points, reverses overturned decisions."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.log = DecisionLog()
        self._ladders = [ladder_for(p.enforcement) for p in model.policies]

    # ---------------------------------------------------------------- creators

    def init_rows(self, rows: slice) -> None:
        """New accounts start at their market's ladder start (the other columns the enforcer
        owns start at their declared defaults: no sanctions, no timers)."""
        c = self.model.creators
        market = c.col("market")[rows]
        start = np.array([_ladder_start(p) for p in self.model.policies])
        c.col("ladder")[rows] = start[market]

    def policy_changed(self, market: int) -> None:
        """A market switched ladder kind: its creators restart on the new ladder."""
        ladder = ladder_for(self.model.policies[market].enforcement)
        if ladder is self._ladders[market]:
            return
        self._ladders[market] = ladder
        c = self.model.creators
        rows = (c.col("market") == market).nonzero()[0]
        c.col("ladder")[rows] = _ladder_start(self.model.policies[market])
        log = self.log
        stale = (log.col("market") == market) & ~log.col("expired")
        log.col("expired")[stale] = True  # old points no longer count on the new ladder

    def refresh(self, day: int) -> None:
        """Sanction timers become creator state for ``day``: traffic, eligibility, suspension."""
        c = self.model.creators
        c.col("traffic_multiplier")[:] = np.where(day <= c.col("traffic_until"), c.col("penalty_multiplier"), 1.0)
        c.col("campaign_eligible")[:] = day > c.col("campaign_until")
        c.col("incentive_eligible")[:] = day > c.col("incentive_until")
        c.col("suspended")[:] = day <= c.col("suspended_until")

    # ---------------------------------------------------------------- decisions

    def decide(
        self,
        creator: np.ndarray,
        violation_day: np.ndarray,
        reason: np.ndarray,
        label: np.ndarray,
        real: np.ndarray,
        source: np.ndarray,
        auto: np.ndarray,
        proactive: np.ndarray,
        rng: np.random.Generator,
        violation_hour: np.ndarray | None = None,
        decision_hour: np.ndarray | None = None,
        reports: np.ndarray | None = None,
    ) -> slice:
        """Record confirmed violations, move ladders, apply milestone sanctions; returns log rows."""
        model = self.model
        c = model.creators
        day = model.day
        k = creator.size
        if k == 0:
            return slice(self.log.n, self.log.n)
        market = c.col("market")[creator].astype(np.int64)
        violation_hour = np.zeros(k) if violation_hour is None else violation_hour
        decision_hour = np.zeros(k) if decision_hour is None else decision_hour
        reports = np.zeros(k, dtype=np.int64) if reports is None else reports
        # Points from the reason's published range, skewed to the low end by the market's
        # policy.enforcement.points_skew: u ~ Beta(1, points_skew), one draw per decision.
        skew = np.array([p.enforcement.points_skew for p in model.policies])
        u = rng.beta(1.0, skew[market])
        points = np.zeros(k)
        delta = np.zeros(k)
        expiry = np.full(k, -1, dtype=np.int32)
        for m, policy in enumerate(model.policies):
            sel = market == m
            if not sel.any():
                continue
            e = policy.enforcement
            ranges = [e.points.get(name, (1.0, 1.0)) for name in tactic_names()]
            lo, hi = np.array(ranges, dtype=float).T
            r = reason[sel]
            pts = lo[r] + (hi[r] - lo[r]) * u[sel]
            points[sel], delta[sel], expiry[sel] = ladder_for(e).score(e, pts, day)

        # Order decisions per creator so milestone crossings follow one another.
        order = np.lexsort((np.arange(k), creator))
        creator, market, points, delta, expiry = (a[order] for a in (creator, market, points, delta, expiry))
        violation_day, reason, label, real, source, auto, proactive, violation_hour, decision_hour, reports = (
            a[order] for a in (violation_day, reason, label, real, source, auto, proactive, violation_hour,
                               decision_hour, reports)
        )
        first = np.r_[True, creator[1:] != creator[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(k), 0))
        csum = np.cumsum(delta)
        before_rel = csum - delta - (csum - delta)[group_start]
        value = c.col("ladder")
        before = value[creator] + before_rel
        after = before + delta
        milestone = np.full(k, -1, dtype=np.int8)
        for m, policy in enumerate(model.policies):
            sel = market == m
            if not sel.any():
                continue
            e = policy.enforcement
            ladder = ladder_for(e)
            before[sel], after[sel] = ladder.bound(e, before[sel], after[sel])
            milestone[sel] = ladder.milestones_reached(e, before[sel], after[sel])
        # The creator's final value is the last decision's 'after'.
        last = np.r_[creator[1:] != creator[:-1], True]
        value[creator[last]] = after[last]

        rows = self.log.append(
            {
                "creator": creator,
                "actor": c.col("actor")[creator],
                "market": market,
                "day": day,
                "violation_day": violation_day,
                "violation_hour": violation_hour,
                "decision_hour": decision_hour,
                "reports": reports,
                "reason": reason,
                "label": label,
                "real": real,
                "source": source,
                "auto": auto,
                "proactive": proactive,
                "points": points,
                "delta": after - before,
                "milestone": milestone,
                "expiry_day": expiry,
                "resolve_day": -1,
                "appeal_day": -1,
                "appeal_decided_day": -1,
            },
            k,
        )
        c.col("last_sanction_day")[creator] = day
        c.col("last_confirmed_day")[creator] = day
        c.col("sanctions")[:] += np.bincount(creator, minlength=c.n)
        self._apply_sanctions(np.arange(rows.start, rows.stop), day)
        return rows

    def _milestone(self, market: int, index: int) -> Milestone:
        return self.model.policies[market].enforcement.milestones[index]

    def _apply_sanctions(self, rows: np.ndarray, day: int) -> None:
        """Apply each decision's milestone sanction (a loop over the few decisions that reach one)."""
        log = self.log
        c = self.model.creators
        hit = rows[log.col("milestone")[rows] >= 0]
        for r in hit.tolist():  # milestone crossings are rare events
            cr = int(log.col("creator")[r])
            m = int(log.col("market")[r])
            s = self._milestone(m, int(log.col("milestone")[r])).sanction
            log.col("sanction")[r] = _sanction_rank(s)
            for col, days, key in (("traffic_until", s.traffic_days, "traffic"),
                                   ("campaign_until", s.campaign_ban_days, "campaign"),
                                   ("incentive_until", s.incentive_ban_days, "incentive"),
                                   ("suspended_until", s.suspension_days, "suspended")):
                log.col(f"prev_{key}")[r] = c.col(col)[cr]
                log.col(f"set_{key}")[r] = NEVER
                if days > 0:
                    new = max(int(c.col(col)[cr]), day + days)
                    c.col(col)[cr] = new
                    log.col(f"set_{key}")[r] = new
            log.col("prev_penalty")[r] = c.col("penalty_multiplier")[cr]
            if s.traffic_days > 0:
                still_penalised = day <= log.col("prev_traffic")[r]
                current = float(c.col("penalty_multiplier")[cr]) if still_penalised else 1.0
                c.col("penalty_multiplier")[cr] = min(current, s.traffic_multiplier)
            if s.suspension_days > 0:
                c.col("suspended")[cr] = True
            if s.commission != "none":
                self._take_commission(r, cr, m, s.commission, day)
            if s.ban:
                self._ban(r, cr, day)
            self.model.learner.sanctioned(cr, s, float(log.col("frozen")[r]))

    def _take_commission(self, r: int, cr: int, m: int, how: str, day: int) -> None:
        """Freeze (or forfeit) the commission the creator earned over the last 30 days."""
        model = self.model
        c = model.creators
        recent = float(model.income_30d.values[cr]) if cr < model.income_30d.values.size else 0.0
        amount = max(0.0, min(recent, float(c.col("earnings")[cr])))
        self.log.col("frozen")[r] = amount
        c.col("earnings")[cr] -= amount
        c.col("profit")[cr] -= amount
        if how == "forfeit":
            self._forfeit(m, amount)
            self.log.col("resolved")[r] = True
            self.log.col("forfeited")[r] = True
        else:
            c.col("frozen")[cr] += amount
            self.log.col("resolve_day")[r] = day + int(model.levers.appeal_window[m])

    def _forfeit(self, market: int, amount: float) -> None:
        led = self.model.ledger
        led.commissions[market] -= amount
        led.forfeited[market] += amount

    def _ban(self, r: int, cr: int, day: int) -> None:
        c = self.model.creators
        self.log.col("ban")[r] = True
        self.log.col("prev_state")[r] = c.col("state")[cr]
        if c.col("state")[cr] != CreatorState.banned:
            c.col("state")[cr] = CreatorState.banned
            c.col("left_day")[cr] = day
            self.model.governance.onboarding.banned(cr, day)

    # ---------------------------------------------------------------- over time

    def daily(self, day: int, clean_orders: np.ndarray) -> None:
        """Changes whose window has passed lapse, ladders reset and recover (per kind), and
        frozen commission past its appeal window is forfeited."""
        model = self.model
        c = model.creators
        log = self.log
        value = c.col("ladder")
        due = ((log.col("expiry_day") == day) & ~log.col("expired") & (log.col("appeal") != 4)).nonzero()[0]
        if due.size:
            log.col("expired")[due] = True
            np.subtract.at(value, log.col("creator")[due], log.col("delta")[due])
        market = c.col("market")
        for m, policy in enumerate(model.policies):
            e = policy.enforcement
            ladder = ladder_for(e)
            members = market == m
            if ladder.resets(e, day):
                value[members] = ladder.start(e)
                log.col("expired")[(log.col("market") == m) & (log.col("day") <= day)] = True
            ladder.recover(e, members, value, clean_orders)
        # Frozen commission is forfeited once its appeal window has passed without an overturn.
        ripe = ((log.col("resolve_day") >= 0) & (log.col("resolve_day") <= day)
                & ~log.col("resolved") & (log.col("appeal") != 2) & (log.col("appeal") != 1)).nonzero()[0]
        for r in ripe.tolist():
            cr = int(log.col("creator")[r])
            amount = float(log.col("frozen")[r])
            c.col("frozen")[cr] -= amount
            self._forfeit(int(log.col("market")[r]), amount)
            log.col("resolved")[r] = True
            log.col("forfeited")[r] = True

    def overturn(self, rows: np.ndarray, day: int) -> None:
        """Reverse decisions won on appeal: restore ladder values, lift sanctions, release money."""
        model = self.model
        c = model.creators
        log = self.log
        for r in rows.tolist():  # overturns are rare events
            cr = int(log.col("creator")[r])
            log.col("appeal")[r] = 4
            if not log.col("expired")[r]:
                c.col("ladder")[cr] -= log.col("delta")[r]
                log.col("expired")[r] = True
            for col, key in (("traffic_until", "traffic"), ("campaign_until", "campaign"),
                             ("incentive_until", "incentive"), ("suspended_until", "suspended")):
                if log.col(f"set_{key}")[r] != NEVER and c.col(col)[cr] == log.col(f"set_{key}")[r]:
                    c.col(col)[cr] = min(int(log.col(f"prev_{key}")[r]), day - 1)
            if log.col("set_traffic")[r] != NEVER and c.col("traffic_until")[cr] < day:
                c.col("penalty_multiplier")[cr] = log.col("prev_penalty")[r]
            if log.col("ban")[r] and c.col("state")[cr] == CreatorState.banned:
                c.col("state")[cr] = log.col("prev_state")[r]
                c.col("left_day")[cr] = -1
                model.governance.onboarding.reinstated(cr)
            amount = float(log.col("frozen")[r])
            if amount > 0 and log.col("forfeited")[r]:
                # A forfeit decided wrongly is paid back by the platform.
                m = int(log.col("market")[r])
                model.ledger.forfeited[m] -= amount
                model.ledger.commissions[m] += amount
                c.col("earnings")[cr] += amount
                c.col("profit")[cr] += amount
                log.col("forfeited")[r] = False
            elif amount > 0 and not log.col("resolved")[r]:
                c.col("frozen")[cr] -= amount
                c.col("earnings")[cr] += amount
                c.col("profit")[cr] += amount
                log.col("resolved")[r] = True
            # The overturned decision no longer counts against the creator: its marks fall back
            # to the latest decision against them that still stands.
            c.col("sanctions")[cr] -= 1
            mine = (log.col("creator") == cr) & (log.col("appeal") != 4)
            latest = int(log.col("day")[mine].max()) if mine.any() else NEVER
            c.col("last_sanction_day")[cr] = latest
            c.col("last_confirmed_day")[cr] = latest
        self.refresh(day)
