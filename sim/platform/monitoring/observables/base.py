"""The contract of an observable: additive per-group parts of one day, and the value they give.

An observable reads only an :class:`~sim.platform.monitoring.observed.Observed` day. ``parts``
returns arrays (one entry per group) that add up over days; the signal sums them over the
observable's ``window_days`` and ``value`` turns the sums into the value and the count it rests
on (a group whose count is below ``min_count`` has no value that day). A rate is a numerator
and a denominator summed over the window, so a 7-day refund rate weighs each order once.
"""

from __future__ import annotations

from typing import ClassVar

import numpy as np

from sim.platform.monitoring.config import DIMENSIONS, ObservableConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observed import Observed

__all__ = ["Observable", "RateObservable", "per_group"]


def per_group(values: np.ndarray, code: np.ndarray, n_groups: int, mask: np.ndarray | None = None) -> np.ndarray:
    """``values`` summed per group code (only where ``mask``)."""
    if mask is not None:
        values, code = values[mask], code[mask]
    return np.bincount(code, weights=values, minlength=n_groups).astype(np.float64)


class Observable:
    """One observable kind; subclasses set ``name``, ``config`` and override ``parts`` and ``value``."""

    name: ClassVar[str]
    config: ClassVar[type[ObservableConfig]]
    # The dimensions it can be grouped by (per-market values: only ``market``).
    dimensions: ClassVar[tuple[str, ...]] = DIMENSIONS
    unit: ClassVar[str] = ""

    def __init__(self, cfg: ObservableConfig) -> None:
        self.cfg = cfg

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        """Today's additive parts per group."""
        raise NotImplementedError

    def value(self, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The value per group from parts summed over the window, and the count it rests on."""
        raise NotImplementedError


class RateObservable(Observable):
    """``scale x numerator / denominator`` of two creator flows, per group."""

    numerator: ClassVar[str]
    denominator: ClassVar[str]
    scale: ClassVar[float] = 1.0
    unit = "share"

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        code = grouping.of_creators(obs)
        return {"num": per_group(obs.flows[self.numerator], code, grouping.n),
                "den": per_group(obs.flows[self.denominator], code, grouping.n)}

    def value(self, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        num, den = parts["num"], parts["den"]
        out = np.full(den.shape, np.nan)
        np.divide(num, den, out=out, where=den > 0)
        return self.scale * out, den
