"""The governance pipeline: detect, review, enforce, appeal (design §3 phases 6-8).

- **Detection.** One classifier per violation type scores every stream while it is live:
  N(0, 1) for a stream that does not commit that violation, N(d' x scale, 1) for one that
  does (a binormal ROC whose operating point is the threshold). A stream scoring above the
  threshold is flagged; optionally, a stream scoring above the interruption threshold is cut
  live and the rest of its views never happen. Flags come from the registered detection
  signal sources (``sim/platform/signals/``): classifier flags, user reports
  (>= report_threshold on a stream) and complaint spikes (>= complaint_threshold complaints
  about a creator in 7 days), then any registered from outside livesim.
- **Review.** Flags scoring above the auto-action threshold are actioned at once. The rest wait
  in a per-market queue served by a daily capacity: pending appeals first, then flags by the
  prioritisation rule (fifo, risk with an age weight per day waited, reach); items older
  than the SLA expire unreviewed. Reviewers confirm a real violation with probability
  ``sensitivity`` and a clean stream with probability ``1 - specificity``.
- **Hours.** Each creator goes live at an hour of the day (uniform over 24 h, drawn per
  creator and day from the ``detect`` stream after the live scan, so paired runs stay
  paired). An auto-action follows its flag after ``auto_action_latency_hours``. The day's
  review capacity C is spread over the day as slots at hours 24 (j + 1/2) / C: appeals take
  the first, then the items chosen by priority, in the order they became available, each in
  the first free slot after it was flagged; items served days later carry those days.
- **Enforcement.** Confirmed violations go to the market's ladder (``enforcement.py``).
- **Appeals.** A sanctioned creator appeals within the window with a probability that is
  higher when the decision was wrong; the appeal waits at least ``decision_days`` and uses
  review capacity; an overturn reverses the decision. A share ``early_share`` of appellants
  files at once (Geometric(0.3) - 1 days), the rest on a day uniform over the whole window.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorState, CreatorType
from sim.platform.enforcement import Enforcer
from sim.platform.onboarding import Onboarding
from sim.platform.signals import CreatorFlags, PlatformView, SignalSource, StreamSignal
from sim.platform.signals import sources as signal_sources
from sim.state import CREATORS, NEVER, Column, declare
from sim.tactics import CLEAN, accidental
from sim.tactics import code as tactic_code

if TYPE_CHECKING:
    from sim.model import DayStreams, LiveShopModel

__all__ = ["Governance", "ReviewQueue"]

QUEUE_FIELDS: dict[str, type] = {
    "creator": np.int64,
    "market": np.int64,
    "violation_day": np.int32,
    "violation_hour": np.float64,  # hour of the violation day the stream went live
    "flag_hour": np.float64,  # hour of the enqueued day the item was flagged
    "label": np.int8,
    "reason": np.int8,
    "real": np.bool_,
    "score": np.float64,
    "reach": np.float64,
    "reports": np.int64,  # viewer reports on the stream that day (0 for flags on accounts)
    "source": np.int8,
    "proactive": np.bool_,
    "enqueued": np.int32,
}


# The creator columns governance owns: what the platform can uncover by looking back at an
# account (the ground truth a review finds), and when it last flagged it.
declare(CREATORS, __name__,
    Column("last_stream_day", np.int32, NEVER),
    Column("last_violation_day", np.int32, NEVER),
    Column("last_violation_label", np.int8, doc="tactic code of the last violating stream"),
    Column("last_violation_hour", np.float64, doc="hour of the day the last violating stream went live"),
    Column("last_complaint_flag", np.int32, NEVER),
    Column("last_actioned_violation", np.int32, NEVER, "violation day of the latest real decision"),
)

# The reason given to a flag on a stream or creator without a known violation.
MINOR = tactic_code(accidental().name)


class ReviewQueue:
    """Flagged items waiting for a reviewer (struct of arrays)."""

    def __init__(self) -> None:
        self.items = {k: np.zeros(0, dtype=dt) for k, dt in QUEUE_FIELDS.items()}

    def __len__(self) -> int:
        return int(self.items["creator"].size)

    def push(self, batch: dict[str, np.ndarray]) -> None:
        if batch["creator"].size:
            self.items = {k: np.concatenate([self.items[k], batch[k].astype(dt)]) for k, dt in QUEUE_FIELDS.items()}

    def keep(self, mask: np.ndarray) -> None:
        if not mask.all():  # (all kept: the arrays stay as they are)
            self.items = {k: v[mask] for k, v in self.items.items()}

    def backlog(self, n_markets: int) -> np.ndarray:
        return np.bincount(self.items["market"], minlength=n_markets).astype(float)


class Governance:
    """Detection, review, enforcement and appeals for every market."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.queue = ReviewQueue()
        self.enforcer = Enforcer(model)
        self.onboarding = Onboarding(model)
        # The registered detection signal sources, one instance per model; index = source code.
        self.sources: list[SignalSource] = [source() for source in signal_sources()]
        self._proactive = np.array([source.proactive for source in self.sources], dtype=bool)
        self._auto_action = np.array([source.auto_action for source in self.sources], dtype=bool)

    # ---------------------------------------------------------------- detection

    def scan(self, s: DayStreams) -> None:
        """Classifiers score today's streams as they go live (drawn whatever the policy)."""
        model = self.model
        rng = model.rngs["detect"]
        lv = model.levers
        n = s.creator.size
        # Draws per creator (not per stream) keep runs paired across policies that change who streams.
        n_c = model.creators.n
        z = rng.standard_normal((n_c, lv.dprime.shape[1] - 1))[s.creator]  # one classifier per tactic
        violating = s.tactic > 0
        rows = violating.nonzero()[0]
        dprime = lv.dprime[s.market[rows], s.tactic[rows]]
        evasion = model.world_shift.dprime_loss  # what evasion trends took off (sim/platform/trends/)
        if evasion is not None:
            ctype = model.creators.col("ctype")[s.creator[rows]]
            dprime = np.maximum(dprime - evasion[s.market[rows], ctype, s.tactic[rows]], 0.0)
        z[rows, s.tactic[rows] - 1] += dprime
        excess = z - lv.tactic_threshold[s.market]
        best = np.argmax(excess, axis=1)
        s.score = z[np.arange(n), best]
        s.reason = (best + 1).astype(np.int8)
        on = lv.detection_on[s.market]
        s.flagged = on & (excess[np.arange(n), best] > 0.0)
        # Where the live stream is caught (for real-time interruption): share of views kept.
        cut_at = rng.random(n_c)[s.creator]
        cut = on & lv.interrupt_live[s.market] & (s.score > lv.interrupt_threshold[s.market])
        s.keep_share = np.where(cut, cut_at, 1.0)

    def interrupt(self, stream_of_view: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Which of today's views happen (False: after the stream was cut)."""
        share = self.model.today.keep_share
        if stream_of_view.size == 0 or np.all(share >= 1.0):
            return np.ones(stream_of_view.size, dtype=bool)
        return rng.random(stream_of_view.size) < share[stream_of_view]

    def detect(self) -> None:
        """Turn today's signals (every registered source, in order) into actions or queue items.

        Sources see only what the platform can see (``sim/platform/signals/``); the ground truth
        a reviewer will uncover is attached here. Stream signals come first, one item per
        stream any of them flags (named after the first source in order that flagged it, its
        risk score the sum of every stream source's evidence, in order); then the flags on
        accounts, source by source. Markets with detection off see no flag from any source.
        """
        model = self.model
        s = model.today
        c = model.creators
        lv = model.levers
        day = model.day
        counts = model.counts
        # The hour each creator goes live today (ASSUMPTION: uniform over the day), one draw per
        # creator whatever the policy; the detect stream has no later draw on the day.
        hour = model.rngs["detect"].random(c.n) * 24.0
        stream_hour = hour[s.creator]
        if s.creator.size:
            # Ground truth the reviewer will uncover, remembered per creator (complaint spikes).
            v = s.tactic > 0
            c.col("last_violation_day")[s.creator[v]] = day
            c.col("last_violation_label")[s.creator[v]] = s.tactic[v]
            c.col("last_violation_hour")[s.creator[v]] = stream_hour[v]
            c.col("last_stream_day")[s.creator] = day
        view = PlatformView(model)
        on = lv.detection_on[s.market]
        first = np.full(s.creator.size, -1, dtype=np.int8)  # the first source flagging each stream
        named = np.zeros(s.creator.size, dtype=np.int8)  # the violation type it points at (0: none)
        evidence: np.ndarray | None = None
        account_flags: list[tuple[int, CreatorFlags]] = []
        for code, source in enumerate(self.sources):
            seen = source.observe(view)
            if isinstance(seen, StreamSignal):
                new = on & seen.flag & (first < 0)
                first[new] = code
                named[new] = seen.reason[new]
                evidence = seen.score if evidence is None else evidence + seen.score
            else:
                account_flags.append((code, seen))
        idx = (first >= 0).nonzero()[0]
        real = s.tactic[idx] > 0
        reason = np.where(named[idx] > 0, named[idx], np.where(real, s.tactic[idx], MINOR))
        if model.events.enabled:
            believed = np.zeros(s.creator.size, dtype=np.int8)
            believed[idx] = reason
            model.events.streams(model, stream_hour, first, believed)
        items = {
            "creator": s.creator[idx],
            "market": s.market[idx],
            "violation_day": np.full(idx.size, day),
            "violation_hour": stream_hour[idx],
            "flag_hour": stream_hour[idx],
            "label": s.tactic[idx],
            "reason": reason,
            "real": real,
            "score": evidence[idx] if evidence is not None else np.zeros(idx.size),
            "reach": s.views[idx].astype(float),
            "reports": s.reports[idx],
            "source": first[idx],
            "proactive": self._proactive[first[idx]],
            "enqueued": np.full(idx.size, day),
        }
        # Flags on accounts (complaint spikes): judged on the creator's last week.
        for code, flags in account_flags:
            keep = lv.detection_on[c.col("market")[flags.creator]]
            cr = flags.creator[keep]
            if not cr.size:
                continue
            recent = c.col("last_violation_day")[cr] >= day - 7
            label = np.where(recent, c.col("last_violation_label")[cr], CLEAN).astype(np.int8)
            items = {
                k: np.concatenate([items[k], v])
                for k, v in {
                    "creator": cr,
                    "market": c.col("market")[cr].astype(np.int64),
                    "violation_day": np.where(recent, c.col("last_violation_day")[cr], c.col("last_stream_day")[cr]),
                    "violation_hour": np.where(recent, c.col("last_violation_hour")[cr], 0.0),
                    "flag_hour": hour[cr],
                    "label": label,
                    "reason": np.where(flags.reason[keep] > 0, flags.reason[keep], np.where(recent, label, MINOR)),
                    "real": recent,
                    "score": flags.score[keep],
                    "reach": np.zeros(cr.size),
                    "reports": np.zeros(cr.size, dtype=np.int64),
                    "source": np.full(cr.size, code),
                    "proactive": np.full(cr.size, self._proactive[code]),
                    "enqueued": np.full(cr.size, day),
                }.items()
            }
        # Every flag, from any source, is counted here and only here. A flag is real when its item
        # is: a violating stream, or a creator whose last violation was at most 7 days before.
        counts.add("flags", items["market"])
        counts.add("flags_real", items["market"], items["real"])
        # High-confidence classifier flags are actioned without review.
        auto = items["proactive"] & (items["score"] >= lv.auto_threshold[items["market"]] + 0.0)
        auto &= self._auto_action[items["source"]]
        if auto.any():
            a = {k: v[auto] for k, v in items.items()}
            a["decision_hour"] = a["flag_hour"] + lv.auto_latency[a["market"]]
            self._decide(a, auto=True)
            counts.add("auto_actions", a["market"])
            counts.add("moderation_cost", a["market"], lv.cost_per_auto[a["market"]])
        model.events.flags(day, items, auto, idx.size)
        self.queue.push({k: v[~auto] for k, v in items.items()})

    # ---------------------------------------------------------------- review and appeals

    def review(self) -> None:
        """Spend each market's review capacity: due appeals first, then queued flags."""
        model = self.model
        rng = model.rngs["review"]
        lv = model.levers
        day = model.day
        counts = model.counts
        log = self.enforcer.log
        # Appeals filed today join the appeal queue.
        filing = ((log.col("appeal") == 1) & (log.col("appeal_day") <= day)).nonzero()[0]
        log.col("appeal")[filing] = 2
        counts.add("appeals", log.col("market")[filing].astype(np.int64))

        # Queue items past their SLA expire unreviewed.
        q = self.queue.items
        expired = (day - q["enqueued"]) > lv.sla_days[q["market"]]
        if expired.any():
            counts.add("expired_items", q["market"][expired])
            counts.add("expired_reactive_items", q["market"][expired & ~q["proactive"]])
            if model.events.enabled:
                gone = {k: v[expired] for k, v in q.items()}
                n_gone = gone["creator"].size
                model.events.reviewed(day, gone, np.full(n_gone, 2), np.full(n_gone, np.nan))
            self.queue.keep(~expired)
            q = self.queue.items

        capacity = lv.capacity.copy()
        counts.add("review_capacity", np.arange(capacity.size), capacity.astype(float))
        appeal_market = np.zeros(0, dtype=np.int64)
        # Appeals: due once decision_days have passed since filing; oldest first.
        ready = ((log.col("appeal") == 2)
                 & (day - log.col("appeal_day") >= lv.appeal_decision_days[log.col("market")])).nonzero()[0]
        if ready.size:
            ready = ready[np.lexsort((ready, log.col("appeal_day")[ready]))]
            m_of = log.col("market")[ready].astype(np.int64)
            take = _take_per_market(m_of, capacity)
            chosen = ready[take]
            capacity -= np.bincount(m_of[take], minlength=capacity.size)
            real = log.col("real")[chosen]
            m = m_of[take]
            appeal_market = m
            p = np.where(real, lv.overturn_right[m], lv.overturn_wrong[m])
            won = rng.random(chosen.size) < p
            log.col("appeal")[chosen] = 3
            log.col("appeal_decided_day")[chosen] = day
            counts.add("appeal_decisions", m)
            counts.add("overturns", m[won])
            counts.add("moderation_cost", m, lv.cost_per_appeal[m])
            self.enforcer.overturn(chosen[won], day)

        # Flags, by the market's prioritisation rule.
        if len(self.queue):
            order = self._priority(q)
            take = _take_per_market(q["market"][order], capacity)
            chosen = order[take]
            m = q["market"][chosen]
            real = q["real"][chosen]
            p = np.where(real, lv.sensitivity[m], 1.0 - lv.specificity[m])
            confirm = rng.random(chosen.size) < p
            counts.add("reviews", m)
            counts.add("reactive_reviews", m[~q["proactive"][chosen]])
            counts.add("moderation_cost", m, lv.cost_per_review[m])
            # When each is decided: the hour of its review slot, not before it was flagged.
            ready_at = 24.0 * (q["enqueued"][chosen] - day) + q["flag_hour"][chosen]
            hour = _slot_hours(appeal_market, m, ready_at, lv.capacity)
            done = np.zeros(len(self.queue), dtype=bool)
            done[chosen] = True
            if model.events.enabled:
                model.events.reviewed(day, {k: v[chosen] for k, v in q.items()}, np.where(confirm, 0, 1), hour)
            decided = {k: v[chosen[confirm]] for k, v in q.items()}
            decided["decision_hour"] = hour[confirm]
            self.queue.keep(~done)
            self._decide(decided, auto=False)
            counts.add("capacity_used", m)
        counts.add("capacity_used", appeal_market)

    def _priority(self, q: dict[str, np.ndarray]) -> np.ndarray:
        """Queue order: per item, its market's rule (fifo / risk / reach), ties oldest first.

        ``risk`` ranks by score + age_weight x days waited, so an item with little evidence
        (a report-only item) rises as it waits instead of starving until it expires."""
        rules = [p.review.priority for p in self.model.policies]
        key = np.zeros(q["creator"].size)
        waited = (self.model.day - q["enqueued"]).astype(float)
        for m, rule in enumerate(rules):
            sel = q["market"] == m
            if rule == "risk":
                key[sel] = -(q["score"][sel] + self.model.levers.age_weight[m] * waited[sel])
            elif rule == "reach":
                key[sel] = -q["reach"][sel]
            else:
                key[sel] = q["enqueued"][sel]
        return np.lexsort((np.arange(key.size), q["enqueued"], key))

    def _decide(self, items: dict[str, np.ndarray], auto: bool) -> None:
        """Confirmed violations: enforce, then decide who will appeal and when."""
        model = self.model
        k = items["creator"].size
        if k == 0:
            return
        c = model.creators
        # A creator already banned cannot be sanctioned again.
        live = c.col("state")[items["creator"]] != CreatorState.banned
        if not live.all():
            items = {key: v[live] for key, v in items.items()}
            k = items["creator"].size
        if k == 0:
            return
        # User notices actioned: the reports on each stream a decision falls on, whatever signal
        # raised it (a notice counts as actioned when the content it reported was).
        model.counts.add("actioned_reports", items["market"], items["reports"])
        rows = self.enforcer.decide(
            creator=items["creator"],
            violation_day=items["violation_day"],
            reason=np.where(items["real"], items["label"], items["reason"]).astype(np.int8),
            label=items["label"],
            real=items["real"],
            source=items["source"],
            auto=np.full(k, auto),
            proactive=items["proactive"],
            rng=model.rngs["enforce"],
            violation_hour=items["violation_hour"],
            decision_hour=items["decision_hour"],
            reports=items["reports"],
        )
        log = self.enforcer.log
        r = np.arange(rows.start, rows.stop)
        m = log.col("market")[r].astype(np.int64)
        real = log.col("real")[r]
        counts = model.counts
        # A violating stream is one creator-day; a second decision on it (a complaint spike
        # after a flag) is not a second violation caught.
        cr = log.col("creator")[r]
        vday = log.col("violation_day")[r].astype(np.int64)
        new = real & (c.col("last_actioned_violation")[cr] != vday)
        # ...nor two decisions on it in the same batch.
        pair = cr * 100_000 + vday
        _, first = np.unique(np.where(new, pair, -1 - np.arange(r.size)), return_index=True)
        once = np.zeros(r.size, dtype=bool)
        once[first] = True
        new &= once
        c.col("last_actioned_violation")[cr[real]] = np.maximum(c.col("last_actioned_violation")[cr[real]],
                                                                vday[real])
        bans = log.col("ban")[r]
        counts.add_many(m, {
            "actions": None,
            "actions_real": real,
            "violations_actioned": new,
            "proactive_actions": real & log.col("proactive")[r],
            "time_to_action_sum": (log.col("day")[r] - log.col("violation_day")[r]).astype(float),
            "bans": bans,
            "wrongful_bans": bans & ~real,
            "honest_wrongful_bans": bans & ~real & (c.col("ctype")[cr] == CreatorType.honest),
        })
        counts.add_by_tactic("violations_actioned", m, log.col("label")[r], new)
        model.learner.penalise(log.col("creator")[r], log.col("points")[r])
        # Appeals: more likely when the decision was wrong; filed within the window.
        lv = model.levers
        rng = model.rngs["appeal"]
        window = lv.appeal_window[m]
        p = np.where(real, lv.appeal_rate_right[m], lv.appeal_rate_wrong[m])
        will = (rng.random(r.size) < p) & (window > 0)
        # Filing day: early_share at once (Geometric(0.3) - 1 days), the rest uniform over the
        # window (a fixed number of draws per decision whatever the window: runs stay paired).
        early = rng.random(r.size) < lv.appeal_early_share[m]
        quick = rng.geometric(0.3, size=r.size) - 1
        spread = np.floor(rng.random(r.size) * window).astype(np.int64)
        delay = np.minimum(np.where(early, quick, spread), np.maximum(window - 1, 0))
        log.col("appeal")[r[will]] = 1
        log.col("appeal_day")[r[will]] = model.day + delay[will]

    # ---------------------------------------------------------------- daily upkeep

    def daily(self, clean_orders: np.ndarray) -> None:
        """Ladders move with time (re-entry of banned evaders is handled in the adapt phase)."""
        self.enforcer.daily(self.model.day, clean_orders)

    def backlog(self) -> np.ndarray:
        return self.queue.backlog(self.model.n_markets)


def _slot_hours(appeal_market: np.ndarray, market: np.ndarray, ready_at: np.ndarray,
                capacity: np.ndarray) -> np.ndarray:
    """Decision hour (after the start of today) of each reviewed item of market ``market``.

    A market's capacity C is spread evenly over the day as review slots at 24 (j + 1/2) / C
    hours (j = 0, 1, ...). Today's due appeals (their markets in ``appeal_market``) take the
    first slots; the items follow in the order they became available (``ready_at``, hours after
    the start of today: negative for older items), each in the first free slot at or after it
    was flagged (j_k = A + k + max(0, running max of c_i - A - i), c_i the first slot at or
    after item i's flag). An item flagged late in a full day may spill past midnight (hour > 24).
    """
    hour = np.zeros(market.size)
    appeals = np.bincount(appeal_market, minlength=capacity.size)
    for m in np.bincount(market).nonzero()[0].tolist():  # the markets with items, in order
        idx = (market == m).nonzero()[0]
        idx = idx[np.argsort(ready_at[idx], kind="stable")]
        per_hour = max(int(capacity[m]), 1) / 24.0
        first_free = np.maximum(np.ceil(ready_at[idx] * per_hour - 0.5), 0.0)
        k = np.arange(idx.size) + float(appeals[m])
        slot = k + np.maximum(np.maximum.accumulate(first_free - k), 0.0)
        hour[idx] = (slot + 0.5) / per_hour
    return hour


def _take_per_market(market: np.ndarray, capacity: np.ndarray) -> np.ndarray:
    """Mask of the first ``capacity[m]`` entries of each market, in the given order."""
    if market.size == 0:
        return np.zeros(0, dtype=bool)
    order = np.argsort(market, kind="stable")
    sorted_m = market[order]
    first = np.searchsorted(sorted_m, np.arange(capacity.size))
    rank = np.empty(market.size, dtype=np.int64)
    rank[order] = np.arange(market.size) - first[sorted_m]
    return rank < capacity[market]

