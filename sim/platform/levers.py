"""Per-market policy levers as arrays, so array code can index them by each item's market.

Rebuilt whenever a market's policy changes (a policy launch or a ramp on the timeline).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from sim.policy import Policy
from sim.tactics import names as tactic_names

__all__ = ["Levers"]


class Levers:
    """Numeric levers of each market's Policy, indexed ``[market]`` (or ``[market, x]``)."""

    def __init__(self, policies: Sequence[Policy], categories: Sequence[str]) -> None:
        self.policies = list(policies)

        def arr(get) -> np.ndarray:
            return np.array([get(p) for p in self.policies], dtype=float)

        self.referral_fee = arr(lambda p: p.referral_fee)
        # Prices relative to those the world is calibrated at, from the fee sellers pass on.
        self.fee_price_factor = arr(lambda p: (1.0 + p.fee_pass_through * p.referral_fee)
                                    / (1.0 + p.fee_pass_through * p.fee_reference))
        self.fee_price_elasticity = arr(lambda p: p.fee_price_elasticity)
        self.refund_protection = arr(lambda p: p.refund_protection)
        self.admin_fee_share = arr(lambda p: p.refund_admin_fee_share)
        self.admin_fee_cap = arr(lambda p: p.refund_admin_fee_cap)
        self.commission_cap = np.array(
            [[min(p.commission_cap_by_category.get(c, p.commission_cap), p.commission_cap) for c in categories]
             for p in self.policies]
        )
        self.pilot_days = arr(lambda p: p.pilot_days)
        self.pilot_followers_max = arr(lambda p: p.pilot_followers_max)
        self.pilot_traffic = arr(lambda p: p.pilot_traffic_multiplier)
        self.level_thresholds = np.array([p.level_thresholds for p in self.policies], dtype=float)
        rec = [p.recommender for p in self.policies]
        self.followers_exponent = np.array([r.followers_exponent for r in rec])
        self.engagement_exponent = np.array([r.engagement_exponent for r in rec])
        self.quality_exponent = np.array([r.quality_exponent for r in rec])
        self.exploration_days = np.array([r.exploration_days for r in rec], dtype=float)
        self.exploration_boost = np.array([r.exploration_boost for r in rec])
        self.quality_prior = np.array([r.quality_prior_orders for r in rec])
        # Exposure weight per (market, category) in sessions' category choice (1: not demoted);
        # None when no market demotes any category, so sessions draw exactly as without the lever.
        exposure = np.array([[r.category_exposure.get(c, 1.0) for c in categories] for r in rec], dtype=float)
        self.category_exposure: np.ndarray | None = exposure if np.any(exposure != 1.0) else None

        # Detection: separability per (market, tactic code); clean streams have none.
        det = [p.detection for p in self.policies]
        self.detection_on = np.array([d.enabled for d in det])
        self.threshold = np.array([d.threshold for d in det])
        names = tactic_names()
        # Per (market, classifier): the classifier of tactic code t is column t - 1.
        self.tactic_threshold = np.array([[d.threshold_by_tactic.get(n, d.threshold) for n in names[1:]] for d in det],
                                         dtype=float)
        self.dprime = np.zeros((len(det), len(names)))
        for m, d in enumerate(det):
            for t, name in enumerate(names[1:], start=1):
                self.dprime[m, t] = getattr(d.dprime, name) * d.dprime_scale
        self.interrupt_live = np.array([d.interrupt_live for d in det])
        self.interrupt_threshold = np.array([d.interrupt_threshold for d in det])
        self.report_threshold = np.array([d.report_threshold for d in det])
        self.complaint_threshold = np.array([d.complaint_threshold for d in det])

        rev = [p.review for p in self.policies]
        self.capacity = np.array([r.capacity_per_day for r in rev], dtype=np.int64)
        self.sensitivity = np.array([r.sensitivity for r in rev])
        self.specificity = np.array([r.specificity for r in rev])
        self.sla_days = np.array([r.sla_days for r in rev])
        self.age_weight = np.array([r.age_weight for r in rev])
        self.auto_latency = np.array([r.auto_action_latency_hours for r in rev])
        self.auto_threshold = np.array([r.auto_action_threshold if r.auto_action else np.inf for r in rev])
        self.cost_per_review = np.array([r.cost_per_review for r in rev])
        self.cost_per_auto = np.array([r.cost_per_auto_action for r in rev])

        app = [p.appeals for p in self.policies]
        self.appeal_window = np.array([a.window_days for a in app])
        self.appeal_rate_wrong = np.array([a.rate_if_wrong for a in app])
        self.appeal_rate_right = np.array([a.rate_if_right for a in app])
        self.appeal_decision_days = np.array([a.decision_days for a in app])
        self.appeal_early_share = np.array([a.early_share for a in app])
        self.overturn_wrong = np.array([a.overturn_if_wrong for a in app])
        self.overturn_right = np.array([a.overturn_if_right for a in app])
        self.cost_per_appeal = np.array([a.cost_per_appeal for a in app])

        onb = [p.onboarding for p in self.policies]
        self.kyc_strictness = np.array([o.kyc_strictness for o in onb])
        self.kyc_friction = np.array([o.kyc_friction for o in onb])
        # Per (market, category): whether the market sets a stricter check for the category, and
        # the strictness a new account of it faces, max(market's, category's). None when no market
        # sets one, so onboarding draws exactly as without the lever.
        by_category = np.array([[c in o.kyc_strictness_by_category for c in categories] for o in onb], dtype=bool)
        self.kyc_category_set: np.ndarray | None = by_category if by_category.any() else None
        self.kyc_category_strictness = np.array(
            [[max(o.kyc_strictness, o.kyc_strictness_by_category.get(c, 0.0)) for c in categories] for o in onb],
            dtype=float).reshape(len(onb), len(categories))
        self.pilot_clean = np.array([o.pilot_requires_clean_record for o in onb])
