"""``refund_rate``: refunded orders per settled order (what buyers sent back or were refunded)."""

from __future__ import annotations

from typing import Literal

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.observables.base import RateObservable
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["RefundRate", "RefundRateConfig"]


class RefundRateConfig(ObservableConfig):
    kind: Literal["refund_rate"]


@OBSERVABLES.register
class RefundRate(RateObservable):
    name = "refund_rate"
    config = RefundRateConfig
    numerator = "refunded"
    denominator = "settled"
    scale = 1.0
    unit = "share"
