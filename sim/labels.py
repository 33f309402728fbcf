"""Integer codes for creator types, tactics (violation labels) and account states.

Arrays store these codes; names appear only at the edges (config, output files).
"""

from __future__ import annotations

from enum import IntEnum

__all__ = ["ADVERSARY_TYPES", "TACTIC_OF_TYPE", "CreatorState", "CreatorType", "Tactic"]


class CreatorType(IntEnum):
    """Who the creator is: the ground truth the platform never sees directly."""

    honest = 0
    opportunist = 1
    counterfeit = 2
    misleading_claims = 3
    fake_engagement = 4
    offplatform_diversion = 5
    incentive_fraud = 6
    ban_evader = 7


class Tactic(IntEnum):
    """What a stream does: its ground-truth violation label (``none`` for a clean stream)."""

    none = 0
    counterfeit = 1
    misleading_claims = 2
    fake_engagement = 3
    offplatform_diversion = 4
    incentive_fraud = 5
    minor = 6  # accidental low-severity breach by an otherwise honest creator


class CreatorState(IntEnum):
    """Account lifecycle. A live-selling suspension is a timer on top of it (``suspended``)."""

    pilot = 0  # small new creator in the pilot programme
    active = 1
    churned = 2  # left of their own accord
    banned = 3  # removed by the platform (governance)


ADVERSARY_TYPES: tuple[CreatorType, ...] = tuple(
    t for t in CreatorType if t not in (CreatorType.honest, CreatorType.opportunist)
)

# The tactic each adversary type uses when it violates. Ban evaders carry one of the other
# adversarial tactics, drawn at creation; opportunists pick theirs by profit.
TACTIC_OF_TYPE: dict[CreatorType, Tactic] = {
    CreatorType.counterfeit: Tactic.counterfeit,
    CreatorType.misleading_claims: Tactic.misleading_claims,
    CreatorType.fake_engagement: Tactic.fake_engagement,
    CreatorType.offplatform_diversion: Tactic.offplatform_diversion,
    CreatorType.incentive_fraud: Tactic.incentive_fraud,
}
