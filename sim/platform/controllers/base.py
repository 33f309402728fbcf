"""The contract of a controller, and the panel through which it moves levers.

A controller is a feedback loop: at the end of each day it reads that day's
:class:`~sim.platform.monitoring.observed.Observed` and the day's signal readings (never the
model, so never ground truth) and may change policy levers in its markets through a
:class:`ControlPanel`, which applies the change from the next day and logs it (day, controller,
market, change, reason) to the run's controller log and event log (kind ``controller``).
Controllers draw no random numbers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd

from sim.platform.monitoring.config import ControllerConfig

if TYPE_CHECKING:
    from sim.model import LiveShopModel
    from sim.platform.monitoring.monitor import SignalToday
    from sim.platform.monitoring.observed import Observed
    from sim.policy import Policy

__all__ = ["ACTION_COLUMNS", "ControlPanel", "Controller", "ControllerSet", "policy_value"]

ACTION_COLUMNS = ("day", "controller", "market", "change", "reason")


def policy_value(policy: Policy, path: str) -> Any:
    """The value of a dotted policy path (``detection.threshold``) in ``policy``."""
    node: Any = policy.model_dump(mode="python")
    for part in path.split("."):
        node = node[part]
    return node


class ControlPanel:
    """What a controller may do: read the policy in force in a market, change it, pay for it."""

    def __init__(self, model: LiveShopModel) -> None:
        self._model = model
        self.market_names: list[str] = list(model.market_names)
        self.category_names: list[str] = list(model.category_names)
        self.timeline = list(model.config.timeline)  # the scheduled launches (the platform's own plans)
        self.log: list[dict[str, Any]] = []

    def policy(self, market: int) -> Policy:
        """The policy market ``market`` runs now (the platform's own levers)."""
        return self._model.policies[market]

    def set(self, controller: str, market: int, changes: dict[str, Any], day: int, change: str, reason: str) -> None:
        """Apply dotted-path ``changes`` to market ``market`` from the next day, and log it."""
        from sim.config import apply_policy_changes

        model = self._model
        model.set_market_policy(market, apply_policy_changes(model.policies[market], changes))
        self.log_only(controller, market, day, change, reason)

    def log_only(self, controller: str, market: int, day: int, change: str, reason: str) -> None:
        """Log an action that moves no lever (e.g. an escalation extended)."""
        model = self._model
        self.log.append({"day": day, "controller": controller, "market": self.market_names[market], "change": change,
                         "reason": reason})
        model.events.add("controller", day, market_code=market, controller=controller, change=change, reason=reason)

    def charge(self, market: int, cost: float) -> None:
        """Add ``cost`` to today's moderation cost in ``market`` (e.g. extra reviewers)."""
        if cost:
            self._model.counts.add("moderation_cost", np.array([market]), np.array([float(cost)]))


class Controller:
    """One controller kind; subclasses set ``name`` and ``config`` and override ``act``."""

    name: ClassVar[str]
    config: ClassVar[type[ControllerConfig]]

    def __init__(self, panel: ControlPanel, cfg: ControllerConfig) -> None:
        self.panel = panel
        self.cfg = cfg
        names = panel.market_names
        self.markets = [names.index(m) for m in (cfg.markets or names)]

    def begin_day(self, day: int) -> None:
        """Before the day's phases (e.g. pay for extra capacity in force today)."""

    def act(self, obs: Observed, signals: dict[str, SignalToday]) -> None:
        """After the day: read what was observed and move levers."""
        raise NotImplementedError


class ControllerSet:
    """The run's controllers, in scenario order, and their action log."""

    def __init__(self, model: LiveShopModel) -> None:
        from sim.platform.monitoring.registry import CONTROLLERS

        self.panel = ControlPanel(model)
        self.controllers: list[Controller] = [CONTROLLERS.get(c.kind)(self.panel, c) for c in model.config.controllers]

    def begin_day(self, day: int) -> None:
        for c in self.controllers:
            c.begin_day(day)

    def act(self, obs: Observed, signals: dict[str, SignalToday]) -> None:
        for c in self.controllers:
            c.act(obs, signals)

    def frame(self) -> pd.DataFrame:
        """One row per controller action: day, controller, market, change, reason."""
        frame = pd.DataFrame(self.panel.log, columns=list(ACTION_COLUMNS))
        frame["day"] = frame["day"].astype("int32")
        return frame
