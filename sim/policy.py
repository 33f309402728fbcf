"""The platform's levers: commerce rules, the recommender, and the governance pipeline.

A ``Policy`` is a frozen value. A scenario sets one under ``[policy]`` (optionally starting from
a named preset in ``scenarios/policies/``), may override it per market under
``[policy_overrides.<market>]``, and may change any lever from a given day with a ``policy``
timeline event (or move a numeric one gradually with a ``ramp``). Each market always runs one complete, validated Policy.

Governance levers follow real platforms (shared domain facts):
- detection: a binormal-ROC classifier per violation type (separability d', threshold);
- review: a daily capacity per market, a prioritisation rule, reviewer accuracy and an SLA;
- enforcement: ``health_score`` (TikTok Shop CHR/AHR), ``points`` (TikTok Shop SEA points)
  or ``tiers`` (Shopee), each with milestones that trigger graduated sanctions (each kind's
  strategy lives in ``sim/platform/ladders/``; a kind registered there is accepted here too);
- appeals: a window (30 days for creators; at least 6 months under the DSA) and a review;
- onboarding: KYC strictness against ban-evader re-entry, and the pilot programme.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import (
    Field,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    Strict,
    StrictBool,
    ValidatorFunctionWrapHandler,
    WrapSerializer,
    WrapValidator,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from sim.schema import Budget, Count, Days, Followers, Money, Multiplier, Share, StrictModel
from sim.tactics import TacticKind
from sim.tactics import kinds as tactic_kinds
from sim.tactics import names as tactic_names
from sim.tactics.keyed import KeyedByTactic, number_adapter

__all__ = [
    "Appeals",
    "Detection",
    "Enforcement",
    "HealthScoreLadder",
    "LadderConfig",
    "Milestone",
    "Onboarding",
    "PointsLadder",
    "Policy",
    "Recommender",
    "Review",
    "Sanction",
    "TiersLadder",
    "violation_names",
]

def violation_names() -> tuple[str, ...]:
    """Violation types the platform detects and sanctions: the registered tactics (``sim.tactics``)."""
    return tactic_names()[1:]


ZScore = Annotated[float, Strict(), Field(ge=-10.0, le=20.0)]
_DPRIME = number_adapter(Annotated[float, Strict(), Field(ge=0.0, le=10.0)])
PointRange = tuple[Annotated[float, Strict(), Field(ge=0.0, le=1000.0)], Annotated[float, Strict(), Field(ge=0.0, le=1000.0)]]


class Recommender(StrictModel):
    """How stream scores turn into traffic."""

    followers_exponent: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 1.2
    engagement_exponent: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 1.0
    quality_exponent: Annotated[float, Strict(), Field(ge=0.0, le=5.0)] = 1.5
    exploration_days: Annotated[int, Strict(), Field(ge=0, le=365)] = 14
    exploration_boost: Multiplier = 2.0
    # Weight of observed outcomes (refunds, complaints) in the platform's quality estimate.
    # A prior worth up to a million orders: beyond that observed outcomes never matter.
    quality_prior_orders: Annotated[float, Strict(), Field(gt=0.0, le=1e6)] = 20.0
    # Demotion of whole categories in this market: a session shopping a buyer's first or second
    # category picks between them in proportion to primary_category_weight x exposure (a weight
    # in (0, 1], default 1), so a demoted category loses sessions to the buyer's other category
    # (docs/model.md §7.3). Empty: no category demoted.
    category_exposure: dict[str, Annotated[float, Strict(), Field(gt=0.0, le=1.0)]] = Field(default_factory=dict)


class Separability(KeyedByTactic):
    """Classifier separability d' per violation type, defaulting to what each tactic declares
    (no published live-commerce figures: these are assumptions to sweep; counterfeits and
    bought engagement leave clearer traces than overclaiming or off-platform nudges)."""

    @classmethod
    def entry(cls, kind: TacticKind, value: Any) -> float:
        return _DPRIME.validate_python(value)

    @classmethod
    def default(cls, kind: TacticKind) -> float:
        return kind.separability


class Detection(StrictModel):
    """Automated classifiers, user reports and complaint spikes."""

    # false: no detection at all (no classifiers, reports or complaint flags): an unenforced market.
    enabled: StrictBool = True
    # Each classifier scores a clean stream N(0, 1) and a violating one N(d' x scale, 1); a
    # stream is flagged when a score exceeds the threshold (the policy lever).
    threshold: ZScore = 2.5
    # A threshold for one violation type's classifier instead of ``threshold`` (e.g. a lower one
    # where that classifier is being evaded). Empty: every classifier uses ``threshold``.
    threshold_by_tactic: dict[str, ZScore] = Field(default_factory=dict)
    dprime: Separability = Field(default_factory=Separability)
    # Localisation: a classifier not yet tuned for a market's language works at a fraction of
    # its separability (ramp it with a ``ramp`` timeline event).
    dprime_scale: Annotated[float, Strict(), Field(ge=0.0, le=5.0)] = 1.0
    # Real-time interruption: a live stream scoring above this is cut; the rest of its views
    # do not happen.
    interrupt_live: StrictBool = False
    interrupt_threshold: ZScore = 3.5
    # User reports: a stream with at least this many reports is queued for review.
    report_threshold: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 1
    # Complaint spikes: a creator with this many complaints in 7 days is queued for review.
    complaint_threshold: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 3

    @field_validator("threshold_by_tactic")
    @classmethod
    def _known_tactics(cls, value: dict[str, float]) -> dict[str, float]:
        allowed = violation_names()
        for name in value:
            if name not in allowed:
                raise PydanticCustomError("unknown_tactic", "unknown violation type {name!r}; allowed: {allowed}",
                                          {"name": name, "allowed": ", ".join(allowed)})
        return value


class Review(StrictModel):
    """Human review of flagged streams."""

    capacity_per_day: Count = 150
    # fifo: oldest first; risk: highest classifier score first; reach: most views first.
    priority: Literal["fifo", "risk", "reach"] = "risk"
    sensitivity: Share = 0.9
    specificity: Share = 0.97
    # Items not reviewed within the SLA expire unactioned.
    sla_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 7
    # Under ``risk`` an item ranks by its risk score (classifier score, below the threshold for a
    # report-only item, + 0.01 per report) + age_weight x days waited, so an item with weaker
    # evidence rises as it waits instead of starving: at 0.5 a day an item one z-unit below a
    # fresh flag overtakes it after 2 days, a report on a stream scoring 0 overtakes a fresh flag
    # at the 2.5 threshold after 5, inside the 7-day SLA. 0: score alone. Higher weights trade
    # speed on strong flags for fairness (docs/model.md §7.18 has the measured trade-off).
    # ASSUMPTION (no published weight).
    age_weight: Annotated[float, Strict(), Field(ge=0.0, le=100.0)] = 0.5
    # Hours from a classifier flag to its auto-action (decided without review). ASSUMPTION:
    # automated removals follow within minutes (automation goes with speed: Papaevangelou &
    # Votta 2025, M, domain-facts §3).
    auto_action_latency_hours: Annotated[float, Strict(), Field(ge=0.0, le=24.0)] = 0.25
    # Flags scoring above the threshold are actioned automatically, without review.
    auto_action: StrictBool = True
    auto_action_threshold: ZScore = 4.5
    # Costs per item at price level 1: up to a million.
    cost_per_review: Money = 3.0
    cost_per_auto_action: Money = 0.05


class Sanction(StrictModel):
    """What reaching a milestone does to the creator (durations in days)."""

    warning: StrictBool = True
    traffic_multiplier: Annotated[float, Strict(), Field(ge=0.0, le=1.0)] = 1.0
    traffic_days: Days = 0
    campaign_ban_days: Days = 0
    incentive_ban_days: Days = 0
    suspension_days: Days = 0
    commission: Literal["none", "freeze", "forfeit"] = "none"
    ban: StrictBool = False


class Milestone(StrictModel):
    """A ladder level and the sanction applied when a creator reaches it."""

    at: Annotated[float, Strict(), Field(ge=0.0, le=100_000.0)]
    sanction: Sanction


# Points by reason, as each tactic declares them (sim/tactics/): TikTok Shop seller centre (TH)
# and LIVE policy (ID): counterfeit 4-48, overclaiming 2-24, misleading traffic / off-platform
# 2-24, low quality 1-24; brushing up to 16 (Lazada, L).
def _points() -> dict[str, tuple[float, float]]:
    return {k.name: k.points for k in tactic_kinds()}


def _monotone(milestones: list[Milestone], increasing: bool, kind: str, example: str) -> None:
    ats = [m.at for m in milestones]
    bad = any((b <= a) if increasing else (b >= a) for a, b in itertools.pairwise(ats))
    if bad:
        order = "increasing" if increasing else "decreasing"
        raise ValueError(f"{kind} milestones must be strictly {order} (e.g. {example})")


class LadderConfig(StrictModel):
    """What every ladder kind's config holds: the points range per violation and the milestones.

    Each kind subclasses it with ``kind: Literal["<name>"]`` and its own parameters; its
    strategy (``sim.platform.ladders``) is looked up by that name.
    """

    # Points per confirmed violation, drawn from the range skewed to its low end: a decision
    # takes lo + (hi - lo) x u, u ~ Beta(1, points_skew) (mean 1 / (1 + points_skew)).
    points: dict[str, PointRange] = Field(default_factory=_points)
    # ASSUMPTION: how far decisions lean to the low end of each published range. The ranges are
    # published (domain-facts.md §TikTok Shop sellers), where in them a case falls is not; 3 puts
    # the mean a quarter of the way up (most cases mild, a few at the top). 1 is uniform; larger
    # values lean further to the low end.
    points_skew: Annotated[float, Strict(), Field(ge=1.0, le=20.0)] = 3.0
    milestones: list[Milestone]

    @field_validator("points")
    @classmethod
    def _all_violations(cls, v: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        allowed = violation_names()
        unknown = set(v) - set(allowed)
        if unknown:
            raise ValueError(f"unknown violation type(s) {sorted(unknown)}; allowed: {', '.join(allowed)}")
        full = _points()
        full.update(v)
        for name, (lo, hi) in full.items():
            if lo > hi:
                raise ValueError(f"points.{name}: range [{lo}, {hi}] has min > max")
        return full


class HealthScoreLadder(LadderConfig):
    """TikTok Shop Creator Health Rating: 0-1000, start 200, milestones 150/100/50/0.

    Deductions (points x score_per_point) are restored after the 180-day window; clean orders
    earn score back. Recovery (both) restores lost score only: it never lifts a score above
    ``recovery_ceiling`` (the start value unless set), so every score stays within
    [0, recovery_ceiling] at the end of each day.
    """

    kind: Literal["health_score"]
    # CHR: every account starts at 200 on a 0-1000 scale (seller-us, seller-vn; H).
    initial: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = 200.0
    maximum: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = 1000.0
    # ASSUMPTION: recovery restores lost score up to this value and no further (None: the start
    # value ``initial``). CHR is "healthy at 200 and above" and regained from clean orders
    # (domain-facts.md), but how a score rises above its start is not published; without a
    # ceiling, clean orders plus lapsed deductions carried busy creators to 1000, beyond any
    # milestone's reach.
    recovery_ceiling: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] | None = None
    # The score lives on 0-1000: a larger step per point or per order is meaningless.
    score_per_point: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = 4.0
    recovery_per_clean_order: Annotated[float, Strict(), Field(ge=0.0, le=1000.0)] = 0.05
    window_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 180
    milestones: list[Milestone] = Field(
        default_factory=lambda: [
            Milestone(at=150, sanction=Sanction(traffic_multiplier=0.7, traffic_days=14, campaign_ban_days=30)),
            Milestone(at=100, sanction=Sanction(traffic_multiplier=0.5, traffic_days=28, campaign_ban_days=60,
                                                incentive_ban_days=60, suspension_days=7)),
            Milestone(at=50, sanction=Sanction(traffic_multiplier=0.3, traffic_days=28, campaign_ban_days=90,
                                               incentive_ban_days=90, suspension_days=28, commission="freeze")),
            Milestone(at=0, sanction=Sanction(ban=True, commission="freeze")),
        ]
    )

    @model_validator(mode="after")
    def _descending(self) -> HealthScoreLadder:
        _monotone(self.milestones, False, "health_score", "150, 100, 50, 0")
        if self.initial > self.maximum:
            raise ValueError("health_score initial must not exceed maximum")
        if self.recovery_ceiling is not None and not self.initial <= self.recovery_ceiling <= self.maximum:
            raise ValueError(f"health_score recovery_ceiling ({self.recovery_ceiling}) must lie between initial "
                             f"({self.initial}) and maximum ({self.maximum})")
        return self

    @property
    def ceiling(self) -> float:
        """The highest score recovery reaches: ``recovery_ceiling``, or the start value."""
        return self.initial if self.recovery_ceiling is None else self.recovery_ceiling


class PointsLadder(LadderConfig):
    """TikTok Shop SEA violation points: milestones 12/24/36/48, points expire after 180 days
    (90 in the Philippines from June 2025); 48 points close the account."""

    kind: Literal["points"]
    expiry_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 180
    milestones: list[Milestone] = Field(
        default_factory=lambda: [
            Milestone(at=12, sanction=Sanction(traffic_multiplier=0.7, traffic_days=14)),
            Milestone(at=24, sanction=Sanction(traffic_multiplier=0.5, traffic_days=28, campaign_ban_days=30,
                                               incentive_ban_days=30, suspension_days=7)),
            Milestone(at=36, sanction=Sanction(traffic_multiplier=0.3, traffic_days=28, campaign_ban_days=60,
                                               incentive_ban_days=60, suspension_days=14, commission="freeze")),
            Milestone(at=48, sanction=Sanction(ban=True, commission="forfeit")),
        ]
    )

    @model_validator(mode="after")
    def _ascending(self) -> PointsLadder:
        _monotone(self.milestones, True, "points", "12, 24, 36, 48")
        return self


class TiersLadder(LadderConfig):
    """Shopee penalty tiers 3/6/9/12/15, each removing more privileges for 28 days; points are
    assessed per violation and reset every quarter."""

    kind: Literal["tiers"]
    # Shopee tier points are small integers: the per-reason range is scaled down.
    points_scale: Annotated[float, Strict(), Field(gt=0.0, le=10.0)] = 0.25
    reset_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 91
    milestones: list[Milestone] = Field(
        default_factory=lambda: [
            Milestone(at=3, sanction=Sanction(campaign_ban_days=28)),
            Milestone(at=6, sanction=Sanction(campaign_ban_days=28, incentive_ban_days=28)),
            Milestone(at=9, sanction=Sanction(campaign_ban_days=28, incentive_ban_days=28,
                                              traffic_multiplier=0.6, traffic_days=28)),
            Milestone(at=12, sanction=Sanction(campaign_ban_days=28, incentive_ban_days=28,
                                               traffic_multiplier=0.3, traffic_days=28, suspension_days=7)),
            Milestone(at=15, sanction=Sanction(campaign_ban_days=28, incentive_ban_days=28,
                                               suspension_days=28, commission="freeze")),
        ]
    )

    @model_validator(mode="after")
    def _ascending(self) -> TiersLadder:
        _monotone(self.milestones, True, "tiers", "3, 6, 9, 12, 15")
        return self


_BUILTIN_LADDERS = (HealthScoreLadder, PointsLadder, TiersLadder)


def _registered_kind(value: Any, handler: ValidatorFunctionWrapHandler) -> Any:
    """Ladder kinds registered from outside livesim (``sim.platform.ladders.register``)
    validate against their own config class; the built-in kinds go through the discriminated
    union below, so their errors (paths and messages) are exactly as documented."""
    from sim.platform.ladders.registry import BUILTIN, config_class, kind_names  # registry imports this module

    if isinstance(value, LadderConfig) and not isinstance(value, _BUILTIN_LADDERS):
        config = config_class(value.kind)
        if config is not None and isinstance(value, config):
            return value
    kind = value.get("kind") if isinstance(value, dict) else None
    if not isinstance(kind, str) or kind in BUILTIN:
        return handler(value)
    config = config_class(kind)
    if config is not None:
        return config.model_validate(value)
    if len(kind_names()) > len(BUILTIN):  # name the registered kinds too, in the union's words
        raise PydanticCustomError(
            "union_tag_invalid",
            "Input tag '{tag}' found using 'kind' does not match any of the expected tags: {expected_tags}",
            {"discriminator": "'kind'", "tag": kind, "expected_tags": ", ".join(repr(k) for k in kind_names())},
        )
    return handler(value)


def _dump_registered_kind(value: Any, handler: SerializerFunctionWrapHandler, info: SerializationInfo) -> Any:
    """A registered kind's config dumps as its own class (the union knows only the built-ins)."""
    if isinstance(value, LadderConfig) and not isinstance(value, _BUILTIN_LADDERS):
        return value.model_dump(mode=info.mode)
    return handler(value)


