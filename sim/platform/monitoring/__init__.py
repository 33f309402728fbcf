"""Monitoring signals: what the platform measures each day per group, and when it alarms.

A ``[[signals]]`` entry is an observable (``observables/``, one file per kind), a grouping
(market, category, creator level, account-age band and their combinations) and a detector
(``detectors/``, one file per kind). The monitor (``monitor.py``) reads every signal at the end
of each day from an :class:`~sim.platform.monitoring.observed.Observed` day, which holds only
what the platform observes; the alerts go to ``alerts.parquet`` and are scored against the
trends' ground truth after the run (``analysis/signals.py``). Controllers
(``sim/platform/controllers/``) act on the same observations. To add a kind, subclass
``Observable``, ``Detector`` or ``Controller`` with its config class and register it
(see docs/extending.md).
"""

from __future__ import annotations

from sim.platform.monitoring.config import ControllerConfig, DetectorConfig, ObservableConfig, SignalConfig
from sim.platform.monitoring.registry import CONTROLLERS, DETECTORS, OBSERVABLES

__all__ = ["CONTROLLERS", "DETECTORS", "OBSERVABLES", "ControllerConfig", "DetectorConfig", "ObservableConfig",
           "SignalConfig"]
