"""Controllers: feedback loops that move policy levers from what the platform observes.

One file per kind, registered in ``sim.platform.monitoring.registry.CONTROLLERS``:
``pi_threshold`` (holds review utilisation at a target by moving the classifier threshold),
``escalation`` (a policy change for N days where a signal fires) and ``guardrail_rollback`` (a
launch reverts when a guardrail breaches its limit K days in a row). The monitor runs them at
the end of each day (``sim/platform/monitoring/monitor.py``).
"""

from __future__ import annotations

from sim.platform.controllers import escalation, guardrail_rollback, pi_threshold  # noqa: F401  (registers the built-in kinds)
from sim.platform.controllers.base import ACTION_COLUMNS, Controller, ControllerSet, ControlPanel, policy_value

__all__ = ["ACTION_COLUMNS", "ControlPanel", "Controller", "ControllerSet", "policy_value"]
