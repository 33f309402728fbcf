"""Adaptation: opportunists and adversaries learn which tactic pays, net of penalties.

Each adaptive creator holds a value estimate per action — clean, or a tactic at low or high
intensity — learned as a smoothed average of the daily profit it earned while playing that
action, minus the penalties it perceived (points, valued at ``penalty_per_point``). Every
``decision_days`` (staggered across creators) it re-picks its action by a softmax over those
values (temperature relative to its typical profit). Actions never tried are valued at the
best tried one, so they get explored. A tactic that is punished harder earns less and is
played less: a policy that is easy to game shows it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorState, CreatorType
from sim.state import CREATORS, Column, declare
from sim.tactics import CLEAN, creator_type_names, typologies
from sim.tactics import code as tactic_code
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Learner", "actions"]



# The creator columns the learner owns.
declare(CREATORS, __name__,
    Column("action", np.int64, doc="index of the current action in Learner.actions"),
    Column("profit_mark", np.float64, doc="profit when the current action started"),
    Column("penalty_accum", np.float64, doc="perceived sanction cost since then"),
    Column("mark_day", np.int32, doc="day the current action's profit started counting"),
)


def actions() -> tuple[tuple[int, int], ...]:
    """The learner's actions as (tactic code, level): level 0 clean, 1 low intensity, 2 the
    tactic's full intensity; one low and one full action per typology's tactic, in code order."""
    return ((CLEAN, 0), *((tactic_code(k.name), level) for k in typologies() for level in (1, 2)))


class Learner:
    """Per-creator action values and choices (arrays over creators x actions)."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.cfg = model.config.world.adaptation
        self.actions = acts = actions()
        self.q = np.zeros((0, len(acts)))
        self.seen = np.zeros((0, len(acts)), dtype=bool)
        self.allowed = np.zeros((0, len(acts)), dtype=bool)
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

    def add_rows(self, rows: slice) -> None:
        """New creators: their menu, and their current tactic as the starting action."""
        c = self.model.creators
        n = rows.stop
        grow = n - self.q.shape[0]
        if grow > 0:
            n_a = len(self.actions)
            self.q = np.vstack([self.q, np.zeros((grow, n_a))])
            self.seen = np.vstack([self.seen, np.zeros((grow, n_a), dtype=bool)])
            self.allowed = np.vstack([self.allowed, np.zeros((grow, n_a), dtype=bool)])
        ctype = c.col("ctype")[rows]
        self.allowed[rows] = np.stack([self._menu[int(t)] for t in ctype]) if ctype.size else self.allowed[rows]
        tactic = c.col("tactic")[rows]
        level = np.where(ctype == CreatorType.opportunist, 1, 2)
        start = np.array([self.actions.index((int(t), int(lv))) if t in self._adversarial else 0
                          for t, lv in zip(tactic, level, strict=True)], dtype=np.int64)
        c.col("action")[rows] = start
        c.col("profit_mark")[rows] = c.col("profit")[rows]
        c.col("penalty_accum")[rows] = 0.0
        c.col("mark_day")[rows] = c.col("joined_day")[rows]

    def penalise(self, creator: np.ndarray, points: np.ndarray) -> None:
        """Sanction points weigh on the action that earned them (perceived cost)."""
        model = self.model
        c = model.creators
        cost = points * self.cfg.penalty_per_point * model.price_level[c.col("market")[creator]]
        np.add.at(c.col("penalty_accum"), creator, cost)

    def decide(self, rng: np.random.Generator) -> None:
        """Creators due today score their action's period and pick the next one."""
        if not self.cfg.enabled:
            return
        model = self.model
        c = model.creators
        day = model.day
        n = c.n
        every = self.cfg.decision_days
        due = np.flatnonzero(
            self.allowed[:n].any(axis=1)
            & c.live_mask()
            & ((day + np.arange(n)) % every == 0)
            & (day - c.col("joined_day") >= every)
        )
        if due.size == 0:
            return
        action = c.col("action")[due]
        held = np.maximum(day - c.col("mark_day")[due], 1)
        reward = (c.col("profit")[due] - c.col("profit_mark")[due] - c.col("penalty_accum")[due]) / held
        q, seen = self.q, self.seen
        old = q[due, action]
        alpha = self.cfg.learning_rate
        q[due, action] = np.where(seen[due, action], old + alpha * (reward - old), reward)
        seen[due, action] = True
        c.col("profit_mark")[due] = c.col("profit")[due]
        c.col("penalty_accum")[due] = 0.0
        c.col("mark_day")[due] = day

        # Social learning: peers of the same type report what each action just earned them.
        beta = self.cfg.social_learning
        if beta > 0:
            n_a = len(self.actions)
            # Peers: same type, same market (profits are in the market's own prices).
            ctype = c.col("ctype")[due].astype(np.int64) * model.n_markets + c.col("market")[due]
            key = ctype * n_a + action
            size = (int(ctype.max()) + 1) * n_a
            total = np.bincount(key, weights=reward, minlength=size)
            count = np.bincount(key, minlength=size)
            peer = np.divide(total, count, out=np.zeros(size), where=count > 0).reshape(-1, n_a)
            known = (count > 0).reshape(-1, n_a)[ctype]
            pv = peer[ctype]
            q[due] = np.where(known & seen[due], q[due] + beta * (pv - q[due]), q[due])
            q[due] = np.where(known & ~seen[due], pv, q[due])
            seen[due] |= known

        # Softmax over allowed actions; untried ones valued at the best tried one.
        values = q[due]
        tried = seen[due]
        best = np.where(tried, values, -np.inf).max(axis=1)
        values = np.where(tried, values, best[:, None])
        scale = np.abs(np.where(tried, values, 0.0)).sum(axis=1) / np.maximum(tried.sum(axis=1), 1)
        logits = values / (self.cfg.temperature * np.maximum(scale, 1e-6))[:, None]
        logits = np.where(self.allowed[due], logits, -np.inf)
        gumbel = -np.log(-np.log(rng.random(logits.shape)))
        choice = np.argmax(logits + gumbel, axis=1)
        c.col("action")[due] = choice
        c.col("tactic")[due] = np.where(self._tactic[choice] == CLEAN, c.col("tactic")[due],
                                        self._tactic[choice])
        # Opportunists' low intensity is their own (world.creators.opportunist_intensity).
        low_opp = (self._level[choice] == 1) & (c.col("ctype")[due] == CreatorType.opportunist)
        c.col("intensity")[due] = np.where(low_opp, self._opportunist_low, self._intensity[choice])

    def action_shares(self, ctype: CreatorType) -> np.ndarray:
        """Share of present creators of ``ctype`` currently on each action."""
        c = self.model.creators
        sel = (c.col("ctype") == ctype) & (c.col("state") != CreatorState.banned) & (c.col("state") != CreatorState.churned)
        counts = np.bincount(c.col("action")[sel], minlength=len(self.actions))
        return counts / max(1, sel.sum())
