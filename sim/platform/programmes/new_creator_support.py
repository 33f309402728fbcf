"""``new_creator_support``: help for creators in their first days (design §3 step 9).

Creators who joined during the run are supported for their first ``max_age_days`` days:
guaranteed traffic (their recommender score is multiplied by ``traffic_multiplier``) and/or a
fixed bonus for each day they go live, paid from the budget at the end of that day. Creators
present when the run starts are established and not supported (as with the recommender's
exploration boost). Orders cannot earn the bonus, so it offers incentive fraudsters nothing to
fake.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.config import Eligibility, Incentive
from sim.platform.programmes.base import Programme
from sim.platform.programmes.registry import register
from sim.schema import Money, Multiplier

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["NewCreatorSupport", "NewCreatorSupportConfig"]


class NewCreatorSupportConfig(Incentive):
    """Traffic and a daily bonus for newly joined creators, within a budget."""

    program: Literal["new_creator_support"]
    # New creators are mostly in their pilot period: the support is for them too.
    eligibility: Eligibility = Eligibility(exclude_pilot=False)
    # The first 30 days, the length of TikTok Shop's Pilot Program for new creators (domain
    # facts, "Eligibility", H).
    max_age_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 30
    # Assumption: half as much traffic again, the size of the default exploration boost.
    traffic_multiplier: Multiplier = 1.5
    # Assumption: a small fixed amount per day live (currency, not price-scaled).
    bonus_per_live_day: Money = 5.0


@register
class NewCreatorSupport(Programme):
    """Who is new today, their traffic factor, and the bonus for the days they go live."""

    name = "new_creator_support"
    config = NewCreatorSupportConfig
    spend_counter = "new_creator_support_spend"
    cfg: NewCreatorSupportConfig

    def __init__(self, model: LiveShopModel, cfg: NewCreatorSupportConfig) -> None:
        super().__init__(model, cfg)
        self._streams_before = np.zeros(0, dtype=np.int64)
        self._supported = np.zeros(0, dtype=bool)

    def enrolled(self) -> np.ndarray:
        """Creators the eligibility rule admits who joined during the run, in their first
        ``max_age_days`` days (joined at the end of a day: day 1 is the day after)."""
        c = self.model.creators
        age = self.model.day - c.col("joined_day")
        new = (c.col("joined_day") > 0) & (age >= 1) & (age <= self.cfg.max_age_days)
        mask = super().enrolled() & new
        # Plan asks before it counts today's streams: who streams today shows at day's end.
        self._streams_before = c.col("streams").copy()
        self._supported = mask
        return mask

    def offers_bonus(self) -> bool:
        return super().offers_bonus() and self.cfg.bonus_per_live_day > 0.0

    def expected_bonus(self, enrolled: np.ndarray) -> np.ndarray:
        """The day's bonus, times the share of days the creator usually goes live."""
        rate = np.minimum(self.model.creators.col("streams_per_week") / 7.0, 1.0)
        return np.where(enrolled, self.cfg.bonus_per_live_day * rate, 0.0)

    def traffic_factor(self) -> np.ndarray | None:
        if self.cfg.traffic_multiplier == 1.0:
            return None
        return np.where(self.enrolled(), self.cfg.traffic_multiplier, 1.0)

    def close_day(self, day: int) -> np.ndarray:
        """The day's bonus: to each supported creator who went live today."""
        c = self.model.creators
        paid = np.zeros(c.n)
        if not self.active or self.cfg.bonus_per_live_day <= 0.0:
            return paid
        k = self._supported.size
        went_live = self._supported & (c.col("streams")[:k] > self._streams_before[:k])
        bonus = np.where(went_live & self.payable(k), self.cfg.bonus_per_live_day, 0.0)
        paid[:k] += self.pay_within_budget(bonus)
        return paid
