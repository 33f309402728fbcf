"""Ladder kinds by name: the one place the Enforcer and the policy schema look a kind up.

A kind registered here (from livesim or from outside the package) is accepted as
``policy.enforcement`` with ``kind = "<name>"`` and run by the Enforcer; nothing else changes.
Its config class must be a ``LadderConfig`` whose ``kind`` field is ``Literal[<name>]``, so a
scenario's ``kind = "<name>"`` selects both the config and the strategy.
"""

from __future__ import annotations

from sim.platform.ladders.base import LadderKind
from sim.policy import LadderConfig
from sim.registry import Registry

__all__ = ["BUILTIN", "LADDERS", "config_class", "kind_names", "ladder_for", "register", "unregister"]

# Kinds that ship with livesim: validated by Policy's own discriminated union (its messages are
# part of the documented behaviour) and never unregistered.
BUILTIN: tuple[str, ...] = ("health_score", "points", "tiers")

# The registry holds one strategy object per kind, shared by every market.
LADDERS: Registry[LadderKind] = Registry("ladder kind", BUILTIN, config=LadderConfig, instances=True)
register = LADDERS.register
unregister = LADDERS.unregister
kind_names = LADDERS.names
config_class = LADDERS.config_class


def ladder_for(e: LadderConfig) -> LadderKind:
    """The strategy that runs ladder config ``e``."""
    return LADDERS.get(e.kind)
