"""``evasion``: adversaries learn to evade a tactic's classifier.

From the onset, the separability (d') of the trend's tactic's classifier against the streams
of the group's creators (its markets and creator types; by default every creator using the
tactic) falls by ``dprime_drop`` once the ramp is complete (linearly before; never below 0),
so classifier flags on them drop while the harm they do goes on. The policy's
``detection.dprime`` is unchanged: the platform does not know its classifier got worse.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.config import Trend
from sim.platform.trends.base import TrendRun
from sim.platform.trends.registry import register
from sim.schema import Name
from sim.tactics import creator_type_names

__all__ = ["Evasion", "EvasionConfig"]


class EvasionConfig(Trend):
    """A tactic's classifier loses separability against some creators."""

    trend: Literal["evasion"]
    dprime_drop: Annotated[float, Strict(), Field(gt=0.0, le=10.0)]
    creator_types: list[Name] = Field(default_factory=list, description="empty means every creator type")

    def group_names(self) -> dict[str, list[str]]:
        return {"creator_types": self.creator_types}


@register
class Evasion(TrendRun):
    """Set the loss of separability in force today."""

    name = "evasion"
    config = EvasionConfig
    parameter = "dprime_drop"
    cfg: EvasionConfig

    def creator_types(self) -> list[str]:
        return list(self.cfg.creator_types) or list(creator_type_names())

    def ramp(self, day: int, before: float, level: float) -> None:
        model = self.model
        shift = model.world_shift
        n_m, n_types, _, n_t = shift.shape
        types = np.array([n in self.creator_types() for n in creator_type_names()])
        loss = np.zeros((n_m, n_types, n_t))
        loss[np.ix_(self.market_mask, types, [self.tactic])] = self.cfg.dprime_drop * level
        shift.set_dprime_loss(self.index, loss)
        if before == 0.0:  # who is in the group at the onset: present accounts using the tactic
            c = model.creators
            self.accounts = int((self.group_mask() & (c.col("tactic") == self.tactic)).sum())