Enforcement = Annotated[
    HealthScoreLadder | PointsLadder | TiersLadder,
    Field(discriminator="kind"),
    WrapValidator(_registered_kind),
    WrapSerializer(_dump_registered_kind),
]


class Appeals(StrictModel):
    """Creators contest sanctions within a window; appeals use review capacity."""

    # 30 calendar days for creators (TikTok Shop creator policy); >= 180 under the EU DSA.
    window_days: Annotated[int, Strict(), Field(ge=0, le=3650)] = 30
    # When an appellant files: this share files at once (delay Geometric(0.3) - 1 days, capped
    # by the window), the rest on a day drawn uniformly over the whole window, so a longer window
    # means later filings and more of them inside a run. ASSUMPTION (no published filing-delay
    # distribution; half file at once).
    early_share: Share = 0.5
    rate_if_wrong: Share = 0.6
    rate_if_right: Share = 0.15
    decision_days: Annotated[int, Strict(), Field(ge=0, le=365)] = 3
    overturn_if_wrong: Share = 0.8
    overturn_if_right: Share = 0.05
    cost_per_appeal: Money = 5.0


class Onboarding(StrictModel):
    """Gatekeeping for new accounts."""

    # Share of banned ban-evaders' re-registrations that identity checks catch.
    kyc_strictness: Share = 0.5
    # Share of honest newcomers deterred by the checks at strictness 1 (friction).
    kyc_friction: Share = 0.1
    # Stricter checks for new accounts of some categories (e.g. proof of brand authorisation
    # where counterfeits are rife): a new account of category k faces
    # max(kyc_strictness, kyc_strictness_by_category[k]), at the door for newcomers and
    # re-entering evaders, and accounts of a cohort trend in k pass the door too
    # (docs/model.md §7.22). Empty: every category faces kyc_strictness.
    kyc_strictness_by_category: dict[str, Share] = Field(default_factory=dict)
    # A pilot creator graduates only after pilot_days without a confirmed violation.
    pilot_requires_clean_record: StrictBool = True


