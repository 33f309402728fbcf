"""Groups a signal watches: combinations of market, category, creator level and account-age band.

A signal's ``group_by`` names the dimensions; each creator falls in one group of their product
(``group_by = []``: one group, the whole platform). Codes are mixed-radix over the dimensions in
the order given, so the groups of a signal are numbered the same way every day.
"""

from __future__ import annotations

import itertools

import numpy as np

from sim.platform.monitoring.observed import Observed

__all__ = ["N_LEVELS", "Grouping"]

N_LEVELS = 9  # creator levels L0-L8 (seller-vn, H)


class Grouping:
    """The groups of one signal: their number, labels, per-dimension names, and each creator's group."""

    def __init__(self, group_by: list[str], market_names: list[str], category_names: list[str],
                 age_bands: list[int]) -> None:
        self.group_by = list(group_by)
        self.age_bands = np.asarray(age_bands, dtype=np.int64)
        edges = list(age_bands)
        band_names = [f"<{edges[0]}d", *(f"{a}-{b - 1}d" for a, b in itertools.pairwise(edges)), f"{edges[-1]}d+"]
        self.values: dict[str, list[str]] = {
            "market": list(market_names), "category": list(category_names),
            "level": [f"L{i}" for i in range(N_LEVELS)], "age_band": band_names,
        }
        self.sizes = [len(self.values[d]) for d in self.group_by]
        self.n = int(np.prod(self.sizes)) if self.sizes else 1
        combos = list(itertools.product(*(self.values[d] for d in self.group_by)))
        # Per group, its value in each dimension (None where the signal does not group by it).
        self.members: dict[str, list[str | None]] = {
            d: [c[self.group_by.index(d)] for c in combos] if d in self.group_by else [None] * self.n
            for d in self.values
        }
        self.labels = [",".join(f"{d}={v}" for d, v in zip(self.group_by, c, strict=True)) or "all" for c in combos]

    def of_creators(self, obs: Observed) -> np.ndarray:
        """Each creator's group code."""
        code = np.zeros(obs.n_creators, dtype=np.int64)
        for d, size in zip(self.group_by, self.sizes, strict=True):
            code = code * size + self._dimension(d, obs)
        return code

    def of_markets(self, n_markets: int) -> np.ndarray:
        """Each market's group code (for per-market values; only ``[]`` or ``["market"]`` groupings)."""
        return np.arange(n_markets) if self.group_by == ["market"] else np.zeros(n_markets, dtype=np.int64)

    def _dimension(self, d: str, obs: Observed) -> np.ndarray:
        if d == "market":
            return obs.creator_market
        if d == "category":
            return obs.creator_category
        if d == "level":
            return np.clip(obs.creator_level, 0, N_LEVELS - 1)
        return np.searchsorted(self.age_bands, obs.age_days, side="right")
