"""Tactics by name and by code: the one place phases, config and outputs look a tactic up.

Codes are what the arrays store. The built-in tactics keep the codes of ``sim.labels.Tactic``
(0 is a clean stream) and the built-in typologies those of ``sim.labels.CreatorType``, whatever
else is registered; a tactic registered from outside livesim takes the next free code (from 7),
and its creator type the next free type code (from 8), in order of registration.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorType, Tactic
from sim.registry import Registry
from sim.tactics.base import TacticConfig, TacticKind

if TYPE_CHECKING:
    from sim.config import World

__all__ = [
    "BUILTIN",
    "CLEAN",
    "TACTICS",
    "TacticArrays",
    "accidental",
    "adversary_type_codes",
    "by_name",
    "code",
    "creator_type_code",
    "creator_type_names",
    "goods_quality",
    "kinds",
    "kinds_with",
    "names",
    "on_change",
    "register",
    "typologies",
    "unregister",
]

# A clean stream's code: no tactic.
CLEAN = int(Tactic.none)

# Tactics that ship with livesim (never unregistered): their codes are sim.labels.Tactic's.
BUILTIN: tuple[str, ...] = tuple(t.name for t in Tactic if t is not Tactic.none)


class _Tactics(Registry[TacticKind]):
    missing = KeyError

    def name_of(self, kind: type) -> str:
        name = getattr(kind, "name", None)
        if not isinstance(name, str) or not name.isidentifier() or name != name.lower() or name == "none":
            raise ValueError(f"tactic {kind.__name__} needs a class attribute name: "
                             "a lower-case identifier, not 'none'")
        return name

    def check(self, kind: type, name: str) -> None:
        if kind.accidental and any(k.accidental for k in self if k.name != name):  # type: ignore[attr-defined]
            raise ValueError(f"tactic {name!r}: only one tactic can be the accidental breach")
        if kind.typology and name in CreatorType.__members__ and name not in BUILTIN:  # type: ignore[attr-defined]
            raise ValueError(f"tactic {name!r}: the name is taken by a creator type")


# Registering a tactic makes scenarios accept ``world.tactics.<name>`` (and, for a typology,
# ``world.creators.mix.<name>`` and each category's ``exposure.<name>``) and policies
# ``detection.dprime.<name>`` and ``enforcement.points.<name>``, and the phases run its hooks.
TACTICS = _Tactics("tactic", BUILTIN, config=TacticConfig, field=None, instances=True, sort=False)
register = TACTICS.register
unregister = TACTICS.unregister
by_name = TACTICS.get
# Lookups the phases make every day, rebuilt whenever the registry changes.
_CACHE: dict[str, object] = {}
TACTICS.on_change(_CACHE.clear)
# ``on_change(listener)``: call ``listener()`` now and after every later registration or removal
# of a tactic (so a module that keeps something per tactic, such as the per-tactic metrics, follows
# the registry).
on_change = TACTICS.on_change


def names() -> tuple[str, ...]:
    """Tactic names by code: ``names()[code]`` ("none" at 0)."""
    if "names" not in _CACHE:
        _CACHE["names"] = (*(t.name for t in Tactic), *(n for n in TACTICS.names() if n not in BUILTIN))
    return _CACHE["names"]  # type: ignore[return-value]


def kinds() -> tuple[TacticKind, ...]:
    """Every registered tactic, in code order (codes 1, 2, ...)."""
    if "kinds" not in _CACHE:
        _CACHE["kinds"] = tuple(TACTICS.get(n) for n in names()[1:] if n in TACTICS)
    return _CACHE["kinds"]  # type: ignore[return-value]


def kinds_with(hook: str) -> tuple[TacticKind, ...]:
    """The registered tactics (in code order) whose class overrides ``TacticKind``'s ``hook``: the
    others run its default, which does nothing, so a phase need not call them."""
    key = f"kinds_with:{hook}"
    if key not in _CACHE:
        default = getattr(TacticKind, hook)
        _CACHE[key] = tuple(k for k in kinds() if getattr(type(k), hook) is not default)
    return _CACHE[key]  # type: ignore[return-value]


def code(name: str) -> int:
    """The code of tactic ``name``."""
    if "codes" not in _CACHE:
        _CACHE["codes"] = {n: i for i, n in enumerate(names())}
    try:
        return _CACHE["codes"][name]  # type: ignore[index]
    except KeyError:
        raise TACTICS.unknown(name) from None


def accidental() -> TacticKind:
    """The tactic of honest creators' accidental breaches (``TacticKind.accidental``)."""
    (kind,) = (k for k in kinds() if k.accidental)
    return kind


def typologies() -> tuple[TacticKind, ...]:
    """Tactics that are also creator types, in code order."""
    return tuple(k for k in kinds() if k.typology)


def creator_type_names() -> tuple[str, ...]:
    """Creator type names by type code: the built-in types, then registered typologies."""
    if "types" not in _CACHE:
        extra = (k.name for k in typologies() if k.name not in CreatorType.__members__)
        _CACHE["types"] = (*(t.name for t in CreatorType), *extra)
    return _CACHE["types"]  # type: ignore[return-value]


def creator_type_code(kind: TacticKind) -> int:
    """The creator type code of typology ``kind``."""
    return creator_type_names().index(kind.name)


def adversary_type_codes() -> tuple[int, ...]:
    """Creator types that violate on purpose: every typology and the ban evaders."""
    return (*(creator_type_code(k) for k in typologies()), int(CreatorType.ban_evader))


def goods_quality() -> np.ndarray:
    """Factor on goods quality by tactic code (1 for a clean stream), as each tactic declares."""
    return np.array([1.0, *(k.goods_quality for k in kinds())])


@dataclass(frozen=True)
class TacticArrays:
    """A world's per-tactic numbers, indexed by tactic code (a clean stream at 0)."""

    bad_rate: np.ndarray
    harm_fraction: np.ndarray
    visibility: np.ndarray
    engagement_boost: np.ndarray
    diversion_share: np.ndarray
    stream_cost: np.ndarray
    fake_order_cost: np.ndarray
    fake_cancel_rate: np.ndarray

    @classmethod
    def of(cls, world: World) -> TacticArrays:
        """The numbers of ``world``'s tactic config; a clean stream takes the buyers' clean rates."""
        n = len(names())
        a = {f: np.zeros(n) for f in cls.__dataclass_fields__}
        a["engagement_boost"][:] = 1.0
        a["bad_rate"][CLEAN] = world.buyers.clean_bad_outcome_rate
        a["harm_fraction"][CLEAN] = world.buyers.clean_harm_fraction
        for kind in kinds():
            c = code(kind.name)
            cfg = getattr(world.tactics, kind.name)
            a["bad_rate"][c] = cfg.bad_outcome_rate
            a["harm_fraction"][c] = cfg.harm_fraction
            a["visibility"][c] = cfg.report_visibility
            a["engagement_boost"][c] = kind.engagement_boost(cfg)
            a["diversion_share"][c] = kind.diversion_share(cfg)
            a["stream_cost"][c] = kind.stream_cost(cfg)
            a["fake_order_cost"][c] = kind.fake_order_cost(cfg)
            a["fake_cancel_rate"][c] = kind.fake_cancel_rate(cfg)
        return cls(**a)
