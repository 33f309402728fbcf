"""The contract between the day's phases and one type of incentive programme.

A programme type decides who is enrolled, what it records of their orders, refunds and settled
orders, when a period closes and what it pays (within its budget), how much harder enrolled
creators work, what GMV an incentive fraudster would fake to qualify, and any traffic it grants.
The phases (plan, shop, settle, reward) call only these hooks, in that order each day, so a new
type is one class in one file, registered by the ``program`` name of its config.

Hooks are vectorised over creators and must not draw random numbers: the phases own the draws,
so adding a type never shifts a stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

from sim.config import Incentive
from sim.platform.dated import DatedRun

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Programme"]


class Programme(DatedRun):
    """One running incentive programme of a registered type.

    Subclasses set ``name`` (the config's ``program``) and ``config`` (an ``Incentive``
    subclass whose ``program`` is ``Literal[name]``) and override ``close_day``; the other
    hooks default to a programme that enrols by its eligibility rule, boosts effort by
    ``effort_boost``, records nothing, offers fraudsters nothing to fake and grants no traffic.
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

    def effort_boost(self, enrolled: np.ndarray) -> np.ndarray:
        """Added to each creator's go-live multiplier (0 where not enrolled)."""
        return np.where(enrolled, self.cfg.effort_boost, 0.0)

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
