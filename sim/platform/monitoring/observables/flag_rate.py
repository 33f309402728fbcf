"""``flag_rate``: classifier flags per live stream (falls when adversaries learn to evade the classifier)."""

from __future__ import annotations

from typing import Literal

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.observables.base import RateObservable
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["FlagRate", "FlagRateConfig"]


class FlagRateConfig(ObservableConfig):
    kind: Literal["flag_rate"]


@OBSERVABLES.register
class FlagRate(RateObservable):
    name = "flag_rate"
    config = FlagRateConfig
    numerator = "flags"
    denominator = "streams"
    scale = 1.0
    unit = "per stream"
