"""``cusum``: Page's cumulative sum of standardised deviations from a trailing window's mean,
less an allowance ``k`` per day; fires when the sum passes ``h`` and then starts again from 0
(one alarm per sustained shift rather than one a day). ``both`` keeps an upper and a lower sum."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.detectors.base import Judged, WindowedConfig, WindowedDetector
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["Cusum", "CusumConfig"]


class CusumConfig(WindowedConfig):
    kind: Literal["cusum"]
    k: Annotated[float, Strict(), Field(ge=0.0, le=100.0)] = 0.5
    h: Annotated[float, Strict(), Field(gt=0.0, le=1000.0)] = 5.0


@DETECTORS.register
class Cusum(WindowedDetector):
    name = "cusum"
    config = CusumConfig
    cfg: CusumConfig

    def __init__(self, cfg: CusumConfig, n_groups: int) -> None:
        super().__init__(cfg, n_groups)
        self.high = np.zeros(n_groups)
        self.low = np.zeros(n_groups)

    def judge(self, x: np.ndarray, mean: np.ndarray, std: np.ndarray, ready: np.ndarray) -> Judged:
        cfg = self.cfg
        ready = ready & ~np.isnan(x)
        u = np.where(ready, (x - mean) / std, 0.0)
        self.high = np.where(ready, np.maximum(0.0, self.high + u - cfg.k), self.high)
        self.low = np.where(ready, np.maximum(0.0, self.low - u - cfg.k), self.low)
        up = cfg.direction in ("up", "both")
        down = cfg.direction in ("down", "both")
        fired = ready & ((up & (self.high > cfg.h)) | (down & (self.low > cfg.h)))
        score = np.where(ready, np.where(self.high >= self.low, self.high, -self.low) if cfg.direction == "both"
                         else (self.high if up else -self.low), np.nan)
        self.high[fired] = 0.0
        self.low[fired] = 0.0
        return score, fired
