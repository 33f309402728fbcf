"""The contract between the day's phases and one adversary tactic (a violation typology).

A tactic is what a violating stream does. Each one lives in one file of ``sim/tactics/`` and
declares, next to its behaviour, everything the rest of livesim needs to know about it:

- its configuration block (``world.tactics.<name>``, a :class:`TacticConfig` subclass);
- whether it is a *typology*: a creator type of the same name (``world.creators.mix.<name>``,
  default share ``share``) whose members use it, whom ban evaders may imitate;
- whether opportunists may pick it (``world.tactics.opportunist_weights``);
- its detection defaults: classifier separability ``separability`` (``policy.detection.dprime``)
  and the violation-points range ``points`` (``policy.enforcement.points``); how visible it is
  to viewers is its config's ``report_visibility``;
- its array hooks, each called by one phase for the views, streams or orders that use it.

The phases hold no branch on a tactic: they group views, streams or orders by tactic code and
call the hooks. Hooks are vectorised and must not draw random numbers except where a ``rng``
is passed in (the phase owns the stream), so registering a tactic never shifts another draw.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np
from pydantic import Field

from sim.schema import Multiplier, Share, StrictModel

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["TacticConfig", "TacticKind"]


class TacticConfig(StrictModel):
    """What every tactic's config block holds; a tactic subclasses it with its own parameters."""

    intensity: Share = Field(description="probability that a stream of this creator violates")
    conversion_lift: Multiplier = 1.0
    bad_outcome_rate: Share = 0.0
    harm_fraction: Share = 0.5
    report_visibility: Share = 1.0


class TacticKind:
    """One violation tactic, registered by name (``sim.tactics.register``).

    Subclasses set ``name`` and ``config`` and override the hooks their tactic needs; the
    defaults are those of a tactic that lifts conversion flatly by ``conversion_lift`` and has
    no other effect beyond its bad-outcome rate, harm and visibility.
    """

    name: ClassVar[str]
    config: ClassVar[type[TacticConfig]]
    # A creator type of the same name uses this tactic (ban evaders may imitate it).
    typology: ClassVar[bool] = True
    # Default share of creators of that type (``world.creators.mix``); 0 for a tactic added
    # from outside livesim, so registering it alone changes no population.
    share: ClassVar[float] = 0.0
    # Opportunists may be given this tactic in ``world.tactics.opportunist_weights``.
    opportunist: ClassVar[bool] = False
    # The breach honest creators commit by accident (exactly one registered tactic): also the
    # reason the platform records on a flag that points at no known violation.
    accidental: ClassVar[bool] = False
    # Detection defaults: classifier separability d' and the points range of one decision.
    separability: ClassVar[float] = 1.5
    points: ClassVar[tuple[float, float]] = (2.0, 24.0)
    # Factor on the quality of the goods its creators sell (drawn once, at creation).
    goods_quality: ClassVar[float] = 1.0

    # ------------------------------------------------------------------ numbers per tactic

    def engagement_boost(self, cfg: TacticConfig) -> float:
        """Factor on the engagement the recommender sees for a stream using this tactic."""
        return 1.0

    def diversion_share(self, cfg: TacticConfig) -> float:
        """Share of this tactic's orders paid off the platform (no fee, no protection)."""
        return 0.0

    def stream_cost(self, cfg: TacticConfig) -> float:
        """What the creator pays per violating stream, at price level 1 (e.g. bought bots)."""
        return 0.0

    def fake_order_cost(self, cfg: TacticConfig) -> float:
        """Cost of a fake order of this tactic, as a share of its value (accounts, shipping)."""
        return 0.0

    def fake_cancel_rate(self, cfg: TacticConfig) -> float:
        """Share of this tactic's fake orders cancelled before settlement."""
        return 0.0

    # ------------------------------------------------------------------ phase hooks

    def prepare(self, cfg: TacticConfig, model: LiveShopModel, day: Day) -> None:
        """plan: after today's enrolments (``day.enrolled``), before anyone goes live: set what
        the tactic's streams need today on the day context. Default: nothing."""

    def may_violate(self, model: LiveShopModel, day: Day, creators: np.ndarray) -> np.ndarray | None:
        """plan: which of ``creators`` (rows using this tactic) may violate today (None: all)."""
        return None

    def conversion(self, cfg: TacticConfig, model: LiveShopModel, buyers: np.ndarray) -> float | np.ndarray:
        """shop: factor on the purchase probability of views by ``buyers`` of violating streams."""
        return cfg.conversion_lift

    def extra_orders(
        self, cfg: TacticConfig, model: LiveShopModel, day: Day, streams: np.ndarray, rng: np.random.Generator
    ) -> dict[str, np.ndarray] | None:
        """shop: orders the tactic adds on its violating ``streams`` (e.g. fake orders), or None.

        Columns as ``sim.platform.commerce.ORDER_FIELDS`` before the split (see
        ``sim/tactics/incentive_fraud.py``)."""
        return None

    def settle_gain(
        self, cfg: TacticConfig, model: LiveShopModel, orders: dict[str, np.ndarray], mine: np.ndarray,
        on: np.ndarray, refunded: np.ndarray,
    ) -> np.ndarray | None:
        """settle: illicit gain (or loss, negative) of each settling order, non-zero only where
        ``mine`` (orders of this tactic); None when the tactic gains nothing beyond commission."""
        return None
