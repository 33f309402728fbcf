"""``zscore``: today's value against the mean and spread of a trailing window of earlier days;
fires when it is more than ``z`` standard deviations off in the detector's direction."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.detectors.base import Judged, WindowedConfig, WindowedDetector, directed
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["ZScore", "ZScoreConfig"]


class ZScoreConfig(WindowedConfig):
    kind: Literal["zscore"]
    z: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 3.0


@DETECTORS.register
class ZScore(WindowedDetector):
    name = "zscore"
    config = ZScoreConfig
    cfg: ZScoreConfig

    def judge(self, x: np.ndarray, mean: np.ndarray, std: np.ndarray, ready: np.ndarray) -> Judged:
        score = np.where(ready, (x - mean) / std, np.nan)
        return score, directed(score, self.cfg.z, self.cfg.direction)
