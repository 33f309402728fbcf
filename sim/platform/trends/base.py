"""The contract between the timeline and one kind of abuse trend, and what trends change.

A trend runs from its onset (``start_day``) in its markets: before each day of its ramp (days
``start_day`` to ``end_day``) the timeline calls ``ramp(day, before, level)`` with the share of
its full size in force that day (``Trend.level_on``: 1/days on the onset day, 1 from
``end_day`` on); a kind acts on the creators (switching tactics, adding accounts) or sets what
it changes in the model's ``WorldShift``, which the phases read. Nothing of a trend is visible
to the platform: the affected group is recorded apart (``record``, ``trends.parquet`` and the
run's ``summary.json``), with the accounts it touched marked in the creators' ``trend`` column,
as ground truth for monitoring signals.

Random draws come from the trend's own sub-stream of the ``trend`` stream (one per timeline
entry and day), so a trend never shifts another component's draws: paired runs with and
without it are identical before its onset.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import pandas as pd
from mesa.time import Schedule

from sim.config import Trend
from sim.seeding import day_stream
from sim.state import CREATORS, Column, declare
from sim.tactics import code as tactic_code
from sim.tactics import creator_type_names
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["TREND_FIELDS", "TrendRun", "WorldShift", "trends_frame"]

# Which trend (index in the scenario's trends, in timeline order) changed an account: an adopter
# of an adoption wave, a cohort's new account; -1 for none. Ground truth, never read by a phase.
declare(CREATORS, __name__, Column("trend", np.int16, -1, doc="index of the trend that changed this account (-1: none)"))

# The columns of trends.parquet, one row per trend.
TREND_FIELDS: tuple[str, ...] = (
    "name", "trend", "tactic", "onset_day", "ramp_days", "full_day", "markets", "categories", "creator_types",
    "parameter", "value", "accounts",
)


class WorldShift:
    """What the trends in force change that the day's phases read.

    ``dprime_loss`` (market, creator type, tactic code): how much separability the classifier
    of each tactic has lost against the streams of each creator type (evasion); the
    classifiers score with ``max(d' - loss, 0)``. ``violation_factor`` (market, category,
    tactic code): factor on the chance a stream of that tactic in that category violates
    (category shocks; the chance is capped at 1). Each is None while no trend sets it, and
    then read by no phase, so a run without trends runs exactly as before.
    """

    def __init__(self, model: LiveShopModel) -> None:
        self.shape = (model.n_markets, len(creator_type_names()), model.n_categories, len(tactic_names()))
        self.dprime_loss: np.ndarray | None = None
        self.violation_factor: np.ndarray | None = None
        self._losses: dict[int, np.ndarray] = {}
        self._factors: dict[int, np.ndarray] = {}

    def set_dprime_loss(self, trend: int, loss: np.ndarray) -> None:
        """Trend ``trend``'s loss of separability today (losses of several trends add up)."""
        self._losses[trend] = loss
        self.dprime_loss = sum(self._losses[k] for k in sorted(self._losses))

    def set_violation_factor(self, trend: int, factor: np.ndarray) -> None:
        """Trend ``trend``'s factor on violation chances today (factors of several trends multiply)."""
        self._factors[trend] = factor
        out = np.ones_like(factor)
        for k in sorted(self._factors):
            out = out * self._factors[k]
        self.violation_factor = out


class TrendRun:
    """One running trend of a registered kind.

    Subclasses set ``name`` (the config's ``trend``) and ``config`` (a ``Trend`` subclass whose
    ``trend`` is ``Literal[name]``), override ``ramp``, and say what their size is
    (``parameter``) and which group they affect (``categories``, ``creator_types``).
    """

    name: ClassVar[str]
    config: ClassVar[type[Trend]]
    # The config field that sets the trend's full size (recorded in trends.parquet).
    parameter: ClassVar[str] = ""

    def __init__(self, model: LiveShopModel, cfg: Trend) -> None:
        self.model = model
        self.cfg = cfg
        self.index = [e.name for e in model.config.timeline if e.kind == "trend"].index(cfg.name)
        names = model.market_names
        chosen = cfg.markets or names
        self.market_mask = np.array([n in chosen for n in names])
        self.tactic = tactic_code(cfg.tactic)
        self.level = 0.0
        self.accounts = 0

    def schedule(self) -> None:
        """Put each day of the ramp on the model's event list (half a day before the day)."""
        cfg = self.cfg
        self.model.schedule_recurring(self.step, Schedule(interval=1, start=cfg.start_day - 0.5, count=cfg.days))

    def step(self) -> None:
        """Before one day of the ramp: move to that day's level."""
        day = round(self.model.time + 0.5)
        before, self.level = self.level, self.cfg.level_on(day)
        self.ramp(day, before, self.level)

    def rng(self, day: int) -> np.random.Generator:
        """This trend's generator for ``day`` (its own sub-stream of the ``trend`` stream)."""
        return day_stream(self.model.seed_sequence, "trend", day, self.index)

    # -- hooks ---------------------------------------------------------------------------

    def ramp(self, day: int, before: float, level: float) -> None:
        """Before ``day`` begins: the trend moves from ``before`` to ``level`` of its full size."""
        raise NotImplementedError

    def categories(self) -> list[str]:
        """Categories of the affected group (default: every category)."""
        return list(self.model.category_names)

    def creator_types(self) -> list[str]:
        """Creator types of the affected group (default: every type)."""
        return list(creator_type_names())

    # -- the record ------------------------------------------------------------------------

    def mark(self, rows: np.ndarray | slice) -> None:
        """Accounts ``rows`` were changed by this trend (the ground truth of its group)."""
        self.model.creators.col("trend")[rows] = self.index

    def record(self) -> dict[str, Any]:
        """This trend's row of trends.parquet: what, where, from when, whom."""
        cfg = self.cfg
        markets = [n for n, on in zip(self.model.market_names, self.market_mask, strict=True) if on]
        return {
            "name": cfg.name,
            "trend": cfg.trend,
            "tactic": cfg.tactic,
            "onset_day": cfg.start_day,
            "ramp_days": cfg.days,
            "full_day": cfg.end_day,
            "markets": markets,
            "categories": self.categories(),
            "creator_types": self.creator_types(),
            "parameter": self.parameter,
            "value": float(getattr(cfg, self.parameter)) if self.parameter else float("nan"),
            "accounts": int(self.accounts),
        }

    # -- helpers for kinds -----------------------------------------------------------------

    def group_mask(self) -> np.ndarray:
        """Present accounts in the trend's markets, categories and creator types (bool per creator)."""
        model = self.model
        c = model.creators
        cats = np.array([n in self.categories() for n in model.category_names])
        types = np.array([n in self.creator_types() for n in creator_type_names()])
        return c.present_mask() & self.market_mask[c.col("market")] & cats[c.col("category")] & types[c.col("ctype")]


def trends_frame(records: list[dict[str, Any]]) -> pd.DataFrame:
    """trends.parquet: one row per trend (``TrendRun.record``), in timeline order."""
    frame = pd.DataFrame(records, columns=list(TREND_FIELDS))
    for col in ("onset_day", "ramp_days", "full_day", "accounts"):
        frame[col] = frame[col].astype("int64")
    frame["value"] = frame["value"].astype("float64")
    return frame
