"""``zscore``: today's value against the mean and spread of a trailing window of earlier days;
fires when it is more than ``z`` standard deviations off in the detector's direction."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.detectors.base import Detector, TrailingWindow, WindowedConfig, directed
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["ZScore", "ZScoreConfig"]


class ZScoreConfig(WindowedConfig):
    kind: Literal["zscore"]
    z: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 3.0


@DETECTORS.register
class ZScore(Detector):
    name = "zscore"
    config = ZScoreConfig
    cfg: ZScoreConfig

    def __init__(self, cfg: ZScoreConfig, n_groups: int) -> None:
        super().__init__(cfg, n_groups)
        self.window = TrailingWindow(cfg.window_days, n_groups)

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean, std, n = self.window.stats(self.cfg.min_std)
        score = np.where(n >= self.cfg.min_days, (x - mean) / std, np.nan)
        self.window.push(x)
        return score, directed(score, self.cfg.z, self.cfg.direction)
