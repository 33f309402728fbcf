"""``appeal_overturn_rate``: share of appeals decided today that overturned the decision."""

from __future__ import annotations

from typing import Literal

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.observables.base import RateObservable
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["AppealOverturnRate", "AppealOverturnRateConfig"]


class AppealOverturnRateConfig(ObservableConfig):
    kind: Literal["appeal_overturn_rate"]


@OBSERVABLES.register
class AppealOverturnRate(RateObservable):
    name = "appeal_overturn_rate"
    config = AppealOverturnRateConfig
    numerator = "overturns"
    denominator = "appeals_decided"
    scale = 1.0
    unit = "share"
