"""Enforcement ladder kinds: one file per kind, registered by the ``kind`` name of its config.

The Enforcer (``sim/platform/enforcement.py``) keeps the decision log, sanctions and appeals
and asks the market's ladder kind, through ``ladder_for``, how standings move. To add a kind,
subclass ``LadderKind`` with a ``LadderConfig`` subclass as its ``config`` and decorate it with
``register`` (see docs/extending.md).
"""

from __future__ import annotations

from sim.platform.ladders import health_score, points, tiers  # noqa: F401  (registers the built-in kinds)
from sim.platform.ladders.base import LadderKind
from sim.platform.ladders.registry import BUILTIN, config_class, kind_names, ladder_for, register, unregister

__all__ = ["BUILTIN", "LadderKind", "config_class", "kind_names", "ladder_for", "register", "unregister"]
