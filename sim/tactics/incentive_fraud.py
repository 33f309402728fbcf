"""Incentive fraud (brushing): fake orders from colluding accounts push period GMV over a
programme's threshold; most are cancelled before settlement."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import numpy as np
from pydantic import Field, Strict

from sim.schema import Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import code, register

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["IncentiveFraud", "IncentiveFraudConfig"]


class IncentiveFraudConfig(TacticConfig):
    intensity: Share = 0.9
    report_visibility: Share = 0.05
    # Fake orders top the period GMV up to overshoot x the programme threshold.
    overshoot: Annotated[float, Strict(), Field(ge=0.0, le=10.0)] = 1.2
    cancel_rate: Share = 0.9
    brushing_cost: Share = 0.05


@register
class IncentiveFraud(TacticKind):
    """Fake orders worth the gap to the programme threshold, only while enrolled in a programme."""

    name = "incentive_fraud"
    config = IncentiveFraudConfig
    share = 0.005
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 3.0
    # Brushing up to 16 points (Lazada, L).
    points = (4.0, 16.0)

    def fake_order_cost(self, cfg: IncentiveFraudConfig) -> float:
        return cfg.brushing_cost

    def fake_cancel_rate(self, cfg: IncentiveFraudConfig) -> float:
        return cfg.cancel_rate

    def prepare(self, cfg: IncentiveFraudConfig, model: LiveShopModel, day: Day) -> None:
        """``day.fraud_target``: the GMV each enrolled fraudster fakes, the largest gap to
        qualify over the programmes in force that still offer a bonus (each programme type says
        what qualifying takes)."""
        for run, mask in day.enrolled.items():
            if not run.offers_bonus():
                continue
            target = run.fraud_target(mask, cfg.overshoot, cfg.cancel_rate)
            if target is not None:
                day.fraud_target = np.maximum(day.fraud_target, target)

    def may_violate(self, model: LiveShopModel, day: Day, creators: np.ndarray) -> np.ndarray:
        # Incentive fraud only pays while a programme the creator is enrolled in runs and still
        # offers a bonus (budget left, terms that pay).
        enrolled = np.zeros(model.creators.n, dtype=bool)
        for run, mask in day.enrolled.items():
            if run.offers_bonus():
                enrolled |= mask
        return enrolled[creators]

    def extra_orders(self, cfg: IncentiveFraudConfig, model: LiveShopModel, day: Day, streams: np.ndarray,
                     rng: np.random.Generator) -> dict[str, np.ndarray]:
        """One batch of fake orders per violating stream, worth about ``day.fraud_target`` of
        its creator; they carry no buyer (-1), no bad item, and are marked ``fake``."""
        s = day.streams
        creator = s.creator[streams]
        target = day.fraud_target[creator]
        cat = s.category[streams]
        market = s.market[streams]
        typical = np.exp(model.value_mu[cat]) * model.price_level[market]
        count = np.ceil(np.maximum(target, 0.0) / typical).astype(np.int64)
        idx = np.repeat(np.arange(streams.size), count)
        k = idx.size
        value = np.exp(model.value_mu[cat[idx]] + model.value_sigma[cat[idx]] * rng.standard_normal(k))
        value *= model.price_level[market[idx]]
        return {
            "buyer": np.full(k, -1, dtype=np.int64),
            "creator": creator[idx].astype(np.int64),
            "market": market[idx].astype(np.int16),
            "category": cat[idx].astype(np.int16),
            "value": value,
            "tactic": np.full(k, code(self.name), dtype=np.int8),
            "bad": np.zeros(k, dtype=bool),
            "offplatform": np.zeros(k, dtype=bool),
            "fake": np.ones(k, dtype=bool),
            "induced": np.zeros(k, dtype=bool),
        }
