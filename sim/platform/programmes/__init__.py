"""Incentive programme types: one file per type, registered by the ``program`` name of its config.

The timeline (``sim/platform/timeline.py``) builds one running ``Programme`` per
``kind = "incentive"`` entry, and the phases call only the interface in ``base.py``. To add a
type, subclass ``Programme`` with an ``Incentive`` subclass as its ``config`` and decorate it
with ``register`` (see docs/extending.md).
"""

from __future__ import annotations

from sim.platform.programmes import gmv_bonus, new_creator_support, quality_bonus  # noqa: F401  (registers the built-in types)
from sim.platform.programmes.base import Programme
from sim.platform.programmes.registry import BUILTIN, config_class, program_names, programme_for, register, unregister

__all__ = ["BUILTIN", "Programme", "config_class", "program_names", "programme_for", "register", "unregister"]
