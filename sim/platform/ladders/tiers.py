"""``tiers`` (Shopee): scaled whole points add up (at least one per decision), milestones are
crossed upwards (3/6/9/12/15), and every standing returns to zero each ``reset_days``."""

from __future__ import annotations

import numpy as np

from sim.platform.ladders.base import LadderKind
from sim.platform.ladders.registry import register
from sim.policy import TiersLadder


@register
class Tiers(LadderKind):
    """Small tier points that never lapse one by one: the whole ladder resets each quarter."""

    name = "tiers"
    config = TiersLadder

    def score(self, e: TiersLadder, severity: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray, int]:
        points = np.maximum(1.0, np.round(severity * e.points_scale))
        return points, points, -1

    def resets(self, e: TiersLadder, day: int) -> bool:
        return day % e.reset_days == 0
