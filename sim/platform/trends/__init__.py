"""Emerging abuse trends: one file per kind, registered by the ``trend`` name of its config.

A trend is a ``[[timeline]]`` entry with ``kind = "trend"`` that changes how the world
behaves from its onset day, in some markets, ramped over ``days`` days: the ground truth that
monitoring signals must find. The timeline (``sim/platform/timeline.py``) builds one running
``TrendRun`` per entry; what the kinds change that the phases read lives in one
``WorldShift`` (``model.world_shift``), which is empty, and read by no phase, in a run without
trends. To add a kind, subclass ``TrendRun`` with a ``Trend`` subclass as its ``config`` and
decorate it with ``register`` (see docs/extending.md).
"""

from __future__ import annotations

from sim.platform.trends import adoption_wave, category_shock, cohort, evasion  # noqa: F401  (registers the built-in kinds)
from sim.platform.trends.base import TrendRun, WorldShift, trends_frame
from sim.platform.trends.registry import BUILTIN, config_class, register, trend_for, trend_names, unregister

__all__ = [
    "BUILTIN",
    "TrendRun",
    "WorldShift",
    "config_class",
    "register",
    "trend_for",
    "trend_names",
    "trends_frame",
    "unregister",
]
