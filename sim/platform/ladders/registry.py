"""Ladder kinds by name: the one place the Enforcer and the policy schema look a kind up.

A kind registered here (from livesim or from outside the package) is accepted as
``policy.enforcement`` with ``kind = "<name>"`` and run by the Enforcer; nothing else changes.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

from sim.platform.ladders.base import LadderKind

if TYPE_CHECKING:
    from sim.policy import LadderConfig

__all__ = ["BUILTIN", "config_class", "kind_names", "ladder_for", "register", "unregister"]

# Kinds that ship with livesim: validated by Policy's own discriminated union (its messages are
# part of the documented behaviour) and never unregistered.
BUILTIN: tuple[str, ...] = ("health_score", "points", "tiers")

_KINDS: dict[str, LadderKind] = {}


def register[K: type[LadderKind]](kind: K) -> K:
    """Register ladder kind ``kind`` under ``kind.name`` (usable as a class decorator).

    Its config class must be a ``LadderConfig`` whose ``kind`` field is ``Literal[kind.name]``,
    so a scenario's ``kind = "<name>"`` selects both the config and the strategy."""
    from sim.policy import LadderConfig

    name = getattr(kind, "name", None)
    config = getattr(kind, "config", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"ladder kind {kind.__name__} needs a class attribute name (its config's kind)")
    if not (isinstance(config, type) and issubclass(config, LadderConfig)):
        raise ValueError(f"ladder kind {name!r}: config must be a subclass of sim.policy.LadderConfig")
    field = config.model_fields.get("kind")
    if field is None or typing.get_args(field.annotation) != (name,):
        raise ValueError(f"ladder kind {name!r}: {config.__name__}.kind must be Literal[{name!r}]")
    current = _KINDS.get(name)
    if current is not None and type(current) is not kind:
        raise ValueError(f"ladder kind {name!r} is already registered ({type(current).__name__})")
    _KINDS[name] = kind()
    return kind


def unregister(name: str) -> None:
    """Remove a ladder kind registered from outside livesim (the built-in kinds stay)."""
    if name in BUILTIN:
        raise ValueError(f"ladder kind {name!r} is built in and cannot be unregistered")
    _KINDS.pop(name, None)


def kind_names() -> tuple[str, ...]:
    """Every registered kind, sorted."""
    return tuple(sorted(_KINDS))


def config_class(name: str) -> type[LadderConfig] | None:
    """The config class of kind ``name``, or None if no such kind is registered."""
    kind = _KINDS.get(name)
    return None if kind is None else kind.config


def ladder_for(e: LadderConfig) -> LadderKind:
    """The strategy that runs ladder config ``e``."""
    try:
        return _KINDS[e.kind]
    except KeyError:
        raise ValueError(f"ladder kind {e.kind!r} is not registered; registered: {', '.join(kind_names())}") from None
