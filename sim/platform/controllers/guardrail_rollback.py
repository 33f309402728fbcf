"""``guardrail_rollback``: a policy launch (a ``kind = "policy"`` timeline entry) reverts in a
market when a guardrail observable breaches its limit there ``consecutive_days`` days in a row.

The guardrail is an observable measured per market (e.g. ``appeal_overturn_rate``: launches that
sanction the wrong creators get overturned on appeal); days before the launch do not count. On
the day the breach completes (the K-th day in a row) the launch's levers go back to the values
they had before it, from the next day on, and the launch stays reverted in that market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
from pydantic import Field, SerializeAsAny, Strict

from sim.platform.controllers.base import Controller, ControlPanel, policy_value
from sim.platform.monitoring.config import ControllerConfig, ObservableConfig, SignalConfig
from sim.platform.monitoring.registry import CONTROLLERS
from sim.schema import Name

if TYPE_CHECKING:
    from sim.platform.monitoring.monitor import SignalToday
    from sim.platform.monitoring.observed import Observed

__all__ = ["GuardrailRollback", "GuardrailRollbackConfig"]


class GuardrailRollbackConfig(ControllerConfig):
    kind: Literal["guardrail_rollback"]
    launch: Name
    observable: SerializeAsAny[ObservableConfig]
    limit: Annotated[float, Strict(), Field(ge=-1e12, le=1e12)]
    direction: Literal["above", "below"] = "above"
    consecutive_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 3

    def check(self, scenario: Any, where: str) -> None:
        """The launch is a policy entry of the timeline; the observable can be read per market."""
        launches = [e.name for e in scenario.timeline if e.kind == "policy"]
        if self.launch not in launches:
            raise ValueError(f"@{where}.launch|unknown launch {self.launch!r}; the scenario's policy launches: "
                             f"{', '.join(launches) or 'none'}")
        SignalConfig(name=self.name, observable=self.observable, group_by=["market"],
                     detector={"kind": "threshold", "limit": self.limit})


@CONTROLLERS.register
class GuardrailRollback(Controller):
    name = "guardrail_rollback"
    config = GuardrailRollbackConfig
    cfg: GuardrailRollbackConfig

    def __init__(self, panel: ControlPanel, cfg: GuardrailRollbackConfig) -> None:
        from sim.platform.monitoring.monitor import SignalRun

        super().__init__(panel, cfg)
        launch = next(e for e in panel.timeline if e.kind == "policy" and e.name == cfg.launch)
        self.start_day = launch.start_day
        launched = set(launch.markets or panel.market_names)
        self.markets = [m for m in self.markets if panel.market_names[m] in launched]
        # The launch's levers as they stand before it (the run's start: the policy of day 0).
        self.before = {m: {p: policy_value(panel.policy(m), p) for p in launch.set} for m in self.markets}
        self.guard = SignalRun(SignalConfig(name=cfg.name, observable=cfg.observable, group_by=["market"],
                                            detector={"kind": "threshold", "limit": cfg.limit,
                                                      "direction": "up" if cfg.direction == "above" else "down"}),
                               panel.market_names, panel.category_names)
        self.streak = np.zeros(len(panel.market_names), dtype=np.int64)
        self.reverted: set[int] = set()

    def act(self, obs: Observed, signals: dict[str, SignalToday]) -> None:
        cfg = self.cfg
        reading = self.guard.read(obs)
        if obs.day < self.start_day:
            return
        self.streak = np.where(reading.fired, self.streak + 1, 0)
        for m in self.markets:
            if m not in self.reverted and self.streak[m] >= cfg.consecutive_days:
                self.reverted.add(m)
                old = self.before[m]
                change = f"roll back {cfg.launch}: " + ", ".join(f"{p} -> {v!r}" for p, v in old.items())
                word = "above" if cfg.direction == "above" else "below"
                self.panel.set(cfg.name, m, old, obs.day, change,
                               f"{cfg.observable.kind} {reading.value[m]:.4g} {word} {cfg.limit:g} for "
                               f"{cfg.consecutive_days} days in a row")
