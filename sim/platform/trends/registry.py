"""Trend kinds by name: the one place the timeline and the scenario schema look a kind up.

A kind registered here (from livesim or from outside the package) is accepted as a
``[[timeline]]`` entry with ``kind = "trend"`` and ``trend = "<name>"`` and run by the
timeline; nothing else changes. Its config class must subclass ``sim.config.Trend`` with
``trend`` typed ``Literal[<name>]``, so a scenario's ``trend = "<name>"`` selects both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config import Trend
from sim.platform.trends.base import TrendRun
from sim.registry import Registry

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["BUILTIN", "TRENDS", "config_class", "register", "trend_for", "trend_names", "unregister"]

# Kinds that ship with livesim; they are never unregistered.
BUILTIN: tuple[str, ...] = ("adoption_wave", "category_shock", "cohort", "evasion")

TRENDS: Registry[type[TrendRun]] = Registry("trend kind", BUILTIN, package="sim.platform.trends", config=Trend,
                                            field="trend")
register = TRENDS.register
unregister = TRENDS.unregister
trend_names = TRENDS.names
config_class = TRENDS.config_class


def trend_for(model: LiveShopModel, cfg: Trend) -> TrendRun:
    """A running trend for the scenario's entry ``cfg``."""
    return TRENDS.get(cfg.trend)(model, cfg)
