"""Misleading claims (overclaiming): promises that work on susceptible buyers and then disappoint."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.schema import Multiplier, Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import register

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["MisleadingClaims", "MisleadingClaimsConfig"]


class MisleadingClaimsConfig(TacticConfig):
    intensity: Share = 0.8
    # For a fully susceptible buyer; scaled by each buyer's susceptibility.
    conversion_lift: Multiplier = 2.5
    bad_outcome_rate: Share = 0.35
    harm_fraction: Share = 0.5
    report_visibility: Share = 0.6


@register
class MisleadingClaims(TacticKind):
    """Overclaiming: conversion lifted for susceptible buyers."""

    name = "misleading_claims"
    config = MisleadingClaimsConfig
    share = 0.02
    opportunist = True
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 3.3
    # TikTok Shop seller centre (TH): overclaiming 2-24 points.
    points = (2.0, 24.0)

    def conversion(self, cfg: MisleadingClaimsConfig, model: LiveShopModel, buyers: np.ndarray) -> np.ndarray:
        return 1.0 + (cfg.conversion_lift - 1.0) * model.buyers.col("susceptibility")[buyers]
