"""Creators: Mesa agents whose hot state lives in model-owned column arrays.

Daily phases work on whole columns (``model.creators.followers`` …); an agent reads and writes
its own row through properties, so per-agent code (rare events, inspection) and array code see
the same state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import mesa
import numpy as np

from sim import categorical
from sim.config import Scenario, World
from sim.labels import CreatorState, CreatorType
from sim.metrics import type_lookup
from sim.state import CREATORS, Column, declare
from sim.table import ColumnTable
from sim.tactics import (
    accidental,
    adversary_type_codes,
    creator_type_code,
    creator_type_names,
    goods_quality,
    typologies,
)
from sim.tactics import code as tactic_code
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Creator", "CreatorTable", "draw_creators"]

# The creator columns this module owns: identity, traits, lifecycle and running totals. Other
# components declare theirs (governance, enforcement, the learner); see sim/state.py.
declare(CREATORS, __name__,
    # identity and traits (drawn by draw_creators)
    Column("market", np.int16),
    Column("category", np.int16),
    Column("ctype", np.int8, doc="creator type code (sim.tactics.creator_type_names)"),
    Column("tactic", np.int8, doc="violation used when this creator violates (tactic code, sim.tactics)"),
    Column("intensity", np.float64, doc="probability a stream violates"),
    Column("actor", np.int32, doc="the person behind the account (ban evaders re-enter as new accounts)"),
    Column("followers", np.float64),
    Column("quality", np.float64),
    Column("skill", np.float64),
    Column("streams_per_week", np.float64),
    Column("commission_rate", np.float64),
    # lifecycle
    Column("level", np.int8),
    Column("state", np.int8),
    Column("joined_day", np.int32),
    Column("left_day", np.int32, -1),
    # running totals
    Column("earnings", np.float64, doc="commissions net of claw-backs, plus incentive bonuses"),
    Column("profit", np.float64, doc="earnings plus illicit gains minus costs of cheating"),
    Column("gmv", np.float64),
    Column("orders", np.int64),
    Column("streams", np.int64),
    Column("violating_streams", np.int64),
    Column("views", np.int64),
    Column("settled", np.int64),
    Column("refunded", np.int64),
    Column("bad_outcomes", np.int64),
    Column("complaints", np.int64),
    Column("reports", np.int64),
    Column("gmv_month", np.float64, doc="GMV since the last level refresh"),
)


class CreatorTable(ColumnTable):
    """Column store for all creators ever created (churned and banned rows stay)."""

    def __init__(self, capacity: int = 16) -> None:
        # Assembled from every component's declarations (sim/state.py).
        super().__init__(CREATORS.columns(), capacity)

    def live_mask(self) -> np.ndarray:
        """Accounts that can stream today: in the pilot or active, and not suspended."""
        s = self.col("state")
        return ((s == CreatorState.pilot) | (s == CreatorState.active)) & ~self.col("suspended")

    def present_mask(self) -> np.ndarray:
        """Accounts still on the platform (not churned, not banned)."""
        s = self.col("state")
        return (s != CreatorState.churned) & (s != CreatorState.banned)


class _Column:
    """Property reading and writing one row of a creator column."""

    def __init__(self, column: str, cast: type) -> None:
        self.column = column
        self.cast = cast

    def __get__(self, obj: Creator | None, owner: type) -> Any:
        if obj is None:
            return self
        return self.cast(obj.model.creators.col(self.column)[obj.row])

    def __set__(self, obj: Creator, value: Any) -> None:
        obj.model.creators.col(self.column)[obj.row] = value


class Creator(mesa.Agent):
    """A live-shopping creator. State is a row of ``model.creators``."""

    market = _Column("market", int)
    category = _Column("category", int)
    followers = _Column("followers", float)
    quality = _Column("quality", float)
    skill = _Column("skill", float)
    streams_per_week = _Column("streams_per_week", float)
    commission_rate = _Column("commission_rate", float)
    level = _Column("level", int)
    intensity = _Column("intensity", float)
    earnings = _Column("earnings", float)
    profit = _Column("profit", float)
    gmv = _Column("gmv", float)
    traffic_multiplier = _Column("traffic_multiplier", float)

    def __init__(self, model: LiveShopModel, row: int) -> None:
        super().__init__(model)
        self.row = int(row)

    @property
    def creator_type(self) -> str:
        """The creator's type by name (``world.creators.mix``; registered typologies included)."""
        return creator_type_names()[int(self.model.creators.col("ctype")[self.row])]

    @property
    def tactic(self) -> str:
        """The tactic this creator uses when violating, by name (``sim.tactics``)."""
        return tactic_names()[int(self.model.creators.col("tactic")[self.row])]

    @property
    def state(self) -> CreatorState:
        return CreatorState(int(self.model.creators.col("state")[self.row]))

    @state.setter
    def state(self, value: CreatorState) -> None:
        self.model.creators.col("state")[self.row] = int(value)

    @property
    def is_adversary(self) -> bool:
        return self.creator_type not in (CreatorType.honest.name, CreatorType.opportunist.name)

    def __repr__(self) -> str:
        return (
            f"Creator(id={self.unique_id}, type={self.creator_type}, state={self.state.name}, "
            f"followers={self.followers:.0f}, earnings={self.earnings:.2f})"
        )


