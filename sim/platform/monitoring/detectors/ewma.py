"""``ewma``: an exponentially weighted moving average of the value (weight ``lam`` on today),
scored against the mean and spread of a trailing window of earlier raw values; fires when the
average is more than ``limit`` of its own standard deviations (``sigma x sqrt(lam / (2 - lam))``,
Roberts 1959) off in the detector's direction."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.detectors.base import Judged, WindowedConfig, WindowedDetector, directed
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["Ewma", "EwmaConfig"]


class EwmaConfig(WindowedConfig):
    kind: Literal["ewma"]
    lam: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.3
    limit: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 3.0


@DETECTORS.register
class Ewma(WindowedDetector):
    name = "ewma"
    config = EwmaConfig
    cfg: EwmaConfig

    def __init__(self, cfg: EwmaConfig, n_groups: int) -> None:
        super().__init__(cfg, n_groups)
        self.average = np.full(n_groups, np.nan)

    def judge(self, x: np.ndarray, mean: np.ndarray, std: np.ndarray, ready: np.ndarray) -> Judged:
        lam = self.cfg.lam
        seen = ~np.isnan(x)
        start = seen & np.isnan(self.average)
        self.average = np.where(start, x, np.where(seen, lam * x + (1.0 - lam) * self.average, self.average))
        scale = std * np.sqrt(lam / (2.0 - lam))
        score = np.where(ready & seen, (self.average - mean) / scale, np.nan)
        return score, directed(score, self.cfg.limit, self.cfg.direction)
