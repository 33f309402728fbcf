"""``health_score`` (TikTok Shop Creator Health Rating): a score starts at ``initial`` (200) and
falls by points x ``score_per_point``; each deduction is given back after ``window_days``, and
clean orders earn score back, milestones are crossed downwards (150/100/50/0).

Range: a score lives on [0, ceiling], where the ceiling is ``recovery_ceiling`` (by default the
start value, 200; never above ``maximum``, the 0-1000 scale's top). Deductions are floored at 0
decision by decision (``bound``); recovery (lapsed deductions and clean orders) restores lost
score only, and ``recover`` holds every member's score at the ceiling at the end of each day.
So a creator never ends a day above the ceiling, and a creator with a clean record sits at it.
"""

from __future__ import annotations

import numpy as np

from sim.platform.ladders.base import LadderKind
from sim.platform.ladders.registry import register
from sim.policy import HealthScoreLadder


@register
class HealthScore(LadderKind):
    """A falling score floored at 0 that recovers with clean orders up to its ceiling."""

    name = "health_score"
    config = HealthScoreLadder

    def start(self, e: HealthScoreLadder) -> float:
        return float(e.initial)

    def score(self, e: HealthScoreLadder, severity: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray, int]:
        points = np.round(severity)
        return points, -points * e.score_per_point, day + e.window_days

    def bound(self, e: HealthScoreLadder, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        # Deductions only: clipping each running total at 0 is the sequential floor.
        return np.maximum(before, 0.0), np.maximum(after, 0.0)

    def crosses(self, e: HealthScoreLadder, before: np.ndarray, after: np.ndarray, at: float) -> np.ndarray:
        return (after <= at) & (before > at)

    def recover(self, e: HealthScoreLadder, members: np.ndarray, value: np.ndarray, clean_orders: np.ndarray) -> None:
        # Runs after the day's lapsed deductions were given back: clean orders add to the score,
        # and the sum is held within [0, ceiling] (recovery restores lost score, no more).
        n = np.zeros(value.size)
        k = min(value.size, clean_orders.size)
        n[:k] = clean_orders[:k]
        top = e.ceiling
        value[:] = np.where(members, np.clip(value + e.recovery_per_clean_order * n, 0.0, top), value)