def draw_creators(
    scenario: Scenario,
    n: int,
    markets: np.ndarray,
    rng: np.random.Generator,
    day: int,
    ctypes: np.ndarray | None = None,
) -> dict[str, np.ndarray]:
    """Draw traits for ``n`` new creators in the given markets (one entry per creator).

    ``ctypes`` fixes the creator types (used for re-entering ban evaders); otherwise types are
    drawn from the scenario's mix. Adversaries favour the categories most exposed to their tactic.
    """
    world = scenario.world
    pop = world.creators
    type_p, category_p = _draw_shares(world, creator_type_names(), tactic_names())
    if ctypes is None:
        ctypes = categorical.draw(rng, type_p, n).astype(np.int8)

    tactics, intensity = _draw_tactics(scenario, ctypes, rng)

    # Category: base shares, tilted for adversaries by each category's exposure to their tactic.
    adversarial = type_lookup(adversary_type_codes())[ctypes]  # np.isin(ctypes, codes), in one gather
    category = np.empty(n, dtype=np.int16)
    key = np.where(adversarial, tactics, 0)
    for t in np.unique(key):  # loop over tactics (at most 7), not creators
        rows = (key == t).nonzero()[0]
        category[rows] = categorical.draw(rng, category_p[t], rows.size)

    followers = pop.followers_min * (1.0 + rng.pareto(pop.followers_alpha, size=n))
    quality = rng.beta(*pop.quality_beta, size=n)
    skill = rng.lognormal(0.0, pop.skill_sigma, size=n)
    spw = np.clip(rng.gamma(2.0, pop.streams_per_week_mean / 2.0, size=n), 0.25, 7.0)
    commission = np.clip(rng.lognormal(np.log(pop.commission_median), pop.commission_sigma, size=n), 0.01, 0.8)
    # Some tactics go with low-quality goods (counterfeits; bought reviews are mostly for
    # low-quality products, He, Hollenbeck & Proserpio 2022): each declares its factor.
    quality = quality * goods_quality()[tactics]
    return {
        "market": markets.astype(np.int16),
        "category": category,
        "ctype": ctypes.astype(np.int8),
        "tactic": tactics,
        "intensity": intensity,
        "followers": followers,
        "quality": quality,
        "skill": skill,
        "streams_per_week": spw,
        "commission_rate": commission,
        "joined_day": np.full(n, day, dtype=np.int32),
        "left_day": np.full(n, -1, dtype=np.int32),
    }


# (world, type names, tactic names) -> the shares ``draw_creators`` draws by, for the few worlds
# in use; a world is frozen, so its shares only change with the registries' names.
_SHARES: dict[int, tuple[World, tuple[str, ...], tuple[str, ...], np.ndarray, np.ndarray]] = {}
_SHARES_KEPT = 8


def _draw_shares(world: World, type_names: tuple[str, ...], names: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The distributions (``sim.categorical.cdf``) of the creator types of ``world``'s mix and, per
    tactic code, of the category of a creator using it (base shares tilted by the categories'
    exposure; the base shares where no category is exposed). Worked out once per world and
    registry state, instead of reading the pydantic blocks for every batch of newcomers."""
    hit = _SHARES.get(id(world))
    if hit is not None and hit[0] is world and hit[1] == type_names and hit[2] == names:
        return hit[3], hit[4]
    mix = world.creators.mix.model_dump()
    p = np.array([mix[name] for name in type_names], dtype=float)
    share = np.array([c.share for c in world.categories], dtype=float)
    exposure = np.ones((len(names), share.size))
    for j, cat in enumerate(world.categories):
        ex = cat.exposure.model_dump()
        for t, name in enumerate(names):
            if name in ex:
                exposure[t, j] = ex[name]
    weights = share[None, :] * exposure  # (tactic, category)
    category_p = np.empty_like(weights)
    for t in range(len(names)):
        w = weights[t] if weights[t].sum() > 0 else share  # no category exposed: base shares
        category_p[t] = categorical.cdf(w / w.sum())
    type_p = categorical.cdf(p / p.sum())
    if len(_SHARES) >= _SHARES_KEPT:
        del _SHARES[next(iter(_SHARES))]
    _SHARES[id(world)] = (world, type_names, names, type_p, category_p)
    return type_p, category_p


def _draw_tactics(
    scenario: Scenario, ctypes: np.ndarray, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """The violation each creator uses and how often (per stream).

    Each typology's creators use its tactic; ban evaders carry one of the typologies' tactics,
    drawn at creation; opportunists pick one by ``opportunist_weights``; everyone else (honest
    creators) may commit the accidental breach (``minor``).
    """
    tactics_cfg = scenario.world.tactics
    n = ctypes.size
    slip = accidental()
    tactic = np.full(n, tactic_code(slip.name), dtype=np.int8)
    intensity = np.full(n, getattr(tactics_cfg, slip.name).intensity)
    typologies_ = typologies()
    for kind in typologies_:
        rows = ctypes == creator_type_code(kind)
        tactic[rows] = tactic_code(kind.name)
        intensity[rows] = getattr(tactics_cfg, kind.name).intensity
    # Ban evaders carry one of the adversarial tactics.
    evaders = (ctypes == CreatorType.ban_evader).nonzero()[0]
    if evaders.size:
        pick = rng.integers(0, len(typologies_), size=evaders.size)
        for k, kind in enumerate(typologies_):
            rows = evaders[pick == k]
            tactic[rows] = tactic_code(kind.name)
            intensity[rows] = getattr(tactics_cfg, kind.name).intensity
    # Opportunists pick a tactic by configured weights and violate at a low rate.
    opp = (ctypes == CreatorType.opportunist).nonzero()[0]
    if opp.size:
        w = tactics_cfg.opportunist_weights
        names = list(w)
        p = np.array([w[k] for k in names], dtype=float)
        pick = categorical.draw(rng, categorical.cdf(p / p.sum()), opp.size)
        tactic[opp] = np.array([tactic_code(k) for k in names], dtype=np.int8)[pick]
        intensity[opp] = scenario.world.creators.opportunist_intensity
    return tactic, intensity
