"""``threshold``: fires on every day the value is beyond a fixed limit (above it for ``up``,
below it for ``down``, outside ``[-limit, limit]`` for ``both``); the score is the value."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.config import DetectorConfig
from sim.platform.monitoring.detectors.base import Detector
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["Threshold", "ThresholdConfig"]


class ThresholdConfig(DetectorConfig):
    kind: Literal["threshold"]
    limit: Annotated[float, Strict(), Field(ge=-1e12, le=1e12)]


@DETECTORS.register
class Threshold(Detector):
    name = "threshold"
    config = ThresholdConfig
    cfg: ThresholdConfig

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        limit, d = self.cfg.limit, self.cfg.direction
        with np.errstate(invalid="ignore"):
            fired = (x > limit) if d == "up" else (x < limit) if d == "down" else (np.abs(x) > abs(limit))
        return x.copy(), fired & ~np.isnan(x)
