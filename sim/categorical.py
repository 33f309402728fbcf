"""Categorical draws from fixed shares: what ``Generator.choice(n, size, p=shares)`` draws, cheaper.

``choice`` with ``p`` checks the shares and builds their cumulative distribution on every call,
about ten times the cost of the draw itself for the handful of newcomers a day brings. Shares
that are fixed for a run (a world's market, category and creator-type shares) are turned into a
distribution once (:func:`cdf`); :func:`draw` then takes the same uniforms from the generator
and returns the same codes as ``choice`` would (tests/test_overhead.py checks it draw for draw).
The shares are checked where they are configured, not here.
"""

from __future__ import annotations

import numpy as np

__all__ = ["cdf", "draw"]


def cdf(shares: np.ndarray) -> np.ndarray:
    """The cumulative distribution of non-negative ``shares`` (summing to one), as ``choice`` builds it."""
    out = np.asarray(shares, dtype=np.float64).cumsum()
    out /= out[-1]
    return out


def draw(rng: np.random.Generator, dist: np.ndarray, size: int) -> np.ndarray:
    """``size`` category codes (int64) drawn from ``dist`` (a :func:`cdf`): exactly
    ``rng.choice(dist.size, size=size, p=shares)``, consuming the same ``size`` uniforms."""
    return dist.searchsorted(rng.random(size), side="right").astype(np.int64, copy=False)
