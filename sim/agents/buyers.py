"""Buyers: a vectorised population (struct of arrays), never one Python object per buyer.

Each buyer has a market, two preferred categories, an activity rate (sessions per day), price
sensitivity, susceptibility to misleading claims, trust in the platform, and propensities to
return and to report. Trust falls after bad outcomes and rises slowly after good ones; low trust
lowers conversion and raises churn. A bad purchase also makes the buyer wary: its ``appetite``
(a multiplier on its shopping sessions, 1 when unaffected) drops, and the lost appetite raises its
churn hazard; both recover part of the way each day (docs/model.md, "Buyers").

Per-day work over all buyers is kept to one pass each for sessions and churn, and no random
draw for a buyer who does nothing that day: sessions come from a per-buyer clock on its market's
cumulative session rate (``sim.kernels.due_sessions``), churn runs on a per-buyer clock whose
hazard is recomputed only when that buyer's trust or appetite changes, and the per-market stocks
(active buyers, their summed trust) are kept up to date as buyers arrive, leave or change trust.
Write trust and appetite through ``set_trust`` and ``set_appetite`` so the clocks and the
stocks follow.
"""

from __future__ import annotations

import numpy as np

from sim import categorical, kernels
from sim.config import Scenario
from sim.state import BUYERS, Column, declare
from sim.table import ColumnTable

__all__ = ["BuyerPopulation"]

# The buyer columns (all drawn or kept here); another component that needs per-buyer state
# declares its own columns in its module (sim/state.py).
declare(BUYERS, __name__,
    Column("market", np.int16),
    Column("cat1", np.int16, doc="preferred category"),
    Column("cat2", np.int16, doc="second preferred category"),
    Column("activity", np.float64, doc="sessions per day"),
    Column("price_sensitivity", np.float32),
    Column("susceptibility", np.float32, doc="to misleading claims"),
    Column("trust", np.float64),
    Column("return_propensity", np.float32),
    Column("report_propensity", np.float32),
    Column("active", np.bool_, True),
    Column("joined_day", np.int32),
    Column("left_day", np.int32, -1),
    Column("appetite", np.float64, 1.0, doc="multiplier on sessions, lowered by bad purchases, recovering"),
    Column("churn_hazard", np.float64, doc="daily hazard of leaving, a function of trust and appetite"),
    Column("churn_clock", np.float64, doc="Exp(1) draw used up by the hazard; the buyer leaves at 0"),
    Column("next_session", np.float64, np.inf,
           doc="where its market's cumulative session rate reaches the buyer's next session (inf: left)"),
)

# Appetite never falls below this (a buyer this wary opens a session once in a billion of its usual
# ones): the session clock is rescaled by the ratio of old to new appetite and must stay finite.
APPETITE_FLOOR = 1e-9
# The rows of buyers who left are dropped once they are this share of all rows (``compact``).
COMPACT_SHARE = 0.25


