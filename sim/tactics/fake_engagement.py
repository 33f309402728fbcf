"""Fake engagement: bought viewers and likes that fool the recommender into more traffic.

Bought reviews are mostly for low-quality products (He, Hollenbeck & Proserpio 2022).
"""

from __future__ import annotations

from sim.schema import Money, Multiplier, Share
from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import register

__all__ = ["FakeEngagement", "FakeEngagementConfig"]


class FakeEngagementConfig(TacticConfig):
    intensity: Share = 0.9
    bad_outcome_rate: Share = 0.12
    harm_fraction: Share = 0.4
    report_visibility: Share = 0.2
    engagement_boost: Multiplier = 3.0
    # Bots and likes bought per stream, at a price level of 1 (scaled by the market's).
    cost_per_stream: Money = 15.0


@register
class FakeEngagement(TacticKind):
    """Bought engagement: the recommender's engagement signal is boosted, at a cost per stream."""

    name = "fake_engagement"
    config = FakeEngagementConfig
    share = 0.015
    opportunist = True
    # d' calibrated with the others so that about 88 % of actioned violations are found by
    # classifiers before any report (TikTok EU DSA report 2023, H); no classifier figures are published.
    separability = 3.7
    # Not listed by TikTok Shop: treated like misleading traffic (2-24 points).
    points = (2.0, 24.0)
    goods_quality = 0.6

    def engagement_boost(self, cfg: FakeEngagementConfig) -> float:
        return cfg.engagement_boost

    def stream_cost(self, cfg: FakeEngagementConfig) -> float:
        return cfg.cost_per_stream
