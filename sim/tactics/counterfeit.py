"""Counterfeit goods: cheap fakes that sell to price-sensitive buyers and mostly disappoint.

Counterfeits are up to 2.5 % of world trade (OECD/EUIPO 2021, H). The seller keeps an illicit
margin on each fake that is not refunded and loses the goods' cost on each one that is.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.schema import Multiplier, Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import register

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Counterfeit", "CounterfeitConfig"]


class CounterfeitConfig(TacticConfig):
    intensity: Share = 0.8
    # For a fully price-sensitive buyer; scaled by each buyer's price sensitivity.
    conversion_lift: Multiplier = 1.3
    bad_outcome_rate: Share = 0.55
    harm_fraction: Share = 0.8
    report_visibility: Share = 0.8
    illicit_margin: Share = 0.45
    cost_of_goods: Share = 0.15


@register
class Counterfeit(TacticKind):
    """Cheap fakes: conversion lifted for price-sensitive buyers; margin kept unless refunded."""

    name = "counterfeit"
    config = CounterfeitConfig
    share = 0.025
    opportunist = True
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 4.0
    # TikTok Shop seller centre (TH): counterfeit 4-48 points.
    points = (4.0, 48.0)
    # Counterfeiters sell low-quality goods.
    goods_quality = 0.6

    def conversion(self, cfg: CounterfeitConfig, model: LiveShopModel, buyers: np.ndarray) -> np.ndarray:
        return 1.0 + (cfg.conversion_lift - 1.0) * model.buyers.col("price_sensitivity")[buyers]

    def settle_gain(self, cfg: CounterfeitConfig, model: LiveShopModel, orders: dict[str, np.ndarray],
                    mine: np.ndarray, on: np.ndarray, refunded: np.ndarray) -> np.ndarray:
        value = orders["value"]
        gain = np.where(mine & on & ~refunded, value * cfg.illicit_margin, 0.0)
        gain -= np.where(mine & refunded, value * cfg.cost_of_goods, 0.0)
        return gain
