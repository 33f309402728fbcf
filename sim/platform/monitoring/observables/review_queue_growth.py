"""``review_queue_growth``: items added to a market's review queue over the window, net of
those that left it (reviewed or expired); per market or for the whole platform only."""

from __future__ import annotations

from typing import Literal

import numpy as np

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observables.base import Observable, per_group
from sim.platform.monitoring.observed import Observed
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["ReviewQueueGrowth", "ReviewQueueGrowthConfig"]


class ReviewQueueGrowthConfig(ObservableConfig):
    kind: Literal["review_queue_growth"]
    min_count: float = 0.0


@OBSERVABLES.register
class ReviewQueueGrowth(Observable):
    name = "review_queue_growth"
    config = ReviewQueueGrowthConfig
    dimensions = ("market",)
    unit = "items"

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        code = grouping.of_markets(len(obs.market_names))
        growth = obs.market["backlog"] - obs.backlog_before
        return {"growth": per_group(growth, code, grouping.n), "days": per_group(np.ones(code.size), code, grouping.n)}

    def value(self, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        return parts["growth"].copy(), parts["days"]
