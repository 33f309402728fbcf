"""Adaptation: opportunists and adversaries weigh what a tactic gains against what it risks.

Each adaptive creator holds, per action (clean, or a tactic at low or high intensity), a
learned *gain*: its smoothed daily profit while playing that action, outside periods spent
under a sanction's effects (and with commission taken by sanctions added back), so the gain is
what the action earns when it is not punished. Sanctions are priced apart, as the creator
expects them (Becker 1968):

    value[a] = gain[a] - streams/day x intensity[a] x p[t] x D x (C[t] / D) ** gamma

where ``p[t]`` is the creator's *perceived* chance that a violating stream of tactic ``t`` is
sanctioned (a Beta belief updated from its own violating streams and sanctions, with its
peers' record at weight ``social_learning``; warnings count too), ``C[t]`` the cost of the
sanction its market's ladder would impose next from its current standing (lost traffic,
suspension days, lost eligibility, commission, a ban's discounted future profit, plus a stigma
per point), spread over the decisions it takes to reach that milestone, and ``D`` the creator's
own typical daily profit. ``gamma < 1`` makes certainty weigh more than severity (Nagin 2013).

Every ``decision_days`` (the first decision on a day drawn uniformly within the creator's first
period, from its own stream) the creator re-picks by a softmax over values. An untried action
is valued at the current action's gain less an ambiguity discount growing with how far its
intensity is from the current one, so nobody leaves a known action for an unknown one by
default.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorState, CreatorType
from sim.platform.ladders import ladder_for
from sim.state import CREATORS, Column, declare
from sim.tactics import CLEAN, creator_type_names, typologies
from sim.tactics import code as tactic_code
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel
    from sim.policy import LadderConfig, Sanction

__all__ = ["Learner", "actions"]

# Steps of the ladder looked ahead for the next milestone (decisions beyond it are not priced).
_LOOKAHEAD = 24


# The creator columns the learner owns.
declare(CREATORS, __name__,
    Column("action", np.int64, doc="index of the current action in Learner.actions"),
    Column("profit_mark", np.float64, doc="profit when the current action started"),
    Column("taken_accum", np.float64, doc="commission taken by sanctions since then (added back to the gain)"),
    Column("mark_day", np.int32, doc="day the current action's profit started counting"),
    Column("violations_mark", np.int64, doc="violating streams when the current action started"),
    Column("next_decision", np.int32, doc="day of the creator's next decision"),
)


def actions() -> tuple[tuple[int, int], ...]:
    """The learner's actions as (tactic code, level): level 0 clean, 1 low intensity, 2 the
    tactic's full intensity; one low and one full action per typology's tactic, in code order."""
    return ((CLEAN, 0), *((tactic_code(k.name), level) for k in typologies() for level in (1, 2)))


class Learner:
    """Per-creator action gains, sanction beliefs and choices (arrays over creators)."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.cfg = model.config.world.adaptation
        self.actions = acts = actions()
        n_a, n_t = len(acts), len(tactic_names())
        self.q = np.zeros((0, n_a))
        self.seen = np.zeros((0, n_a), dtype=bool)
        self.allowed = np.zeros((0, n_a), dtype=bool)
        # Own record per tactic code: violating streams played, sanctions received (+ warnings).
        self.trials = np.zeros((0, n_t))
        self.hits = np.zeros((0, n_t))
        tactics = model.config.world.tactics
        names = tactic_names()
        self._high = np.array([getattr(tactics, names[t]).intensity if t != CLEAN else 0.0 for t, _ in acts])
        self._intensity = np.where(
            np.array([lv for _, lv in acts]) == 1, self.cfg.low_intensity, self._high
        )
        self._intensity[0] = 0.0
        self._tactic = np.array([t for t, _ in acts], dtype=np.int8)
        self._level = np.array([lv for _, lv in acts])
        self._opportunist_low = model.config.world.creators.opportunist_intensity
        opp = [tactic_code(k) for k in tactics.opportunist_weights]
        # What each creator type may do: honest creators do not learn; opportunists choose
        # among clean and their permitted tactics; ban evaders among all; a typology's
        # creators between clean and their own tactic.
        self._menu: dict[int, np.ndarray] = {}
        for ctype, name in enumerate(creator_type_names()):
            if ctype == CreatorType.honest:
                ok = np.zeros(len(acts), dtype=bool)
            elif ctype == CreatorType.opportunist:
                ok = np.array([t == CLEAN or t in opp for t, _ in acts])
            elif ctype == CreatorType.ban_evader:
                ok = np.ones(len(acts), dtype=bool)
            else:
                own = tactic_code(name)
                ok = np.array([t in (CLEAN, own) for t, _ in acts])
            self._menu[ctype] = ok
        self._adversarial = np.array(sorted({t for t, _ in acts if t != CLEAN}))
        d = self.cfg.daily_discount
        h = self.cfg.ban_horizon_days
        # Discounted days of profit a ban takes: sum of d**k for k = 1..h.
        self._ban_days = float(h) if d == 1.0 else d * (1.0 - d**h) / (1.0 - d)
        self._prices: dict[int, tuple[LadderConfig, tuple[np.ndarray, np.ndarray, np.ndarray]]] = {}
        # Day until which each creator holds a tactic an abuse trend switched it to (None until
        # a trend with a hold switches anyone: runs without one never read it).
        self._held: np.ndarray | None = None

    # ---------------------------------------------------------------- rows

    def add_rows(self, rows: slice) -> None:
        """New creators: their menu, their current tactic as the starting action, an empty
        record, and a first decision day drawn uniformly within their first period."""
        c = self.model.creators
        n = rows.stop
        grow = n - self.q.shape[0]
        if grow > 0:
            self.q = np.vstack([self.q, np.zeros((grow, self.q.shape[1]))])
            self.seen = np.vstack([self.seen, np.zeros((grow, self.seen.shape[1]), dtype=bool)])
            self.allowed = np.vstack([self.allowed, np.zeros((grow, self.allowed.shape[1]), dtype=bool)])
            self.trials = np.vstack([self.trials, np.zeros((grow, self.trials.shape[1]))])
            self.hits = np.vstack([self.hits, np.zeros((grow, self.hits.shape[1]))])
        for a in (self.q, self.seen, self.trials, self.hits):
            a[rows] = 0
        ctype = c.col("ctype")[rows]
        self.allowed[rows] = np.stack([self._menu[int(t)] for t in ctype]) if ctype.size else self.allowed[rows]
        tactic = c.col("tactic")[rows]
        level = np.where(ctype == CreatorType.opportunist, 1, 2)
        start = np.array([self.actions.index((int(t), int(lv))) if t in self._adversarial else 0
                          for t, lv in zip(tactic, level, strict=True)], dtype=np.int64)
        c.col("action")[rows] = start
        c.col("profit_mark")[rows] = c.col("profit")[rows]
        c.col("taken_accum")[rows] = 0.0
        c.col("mark_day")[rows] = c.col("joined_day")[rows]
        c.col("violations_mark")[rows] = c.col("violating_streams")[rows]
        # Its own stream: drawing here shifts no other phase's draws (paired runs stay paired).
        offset = np.floor(self.model.rngs["learn_start"].random(ctype.size) * self.cfg.decision_days)
        c.col("next_decision")[rows] = c.col("joined_day")[rows] + 1 + offset.astype(np.int32)

    # ---------------------------------------------------------------- what enforcement tells

    def penalise(self, creator: np.ndarray, points: np.ndarray) -> None:
        """Decisions against creators: each counts as a sanction of the tactic they play, and
        ends any hold on their tactic (they re-decide the next day)."""
        c = self.model.creators
        tactic = c.col("tactic")[creator].astype(np.int64)
        np.add.at(self.hits, (creator, tactic), 1.0)
        if self._held is not None and creator.size:
            inside = creator[creator < self._held.size]
            held = inside[self._held[inside] > self.model.day]
            if held.size:
                self._held[held] = 0
                nxt = c.col("next_decision")
                nxt[held] = np.minimum(nxt[held], self.model.day + 1)

    def sanctioned(self, creator: int, sanction: Sanction, taken: float) -> None:
        """A milestone sanction hit ``creator`` (called by the Enforcer): commission it took is
        remembered (the gain is learned without it), and a warning raises the creator's
        perceived chance of sanction for every tactic."""
        self.model.creators.col("taken_accum")[creator] += taken
        if sanction.warning:
            self.hits[creator] += self.cfg.warning_weight

    def perceived(self, rows: np.ndarray) -> np.ndarray:
        """Perceived chance that a violating stream is sanctioned, per row and tactic code:
        a Beta belief whose prior mean is ``prior_sanction_rate`` moved by the peers' record
        (same type and market, each peer's evidence at weight ``social_learning``), then
        updated by the creator's own streams and sanctions."""
        cfg = self.cfg
        c = self.model.creators
        n = c.n
        group = c.col("ctype")[:n].astype(np.int64) * self.model.n_markets + c.col("market")[:n]
        size = int(group.max()) + 1 if n else 1
        beta = cfg.social_learning
        m, p0 = cfg.prior_strength, cfg.prior_sanction_rate
        n_t = self.hits.shape[1]
        # Peer totals per (group, tactic) in one bincount each: a bin's weights are added in
        # creator order, as a bincount per tactic would add them.
        key = (group[:, None] * n_t + np.arange(n_t)).ravel()
        peer_hits = np.bincount(key, weights=self.hits[:n].ravel(), minlength=size * n_t).reshape(size, n_t)
        peer_trials = np.bincount(key, weights=self.trials[:n].ravel(), minlength=size * n_t).reshape(size, n_t)
        g = group[rows]
        prior = (m * p0 + beta * peer_hits[g]) / (m + beta * peer_trials[g])
        out = (m * prior + self.hits[rows]) / (m + self.trials[rows])
        return np.minimum(np.maximum(out, 0.0), 1.0)  # np.clip, without its dispatch

    def daily_income(self, rows: np.ndarray) -> np.ndarray:
        """The creator's typical daily profit (its last 30 days; at least its earnings, and at
        least one unit of its market's prices): the scale sanctions are priced in."""
        model = self.model
        c = model.creators
        days = np.minimum(np.maximum(model.day - c.col("joined_day")[rows], 1), 30)
        prof = _padded(model.profit_30d.values, c.n)[rows]
        inc = _padded(model.income_30d.values, c.n)[rows]
        floor = model.price_level[c.col("market")[rows]]
        return np.maximum(np.maximum(prof, inc) / days, floor)

    def sanction_cost(self, rows: np.ndarray, income: np.ndarray) -> np.ndarray:
        """Money cost of one more decision against each row, per tactic code: the sanction of
        the next milestone its market's ladder would reach from its current standing, spread
        over the decisions it takes to get there, plus the points' stigma."""
        model = self.model
        cfg = self.cfg
        c = model.creators
        market = c.col("market")[rows].astype(np.int64)
        standing = c.col("ladder")[rows]
        inc30 = np.maximum(_padded(model.income_30d.values, c.n)[rows], 0.0)
        names = tactic_names()
        cost = np.zeros((rows.size, len(names)))
        adversarial = self._adversarial.tolist()
        n_t = len(adversarial)
        for m, policy in enumerate(model.policies):  # loops over markets and milestones
            sel = (market == m).nonzero()[0]
            if sel.size == 0:
                continue
            e = policy.enforcement
            ladder = ladder_for(e)
            price = model.price_level[m]
            k_sel = sel.size
            # Every tactic's lookahead at once: entry j * k_sel + i is creator sel[i] playing
            # tactic adversarial[j] (the ladder's hooks act entry by entry).
            days, commission, severity = self._ladder_prices(e)
            # Money cost of each milestone's sanction (milestone, creator), as _milestone_cost gives it.
            ms_money = income[sel] * days[:, None]
            ms_money[commission] += inc30[sel]
            severity = np.repeat(severity, k_sel)
            points, delta, _ = ladder.score(e, severity, model.day)
            reached = np.full(severity.size, -1)
            steps = np.zeros(severity.size)
            before = np.tile(standing[sel], n_t)
            for k in range(1, _LOOKAHEAD + 1):
                b, a = ladder.bound(e, before, before + delta)
                ms = ladder.milestones_reached(e, b, a).astype(np.int64)
                new = (reached < 0) & (ms >= 0)
                reached[new] = ms[new]
                steps[new] = k
                before = a
                if (reached >= 0).all():
                    break
            money = np.zeros(severity.size)
            if days.size:
                creator = np.tile(np.arange(k_sel), n_t)
                with np.errstate(divide="ignore", invalid="ignore"):
                    money = np.where(reached >= 0, ms_money[np.maximum(reached, 0), creator] / steps, 0.0)
            total = money + cfg.penalty_per_point * points * price
            cost[sel[:, None], np.asarray(adversarial)[None, :]] = total.reshape(n_t, k_sel).T
        return cost

    def _milestone_cost(self, s: Sanction, income: np.ndarray, inc30: np.ndarray) -> np.ndarray:
        """Money a milestone's sanction costs: days of income lost, plus the month's commission
        when the sanction takes commission."""
        money = income * self._sanction_days(s)
        if s.commission != "none":
            money = money + inc30
        return money

    def _sanction_days(self, s: Sanction) -> float:
        """Days of income a sanction takes (suspension, lost eligibility, lost traffic, a ban)."""
        cfg = self.cfg
        days = s.suspension_days + cfg.eligibility_value * (s.campaign_ban_days + s.incentive_ban_days)
        if s.traffic_days > 0:
            days += (1.0 - s.traffic_multiplier) * s.traffic_days
        if s.ban:
            days += self._ban_days
        return days

    def _ladder_prices(self, e: LadderConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per milestone of ladder ``e``, the days of income its sanction takes and whether it
        takes commission; per adversarial tactic, the severity priced (the mean of the Beta(1, 3)
        skew over its points range). Worked out once per ladder config (they are fixed values)."""
        cached = self._prices.get(id(e))
        if cached is not None and cached[0] is e:
            return cached[1]
        names = tactic_names()
        days = np.array([self._sanction_days(ms.sanction) for ms in e.milestones], dtype=float)
        commission = np.array([ms.sanction.commission != "none" for ms in e.milestones], dtype=bool)
        ranges = [e.points.get(names[t], (1.0, 1.0)) for t in self._adversarial.tolist()]
        severity = np.array([lo + (hi - lo) / 4.0 for lo, hi in ranges], dtype=float)
        out = (days, commission, severity)
        self._prices[id(e)] = (e, out)
        return out

    def expected_cost(self, rows: np.ndarray, income: np.ndarray) -> np.ndarray:
        """Perceived expected sanction cost per day of each action, per row."""
        c = self.model.creators
        p = self.perceived(rows)
        cost = self.sanction_cost(rows, income)
        ratio = cost / income[:, None]
        per_stream = p * income[:, None] * ratio ** self.cfg.severity_exponent
        rate = c.col("streams_per_week")[rows] / 7.0
        return rate[:, None] * self._intensities(rows) * per_stream[:, self._tactic]

    def _intensities(self, rows: np.ndarray) -> np.ndarray:
        """Each row's violation rate under each action (opportunists' low rate is their own)."""
        opp = self.model.creators.col("ctype")[rows] == CreatorType.opportunist
        return np.where(opp[:, None] & (self._level == 1), self._opportunist_low, self._intensity)

    # ---------------------------------------------------------------- decisions

    def decide(self, rng: np.random.Generator) -> None:
        """Creators due today score their action's period and pick the next one."""
        if not self.cfg.enabled:
            return
        model = self.model
        cfg = self.cfg
        c = model.creators
        day = model.day
        n = c.n
        due = (self.allowed[:n].any(axis=1) & c.live_mask() & (c.col("next_decision")[:n] <= day)).nonzero()[0]
        if due.size == 0:
            return
        action = c.col("action")[due]
        held = np.maximum(day - c.col("mark_day")[due], 1)
        reward = (c.col("profit")[due] - c.col("profit_mark")[due] + c.col("taken_accum")[due]) / held
        # Periods spent under a sanction's effects say nothing about the action's own gain.
        mark = c.col("mark_day")[due]
        clear = (c.col("traffic_until")[due] < mark) & (c.col("suspended_until")[due] < mark)
        tactic = c.col("tactic")[due].astype(np.int64)
        np.add.at(self.trials, (due, tactic), (c.col("violating_streams")[due] - c.col("violations_mark")[due]))
        q, seen = self.q, self.seen
        upd, ua = due[clear], action[clear]
        old = q[upd, ua]
        q[upd, ua] = np.where(seen[upd, ua], old + cfg.learning_rate * (reward[clear] - old), reward[clear])
        seen[upd, ua] = True
        c.col("profit_mark")[due] = c.col("profit")[due]
        c.col("taken_accum")[due] = 0.0
        c.col("mark_day")[due] = day
        c.col("violations_mark")[due] = c.col("violating_streams")[due]
        c.col("next_decision")[due] = day + cfg.decision_days

        # Social learning: peers of the same type and market report what each action just
        # earned them (profits are in the market's own prices).
        beta = cfg.social_learning
        if beta > 0 and upd.size:
            n_a = len(self.actions)
            ctype = c.col("ctype")[due].astype(np.int64) * model.n_markets + c.col("market")[due]
            key = (ctype * n_a + action)[clear]
            size = (int(ctype.max()) + 1) * n_a
            total = np.bincount(key, weights=reward[clear], minlength=size)
            count = np.bincount(key, minlength=size)
            peer = np.divide(total, count, out=np.zeros(size), where=count > 0).reshape(-1, n_a)
            known = (count > 0).reshape(-1, n_a)[ctype]
            pv = peer[ctype]
            q[due] = np.where(known & seen[due], q[due] + beta * (pv - q[due]), q[due])
            q[due] = np.where(known & ~seen[due], pv, q[due])
            seen[due] |= known

        # Values: gain less the perceived expected sanction cost; an untried action is worth
        # the current action's gain less the ambiguity discount.
        income = self.daily_income(due)
        intensity = self._intensities(due)
        rows = np.arange(due.size)
        anchor = np.where(seen[due, action], q[due, action], reward)
        current = intensity[rows, action]
        prior = anchor[:, None] - cfg.untried_discount * np.abs(intensity - current[:, None]) * income[:, None]
        gain = np.where(seen[due], q[due], prior)
        values = gain - self.expected_cost(due, income)
        logits = values / (cfg.temperature * income)[:, None]
        logits = np.where(self.allowed[due], logits, -np.inf)
        gumbel = -np.log(-np.log(rng.random(logits.shape)))
        choice = np.argmax(logits + gumbel, axis=1)
        c.col("action")[due] = choice
        c.col("tactic")[due] = np.where(self._tactic[choice] == CLEAN, c.col("tactic")[due],
                                        self._tactic[choice])
        c.col("intensity")[due] = intensity[rows, choice]

    def switch(self, rows: np.ndarray, tactic: int, intensity: np.ndarray, hold_days: int = 0) -> None:
        """Creators ``rows`` take up ``tactic`` at ``intensity`` (an abuse trend, not a choice of
        theirs, sim/platform/trends/): the period of their old action ends (its violating streams
        counted; its gain, cut short, not learned) and from now on they choose between staying
        clean and the new tactic, starting on it at full level; a tactic the learner has no
        action for (no creator type) they keep, learning nothing. With ``hold_days`` they make
        no decision before that many days have passed, unless a decision against them comes
        first (:meth:`penalise`)."""
        c = self.model.creators
        if hold_days > 0:
            if self._held is None or self._held.size < c.n:
                grown = np.zeros(max(c.n, 2 * (0 if self._held is None else self._held.size)), dtype=np.int64)
                if self._held is not None:
                    grown[: self._held.size] = self._held
                self._held = grown
            until = self.model.day + hold_days
            self._held[rows] = until
            nxt = c.col("next_decision")
            nxt[rows] = np.maximum(nxt[rows], until)
        old = c.col("tactic")[rows].astype(np.int64)
        np.add.at(self.trials, (rows, old), c.col("violating_streams")[rows] - c.col("violations_mark")[rows])
        c.col("profit_mark")[rows] = c.col("profit")[rows]
        c.col("taken_accum")[rows] = 0.0
        c.col("mark_day")[rows] = self.model.day
        c.col("violations_mark")[rows] = c.col("violating_streams")[rows]
        c.col("tactic")[rows] = tactic
        c.col("intensity")[rows] = intensity
        if (tactic, 2) in self.actions:
            self.allowed[rows] = (self._tactic == CLEAN) | (self._tactic == tactic)
            c.col("action")[rows] = self.actions.index((tactic, 2))
        else:
            self.allowed[rows] = False

    def action_shares(self, ctype: CreatorType) -> np.ndarray:
        """Share of present creators of ``ctype`` currently on each action."""
        c = self.model.creators
        sel = (c.col("ctype") == ctype) & (c.col("state") != CreatorState.banned) & (c.col("state") != CreatorState.churned)
        counts = np.bincount(c.col("action")[sel], minlength=len(self.actions))
        return counts / max(1, sel.sum())


def _padded(values: np.ndarray, n: int) -> np.ndarray:
    """A per-creator running total padded with zeros to ``n`` rows (new rows have none yet)."""
    return values[:n] if values.size >= n else np.pad(values, (0, n - values.size))
