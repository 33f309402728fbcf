"""Observables: one file per kind, registered in ``sim.platform.monitoring.registry.OBSERVABLES``."""

from __future__ import annotations

from sim.platform.monitoring.observables import (  # noqa: F401  (registers the built-in kinds)
    appeal_overturn_rate,
    complaint_rate,
    flag_rate,
    ratio,
    refund_rate,
    repeat_report_share,
    reports_per_1k_views,
    review_queue_growth,
    young_gmv_share,
)
from sim.platform.monitoring.observables.base import Observable, RateObservable, per_group

__all__ = ["Observable", "RateObservable", "per_group"]
