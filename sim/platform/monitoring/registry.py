"""Observable, detector and controller kinds by name: the one place the scenario schema and the
run look a kind up.

A kind is a class with ``name`` and ``config`` (a subclass of the block's base config whose
``kind`` is ``Literal[name]``); ``register`` it (a class decorator) and a scenario may name it.
The built-in kinds register themselves when their packages are imported; the registries import
them on first use, so a scenario can be validated before anything else imported them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sim.platform.monitoring.config import ControllerConfig, DetectorConfig, ObservableConfig
from sim.registry import Registry

if TYPE_CHECKING:
    from sim.platform.controllers.base import Controller
    from sim.platform.monitoring.detectors.base import Detector
    from sim.platform.monitoring.observables.base import Observable

__all__ = ["CONTROLLERS", "DETECTORS", "OBSERVABLES", "Registry"]

OBSERVABLES: Registry[type[Observable]] = Registry("observable kind", (
    "appeal_overturn_rate", "complaint_rate", "flag_rate", "ratio", "refund_rate", "repeat_report_share",
    "reports_per_1k_views", "review_queue_growth", "young_gmv_share"), package="sim.platform.monitoring.observables", config=ObservableConfig)
DETECTORS: Registry[type[Detector]] = Registry("detector kind", ("cusum", "ewma", "pelt", "threshold", "zscore"),
                                    package="sim.platform.monitoring.detectors", config=DetectorConfig)
CONTROLLERS: Registry[type[Controller]] = Registry("controller kind", ("escalation", "guardrail_rollback", "pi_threshold"),
                                      package="sim.platform.controllers", config=ControllerConfig)
