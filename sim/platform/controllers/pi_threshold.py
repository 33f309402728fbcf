"""``pi_threshold``: moves each market's classifier threshold daily, within bounds, to hold
review utilisation (human reviews per review slot, as observed) at a target: a PI rule.

    error    = utilisation today - target
    integral = clip(integral + error, -max_integral, max_integral)
    threshold = clip(start + kp x error + ki x integral, min_threshold, max_threshold)

A busier queue than wanted raises the threshold (fewer, stronger flags); spare capacity lowers it
(more flags, more caught). ``start`` is the market's threshold when the run begins. The new
threshold, rounded to ``step``, applies from the next day; a change is logged only when the
rounded value moves.

The default gains (kp 0.3, ki 0.2) were chosen on a one-market world of 6,000 buyers and 400
creators with spare review capacity (tests/test_controllers.py), seeds 1-8, target 0.7, mean
utilisation over days 21-60: kp 1.0, ki 0.1 gave 0.641-0.676 with a daily sd of 0.24 (the
threshold swung by 0.5-0.7 every other day: utilisation answers the next day, so a large kp
overshoots, and a small ki had not yet wound the integral to its level by day 60, leaving the
mean below target); kp 0.3, ki 0.2 gave 0.679-0.700 with a daily sd of 0.14.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, Strict, model_validator

from sim.platform.controllers.base import Controller, ControlPanel
from sim.platform.monitoring.config import ControllerConfig
from sim.platform.monitoring.registry import CONTROLLERS

if TYPE_CHECKING:
    from sim.platform.monitoring.monitor import SignalToday
    from sim.platform.monitoring.observed import Observed

__all__ = ["PiThreshold", "PiThresholdConfig"]

_Z = Annotated[float, Strict(), Field(ge=-10.0, le=10.0)]
_Gain = Annotated[float, Strict(), Field(ge=0.0, le=100.0)]


class PiThresholdConfig(ControllerConfig):
    kind: Literal["pi_threshold"]
    target: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.85
    kp: _Gain = 0.3
    ki: _Gain = 0.2
    min_threshold: _Z = 1.5
    max_threshold: _Z = 4.0
    max_integral: Annotated[float, Strict(), Field(gt=0.0, le=1e4)] = 20.0
    step: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.01

    @model_validator(mode="after")
    def _bounds(self) -> PiThresholdConfig:
        if self.min_threshold > self.max_threshold:
            raise ValueError(f"@min_threshold|got {self.min_threshold}; at most max_threshold ({self.max_threshold})")
        return self


@CONTROLLERS.register
class PiThreshold(Controller):
    name = "pi_threshold"
    config = PiThresholdConfig
    cfg: PiThresholdConfig

    def __init__(self, panel: ControlPanel, cfg: PiThresholdConfig) -> None:
        super().__init__(panel, cfg)
        self.start = {m: panel.policy(m).detection.threshold for m in self.markets}
        self.integral = dict.fromkeys(self.markets, 0.0)

    def act(self, obs: Observed, signals: dict[str, SignalToday]) -> None:
        cfg = self.cfg
        used, capacity = obs.market["capacity_used"], obs.market["review_capacity"]
        for m in self.markets:
            if capacity[m] <= 0:
                continue
            util = float(used[m] / capacity[m])
            error = util - cfg.target
            self.integral[m] = float(np.clip(self.integral[m] + error, -cfg.max_integral, cfg.max_integral))
            raw = self.start[m] + cfg.kp * error + cfg.ki * self.integral[m]
            new = round(float(np.clip(raw, cfg.min_threshold, cfg.max_threshold)) / cfg.step) * cfg.step
            new = round(new, 6)
            old = self.panel.policy(m).detection.threshold
            if abs(new - old) > 1e-9:
                self.panel.set(cfg.name, m, {"detection.threshold": new}, obs.day,
                               f"detection.threshold {old:g} -> {new:g}",
                               f"review utilisation {util:.2f} vs target {cfg.target:.2f}")
