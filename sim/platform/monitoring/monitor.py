"""The monitor: each day, every ``[[signals]]`` entry measured per group and watched by its
detector, then every ``[[controllers]]`` entry acting on what was observed.

The monitor runs at the end of the day (after the day's metrics are collected), so it sees the
whole day and its controllers' changes apply from the next day. Both see only the day's
:class:`~sim.platform.monitoring.observed.Observed` (no ground truth) and draw no random
numbers. A scenario without signals or controllers has no monitor at all, so it runs exactly as
it did before monitoring existed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.platform.monitoring.config import SignalConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observed import Observed, Observer
from sim.platform.monitoring.registry import DETECTORS, OBSERVABLES

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["ALERT_COLUMNS", "Monitor", "NoMonitor", "SignalRun", "SignalToday", "alerts_frame"]

ALERT_COLUMNS = ("day", "signal", "group", "market", "category", "level", "age_band", "value", "count", "score",
                 "fired")


class SignalToday:
    """One signal's reading of one day: per group, the value, the count it rests on, the score, the alarm."""

    def __init__(self, run: SignalRun, value: np.ndarray, count: np.ndarray, score: np.ndarray,
                 fired: np.ndarray) -> None:
        self.run = run
        self.value, self.count, self.score, self.fired = value, count, score, fired

    def fired_groups(self) -> list[int]:
        return [int(g) for g in np.flatnonzero(self.fired)]


class SignalRun:
    """One signal of a run: its observable, groups, trailing sums and detector state."""

    def __init__(self, cfg: SignalConfig, market_names: list[str], category_names: list[str]) -> None:
        self.cfg = cfg
        self.grouping = Grouping(cfg.group_by, market_names, category_names, cfg.age_bands)
        self.observable = OBSERVABLES.get(cfg.observable.kind)(cfg.observable)
        self.detector = DETECTORS.get(cfg.detector.kind)(cfg.detector, self.grouping.n)
        self._parts: list[dict[str, np.ndarray]] = []

    def read(self, obs: Observed) -> SignalToday:
        """Today's value per group (over the window), its score and alarm."""
        self._parts.append(self.observable.parts(obs, self.grouping))
        window = self.cfg.observable.window_days
        if len(self._parts) > window:
            self._parts.pop(0)
        summed = {k: sum(p[k] for p in self._parts) for k in self._parts[-1]}
        value, count = self.observable.value(summed)
        value = np.where(count >= self.cfg.observable.min_count, value, np.nan)
        score, fired = self.detector.update(value)
        return SignalToday(self, value, count, score, fired)


class NoMonitor:
    """A scenario without signals or controllers: nothing is observed, nothing acts."""

    signals: tuple[SignalRun, ...] = ()
    controllers = None

    def begin_day(self, day: int) -> None:
        """Nothing to do."""

    def end_of_day(self) -> None:
        """Nothing to do."""


class Monitor(NoMonitor):
    """The run's signals and controllers, and the alerts they raised."""

    @classmethod
    def of(cls, model: LiveShopModel) -> NoMonitor:
        """The model's monitor: a :class:`Monitor` if its scenario has signals or controllers."""
        return cls(model) if model.config.signals or model.config.controllers else NoMonitor()

    def __init__(self, model: LiveShopModel) -> None:
        from sim.platform.controllers import ControllerSet

        self.model = model
        self.observer = Observer(model.n_markets)
        self.signals = [SignalRun(s, model.market_names, model.category_names) for s in model.config.signals]
        self.controllers = ControllerSet(model) if model.config.controllers else None
        self._rows: list[tuple[int, int, SignalToday]] = []

    def begin_day(self, day: int) -> None:
        """Before the day's phases: controllers put their changes for the day in force."""
        if self.controllers is not None:
            self.controllers.begin_day(day)

    def end_of_day(self) -> Observed:  # type: ignore[override]
        """After the day: observe, read every signal, let the controllers act."""
        from sim.platform.signals.base import PlatformView

        model = self.model
        obs = self.observer.observe(PlatformView(model), model.market_names, model.category_names)
        today: dict[str, SignalToday] = {}
        for i, run in enumerate(self.signals):
            reading = run.read(obs)
            today[run.cfg.name] = reading
            self._rows.append((obs.day, i, reading))
            fired = np.flatnonzero(reading.fired)
            if fired.size and model.events.enabled:
                g = run.grouping
                markets = [g.members["market"][k] for k in fired]
                model.events.add("alert", obs.day, market_code=[model.market_names.index(m) if m else -1 for m in markets],
                                 signal=run.cfg.name, group=[g.labels[k] for k in fired],
                                 value=reading.value[fired], score=reading.score[fired])
        if self.controllers is not None:
            self.controllers.act(obs, today)
        return obs

    def alerts(self) -> pd.DataFrame:
        """alerts.parquet: one row per day, signal and group (see :func:`alerts_frame`)."""
        return alerts_frame(self._rows, [s.cfg.name for s in self.signals], [s.grouping for s in self.signals])


def alerts_frame(rows: list[tuple[int, int, SignalToday]], names: list[str], groupings: list[Grouping]) -> pd.DataFrame:
    """One row per (day, signal, group): the observed value, the count it rests on, the detector's
    score and whether the signal fired; the group's market, category, level and age band (null
    where the signal does not group by it)."""
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=t) for c, t in zip(ALERT_COLUMNS, (
            "int32", "category", "string", "string", "string", "string", "string", "float64", "float64", "float64",
            "bool"), strict=True)})
    parts = []
    for day, i, r in rows:
        g = groupings[i]
        n = g.n
        parts.append(pd.DataFrame({
            "day": np.full(n, day, dtype=np.int32), "signal": names[i], "group": g.labels,
            **{d: g.members[d] for d in ("market", "category", "level", "age_band")},
            "value": r.value.astype(np.float64), "count": r.count.astype(np.float64),
            "score": r.score.astype(np.float64), "fired": r.fired.astype(bool),
        }))
    frame = pd.concat(parts, ignore_index=True)
    frame["signal"] = pd.Categorical(frame["signal"], categories=names)
    for col in ("group", "market", "category", "level", "age_band"):
        frame[col] = frame[col].astype("string")
    return frame
