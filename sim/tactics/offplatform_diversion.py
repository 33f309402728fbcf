"""Off-platform diversion: buyers are steered to pay outside the platform (no fee, no protection)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.schema import Multiplier, Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import register

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["OffplatformDiversion", "OffplatformDiversionConfig"]


class OffplatformDiversionConfig(TacticConfig):
    intensity: Share = 0.7
    conversion_lift: Multiplier = 1.1
    bad_outcome_rate: Share = 0.3
    harm_fraction: Share = 0.9
    report_visibility: Share = 0.5
    diversion_share: Share = 0.6
    illicit_margin: Share = 0.5


@register
class OffplatformDiversion(TacticKind):
    """A share of orders is paid off the platform; the creator keeps a margin on those."""

    name = "offplatform_diversion"
    config = OffplatformDiversionConfig
    share = 0.01
    opportunist = True
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 3.0
    # TikTok Shop LIVE policy (ID): misleading traffic / off-platform 2-24 points.
    points = (2.0, 24.0)

    def diversion_share(self, cfg: OffplatformDiversionConfig) -> float:
        return cfg.diversion_share

    def settle_gain(self, cfg: OffplatformDiversionConfig, model: LiveShopModel, orders: dict[str, np.ndarray],
                    mine: np.ndarray, on: np.ndarray, refunded: np.ndarray) -> np.ndarray:
        return np.where(mine & ~on, orders["value"] * cfg.illicit_margin, 0.0)
