"""Minor breaches: accidental low-severity violations by otherwise honest creators."""

from __future__ import annotations

from sim.schema import Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import register

__all__ = ["Minor", "MinorConfig"]


class MinorConfig(TacticConfig):
    # Honest creators' accidental low-severity breaches per stream.
    intensity: Share = 0.01
    bad_outcome_rate: Share = 0.05
    harm_fraction: Share = 0.2
    report_visibility: Share = 0.3


@register
class Minor(TacticKind):
    """The breach every honest creator may commit; not a creator type of its own."""

    name = "minor"
    config = MinorConfig
    typology = False
    accidental = True
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 2.7
    # Low quality 1-24 points (TikTok Shop seller centre, TH), kept to the low end.
    points = (1.0, 6.0)
