"""``complaint_rate``: buyer complaints per settled order."""

from __future__ import annotations

from typing import Literal

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.observables.base import RateObservable
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["ComplaintRate", "ComplaintRateConfig"]


class ComplaintRateConfig(ObservableConfig):
    kind: Literal["complaint_rate"]


@OBSERVABLES.register
class ComplaintRate(RateObservable):
    name = "complaint_rate"
    config = ComplaintRateConfig
    numerator = "complaints"
    denominator = "settled"
    scale = 1.0
    unit = "per order"
