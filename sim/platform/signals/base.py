"""The contract between governance and one detection signal source.

A signal source is how the platform *notices* a possible violation: a classifier flag, a pile of
user reports, a spike of complaints. The platform never sees a violation itself, so a source
reads a :class:`PlatformView` of the day, which holds only what the platform can observe
(stream scores, report and complaint counts, its own records and decisions) and refuses ground
truth (creator type, tactic, the true labels of its decisions). Governance attaches the ground
truth a reviewer would uncover to each flag afterwards, so a new source is one class that never
touches the labels.

A source says what it saw in one of two shapes:

- :class:`StreamSignal`, about today's live streams (one entry per stream): which it flags, its
  evidence for every stream (added to the risk score of any item about that stream) and the
  violation type it points at;
- :class:`CreatorFlags`, about accounts rather than one stream (a complaint spike): which
  creators, a score each and the violation type it points at.

Sources do not draw random numbers (the classifier's noisy scores are drawn in ``plan``'s live
scan, from the ``detect`` stream), so adding a source never shifts a random stream.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from sim.day import DayStreams
    from sim.model import LiveShopModel
    from sim.platform.levers import Levers
    from sim.policy import Policy

__all__ = ["HIDDEN_CREATOR_COLUMNS", "HIDDEN_DECISION_COLUMNS", "OBSERVED_COUNTERS", "CreatorFlags", "PlatformView", "SignalSource",
           "StreamSignal", "VisibleStreams"]

# Creator columns a source may not read: who the account really is and what it really did.
HIDDEN_CREATOR_COLUMNS: frozenset[str] = frozenset({
    "ctype", "tactic", "intensity", "actor", "quality", "skill", "profit", "violating_streams",
    "bad_outcomes", "last_violation_day", "last_violation_label", "last_violation_hour", "last_actioned_violation",
    "action", "profit_mark", "penalty_accum", "mark_day",
})
# Decision-log columns a source may not read: whether the platform was right.
HIDDEN_DECISION_COLUMNS: frozenset[str] = frozenset({"label", "real", "actor"})
# Day counters (per market) the platform keeps about its own operations and what buyers told it;
# the others (violating views, true flags, decisions on real violations, buyer harm, adversary
# profit ...) are ground truth.
OBSERVED_COUNTERS: frozenset[str] = frozenset({
    "gmv", "orders", "settled", "refunded", "refund_value", "complaints", "reports", "views", "streams", "flags",
    "reviews", "auto_actions", "actions", "appeals", "appeal_decisions", "overturns", "review_capacity",
    "capacity_used", "expired_items", "moderation_cost", "bans",
})


@dataclass(frozen=True)
class VisibleStreams:
    """Today's live streams as the platform sees them (no true label, no count of false reports)."""

    creator: np.ndarray  # creator row
    market: np.ndarray
    category: np.ndarray
    campaign: np.ndarray  # admitted to a campaign in force
    views: np.ndarray
    reports: np.ndarray  # buyer reports today (the platform cannot tell true from false)
    score: np.ndarray  # highest classifier score (the classifiers' noisy view of the truth)
    reason: np.ndarray  # the violation type of that score (tactic code, sim.tactics)
    flagged: np.ndarray  # the score crossed the market's threshold (detection on)

    @property
    def size(self) -> int:
        return int(self.creator.size)


class PlatformView:
    """What the platform can observe on the current day, and nothing else.

    ``col`` and ``decision`` return the live arrays (a source may update the records it owns,
    such as ``last_complaint_flag``) but refuse hidden columns with a ``KeyError``.
    """

    def __init__(self, model: LiveShopModel) -> None:
        s: DayStreams = model.today
        self._model = model
        self.day: int = model.day
        self.n_markets: int = model.n_markets
        self.levers: Levers = model.levers
        self.policies: list[Policy] = model.policies
        self.streams = VisibleStreams(s.creator, s.market, s.category, s.campaign, s.views, s.reports,
                                      s.score, s.reason, s.flagged)
        # Complaints about each creator over the last 7 days (may be shorter than ``n_creators``).
        self.complaints_7d: np.ndarray = model.complaints_7d.values

    @property
    def n_creators(self) -> int:
        return self._model.creators.n

    def col(self, name: str) -> np.ndarray:
        """A creator column the platform keeps (market, state, refunded, complaints, ...)."""
        if name in HIDDEN_CREATOR_COLUMNS:
            raise KeyError(f"creator column {name!r} is ground truth the platform cannot see")
        return self._model.creators.col(name)

    def present(self) -> np.ndarray:
        """Accounts still on the platform (not churned, not banned)."""
        return self._model.creators.present_mask()

    def backlog(self) -> np.ndarray:
        """Items waiting in each market's review queue (the platform's own queue)."""
        return self._model.governance.backlog()

    def counter(self, name: str) -> np.ndarray:
        """Today's value of a day counter per market, if the platform observes it (``OBSERVED_COUNTERS``)."""
        if name not in OBSERVED_COUNTERS:
            raise KeyError(f"day counter {name!r} is not observed by the platform")
        return getattr(self._model.counts, name).copy()

    def decision(self, name: str) -> np.ndarray:
        """A column of the platform's decision log (who, when, why, sanction, appeal)."""
        if name in HIDDEN_DECISION_COLUMNS:
            raise KeyError(f"decision column {name!r} is ground truth the platform cannot see")
        return self._model.governance.enforcer.log.col(name)


@dataclass
class StreamSignal:
    """A source's view of today's streams: one entry per stream of ``PlatformView.streams``."""

    flag: np.ndarray  # bool: the stream becomes a review item
    score: np.ndarray  # float: evidence added to the risk score of any item about the stream
    reason: np.ndarray  # int: the violation type pointed at (tactic code, sim.tactics); 0: none named


@dataclass
class CreatorFlags:
    """A source's flags on accounts (not on one stream): creator rows, ascending."""

    creator: np.ndarray  # creator rows
    score: np.ndarray  # float: the item's risk score
    reason: np.ndarray  # int: the violation type pointed at (tactic code, sim.tactics); 0: none named


class SignalSource:
    """One detection signal source, registered by ``name``.

    Subclasses set ``name`` and override ``observe``. ``proactive`` says whether the platform
    found the item itself (before any user told it); ``auto_action`` whether an item of this
    source scoring above the market's auto-action threshold is decided without review.
    Governance makes one instance per model, so a source may keep state between days.
    """

    name: ClassVar[str]
    proactive: ClassVar[bool] = False
    auto_action: ClassVar[bool] = False

    def observe(self, view: PlatformView) -> StreamSignal | CreatorFlags:
        """Today's flags, from what the platform can see (markets with detection off are
        dropped by governance afterwards)."""
        raise NotImplementedError(f"signal source {self.name!r} does not say what it observes")
