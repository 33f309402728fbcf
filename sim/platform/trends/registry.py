"""Trend kinds by name: the one place the timeline and the scenario schema look a kind up.

A kind registered here (from livesim or from outside the package) is accepted as a
``[[timeline]]`` entry with ``kind = "trend"`` and ``trend = "<name>"`` and run by the
timeline; nothing else changes.
"""

from __future__ import annotations

import typing
from typing import TYPE_CHECKING

from sim.config import Trend
from sim.platform.trends.base import TrendRun

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["BUILTIN", "config_class", "register", "trend_for", "trend_names", "unregister"]

# Kinds that ship with livesim; they are never unregistered.
BUILTIN: tuple[str, ...] = ("adoption_wave", "category_shock", "cohort", "evasion")

_KINDS: dict[str, type[TrendRun]] = {}


def register[T: type[TrendRun]](kind: T) -> T:
    """Register trend kind ``kind`` under ``kind.name`` (usable as a class decorator).

    Its config class must subclass ``sim.config.Trend`` with ``trend`` typed
    ``Literal[kind.name]``, so a scenario's ``trend = "<name>"`` selects both."""
    name = getattr(kind, "name", None)
    config = getattr(kind, "config", None)
    if not isinstance(name, str) or not name:
        raise ValueError(f"trend kind {kind.__name__} needs a class attribute name (its config's trend)")
    if not (isinstance(config, type) and issubclass(config, Trend) and config is not Trend):
        raise ValueError(f"trend kind {name!r}: config must be a subclass of sim.config.Trend")
    field = config.model_fields.get("trend")
    if field is None or typing.get_args(field.annotation) != (name,):
        raise ValueError(f"trend kind {name!r}: {config.__name__}.trend must be Literal[{name!r}]")
    current = _KINDS.get(name)
    if current is not None and current is not kind:
        raise ValueError(f"trend kind {name!r} is already registered ({current.__name__})")
    _KINDS[name] = kind
    return kind


def unregister(name: str) -> None:
    """Remove a trend kind registered from outside livesim (the built-in kinds stay)."""
    if name in BUILTIN:
        raise ValueError(f"trend kind {name!r} is built in and cannot be unregistered")
    _KINDS.pop(name, None)


def trend_names() -> tuple[str, ...]:
    """Every registered kind, sorted."""
    _load_builtin()
    return tuple(sorted(_KINDS))


def config_class(name: str) -> type[Trend] | None:
    """The config class of kind ``name``, or None if no such kind is registered."""
    _load_builtin()
    kind = _KINDS.get(name)
    return None if kind is None else kind.config


def trend_for(model: LiveShopModel, cfg: Trend) -> TrendRun:
    """A running trend for the scenario's entry ``cfg``."""
    _load_builtin()
    try:
        kind = _KINDS[cfg.trend]
    except KeyError:
        raise ValueError(f"trend kind {cfg.trend!r} is not registered; registered: {', '.join(trend_names())}") from None
    return kind(model, cfg)


def _load_builtin() -> None:
    """The built-in kinds register themselves when their package is imported; a scenario may be
    validated before anything imported it."""
    import sim.platform.trends  # noqa: F401
