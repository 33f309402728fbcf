"""Incentive programme types by name: the one place the timeline and the scenario schema look
a type up.

A type registered here (from livesim or from outside the package) is accepted as a
``[[timeline]]`` entry with ``kind = "incentive"`` and ``program = "<name>"`` and run by the
day's phases; nothing else changes.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

from sim.config import Incentive
from sim.platform.programmes.base import Programme

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["BUILTIN", "config_class", "program_names", "programme_for", "register", "unregister"]

# Types that ship with livesim; they are never unregistered.
BUILTIN: tuple[str, ...] = ("gmv_bonus", "new_creator_support", "quality_bonus")

_TYPES: dict[str, type[Programme]] = {}


def register[P: type[Programme]](programme: P) -> P:
    """Register programme type ``programme`` under ``programme.name`` (usable as a class decorator).

    Its config class must subclass ``sim.config.Incentive`` with ``program`` typed
    ``Literal[programme.name]``, so a scenario's ``program = "<name>"`` selects both."""
    name = getattr(programme, "name", None)
    config = getattr(programme, "config", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"programme type {programme.__name__} needs a class attribute name (its config's program)")
    if not (isinstance(config, type) and issubclass(config, Incentive) and config is not Incentive):
        raise ValueError(f"programme type {name!r}: config must be a subclass of sim.config.Incentive")
    field = config.model_fields.get("program")
    if field is None or typing.get_args(field.annotation) != (name,):
        raise ValueError(f"programme type {name!r}: {config.__name__}.program must be Literal[{name!r}]")
    current = _TYPES.get(name)
    if current is not None and current is not programme:
        raise ValueError(f"programme type {name!r} is already registered ({current.__name__})")
    _TYPES[name] = programme
    return programme


def unregister(name: str) -> None:
    """Remove a programme type registered from outside livesim (the built-in types stay)."""
    if name in BUILTIN:
        raise ValueError(f"programme type {name!r} is built in and cannot be unregistered")
    _TYPES.pop(name, None)


def program_names() -> tuple[str, ...]:
    """Every registered type, sorted."""
    _load_builtin()
    return tuple(sorted(_TYPES))


def config_class(name: str) -> type[Incentive] | None:
    """The config class of type ``name``, or None if no such type is registered."""
    _load_builtin()
    programme = _TYPES.get(name)
    return None if programme is None else programme.config


def programme_for(model: LiveShopModel, cfg: Incentive) -> Programme:
    """A running programme for the scenario's entry ``cfg``."""
    _load_builtin()
    try:
        programme = _TYPES[cfg.program]
    except KeyError:
        raise ValueError(f"programme type {cfg.program!r} is not registered; "
                         f"registered: {', '.join(program_names())}") from None
    return programme(model, cfg)


def _load_builtin() -> None:
    """The built-in types register themselves when their package is imported; a scenario may
    be validated before anything imported it."""
    import sim.platform.programmes  # noqa: F401
