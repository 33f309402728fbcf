"""The day context: everything one phase of a day hands to a later phase of the same day.

A step (``LiveShopModel.step``) opens a fresh :class:`Day` in ``begin_day`` and passes it to every
phase; nothing a phase leaves for another phase is stored anywhere else. So each phase is a
function ``phase(model, day)`` of the model's lasting state (creators, buyers, orders, ledger,
levers) and of the day, and can be run on a hand-built day in a test.

Who writes and who reads each field is part of the contract; a phase must not read a field
before the phase that writes it has run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.platform.timeline import IncentiveRun

__all__ = ["Day", "DayStreams", "RollingSum", "no_streams"]


@dataclass
class DayStreams:
    """The day's live streams (one per live creator) and what happened on them."""

    creator: np.ndarray  # creator row
    market: np.ndarray
    category: np.ndarray
    tactic: np.ndarray  # ground-truth violation label (Tactic code; 0 = clean)
    induced: np.ndarray  # went live only because of an incentive programme
    campaign: np.ndarray  # admitted to a campaign in force
    views: np.ndarray  # filled by recommend
    reports: np.ndarray  # buyer reports today (true and false), filled by settle
    false_reports: np.ndarray
    # Filled by the classifiers' live scan (governance):
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))  # highest classifier score
    reason: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # its violation type
    flagged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    keep_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # views kept if cut live


def no_streams() -> DayStreams:
    """A day on which nobody is live (before the first step, or before ``plan``)."""
    z = np.zeros(0, dtype=np.int64)
    return DayStreams(z, z, z, z.astype(np.int8), z.astype(bool), z.astype(bool), z, z, z)


def _empty() -> np.ndarray:
    return np.zeros(0)


@dataclass
class Day:
    """What the phases of one day hand to each other (one instance per step)."""

    # Creator totals at the start of the day ("earnings", "profit", "gmv", "complaints").
    # Written by begin_day; read by collect (the day's deltas for the rolling sums).
    start: dict[str, np.ndarray] = field(default_factory=dict)
    # The day's live streams. Written by plan (and governance's scan, the classifier fields);
    # views by recommend, reports by settle; read by every later phase and by governance
    # (through ``model.today``).
    streams: DayStreams = field(default_factory=no_streams)
    # Per creator, the campaigns in force ("admitted", "go_live", "boost", "conversion"; see
    # Timeline.campaign_effects). Written by plan; "boost" read by recommend, "conversion" by shop.
    campaign: dict[str, np.ndarray] = field(default_factory=dict)
    # Per active incentive programme, which creators are enrolled today (bool per creator).
    # Written by plan; read by shop (which orders count towards each programme's period GMV).
    enrolled: dict[IncentiveRun, np.ndarray] = field(default_factory=dict)
    # Per creator, the GMV an incentive fraudster tops up with fake orders today (0: none).
    # Written by plan; read by shop (fake orders).
    fraud_target: np.ndarray = field(default_factory=_empty)
    # One entry per view that happened: the viewing buyer and the stream (index into
    # ``streams``). Written by recommend; read by shop (conversion) and settle (viewer reports).
    view_buyer: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    view_stream: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    # Per creator, today's settled real on-platform orders that went well (no bad item, no refund).
    # Written by settle; read by the enforce phase (account health recovers with clean orders).
    clean_orders: np.ndarray = field(default_factory=_empty)


class RollingSum:
    """Per-creator sum over the last ``window`` days, growable as creators arrive.

    ``values`` holds one sum per creator pushed so far (a view of an over-allocated buffer, so a
    day with new creators costs no reallocation)."""

    def __init__(self, window: int, n: int) -> None:
        self.window = window
        cap = max(n, 16)
        self._ring = np.zeros((window, cap))
        self._sums = np.zeros(cap)
        self.values = self._sums[:n]
        self._slot = 0

    def push(self, today: np.ndarray) -> None:
        n = today.size
        if n > self._ring.shape[1]:
            cap = self._ring.shape[1]
            while cap < n:
                cap *= 2
            ring = np.zeros((self.window, cap))
            ring[:, : self._ring.shape[1]] = self._ring
            sums = np.zeros(cap)
            sums[: self._sums.size] = self._sums
            self._ring, self._sums = ring, sums
        if n > self.values.size:
            self.values = self._sums[:n]
        row = self._ring[self._slot, :n]
        self.values += today - row
        row[:] = today
        self._slot = (self._slot + 1) % self.window
