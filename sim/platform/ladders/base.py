"""The contract between the Enforcer and one kind of enforcement ladder.

A ladder kind decides only how a creator's *standing* moves: where it starts, what a confirmed
violation adds (and when that lapses), which milestones a move crosses, and what happens to it
day by day. Everything else (the decision log, sanctions, commission, bans, appeals) belongs to
the Enforcer and is the same for every kind, so a new kind is one class in one file.

Hooks are vectorised: they receive the arrays of one market's decisions or creators and must
not draw random numbers (the Enforcer owns the draws, so adding a kind never shifts a stream).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

import numpy as np

if TYPE_CHECKING:
    from sim.policy import LadderConfig

__all__ = ["LadderKind"]


class LadderKind:
    """One kind of enforcement ladder, registered by the ``kind`` name of its config class.

    Subclasses set ``name`` (the config's ``kind``) and ``config`` (a ``LadderConfig``
    subclass whose ``kind`` is ``Literal[name]``) and override ``score``; the other hooks have
    the defaults of a ladder that starts at 0, rises with each decision and never recovers.
    """

    name: ClassVar[str]
    config: ClassVar[type[LadderConfig]]

    def start(self, e: LadderConfig) -> float:
        """The standing of a new account (and of every account when a market switches kind)."""
        return 0.0

    def score(self, e: LadderConfig, severity: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray, int]:
        """For decisions of severity ``severity`` (drawn from ``e.points`` ranges) taken on
        ``day``: the points logged, the change to the standing, and the day the change lapses
        (-1: never; the Enforcer then gives the change back)."""
        raise NotImplementedError(f"ladder kind {self.name!r} does not say how a decision scores")

    def bound(self, e: LadderConfig, before: np.ndarray, after: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Running standings before and after each decision, held within the ladder's range
        (decisions of one creator are consecutive, in order). Default: unbounded."""
        return before, after

    def crosses(self, e: LadderConfig, before: np.ndarray, after: np.ndarray, at: float) -> np.ndarray:
        """Which moves reach milestone ``at``. Default: a rising ladder (points, tiers)."""
        return (before < at) & (after >= at)

    def milestones_reached(self, e: LadderConfig, before: np.ndarray, after: np.ndarray) -> np.ndarray:
        """Index of the most severe milestone each move crosses (-1: none); later milestones
        in ``e.milestones`` are the more severe ones."""
        reached = np.full(before.size, -1, dtype=np.int8)
        for i, ms in enumerate(e.milestones):
            reached[self.crosses(e, before, after, ms.at)] = i
        return reached

    def resets(self, e: LadderConfig, day: int) -> bool:
        """Whether every standing of the market returns to ``start`` on ``day`` (decisions so
        far then stop counting). Default: never."""
        return False

    def recover(self, e: LadderConfig, members: np.ndarray, value: np.ndarray, clean_orders: np.ndarray) -> None:
        """Daily recovery: update ``value`` (every creator's standing) in place for the
        creators where ``members`` is true, given yesterday's clean orders per creator (may be
        shorter than ``value``). Default: none."""
