"""What monitoring sees of one day: the platform's own observations, per creator and per market.

Signals and controllers receive an :class:`Observed` and nothing else. It is built from the
day's :class:`~sim.platform.signals.PlatformView` (which refuses ground-truth columns) and the
day counters the platform observes (``OBSERVED_COUNTERS``), so no signal or controller can read
who an account really is, what it really did, or how much harm it really caused: the split is
structural, not a convention. :class:`Observer` keeps the running totals of yesterday to turn
the creators' cumulative counters into today's flows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.platform.signals.base import PlatformView

__all__ = ["CREATOR_FLOWS", "MARKET_VALUES", "Observed", "Observer"]

# Per-creator flows of the day, from the creators' running totals the platform keeps.
_CUMULATIVE = ("gmv", "orders", "settled", "refunded", "complaints", "reports", "views", "streams")
# ... and from today's streams (classifier flags) and the decision log (appeals decided).
CREATOR_FLOWS: tuple[str, ...] = (*_CUMULATIVE, "flags", "appeals_decided", "overturns")
# Per-market values of the day: the review queue and how much review capacity was used.
MARKET_VALUES: tuple[str, ...] = ("backlog", "review_capacity", "capacity_used", "flags", "streams", "reports",
                                  "views", "settled", "refunded", "complaints", "appeal_decisions", "overturns")


@dataclass(frozen=True)
class Observed:
    """One day as the platform observed it (no ground truth).

    Creator arrays have one entry per account ever created (row order); ``flows`` holds today's
    per-creator counts (:data:`CREATOR_FLOWS`); ``market`` today's per-market values
    (:data:`MARKET_VALUES`), ``backlog_before`` the queue at the end of the day before.
    """

    day: int
    market_names: tuple[str, ...]
    category_names: tuple[str, ...]
    creator_market: np.ndarray
    creator_category: np.ndarray
    creator_level: np.ndarray
    age_days: np.ndarray  # days since the account joined (0 on the day it joined)
    present: np.ndarray  # still on the platform
    flows: dict[str, np.ndarray]
    market: dict[str, np.ndarray]
    backlog_before: np.ndarray

    @property
    def n_creators(self) -> int:
        return int(self.creator_market.size)


class Observer:
    """Builds each day's :class:`Observed` from the platform's view of the day."""

    def __init__(self, n_markets: int) -> None:
        self._totals: dict[str, np.ndarray] = {k: np.zeros(0, dtype=np.float64) for k in _CUMULATIVE}
        self._backlog = np.zeros(n_markets)

    def observe(self, view: PlatformView, market_names: list[str], category_names: list[str]) -> Observed:
        """Today's observations (call once a day, at the end of the day)."""
        n = view.n_creators
        flows: dict[str, np.ndarray] = {}
        for k in _CUMULATIVE:
            now = view.col(k).astype(np.float64)
            before = self._totals[k]
            flow = now.copy()
            flow[: before.size] -= before
            flows[k] = flow
            self._totals[k] = now
        s = view.streams
        flows["flags"] = np.bincount(s.creator[s.flagged], minlength=n).astype(np.float64)
        decided = view.decision("appeal_decided_day") == view.day
        creator = view.decision("creator")
        appeal = view.decision("appeal")
        flows["appeals_decided"] = np.bincount(creator[decided], minlength=n).astype(np.float64)
        flows["overturns"] = np.bincount(creator[decided & (appeal == 4)], minlength=n).astype(np.float64)
        backlog = view.backlog()
        market = {"backlog": backlog.copy()}
        for k in MARKET_VALUES[1:]:
            market[k] = view.counter(k)
        before, self._backlog = self._backlog, backlog.copy()
        return Observed(
            day=view.day,
            market_names=tuple(market_names),
            category_names=tuple(category_names),
            creator_market=view.col("market").astype(np.int64),
            creator_category=view.col("category").astype(np.int64),
            creator_level=view.col("level").astype(np.int64),
            age_days=(view.day - view.col("joined_day")).astype(np.int64),
            present=view.present().copy(),
            flows=flows,
            market=market,
            backlog_before=before,
        )
