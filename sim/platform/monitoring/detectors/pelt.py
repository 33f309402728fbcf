"""``pelt``: offline change-point detection (PELT, Killick et al. 2012, from the ``ruptures``
library, BSD-2) run each day on each group's trailing window; fires when the last change point
found lies within the last ``recent_days`` days and the mean after it moved in the detector's
direction. The score is that move in standard deviations of the values before the change.

``ruptures`` is an optional dependency (the ``signals`` extra); a scenario naming this detector
without it installed stops with a message saying how to install it. The per-group loop is over
groups only (a signal has a few dozen at most), never over buyers or orders.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict, model_validator

from sim.platform.monitoring.detectors.base import Detector, TrailingWindow, WindowedConfig, directed
from sim.platform.monitoring.registry import DETECTORS

__all__ = ["Pelt", "PeltConfig"]


class PeltConfig(WindowedConfig):
    kind: Literal["pelt"]
    window_days: Annotated[int, Strict(), Field(ge=4, le=365)] = 56
    min_days: Annotated[int, Strict(), Field(ge=4, le=365)] = 14
    # Penalty per change point, in units of the window's variance (a BIC-like 2 ln n is ~8 for 56 days).
    penalty: Annotated[float, Strict(), Field(gt=0.0, le=1e6)] = 8.0
    min_size: Annotated[int, Strict(), Field(ge=1, le=100)] = 3
    recent_days: Annotated[int, Strict(), Field(ge=1, le=100)] = 7
    # The smallest move (in standard deviations of the values before the change) worth an alarm.
    min_shift: Annotated[float, Strict(), Field(ge=0.0, le=100.0)] = 1.0

    @model_validator(mode="after")
    def _sizes(self) -> PeltConfig:
        if 2 * self.min_size > self.window_days:
            raise ValueError(f"@min_size|got {self.min_size}; at most half of window_days ({self.window_days})")
        return self


@DETECTORS.register
class Pelt(Detector):
    name = "pelt"
    config = PeltConfig
    cfg: PeltConfig

    def __init__(self, cfg: PeltConfig, n_groups: int) -> None:
        super().__init__(cfg, n_groups)
        try:
            import ruptures
        except ImportError:  # pragma: no cover - depends on the environment
            raise ImportError("the pelt detector needs the ruptures package: pip install 'livesim[signals]'") from None
        self._rpt = ruptures
        self.window = TrailingWindow(cfg.window_days, n_groups)
        self._day = 0

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        cfg = self.cfg
        self.window.push(x)
        self._day += 1
        # Oldest first: the ring's slots from the next one to be written.
        slot = self._day % cfg.window_days if self._day >= cfg.window_days else 0
        values = np.roll(self.window.values, -slot, axis=0)[: min(self._day, cfg.window_days)]
        score = np.full(self.n_groups, np.nan)
        for g in range(self.n_groups):
            series = values[:, g]
            series = series[~np.isnan(series)]
            if series.size < cfg.min_days or np.isnan(x[g]):
                continue
            var = float(series.var())
            if var <= 0.0:
                continue
            breaks = self._rpt.Pelt(model="l2", min_size=cfg.min_size, jump=1).fit(series).predict(
                pen=cfg.penalty * var)
            change = breaks[-2] if len(breaks) > 1 else None
            if change is None or series.size - change > cfg.recent_days:
                score[g] = 0.0
                continue
            before, after = series[:change], series[change:]
            std = max(float(before.std()), cfg.min_std)
            score[g] = (float(after.mean()) - float(before.mean())) / std
        return score, directed(score, cfg.min_shift, cfg.direction)
