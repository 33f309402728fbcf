"""The contract between the day's phases and one type of incentive programme.

A programme type decides who is enrolled, what it records of their orders, refunds and settled
orders, when a period closes and what it pays (within its budget), what bonus an enrolled
creator can expect from it (which sets how much harder that creator works), what GMV an
incentive fraudster would fake to qualify, and any traffic it grants.
The phases (plan, shop, settle, reward) call only these hooks, in that order each day, so a new
type is one class in one file, registered by the ``program`` name of its config.

Hooks are vectorised over creators and must not draw random numbers: the phases own the draws,
so adding a type never shifts a stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from scipy.special import ndtr

from sim.config import Incentive
from sim.platform.dated import DatedRun

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Programme"]


class Programme(DatedRun):
    """One running incentive programme of a registered type.

    Subclasses set ``name`` (the config's ``program``) and ``config`` (an ``Incentive``
    subclass whose ``program`` is ``Literal[name]``) and override ``close_day``; the other
    hooks default to a programme that enrols by its eligibility rule, promises no bonus (so
    moves no effort), records nothing, offers fraudsters nothing to fake and grants no traffic.
    ``spend_counter`` names a day counter (declared by a metric) that also books what the
    type pays, next to ``incentive_spend``.
    """

    name: ClassVar[str]
    config: ClassVar[type[Incentive]]
    spend_counter: ClassVar[str | None] = None

    def __init__(self, model: LiveShopModel, cfg: Incentive) -> None:
        super().__init__(model, cfg)
        self.remaining = float(cfg.budget)
        self.spent = 0.0

    # In force from start_day to end_day (DatedRun): start() and end() switch ``active``; a
    # type that keeps periods opens its first one in start().

    # -- plan ---------------------------------------------------------------------------

    def enrolled(self) -> np.ndarray:
        """Creators enrolled today (bool per creator): those its eligibility rule admits."""
        from sim.platform.timeline import eligible_creators  # the timeline imports the registry

        return eligible_creators(self.model, self.cfg.eligibility, self.market_mask, "incentive_eligible")

    def offers_bonus(self) -> bool:
        """Whether an enrolled creator can still earn a bonus here: budget left (a type whose
        terms can pay nothing, e.g. a zero rate, says so too). A programme that offers no bonus
        moves no effort and gives incentive fraudsters nothing to fake."""
        return self.remaining > 0.0

    def expected_bonus(self, enrolled: np.ndarray) -> np.ndarray:
        """The bonus per day each creator expects from this programme if it keeps its recent
        pace (currency per day; 0 where not enrolled), reckoned from what the creator can know:
        its own recent GMV (``recent_gmv_per_day``) against the programme's terms. Default:
        nothing (a type that does not say what it pays moves no effort)."""
        return np.zeros(self.model.creators.n)

    def effort_boost(self, enrolled: np.ndarray) -> np.ndarray:
        """Added to each creator's go-live multiplier (0 where not enrolled):

        ``min(effort_boost, effort_elasticity x expected_bonus / commission_per_day)``, the
        expected bonus taken relative to what the creator earns anyway; 0 when the programme
        offers no bonus (``offers_bonus``), the maximum for a creator who expects a bonus but
        earns no commission yet."""
        n = self.model.creators.n
        cfg = self.cfg
        if not self.offers_bonus() or cfg.effort_boost == 0.0 or cfg.effort_elasticity == 0.0:
            return np.zeros(n)
        bonus = np.where(enrolled, self.expected_bonus(enrolled), 0.0)
        earn = self.commission_per_day()
        relative = np.divide(bonus, earn, out=np.where(bonus > 0.0, np.inf, 0.0), where=earn > 0.0)
        return np.minimum(cfg.effort_boost, cfg.effort_elasticity * relative)

    # What a creator knows of itself, for the expected bonus.

    def recent_gmv_per_day(self) -> np.ndarray:
        """Each creator's on-platform GMV per day over the last 30 days (``model.gmv_30d``),
        over the days of those it has been on the platform (0 before it has any)."""
        model = self.model
        c = model.creators
        out = np.zeros(c.n)
        gmv = model.gmv_30d.values
        k = min(c.n, gmv.size)
        out[:k] = gmv[:k]
        # Before today's plan the rolling sum holds days 1 .. day-1; a creator joins at a day's end.
        known = np.clip(model.day - 1 - c.col("joined_day"), 1, 30)
        return out / known

    def commission_per_day(self) -> np.ndarray:
        """What each creator earns anyway: its commission rate (within the market's cap for
        its category) on its recent GMV per day."""
        c = self.model.creators
        cap = self.model.levers.commission_cap[c.col("market"), c.col("category")]
        return np.minimum(c.col("commission_rate"), cap) * self.recent_gmv_per_day()

    def chance_of_reaching(self, expected: np.ndarray, threshold: float) -> np.ndarray:
        """The chance a creator reckons it has of a period GMV at ``threshold`` or above, its
        period GMV being lognormal around ``expected`` with log-spread ``gmv_outlook_sigma``:
        ``Phi(ln(expected / threshold) / sigma)``, 0 with no GMV, 1 for a threshold of 0."""
        if threshold <= 0.0:
            return np.ones_like(expected)
        ratio = np.maximum(expected, 0.0) / threshold
        z = np.log(ratio, out=np.full_like(ratio, -np.inf), where=ratio > 0.0) / self.cfg.gmv_outlook_sigma
        return ndtr(z)

    def fraud_target(self, enrolled: np.ndarray, overshoot: float, cancel_rate: float) -> np.ndarray | None:
        """GMV an incentive fraudster enrolled here would fake today to qualify (per creator),
        ``overshoot`` being the fraudster's safety margin over the qualifying amount and
        ``cancel_rate`` the share of fake orders cancelled (refunded) before settlement; None
        when nothing can be gained by faking orders. Asked by the faking tactic
        (``sim/tactics/incentive_fraud.py``), which owns both numbers."""
        return None

    def traffic_factor(self) -> np.ndarray | None:
        """Recommender score multiplier per creator for today (None: no traffic granted).

        Asked at the start of the plan, before ``enrolled``."""
        return None

    # -- shop and settle ----------------------------------------------------------------

    def record_orders(self, creator: np.ndarray, value: np.ndarray, enrolled: np.ndarray) -> None:
        """Today's on-platform orders (creator, value) placed while in force; ``enrolled``
        is today's enrolment. Default: nothing kept."""

    def record_refunds(self, creator: np.ndarray, value: np.ndarray, placed_day: np.ndarray) -> None:
        """Today's refunds of orders placed with an enrolled creator while in force.
        Called every day, in force or not. Default: nothing kept."""

    def record_settled(self, creator: np.ndarray, clean: np.ndarray, complaint: np.ndarray) -> None:
        """Every on-platform order settled today: its creator, whether it ended clean (not
        bad, not refunded) and whether it drew a complaint. Called every day. Default: nothing."""

    # -- reward -------------------------------------------------------------------------

    def close_day(self, day: int) -> np.ndarray:
        """End-of-day bookkeeping: close a period if one ends, and return what is paid today
        per creator (may be shorter than the population; within the budget)."""
        raise NotImplementedError(f"programme type {self.name!r} does not say what it pays")

    def pay_within_budget(self, bonus: np.ndarray) -> np.ndarray:
        """Pay ``bonus`` (per creator) from what is left of the budget: in full while it
        lasts, pro rata when it runs out. Updates ``remaining`` and ``spent``."""
        total = float(bonus.sum())
        if total > self.remaining:  # budget exhausted: pay pro rata what is left
            bonus *= self.remaining / total if total > 0 else 0.0
            total = self.remaining
        self.remaining -= total
        self.spent += total
        return bonus

    def payable(self, size: int) -> np.ndarray:
        """Creators who may be paid: still on the platform and not barred from incentives."""
        c = self.model.creators
        return c.present_mask()[:size] & c.col("incentive_eligible")[:size]