class BuyerPopulation(ColumnTable):
    """All buyers ever present; ``active`` marks those still shopping."""

    def __init__(self, scenario: Scenario, capacity: int = 16) -> None:
        super().__init__(BUYERS.columns(), capacity)
        self.cfg = scenario.world.buyers
        self._cat_share = np.array([c.share for c in scenario.world.categories], dtype=float)
        self._cat_share /= self._cat_share.sum()
        self._cat_cdf = categorical.cdf(self._cat_share)
        self.n_markets = len(scenario.world.markets)
        self.n_initial = 0
        m = self.n_markets
        self.stock_active = np.zeros(m, dtype=np.int64)
        self.stock_initial = np.zeros(m, dtype=np.int64)  # present on day 0
        self.stock_initial_active = np.zeros(m, dtype=np.int64)
        self.stock_trust = np.zeros(m)  # summed trust of active buyers
        # Each market's session rate summed over the days so far (sessions of a buyer of unit
        # activity and appetite): the clock that ``next_session`` is set on.
        self.reached = np.zeros(m)
        # Buyers present on day 0 whose rows ``compact`` has dropped (they left), by market.
        self.dropped_initial = np.zeros(m, dtype=np.int64)

    def add(self, markets: np.ndarray, rng: np.random.Generator, day: int) -> slice:
        """Add buyers living in ``markets`` (one entry per buyer), with freshly drawn traits."""
        cfg = self.cfg
        k = int(markets.size)
        n_cat = self._cat_share.size
        cat1 = categorical.draw(rng, self._cat_cdf, k)  # rng.choice(n_cat, size=k, p=self._cat_share)
        # Second preference: another category (a random shift keeps it distinct).
        cat2 = (cat1 + 1 + rng.choice(max(n_cat - 1, 1), size=k)) % n_cat if n_cat > 1 else cat1
        trust = np.minimum(np.maximum(rng.normal(cfg.trust_initial, cfg.trust_initial_sd, size=k), 0.01), 1.0)
        rows = self.append(
            {
                "market": markets,
                "cat1": cat1,
                "cat2": cat2,
                "activity": rng.gamma(cfg.activity_shape, cfg.sessions_per_day / cfg.activity_shape, size=k),
                "price_sensitivity": rng.lognormal(0.0, cfg.price_sensitivity_sigma, size=k),
                "susceptibility": rng.beta(*cfg.susceptibility_beta, size=k),
                "trust": trust,
                "return_propensity": rng.lognormal(0.0, cfg.return_propensity_sigma, size=k),
                "report_propensity": rng.lognormal(0.0, cfg.report_propensity_sigma, size=k),
                "active": True,
                "joined_day": day,
                "left_day": -1,
                "appetite": 1.0,
                "churn_hazard": self._hazard(trust, np.ones(k)),
                "churn_clock": rng.standard_exponential(k),
            },
            k,
        )
        activity = self.col("activity")[rows]
        self.col("next_session")[rows] = self.reached[markets] + rng.standard_exponential(k) / activity
        mk = markets.astype(np.int64)
        m = self.n_markets
        self.stock_active += np.bincount(mk, minlength=m)
        self.stock_trust += np.bincount(mk, weights=trust, minlength=m)
        if day == 0:
            self.stock_initial += np.bincount(mk, minlength=m)
            self.stock_initial_active += np.bincount(mk, minlength=m)
        return rows

    def _hazard(self, trust: np.ndarray, appetite: np.ndarray) -> np.ndarray:
        """Daily churn hazard: a base rate, a distrust term and a term for appetite lost to bad purchases."""
        cfg = self.cfg
        p = cfg.churn_rate + cfg.churn_distrust * (1.0 - trust) ** 2 + cfg.churn_wary * (1.0 - appetite)
        # np.clip(p, 0, 1 - 1e-12) without its dispatch (the same values: p is never -0.0)
        p = np.minimum(np.maximum(p, 0.0), 1.0 - 1e-12)
        return -np.log1p(-p)  # a daily hazard h leaves with probability 1 - exp(-h) = p

    def set_trust(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Set the trust of buyers ``rows`` (distinct), keeping churn hazards and stocks in step."""
        t = self.col("trust")
        values = np.minimum(np.maximum(values, 0.0), 1.0)  # np.clip, without its dispatch
        live = self.col("active")[rows]
        delta = np.where(live, values - t[rows], 0.0)
        self.stock_trust += np.bincount(self.col("market")[rows], weights=delta, minlength=self.n_markets)
        t[rows] = values
        self.col("churn_hazard")[rows] = self._hazard(values, self.col("appetite")[rows])

    def set_appetite(self, rows: np.ndarray, values: np.ndarray) -> None:
        """Set the appetite of buyers ``rows`` (distinct), keeping their session clocks and churn
        hazards in step (appetite is kept in [APPETITE_FLOOR, 1])."""
        values = np.minimum(np.maximum(values, APPETITE_FLOOR), 1.0)  # np.clip, without its dispatch
        appetite = self.col("appetite")
        # The session clock: what is left until the next session, in the buyer's own time,
        # stays the same (memoryless), so the distance to go scales by old / new appetite.
        nxt = self.col("next_session")
        reached = self.reached[self.col("market")[rows]]
        nxt[rows] = reached + (nxt[rows] - reached) * (appetite[rows] / values)
        appetite[rows] = values
        self.col("churn_hazard")[rows] = self._hazard(self.col("trust")[rows], values)

    def due_sessions(self, rate_by_market: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """The buyers who shop today and how many sessions each opens.

        Sessions per active buyer are Poisson(activity x appetite x market rate): the arrivals of
        a Poisson process on the buyer's own clock (``sim.kernels.due_sessions``). Only buyers
        who shop draw random numbers.
        """
        self.reached += rate_by_market
        return kernels.due_sessions(self.col("next_session"), self.col("activity"), self.col("appetite"),
                                    self.col("market"), self.reached, rng)

    def draw_sessions(self, rate_by_market: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Buyer index of every shopping session today (a buyer may have several, in a row)."""
        due, count = self.due_sessions(rate_by_market, rng)
        return np.repeat(due, count)

    def update_trust(self, buyer: np.ndarray, bad: np.ndarray, refunded: np.ndarray) -> None:
        """Apply settled-order outcomes to trust and appetite: bad outcomes hurt (less if made good),
        good ones heal trust.

        With ``n`` bad unremedied and ``r`` bad refunded orders settling today, trust is multiplied
        by ``1 - trust_loss_bad x (n + trust_loss_refunded_factor x r)`` (after healing by the good
        ones) and appetite by ``1 - appetite_loss_bad x (n + trust_loss_refunded_factor x r)``.
        """
        if buyer.size == 0:
            return
        cfg = self.cfg
        # np.unique(buyer, return_inverse=True) without its dispatch (a few dozen orders a day):
        # the distinct rows in order, and each order's place among them.
        ordered = np.sort(buyer)
        first = np.empty(ordered.size, dtype=bool)
        first[0] = True
        np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
        touched = ordered[first]
        inverse = np.searchsorted(touched, buyer)
        k = touched.size
        n_bad = np.bincount(inverse, weights=bad & ~refunded, minlength=k)
        n_bad_ref = np.bincount(inverse, weights=bad & refunded, minlength=k)
        n_good = np.bincount(inverse, weights=~bad, minlength=k)
        keep = (1.0 - cfg.trust_gain_good) ** n_good
        healed = 1.0 - (1.0 - self.col("trust")[touched]) * keep  # t += gain * (1 - t) per good order
        weight = n_bad + cfg.trust_loss_refunded_factor * n_bad_ref
        loss = cfg.trust_loss_bad * weight
        hurt = (weight > 0.0).nonzero()[0]
        if hurt.size:  # appetite first: set_trust then computes the hazard from both
            rows = touched[hurt]
            kept = 1.0 - cfg.appetite_loss_bad * weight[hurt]
            self.set_appetite(rows, self.col("appetite")[rows] * kept)
        self.set_trust(touched, healed * (1.0 - loss))

    def recover(self, wary: np.ndarray | None = None) -> None:
        """A day passes: lost appetite comes back by ``appetite_recovery`` of the gap (and churn
        eases), for buyers ``wary`` (default: every active buyer with appetite lost)."""
        rate = self.cfg.appetite_recovery
        appetite = self.col("appetite")
        if wary is None:
            wary = (self.col("active") & (appetite < 1.0)).nonzero()[0]
        if wary.size and rate > 0.0:
            self.set_appetite(wary, 1.0 - (1.0 - appetite[wary]) * (1.0 - rate))

    def churn(self, day: int) -> int:
        """Active buyers leave at a base rate plus distrust and wariness terms; returns how many left.

        Each buyer's Exp(1) clock runs down by the daily hazard; at zero the buyer leaves. This
        is the same as a fresh Bernoulli(p) draw every day, without touching a generator. Then
        the day's recovery of lost appetite (``recover``) applies to those who stay.
        """
        leave, wary = kernels.churn(self.col("churn_clock"), self.col("churn_hazard"), self.col("active"),
                                    self.col("appetite"))
        if leave.size:
            self.leave(leave, day)
        self.recover(wary)
        return int(leave.size)

    def leave(self, rows: np.ndarray, day: int) -> None:
        """Buyers ``rows`` (distinct, active) leave the platform on ``day``: no more sessions,
        and the per-market stocks lose them."""
        self.col("active")[rows] = False
        self.col("left_day")[rows] = day
        self.col("next_session")[rows] = np.inf
        mk = self.col("market")[rows].astype(np.int64)
        m = self.n_markets
        self.stock_active -= np.bincount(mk, minlength=m)
        self.stock_trust -= np.bincount(mk, weights=self.col("trust")[rows], minlength=m)
        initial = self.col("joined_day")[rows] == 0
        self.stock_initial_active -= np.bincount(mk[initial], minlength=m)

    def worth_compacting(self, min_share: float = COMPACT_SHARE) -> bool:
        """Whether buyers who left hold at least ``min_share`` of the rows (time for ``compact``)."""
        return self.n > 0 and (self.n - int(self.stock_active.sum())) >= min_share * self.n

    def compact(self, in_flight: np.ndarray) -> np.ndarray:
        """Drop the rows of buyers who left, keeping those with orders still in flight (rows
        ``in_flight``), so daily passes cost nothing for buyers long gone. Rows keep their
        order, so no draw and no result changes.

        Returns the new row of every old row (-1: dropped).
        """
        keep = self.col("active").copy()
        keep[in_flight] = True
        gone = ~keep
        initial = gone & (self.col("joined_day") == 0)
        self.dropped_initial += np.bincount(self.col("market")[initial].astype(np.int64), minlength=self.n_markets)
        k = int(keep.sum())
        for arr in self._data.values():
            arr[:k] = arr[: self.n][keep]
            arr[k : self.n] = 0  # unused capacity is zero (sim.table)
        self.n = k
        new_row = np.full(keep.size, -1, dtype=np.int64)
        new_row[keep] = np.arange(k)
        return new_row

    def recount(self) -> dict[str, np.ndarray]:
        """The per-market stocks computed from scratch (to check the running ones)."""
        m = self.n_markets
        mk = self.col("market").astype(np.int64)
        active = self.col("active")
        initial = self.col("joined_day") == 0
        return {
            "stock_active": np.bincount(mk[active], minlength=m),
            "stock_trust": np.bincount(mk[active], weights=self.col("trust")[active], minlength=m),
            "stock_initial": np.bincount(mk[initial], minlength=m) + self.dropped_initial,
            "stock_initial_active": np.bincount(mk[initial & active], minlength=m),
        }
