"""``adoption_wave``: a share of opportunists and adaptive adversaries switches to a tactic.

From the onset, accounts of the group (its markets, its categories if given, its creator types;
by default opportunists and every adversary type) that use another tactic take up the trend's
tactic, until ``share`` of them have switched: on a ramp day whose level rises from
``before`` to ``level``, each group member not yet switched switches with probability
``share x (level - before) / (1 - share x before)`` (one draw per account from the trend's
stream). Switched accounts violate at ``intensity`` (default: the tactic's own) and learn
only between staying clean and the new tactic, at low or full intensity (a tactic the learner
has no action for, one that is no creator type, they keep). For example, counterfeits
moving into beauty: ``tactic = "counterfeit"``, ``categories = ["beauty"]``.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from pydantic import Field

from sim.config import Trend
from sim.labels import CreatorType
from sim.platform.trends.base import TrendRun
from sim.platform.trends.registry import register
from sim.schema import Name, Share
from sim.tactics import adversary_type_codes, creator_type_names

__all__ = ["AdoptionWave", "AdoptionWaveConfig"]


class AdoptionWaveConfig(Trend):
    """A share of a group's accounts takes up a tactic."""

    trend: Literal["adoption_wave"]
    share: Share = Field(description="share of the group's accounts switched once the ramp is complete")
    categories: list[Name] = Field(default_factory=list, description="empty means every category")
    creator_types: list[Name] = Field(default_factory=list,
                                      description="empty means opportunists and every adversary type")
    intensity: Share | None = Field(default=None, description="adopters' violation chance per stream "
                                                              "(default: the tactic's own intensity)")

    def group_names(self) -> dict[str, list[str]]:
        return {"categories": self.categories, "creator_types": self.creator_types}


@register
class AdoptionWave(TrendRun):
    """Switch a growing share of the group to the tactic, ramp day by ramp day."""

    name = "adoption_wave"
    config = AdoptionWaveConfig
    parameter = "share"
    cfg: AdoptionWaveConfig

    def categories(self) -> list[str]:
        return list(self.cfg.categories) or list(self.model.category_names)

    def creator_types(self) -> list[str]:
        if self.cfg.creator_types:
            return list(self.cfg.creator_types)
        names = creator_type_names()
        adaptive = {int(CreatorType.opportunist), *adversary_type_codes()}
        return [n for t, n in enumerate(names) if t in adaptive]

    def ramp(self, day: int, before: float, level: float) -> None:
        model = self.model
        c = model.creators
        cfg = self.cfg
        target, done = cfg.share * level, cfg.share * before
        p = (target - done) / (1.0 - done) if done < 1.0 else 0.0
        u = self.rng(day).random(c.n)  # one draw per account, whoever is in the group
        candidates = self.group_mask() & (c.col("trend") != self.index) & (c.col("tactic") != self.tactic)
        rows = np.flatnonzero(candidates & (u < p))
        if rows.size == 0:
            return
        intensity = cfg.intensity if cfg.intensity is not None else getattr(model.config.world.tactics,
                                                                            cfg.tactic).intensity
        model.learner.switch(rows, self.tactic, np.full(rows.size, intensity))
        self.mark(rows)
        self.accounts += rows.size
