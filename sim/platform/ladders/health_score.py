"""``health_score`` (TikTok Shop Creator Health Rating): a score starts at ``initial`` and falls
by points x ``score_per_point``; each deduction is given back after ``window_days``, clean
orders earn score back up to ``maximum``, and milestones are crossed downwards (150/100/50/0)."""

from __future__ import annotations

import numpy as np

from sim.platform.ladders.base import LadderKind
from sim.platform.ladders.registry import register
from sim.policy import HealthScoreLadder


@register
class HealthScore(LadderKind):
    """A falling score floored at 0 that recovers with clean orders."""

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
        n = np.zeros(value.size)
        k = min(value.size, clean_orders.size)
        n[:k] = clean_orders[:k]
        value[:] = np.where(members, np.minimum(value + e.recovery_per_clean_order * n, e.maximum), value)
        value[:] = np.where(members, np.clip(value, 0.0, e.maximum), value)
