"""``points`` (TikTok Shop SEA): whole points add up, each decision's points lapse after
``expiry_days``, milestones are crossed upwards (12/24/36/48)."""

from __future__ import annotations

import numpy as np

from sim.platform.ladders.base import LadderKind
from sim.platform.ladders.registry import register
from sim.policy import PointsLadder


@register
class Points(LadderKind):
    """Points per decision, rounded from the drawn severity; each lapses after its window."""

    name = "points"
    config = PointsLadder

    def score(self, e: PointsLadder, severity: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray, int]:
        points = np.round(severity)
        return points, points, day + e.expiry_days
