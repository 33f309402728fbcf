"""``cohort``: new adversary accounts of a type arrive, ``accounts_per_day`` a day in each of
the trend's markets, on each of its ``days`` days (a ring of new sellers).

The accounts join at the start of the day (before anyone goes live), as newcomers do: small
ones in the pilot programme where the policy runs one. Their traits are drawn like any
newcomer's (from the trend's stream), their type is ``creator_type`` (default: the tactic's
own creator type), they use the trend's tactic at ``intensity`` (default: the tactic's own),
in ``categories`` if given (uniformly among them; otherwise drawn by the categories' exposure
to the tactic), and with ``shared_actor`` they are all run by one person (the ring's first
account), which is what KYC would recognise if a member is banned and re-registers.
A cohort is exact (it skips the onboarding checks that deter some newcomers) unless its market
checks new accounts of its category more strictly (``onboarding.kyc_strictness_by_category``):
those accounts then face the whole door, and ``kyc_friction`` x that strictness of them never
join (docs/model.md §7.22).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, Strict, StrictBool, model_validator

from sim.config import Trend
from sim.platform.lifecycle import add_creators
from sim.platform.trends.base import TrendRun
from sim.platform.trends.registry import register
from sim.schema import Name, Share
from sim.tactics import by_name, creator_type_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Cohort", "CohortConfig"]


class CohortConfig(Trend):
    """New accounts of one type arriving day after day."""

    trend: Literal["cohort"]
    accounts_per_day: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    creator_type: Name | None = Field(default=None, description="default: the tactic's own creator type")
    categories: list[Name] = Field(default_factory=list, description="empty: drawn by exposure to the tactic")
    intensity: Share | None = Field(default=None, description="default: the tactic's own intensity")
    shared_actor: StrictBool = False

    def group_names(self) -> dict[str, list[str]]:
        return {"categories": self.categories, "creator_type": [self.type_name]}

    @property
    def type_name(self) -> str:
        """The arriving accounts' creator type."""
        return self.creator_type or self.tactic

    @model_validator(mode="after")
    def _has_type(self) -> CohortConfig:
        if self.creator_type is None and not by_name(self.tactic).typology:
            raise ValueError(f"@creator_type|tactic {self.tactic!r} is no creator type, so the arriving accounts' "
                             f"creator_type must be given; allowed: {', '.join(creator_type_names())}")
        return self


@register
class Cohort(TrendRun):
    """Add the day's accounts, in every market of the trend."""

    name = "cohort"
    config = CohortConfig
    parameter = "accounts_per_day"
    cfg: CohortConfig

    def __init__(self, model: LiveShopModel, cfg: CohortConfig) -> None:
        super().__init__(model, cfg)
        self.actor = -1

    def categories(self) -> list[str]:
        return list(self.cfg.categories) or list(self.model.category_names)

    def creator_types(self) -> list[str]:
        return [self.cfg.type_name]

    def ramp(self, day: int, before: float, level: float) -> None:
        model = self.model
        cfg = self.cfg
        rng = self.rng(day)
        markets = np.repeat(np.flatnonzero(self.market_mask), cfg.accounts_per_day)
        ctype = creator_type_names().index(cfg.type_name)

        def admit(traits: dict[str, np.ndarray]) -> np.ndarray | None:
            # The accounts' categories, before they exist: onboarding's door may depend on them.
            if cfg.categories:
                codes = np.array([model.category_names.index(n) for n in cfg.categories])
                traits["category"] = codes[rng.integers(0, codes.size, size=markets.size)].astype(np.int16)
            return model.governance.onboarding.cohort_pass(traits, self.index, day)

        # Joined at the end of the day before, as newcomers are: live from ``day`` on.
        rows = add_creators(model, markets, rng, model.day, ctypes=np.full(markets.size, ctype, dtype=np.int8),
                            admit=admit)
        c = model.creators
        c.col("tactic")[rows] = self.tactic
        tactics = model.config.world.tactics
        c.col("intensity")[rows] = cfg.intensity if cfg.intensity is not None else getattr(tactics, cfg.tactic).intensity
        if cfg.shared_actor and rows.stop > rows.start:
            if self.actor < 0:
                self.actor = rows.start
            c.col("actor")[rows] = self.actor
        model.learner.add_rows(rows)  # their starting action is the tactic given above
        self.mark(rows)
        self.accounts += rows.stop - rows.start
