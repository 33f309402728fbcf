"""``category_shock``: a tactic's exposure in one category rises.

From the onset, in the trend's markets, every stream of a creator who uses the trend's tactic
and sells in ``category`` violates with its chance multiplied by ``exposure_multiplier`` once
the ramp is complete (linearly from 1 before; capped at 1): the tactic pays more there, so it
is used more there. Who uses the tactic does not change (an adoption wave restricted to the
category does that); creators' violation chances elsewhere do not change either.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.config import Trend
from sim.platform.trends.base import TrendRun
from sim.platform.trends.registry import register
from sim.schema import Name

__all__ = ["CategoryShock", "CategoryShockConfig"]


class CategoryShockConfig(Trend):
    """A tactic's violations become more frequent in one category."""

    trend: Literal["category_shock"]
    category: Name
    exposure_multiplier: Annotated[float, Strict(), Field(ge=0.0, le=100.0)]

    def group_names(self) -> dict[str, list[str]]:
        return {"category": [self.category]}


@register
class CategoryShock(TrendRun):
    """Set the factor on violation chances in force today."""

    name = "category_shock"
    config = CategoryShockConfig
    parameter = "exposure_multiplier"
    cfg: CategoryShockConfig

    def categories(self) -> list[str]:
        return [self.cfg.category]

    def ramp(self, day: int, before: float, level: float) -> None:
        model = self.model
        shift = model.world_shift
        n_m, _, n_cat, n_t = shift.shape
        factor = np.ones((n_m, n_cat, n_t))
        cat = model.category_names.index(self.cfg.category)
        factor[self.market_mask, cat, self.tactic] = 1.0 + (self.cfg.exposure_multiplier - 1.0) * level
        shift.set_violation_factor(self.index, factor)
        if before == 0.0:  # who is in the group at the onset: present accounts using the tactic
            c = model.creators
            self.accounts = int((self.group_mask() & (c.col("tactic") == self.tactic)).sum())
