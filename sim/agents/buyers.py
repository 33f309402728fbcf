"""Buyers: a vectorised population (struct of arrays), never one Python object per buyer.

Each buyer has a market, two preferred categories, an activity rate (sessions per day), price
sensitivity, susceptibility to misleading claims, trust in the platform, and propensities to
return and to report. Trust falls after bad outcomes and rises slowly after good ones; low trust
lowers conversion and raises churn.
"""

from __future__ import annotations

import numpy as np

from sim.config import Scenario
from sim.table import ColumnTable

__all__ = ["BuyerPopulation", "BUYER_COLUMNS"]

BUYER_COLUMNS: dict[str, type] = {
    "market": np.int16,
    "cat1": np.int16,
    "cat2": np.int16,
    "p_cat1": np.float32,
    "activity": np.float64,
    "price_sensitivity": np.float32,
    "susceptibility": np.float32,
    "trust": np.float64,
    "return_propensity": np.float32,
    "report_propensity": np.float32,
    "active": np.bool_,
    "joined_day": np.int32,
    "left_day": np.int32,
}


class BuyerPopulation(ColumnTable):
    """All buyers ever present; ``active`` marks those still shopping."""

    def __init__(self, scenario: Scenario, capacity: int = 16) -> None:
        super().__init__(BUYER_COLUMNS, capacity)
        self.cfg = scenario.world.buyers
        self._cat_share = np.array([c.share for c in scenario.world.categories], dtype=float)
        self._cat_share /= self._cat_share.sum()
        self.n_initial = 0

    def add(self, markets: np.ndarray, rng: np.random.Generator, day: int) -> slice:
        """Add buyers living in ``markets`` (one entry per buyer), with freshly drawn traits."""
        cfg = self.cfg
        k = int(markets.size)
        n_cat = self._cat_share.size
        cat1 = rng.choice(n_cat, size=k, p=self._cat_share)
        # Second preference: another category, drawn by share (a shift keeps it distinct).
        cat2 = (cat1 + 1 + rng.choice(max(n_cat - 1, 1), size=k)) % n_cat if n_cat > 1 else cat1
        trust = np.clip(rng.normal(cfg.trust_initial, cfg.trust_initial_sd, size=k), 0.01, 1.0)
        rows = self.append(
            {
                "market": markets,
                "cat1": cat1,
                "cat2": cat2,
                "p_cat1": cfg.primary_category_weight,
                "activity": rng.gamma(cfg.activity_shape, cfg.sessions_per_day / cfg.activity_shape, size=k),
                "price_sensitivity": rng.lognormal(0.0, cfg.price_sensitivity_sigma, size=k),
                "susceptibility": rng.beta(*cfg.susceptibility_beta, size=k),
                "trust": trust,
                "return_propensity": rng.lognormal(0.0, cfg.return_propensity_sigma, size=k),
                "report_propensity": rng.lognormal(0.0, cfg.report_propensity_sigma, size=k),
                "active": True,
                "joined_day": day,
                "left_day": -1,
            },
            k,
        )
        return rows

    def draw_sessions(self, rate_by_market: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Buyer index of every shopping session today (a buyer may have several).

        Sessions per active buyer are Poisson(activity x market rate), drawn as the arrivals of
        a unit-time Poisson process: exponential gaps, so only buyers with at least one session
        are touched after the first pass, and no ``exp`` is evaluated per buyer.
        """
        lam = self.col("activity") * rate_by_market[self.col("market")]
        left = lam - rng.standard_exponential(self.n)
        who = np.flatnonzero((left > 0.0) & self.col("active"))
        if who.size == 0:
            return who
        left = left[who]
        count = np.ones(who.size, dtype=np.int64)
        todo = np.arange(who.size)
        while todo.size:  # loops over session counts (a handful), not buyers
            left[todo] -= rng.standard_exponential(todo.size)
            todo = todo[left[todo] > 0.0]
            count[todo] += 1
        return np.repeat(who, count)

    def update_trust(self, buyer: np.ndarray, bad: np.ndarray, refunded: np.ndarray) -> None:
        """Apply settled-order outcomes to trust: bad outcomes hurt (less if made good), good ones heal."""
        if buyer.size == 0:
            return
        cfg = self.cfg
        touched, inverse = np.unique(buyer, return_inverse=True)
        k = touched.size
        n_bad = np.bincount(inverse, weights=bad & ~refunded, minlength=k)
        n_bad_ref = np.bincount(inverse, weights=bad & refunded, minlength=k)
        n_good = np.bincount(inverse, weights=~bad, minlength=k)
        t = self.col("trust")
        keep = (1.0 - cfg.trust_gain_good) ** n_good
        healed = 1.0 - (1.0 - t[touched]) * keep  # t += gain * (1 - t), once per good order
        loss = cfg.trust_loss_bad * (n_bad + cfg.trust_loss_refunded_factor * n_bad_ref)
        t[touched] = np.clip(healed * (1.0 - loss), 0.0, 1.0)

    def churn(self, rng: np.random.Generator, day: int) -> int:
        """Active buyers leave at a base rate plus a distrust term; returns how many left."""
        cfg = self.cfg
        active = self.col("active")
        p = cfg.churn_rate + cfg.churn_distrust * (1.0 - self.col("trust")) ** 2
        leave = active & (rng.random(self.n) < p)
        active[leave] = False
        self.col("left_day")[leave] = day
        return int(leave.sum())