class Policy(StrictModel):
    """Everything a platform controls that is not tied to a date, for one market."""

    # US referral fee 6 % from Apr 2024 (seller-us, H); 8 % reported from Jul 2024 (press, M).
    referral_fee: Annotated[float, Strict(), Field(ge=0.0, le=0.5)] = 0.06
    # How the fee reaches buyers. Sellers set prices for a fee of fee_reference (the US 6 %,
    # seller-us, H: the fee under which the world's prices and conversion are calibrated) and
    # pass a share fee_pass_through of any difference on to prices: prices are
    # (1 + pass x fee) / (1 + pass x fee_reference) times the calibrated ones, and each view's
    # purchase probability is multiplied by that relative price to the power
    # -(fee_price_elasticity x the buyer's price sensitivity). At fee_reference nothing changes.
    # ASSUMPTION (pass-through): half; pass-through of marketplace fees is not published.
    fee_pass_through: Share = 0.5
    # ASSUMPTION (elasticity): a 1 % higher price lowers an average buyer's purchase probability
    # by about 2 %; above 1, so that a higher fee lowers GMV as well as orders.
    fee_price_elasticity: Annotated[float, Strict(), Field(ge=0.0, le=10.0)] = 2.0
    fee_reference: Annotated[float, Strict(), Field(ge=0.0, le=0.5)] = 0.06
    # Refund admin fee: 20 % of the referral fee, capped at $5 per SKU (seller-us, H).
    refund_admin_fee_share: Share = 0.2
    refund_admin_fee_cap: Money = 5.0
    # Share of buyers' return requests for bad items that the platform makes good.
    refund_protection: Share = 0.9
    commission_cap: Annotated[float, Strict(), Field(ge=0.01, le=0.8)] = 0.8
    commission_cap_by_category: dict[str, Annotated[float, Strict(), Field(ge=0.01, le=0.8)]] = Field(
        default_factory=dict
    )
    # Under 5,000 followers: a 30-day pilot programme (TikTok Shop Creator Eligibility, H).
    pilot_days: Annotated[int, Strict(), Field(ge=0, le=365)] = 30
    pilot_followers_max: Followers = 5_000
    pilot_traffic_multiplier: Multiplier = 0.5
    # Creator levels L0-L8 refreshed monthly from last month's GMV (seller-vn, H); the
    # thresholds themselves are not published and are illustrative.
    # Monthly GMV thresholds: totals of money, up to 10^12.
    level_thresholds: Annotated[list[Budget], Field(min_length=8, max_length=8)] = Field(
        default_factory=lambda: [50.0, 200.0, 500.0, 1_000.0, 2_500.0, 5_000.0, 10_000.0, 25_000.0]
    )
    recommender: Recommender = Recommender()
    detection: Detection = Field(default_factory=Detection)
    review: Review = Review()
    enforcement: Enforcement = Field(default_factory=lambda: PointsLadder(kind="points"))
    appeals: Appeals = Appeals()
    onboarding: Onboarding = Onboarding()

    @field_validator("level_thresholds")
    @classmethod
    def _increasing(cls, v: list[float]) -> list[float]:
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("level_thresholds must be strictly increasing (L1..L8)")
        return v
