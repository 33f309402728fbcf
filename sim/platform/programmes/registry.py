"""Incentive programme types by name: the one place the timeline and the scenario schema look
a type up.

A type registered here (from livesim or from outside the package) is accepted as a
``[[timeline]]`` entry with ``kind = "incentive"`` and ``program = "<name>"`` and run by the
day's phases; nothing else changes. Its config class must subclass ``sim.config.Incentive``
with ``program`` typed ``Literal[<name>]``, so a scenario's ``program = "<name>"`` selects both.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.config import Incentive
from sim.platform.programmes.base import Programme
from sim.registry import Registry

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["BUILTIN", "PROGRAMMES", "config_class", "program_names", "programme_for", "register", "unregister"]

# Types that ship with livesim; they are never unregistered.
BUILTIN: tuple[str, ...] = ("gmv_bonus", "new_creator_support", "quality_bonus")

PROGRAMMES: Registry[type[Programme]] = Registry("programme type", BUILTIN, package="sim.platform.programmes",
                                                 config=Incentive, field="program")
register = PROGRAMMES.register
unregister = PROGRAMMES.unregister
program_names = PROGRAMMES.names
config_class = PROGRAMMES.config_class


def programme_for(model: LiveShopModel, cfg: Incentive) -> Programme:
    """A running programme for the scenario's entry ``cfg``."""
    return PROGRAMMES.get(cfg.program)(model, cfg)
