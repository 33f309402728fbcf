"""``reports_per_1k_views``: buyer reports of streams per 1,000 stream views."""

from __future__ import annotations

from typing import Literal

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.observables.base import RateObservable
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["ReportsPer1kViews", "ReportsPer1kViewsConfig"]


class ReportsPer1kViewsConfig(ObservableConfig):
    kind: Literal["reports_per_1k_views"]


@OBSERVABLES.register
class ReportsPer1kViews(RateObservable):
    name = "reports_per_1k_views"
    config = ReportsPer1kViewsConfig
    numerator = "reports"
    denominator = "views"
    scale = 1000.0
    unit = "per 1,000 views"
