"""The contract of a detector: each day, per group, a score and whether the signal fires.

A detector is built once per signal with the number of groups and keeps its state per group
(a trailing window, a running EWMA or CUSUM sum). ``update`` takes today's value per group (NaN:
no value today, e.g. too few orders) and returns the score and the alarm per group; a group
without a value neither fires nor adds to the detector's statistics (a trailing window still
covers calendar days: a day without a value is a gap in it). Detectors draw no random numbers.
"""

from __future__ import annotations

from typing import Annotated, ClassVar

import numpy as np
from pydantic import Field, Strict, model_validator

from sim.platform.monitoring.config import DetectorConfig

__all__ = ["Detector", "Judged", "TrailingWindow", "WindowedConfig", "WindowedDetector", "directed"]

# A detector's answer for one day: the score and whether the signal fires, per group.
Judged = tuple[np.ndarray, np.ndarray]


def directed(score: np.ndarray, limit: float, direction: str) -> np.ndarray:
    """Whether ``score`` crosses ``limit`` in ``direction`` (up: above +limit; down: below -limit; both)."""
    with np.errstate(invalid="ignore"):
        if direction == "up":
            out = score > limit
        elif direction == "down":
            out = score < -limit
        else:
            out = np.abs(score) > limit
    return out & ~np.isnan(score)


class WindowedConfig(DetectorConfig):
    """A detector that compares today with a trailing window of earlier days (today excluded)."""

    window_days: Annotated[int, Strict(), Field(ge=2, le=365)] = 28
    # Days of history a group needs before it can fire.
    min_days: Annotated[int, Strict(), Field(ge=2, le=365)] = 7
    # Floor on the window's standard deviation (a flat series would give infinite scores).
    min_std: Annotated[float, Strict(), Field(gt=0.0, le=1e9)] = 1e-6

    @model_validator(mode="after")
    def _min_in_window(self) -> WindowedConfig:
        if self.min_days > self.window_days:
            raise ValueError(f"@min_days|got {self.min_days}; at most window_days ({self.window_days})")
        return self


class TrailingWindow:
    """The last ``window`` values per group (NaN where a group had none), with their mean and spread."""

    def __init__(self, window: int, n_groups: int) -> None:
        self.values = np.full((window, n_groups), np.nan)
        self._slot = 0

    def push(self, x: np.ndarray) -> None:
        self.values[self._slot] = x
        self._slot = (self._slot + 1) % self.values.shape[0]

    def stats(self, min_std: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per group: mean, standard deviation (at least ``min_std``) and number of values."""
        v = self.values
        n = (~np.isnan(v)).sum(axis=0)
        total = np.nansum(v, axis=0)
        mean = np.divide(total, n, out=np.full(n.shape, np.nan), where=n > 0)
        dev = np.where(np.isnan(v), 0.0, v - mean)
        var = np.divide((dev * dev).sum(axis=0), n - 1, out=np.full(n.shape, np.nan), where=n > 1)
        return mean, np.maximum(np.sqrt(var), min_std), n


class Detector:
    """One detector kind; subclasses set ``name`` and ``config`` and override ``update``."""

    name: ClassVar[str]
    config: ClassVar[type[DetectorConfig]]

    def __init__(self, cfg: DetectorConfig, n_groups: int) -> None:
        self.cfg = cfg
        self.n_groups = n_groups

    def update(self, x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Today's score and alarm per group, given today's value per group (NaN: none)."""
        raise NotImplementedError


class WindowedDetector(Detector):
    """A detector that judges today against a trailing window of earlier days, then adds today to it."""

    cfg: WindowedConfig

    def __init__(self, cfg: WindowedConfig, n_groups: int) -> None:
        super().__init__(cfg, n_groups)
        self.window = TrailingWindow(cfg.window_days, n_groups)

    def update(self, x: np.ndarray) -> Judged:
        mean, std, n = self.window.stats(self.cfg.min_std)
        judged = self.judge(x, mean, std, n >= self.cfg.min_days)
        self.window.push(x)
        return judged

    def judge(self, x: np.ndarray, mean: np.ndarray, std: np.ndarray, ready: np.ndarray) -> Judged:
        """Score and alarm per group; ``ready``: the group has ``min_days`` days of history."""
        raise NotImplementedError
