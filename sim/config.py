"""Scenario files: the validated description of one simulated world and its policy.

A scenario is read once, validated by pydantic (unknown keys, wrong types and out-of-range
values are errors), and then trusted everywhere inside the model. Defaults follow
``shared/design.md`` §8 and ``domain-facts.md``; each names its source in a comment.

Levers (what a platform controls) live under ``[policy]`` and ``[[timeline]]``; uncertainties
(how the world behaves) live under ``[world]``.
"""

from __future__ import annotations

import copy
import math
import re
import tomllib
import warnings
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    Field,
    PrivateAttr,
    SerializeAsAny,
    Strict,
    StrictBool,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from sim.errors import ScenarioError, ScenarioWarning, format_validation_error, unknown_name_message
from sim.plain import plain
from sim.platform.monitoring.config import ControllerConfig, SignalConfig
from sim.policy import Policy
from sim.registry import ByKind, Registry
from sim.schema import Budget, Followers, Money, Multiplier, Name, Share, StrictModel, Weight, WeightOrZero
from sim.tactics import TacticConfig, TacticKind, creator_type_names
from sim.tactics import kinds as tactic_kinds
from sim.tactics import names as tactic_names
from sim.tactics.keyed import KeyedByTactic, number_adapter

__all__ = [
    "OVERRIDE_ALIASES",
    "BuyerPopulation",
    "Campaign",
    "Category",
    "CreatorMix",
    "CreatorPopulation",
    "Eligibility",
    "Incentive",
    "Market",
    "Policy",
    "PolicyLaunch",
    "Ramp",
    "Scenario",
    "Tactics",
    "Target",
    "Trend",
    "World",
    "apply_policy_changes",
    "check_timeline",
    "load_scenario",
    "read_toml",
    "validate_tables",
    "value_at",
    "with_overrides",
]

_Strict = StrictModel
_SHARE = number_adapter(Share)
_WEIGHT_OR_ZERO = number_adapter(WeightOrZero)

BetaParam = Annotated[float, Strict(), Field(ge=0.01, le=1e4)]
# Timeline days: a run lasts at most 3650 days, so no event starts or lasts longer than that.
EventDay = Annotated[int, Strict(), Field(ge=1, le=3650)]
EventDays = Annotated[int, Strict(), Field(ge=1, le=3650)]


# ---------------------------------------------------------------------------------------
# World: the uncertainties
# ---------------------------------------------------------------------------------------


class Market(_Strict):
    """One market (country) with its own buyers, creators and price level."""

    name: Name
    # Relative weights (normalised over markets): bounded so that ratios stay meaningful.
    buyer_share: Weight = Field(description="share of buyers living in this market")
    creator_share: Weight = Field(description="share of creators selling in this market")
    # AOV US $35-59, SEA about $5 (redstagfulfillment.com, weak): price levels scale category medians.
    price_level: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 1.0
    # Live conversion is self-reported as high as 30 % (McKinsey 2021): an upper bound, so the
    # default per-view conversion sits well below it.
    base_conversion: Annotated[float, Strict(), Field(gt=0.0, le=0.5)] = 0.05
    delivery_days: tuple[Annotated[int, Strict(), Field(ge=1, le=60)], Annotated[int, Strict(), Field(ge=1, le=60)]] = (2, 6)
    # Return windows after delivery: TH non-Mall 7 d, VN/TH Mall 15 d, ID 6 d (seller centres, H).
    return_window_days: Annotated[int, Strict(), Field(ge=0, le=90)] = 7
    activity_level: Annotated[float, Strict(), Field(gt=0.0, le=10.0)] = 1.0

    @field_validator("delivery_days")
    @classmethod
    def _ordered(cls, v: tuple[int, int]) -> tuple[int, int]:
        if v[0] > v[1]:
            raise ValueError("delivery_days must be [min, max] with min <= max")
        return v


class Exposure(KeyedByTactic):
    """How strongly a category attracts each violation tactic (1 = average), one entry per
    typology (``sim.tactics``)."""

    typologies_only = True

    @classmethod
    def entry(cls, kind: TacticKind, value: Any) -> float:
        # Relative weights multiplying category shares (bounded like the shares themselves).
        return _WEIGHT_OR_ZERO.validate_python(value)

    @classmethod
    def default(cls, kind: TacticKind) -> float:
        return 1.0


class Category(_Strict):
    """A product category with a lognormal order value and a change-of-mind return rate."""

    name: Name
    share: Weight = Field(description="share of creators and of buyer preference")
    # One order at price level 1: from a cent to a million.
    order_value_median: Annotated[float, Strict(), Field(ge=0.01, le=1e6)]
    order_value_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.6
    return_rate: Share = 0.10
    exposure: Exposure = Field(default_factory=Exposure)


class CreatorMix(KeyedByTactic):
    """Shares of creator types; they must sum to 1.

    Besides honest creators, opportunists and ban evaders, every typology (``sim.tactics``)
    has an entry, defaulting to the share the tactic declares.
    """

    typologies_only = True

    honest: Share = 0.84
    opportunist: Share = 0.08
    ban_evader: Share = 0.005

    @classmethod
    def entry(cls, kind: TacticKind, value: Any) -> float:
        return _SHARE.validate_python(value)

    @classmethod
    def default(cls, kind: TacticKind) -> float:
        return kind.share

    @model_validator(mode="after")
    def _sums_to_one(self) -> CreatorMix:
        total = sum(self.model_dump().values())
        if not math.isclose(total, 1.0, abs_tol=1e-6):
            raise ValueError(f"creator type shares must sum to 1, they sum to {total:.6g}")
        return self


class CreatorPopulation(_Strict):
    """How creators are drawn, arrive and leave."""

    # Eligibility needs >= 1,000 followers (TikTok Shop Creator Eligibility Policy, H).
    # At most a billion followers: beyond the largest accounts anywhere.
    followers_min: Annotated[int, Strict(), Field(ge=1, le=1_000_000_000)] = 1_000
    # Creator earnings follow a Pareto tail with alpha about 2 (Strauss, Yang & Mazzucato 2025, M).
    followers_alpha: Annotated[float, Strict(), Field(gt=1.0, le=10.0)] = 2.0
    # Beta(a, b) parameters: 0.01-10^4 spans near-degenerate U-shapes to near point masses.
    quality_beta: tuple[BetaParam, BetaParam] = (5.0, 2.5)
    # ASSUMPTION, calibrated: with followers' Pareto alpha 2 a wider skill spread makes the GMV tail
    # heavier than the earnings tail (alpha ~2, top 1 % about 10-20 %: Strauss et al. 2025, M).
    skill_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.25
    streams_per_week_mean: Annotated[float, Strict(), Field(gt=0.0, le=7.0)] = 3.0
    # Commission is set per product, 1-80 %, typically 4-20 % (ads.tiktok.com help, H).
    commission_median: Annotated[float, Strict(), Field(ge=0.01, le=0.8)] = 0.10
    commission_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.5
    # New creators a day, as a share of the day-0 number (before onboarding checks). Creator
    # churn is not published (domain facts §7). ASSUMPTION: set so that admitted newcomers
    # replace the enforced baseline's departures after its warm-up (churn, low income,
    # sanctions and bans: about 5.9 a day per 2,500), keeping its creator population
    # stationary; a world that bans fewer grows. Range for sweeps: 0.001-0.004.
    arrival_rate: Annotated[float, Strict(), Field(ge=0.0, le=0.1)] = 0.0025
    # Entry answers room: for each creator missing from the day-0 number (present: not churned,
    # not banned), this many extra newcomers a day (free entry: an emptier market pays newcomers
    # more). ASSUMPTION, range 0-0.05; 0.02 closes a gap with a time constant of about 50 days,
    # so departures (bans included) are replaced within a quarter; it never trims a surplus.
    entry_response: Annotated[float, Strict(), Field(ge=0.0, le=1.0)] = 0.02
    # ASSUMPTION (no published creator churn, domain facts §7): base daily churn.
    churn_rate: Annotated[float, Strict(), Field(ge=0.0, le=0.1)] = 0.001
    # Creators whose last-30-day profit is below this (after 60 days) churn faster.
    low_income_monthly: Money = 10.0
    low_income_churn_rate: Annotated[float, Strict(), Field(ge=0.0, le=0.5)] = 0.003
    # Opportunists violate when it pays; until they adapt, this is their per-stream rate.
    opportunist_intensity: Share = 0.15
    mix: CreatorMix = Field(default_factory=CreatorMix)


class BuyerPopulation(_Strict):
    """Buyer behaviour: activity, trust dynamics, returns, reports and churn."""

    sessions_per_day: Annotated[float, Strict(), Field(gt=0.0, le=50.0)] = 0.5
    activity_shape: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 0.8
    primary_category_weight: Share = 0.7
    price_sensitivity_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.3
    susceptibility_beta: tuple[BetaParam, BetaParam] = (2.0, 5.0)
    trust_initial: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.75
    trust_initial_sd: Annotated[float, Strict(), Field(ge=0.0, le=0.5)] = 0.08
    trust_loss_bad: Share = 0.25
    trust_loss_refunded_factor: Share = 0.4
    trust_gain_good: Share = 0.01
    trust_conversion_elasticity: Annotated[float, Strict(), Field(ge=0.0, le=10.0)] = 1.0
    # After a bad purchase a buyer shops less and is likelier to leave. No published figure
    # gives the size (domain facts §7; only 51.5 % of live-stream buyers were satisfied, CNSA
    # 2020 survey, M, says bad outcomes are common, not how buyers answer them). ASSUMPTIONS,
    # ranges for sensitivity sweeps in docs/model.md "Buyers":
    # - sessions multiplied by 1 - appetite_loss_bad per bad unremedied purchase (a refunded
    #   one counts trust_loss_refunded_factor of it): 0.5, a buyer left with a bad item halves
    #   its live shopping at first; range 0.1-0.8;
    appetite_loss_bad: Share = 0.5
    # - lost appetite comes back by this share of the gap each day (0.01: half-life about
    #   69 days, so a year later about 3 % of the loss remains); range 0.003-0.05;
    appetite_recovery: Share = 0.01
    # - extra daily churn probability per unit of lost appetite (0.01 x 0.5 = +0.005 a day
    #   after one bad item, fading: about +30 % chance of leaving over its recovery); range 0-0.03.
    churn_wary: Annotated[float, Strict(), Field(ge=0.0, le=0.5)] = 0.01
    churn_rate: Annotated[float, Strict(), Field(ge=0.0, le=0.1)] = 0.0005
    churn_distrust: Annotated[float, Strict(), Field(ge=0.0, le=1.0)] = 0.02
    # New buyers a day, as a share of the day-0 population (a fixed number a day, not a share
    # of those left). ASSUMPTION: set to the daily churn of the enforced baseline (base rate +
    # distrust + wariness, about 0.002 a buyer), so that its buyer population stays within a
    # few per cent of its start; a world with more harm churns more and shrinks.
    arrival_rate: Annotated[float, Strict(), Field(ge=0.0, le=0.1)] = 0.002
    return_propensity_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.4
    return_if_bad: Share = 0.7
    # Days from delivery to a return request: geometric from 0 with this mean (ASSUMPTION,
    # range 0-7); requests after the market's return window are refused.
    return_delay_mean: Annotated[float, Strict(), Field(ge=0.0, le=60.0)] = 2.0
    clean_bad_outcome_rate: Share = 0.03
    clean_harm_fraction: Share = 0.3
    report_rate: Share = 0.02
    report_propensity_sigma: Annotated[float, Strict(), Field(ge=0.0, le=3.0)] = 0.8
    # ASSUMPTION, calibrated so that about 16 % of user reports are actioned (TikTok EU DSA report 2023, H).
    false_report_rate: Share = 0.0007
    complaint_rate: Share = 0.5
    # A buyer whose bad item was refunded complains this much less often (ASSUMPTION, range 0-1).
    complaint_refunded_factor: Share = 0.3
    # More live supply draws more shopping: sessions scale with (live streams / usual)^elasticity.
    supply_elasticity: Annotated[float, Strict(), Field(ge=0.0, le=2.0)] = 0.3


class Adaptation(_Strict):
    """How opportunists and adversaries learn, and how sanctions weigh on honest creators.

    Every ``decision_days`` an adaptive creator re-picks its action (clean, or a tactic at low
    or high intensity) by a softmax over each action's learned daily gain minus its perceived
    expected sanction cost: the perceived chance a violating stream is sanctioned (a Beta belief
    from its own and its peers' sanctions) times the cost of the sanction its market's ladder
    would impose next, with diminishing sensitivity to severity (Becker 1968; Nagin 2013).
    """

    enabled: StrictBool = True
    decision_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 7
    learning_rate: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.3
    # Softmax temperature relative to the creator's typical profit per day (assumption).
    temperature: Annotated[float, Strict(), Field(gt=0.0, le=100.0)] = 0.1
    # Stigma of one violation point (at price level 1), added to the money cost of a sanction
    # (assumption: deterrence beyond lost income).
    penalty_per_point: Money = 0.2
    low_intensity: Share = 0.3
    # Word gets around: each decision also nudges a creator's values toward what peers of its
    # type just earned with each action, and each peer's sanction record counts at this weight
    # in its perceived sanction chance (0: learn only from one's own experience).
    social_learning: Share = 0.2
    # An untried action is valued at the current action's gain less this many days' worth of
    # the creator's typical daily profit per unit of intensity it departs from the current one
    # (assumption: ambiguity aversion; a known action is not left for an unknown one by default).
    untried_discount: Annotated[float, Strict(), Field(ge=0.0, le=10.0)] = 0.5
    # Prior perceived chance that a violating stream is sanctioned, and the prior's weight in
    # violating streams (Beta prior; assumption).
    prior_sanction_rate: Share = 0.05
    prior_strength: Annotated[float, Strict(), Field(gt=0.0, le=10_000.0)] = 10.0
    # Diminishing sensitivity to severity: perceived cost = chance x income x (cost/income)^gamma;
    # gamma < 1 makes certainty weigh more than severity per unit (assumption; Nagin 2013, domain
    # facts section 6 item 12: certainty matters more).
    severity_exponent: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.4
    # A ban costs the discounted profit of this many future days (assumption).
    ban_horizon_days: Annotated[int, Strict(), Field(ge=0, le=3650)] = 180
    # Daily discount factor on a ban's future profit (assumption: far-off losses weigh less).
    daily_discount: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.99
    # Share of a day's profit that a day without campaign or incentive eligibility costs (assumption).
    eligibility_value: Share = 0.1
    # A warning counts as this many sanctions in the warned creator's own record (assumption).
    warning_weight: Annotated[float, Strict(), Field(ge=0.0, le=100.0)] = 1.0
    # Extra daily churn of honest creators for 30 days after a sanction.
    sanction_churn_rate: Share = 0.01
    # Banned ban-evaders re-register after this many days (uniform range) and retry when caught.
    reentry_days: tuple[Annotated[int, Strict(), Field(ge=1, le=365)], Annotated[int, Strict(), Field(ge=1, le=365)]] = (7, 30)
    reentry_attempts: Annotated[int, Strict(), Field(ge=0, le=100)] = 3


class Tactics(KeyedByTactic):
    """What each violation does to views, orders and outcomes: one block per registered tactic
    (``sim.tactics``), validated by the tactic's own config class."""

    # Which tactic an opportunist adopts (relative weights).
    opportunist_weights: dict[str, WeightOrZero] = Field(
        default_factory=lambda: {
            "misleading_claims": 0.5,
            "offplatform_diversion": 0.2,
            "fake_engagement": 0.2,
            "counterfeit": 0.1,
        }
    )

    @classmethod
    def entry(cls, kind: TacticKind, value: Any) -> TacticConfig:
        return kind.config.model_validate(value)

    @classmethod
    def default(cls, kind: TacticKind) -> TacticConfig:
        return kind.config()

    @field_validator("opportunist_weights")
    @classmethod
    def _known_tactics(cls, v: dict[str, float]) -> dict[str, float]:
        allowed = [k.name for k in tactic_kinds() if k.opportunist]
        for key in v:
            if key not in allowed:
                raise ValueError(f"unknown tactic {key!r}; allowed: {', '.join(allowed)}")
        if sum(v.values()) <= 0:
            raise ValueError("opportunist_weights must have a positive total")
        return v


def _default_markets() -> list[Market]:
    return [
        Market(name="sg", buyer_share=0.35, creator_share=0.35, price_level=1.0, return_window_days=15),
        Market(name="id", buyer_share=0.65, creator_share=0.65, price_level=0.35, return_window_days=6),
    ]


def _default_categories() -> list[Category]:
    # Change-of-mind return rates: conventional e-commerce 10-15 %, live commerce reported at
    # 30-50 % (economymiddleeast.com, weak): defaults sit between, fashion highest (Douyin
    # women's clothing reports 75-80 %, Yicai 2023). Bad outcomes add returns on top.
    return [
        Category(name="beauty", share=0.25, order_value_median=15.0, return_rate=0.28,
                 exposure=Exposure(counterfeit=1.6, misleading_claims=1.3)),
        Category(name="fashion", share=0.30, order_value_median=18.0, return_rate=0.50,
                 exposure=Exposure(counterfeit=1.2)),
        Category(name="electronics", share=0.12, order_value_median=35.0, order_value_sigma=0.8,
                 return_rate=0.28, exposure=Exposure(counterfeit=1.6, misleading_claims=1.0)),
        Category(name="home", share=0.15, order_value_median=20.0, return_rate=0.25,
                 exposure=Exposure(counterfeit=0.5)),
        Category(name="food", share=0.10, order_value_median=8.0, order_value_sigma=0.4,
                 return_rate=0.12, exposure=Exposure(counterfeit=0.2, misleading_claims=0.8)),
        Category(name="health", share=0.08, order_value_median=22.0, return_rate=0.22,
                 exposure=Exposure(counterfeit=0.8, misleading_claims=2.5)),
    ]


class World(_Strict):
    """The uncertainties: populations, markets, categories and behaviour."""

    n_buyers: Annotated[int, Strict(), Field(ge=0, le=50_000_000)] = 120_000
    n_creators: Annotated[int, Strict(), Field(ge=0, le=1_000_000)] = 2_500
    markets: Annotated[list[Market], Field(min_length=1)] = Field(default_factory=_default_markets)
    categories: Annotated[list[Category], Field(min_length=1, max_length=100)] = Field(
        default_factory=_default_categories
    )
    creators: CreatorPopulation = Field(default_factory=CreatorPopulation)
    buyers: BuyerPopulation = BuyerPopulation()
    tactics: Tactics = Field(default_factory=Tactics)
    adaptation: Adaptation = Adaptation()

    @model_validator(mode="after")
    def _unique_names(self) -> World:
        for what, items in (("market", self.markets), ("category", self.categories)):
            names = [i.name for i in items]
            dupes = sorted({n for n in names if names.count(n) > 1})
            if dupes:
                raise ValueError(f"{what} names must be unique; repeated: {', '.join(dupes)}")
        return self


# ---------------------------------------------------------------------------------------
# Policy: the levers
# ---------------------------------------------------------------------------------------


class Eligibility(_Strict):
    """Who may join a campaign or incentive programme."""

    min_level: Annotated[int, Strict(), Field(ge=0, le=8)] = 0
    min_followers: Followers = 0
    # Account age in days: at most ten years, the longest run.
    max_age_days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None
    exclude_pilot: StrictBool = True


class _Dated(_Strict):
    name: Name
    markets: list[Name] = Field(default_factory=list, description="empty means every market")
    start_day: EventDay
    days: EventDays
    eligibility: Eligibility = Eligibility()

    @property
    def end_day(self) -> int:
        """Last day (inclusive) the event is in force."""
        return self.start_day + self.days - 1


class Campaign(_Dated):
    """A sale event: more traffic, higher conversion, a surge of live sessions."""

    kind: Literal["campaign"]
    # Campaign daily GMV runs 1.85-3x baseline (SCMP on SEA mega-sales, M).
    traffic_multiplier: Multiplier = 2.0
    conversion_multiplier: Multiplier = 1.2
    go_live_multiplier: Multiplier = 1.5
    boost: Multiplier = 1.5


class Incentive(_Dated, ByKind):
    """An incentive programme: what every programme type's ``[[timeline]]`` block holds.

    ``program`` names the type (``sim/platform/programmes/``; default ``gmv_bonus``, so files
    written before there were several types keep their meaning). Each type subclasses this
    block with ``program: Literal["<type>"]`` and its own parameters; validating an
    ``Incentive`` hands the entry to the registered type's class, and an unknown name is an
    error listing the registered ones.
    """

    kind: Literal["incentive"]
    program: Name = "gmv_bonus"
    budget: Budget = 50_000.0
    # The most an enrolled creator's go-live probability rises (0.3: +30 %); ASSUMPTION. The
    # rise itself follows the bonus the creator expects (effort_elasticity, below; docs/model.md §7.12).
    effort_boost: Annotated[float, Strict(), Field(ge=0.0, le=10.0)] = 0.3
    # ASSUMPTION: elasticity of going live to the expected bonus, relative to the commission the
    # creator earns anyway (0.5: a bonus worth 10 % of commissions brings 5 % more live days).
    effort_elasticity: Annotated[float, Strict(), Field(ge=0.0, le=5.0)] = 0.5
    # ASSUMPTION: the log-spread a creator allows its period GMV around its recent pace when it
    # reckons its chance of reaching a programme's GMV threshold (a lognormal outlook).
    gmv_outlook_sigma: Annotated[float, Strict(), Field(gt=0.0, le=5.0)] = 0.5

    @staticmethod
    def registry() -> Registry[Any]:
        from sim.platform.programmes.registry import PROGRAMMES  # the registry imports this module

        return PROGRAMMES


class PolicyLaunch(_Strict):
    """Go-to-market: from ``start_day`` on, these markets run the policy with ``set`` applied.

    ``set`` maps dotted policy paths to values, e.g. ``{"review.capacity_per_day" = 400}``.
    """

    kind: Literal["policy"]
    name: Name
    markets: list[Name] = Field(default_factory=list, description="empty means every market")
    start_day: EventDay
    set: dict[str, Any] = Field(min_length=1)


class Ramp(_Strict):
    """A numeric policy lever moving linearly from ``start_value`` to ``end_value`` over ``days``
    from ``start_day`` (e.g. a classifier's localisation, ``detection.dprime_scale``)."""

    kind: Literal["ramp"]
    name: Name
    markets: list[Name] = Field(default_factory=list, description="empty means every market")
    start_day: EventDay
    days: EventDays
    path: str
    start_value: Annotated[float, Strict()]
    end_value: Annotated[float, Strict()]

    def value_on(self, day: int) -> float:
        """The lever's value on ``day`` (start_value before, end_value after the ramp)."""
        frac = min(max((day - self.start_day) / self.days, 0.0), 1.0)
        return self.start_value + (self.end_value - self.start_value) * frac


class Trend(ByKind):
    """An emerging abuse trend: from ``start_day`` the world changes in some markets (empty: all),
    reaching its full size over ``days`` days, and stays changed to the end of the run.

    ``trend`` names the trend kind (``sim/platform/trends/``: ``adoption_wave``, ``cohort``,
    ``evasion``, ``category_shock``, or one registered from outside livesim) and ``tactic`` its
    subject, any registered tactic. Like incentive programmes, each kind subclasses this block
    with ``trend: Literal["<kind>"]`` and its own parameters; validating a ``Trend`` hands the
    entry to the registered kind's class. A trend is world behaviour, not a lever: the platform
    does not know it happens (the run records it apart, as ground truth).
    """

    kind: Literal["trend"]
    trend: Name
    name: Name
    markets: list[Name] = Field(default_factory=list, description="empty means every market")
    start_day: EventDay
    days: EventDays = 1
    tactic: Name

    @property
    def end_day(self) -> int:
        """The day the trend reaches its full size (it stays in force after)."""
        return self.start_day + self.days - 1

    def level_on(self, day: int) -> float:
        """Share of the trend's full size in force on ``day``: 0 before ``start_day``, then
        1/days, 2/days, ... up to 1 on ``end_day`` and after."""
        return min(max((day - self.start_day + 1) / self.days, 0.0), 1.0)

    def group_names(self) -> dict[str, list[str]]:
        """The entry's own group fields besides ``markets`` (``categories``, ``creator_types``...)
        by name, as the scenario checks them against its world; empty for a kind without them."""
        return {}

    @field_validator("tactic")
    @classmethod
    def _known_tactic(cls, v: str) -> str:
        allowed = list(tactic_names()[1:])
        if v not in allowed:
            raise ValueError(unknown_name_message(v, allowed, "tactic"))
        return v

    @staticmethod
    def registry() -> Registry[Any]:
        from sim.platform.trends.registry import TRENDS  # the registry imports this module

        return TRENDS


# An incentive entry keeps its programme type's class when dumped (overrides, sweeps, run records),
# and so does a trend its kind's.
TimelineEvent = Annotated[Campaign | SerializeAsAny[Incentive] | PolicyLaunch | Ramp | SerializeAsAny[Trend],
                          Field(discriminator="kind")]


class Target(_Strict):
    """A goal a policy review checks, e.g. prevalence <= 0.5 % or wrongful bans <= 10 per 10k creators,
    or a stylized fact a run should reproduce, e.g. proactive_rate 0.88 +/- 0.05.

    The band is ``min``/``max`` (one or both), or ``value`` with a ``tolerance`` either side;
    ``source`` and ``confidence`` record where a fact comes from (H: platform, regulator or
    peer-reviewed; M: reputable secondary; L: a single third party)."""

    metric: str
    max: Annotated[float, Strict()] | None = None
    min: Annotated[float, Strict()] | None = None
    value: Annotated[float, Strict()] | None = None
    tolerance: Annotated[float, Strict(), Field(ge=0)] | None = None
    # Scale the metric per 10,000 creators (of the scenario's initial population) first.
    per_10k_creators: StrictBool = False
    market: Name = "all"
    label: Annotated[str, Field(max_length=200)] = ""
    source: Annotated[str, Field(max_length=300)] = ""
    confidence: Literal["H", "M", "L", ""] = ""

    @field_validator("metric")
    @classmethod
    def _known_metric(cls, v: str) -> str:
        from sim.metrics import METRICS

        if v not in METRICS:
            raise ValueError(unknown_name_message(v, list(METRICS), "metric"))
        return v

    @field_validator("max", "min", "value", "tolerance")
    @classmethod
    def _finite(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(f"got {v}; a bound must be a finite number")
        return v

    @model_validator(mode="after")
    def _one_band(self) -> Target:
        bounds = self.max is not None or self.min is not None
        point = self.value is not None or self.tolerance is not None
        if bounds == point:
            raise ValueError("a target needs max and/or min, or value with tolerance (not both forms)")
        if point and (self.value is None or self.tolerance is None):
            raise ValueError("value and tolerance go together: the band is value - tolerance to value + tolerance")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def band(self) -> tuple[float, float]:
        """The accepted values ``(low, high)``; an open side is infinite."""
        if self.value is not None and self.tolerance is not None:
            return self.value - self.tolerance, self.value + self.tolerance
        return (-math.inf if self.min is None else self.min), (math.inf if self.max is None else self.max)

    def band_text(self) -> str:
        """``<= 0.005``, ``>= 0.2``, ``0.3 to 0.5`` or ``0.88 +/- 0.05``."""
        if self.value is not None:
            return f"{self.value:g} +/- {self.tolerance:g}"
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        return f"<= {self.max:g}" if self.max is not None else f">= {self.min:g}"

    def describe(self) -> str:
        """Human-readable form, e.g. ``prevalence <= 0.005``."""
        scale = " per 10k creators" if self.per_10k_creators else ""
        where = "" if self.market == "all" else f" in {self.market}"
        return self.label or f"{self.metric}{scale}{where} {self.band_text()}"

    def met(self, value: float) -> bool:
        """Whether ``value`` (already scaled) lies in the band, ends included (NaN never does)."""
        if value != value:
            return False
        low, high = self.band
        return low <= value <= high


class Scenario(_Strict):
    """One simulated world under one policy, with its dated events.

    ``policy`` applies to every market; ``policy_overrides.<market>`` changes levers for one
    market (dotted paths or nested tables); ``policy`` timeline events change levers from a
    day on; ``ramp`` events move a numeric lever gradually.

    Timeline entries must fall inside the run: one that starts after the last day is an error
    (a warning if it was inside the file's own run and an override such as ``--days`` shortened
    it), one that runs past the last day a warning naming the days that are ignored.
    """

    name: Name
    description: str = ""
    days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 180
    # Days at the start whose flows the run summaries leave out (the daily table keeps them and
    # marks them ``warmup``): a world drawn afresh on day 0 spends its first weeks settling
    # (trust, churn, the recommender's quality estimates, who violates). 0: summaries cover
    # every day; a warm-up as long as the run or longer counts as 0 (a ScenarioWarning says so).
    # The baseline uses 60 (docs/model.md, "Warm-up").
    warmup_days: Annotated[int, Strict(), Field(ge=0, le=3650)] = 0
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] = 20261122
    replications: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 1
    # The preset the [policy] table started from (see scenarios/policies/); already merged.
    policy_preset: Name | None = None
    world: World = Field(default_factory=World)
    policy: Policy = Field(default_factory=Policy)
    policy_overrides: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    timeline: list[TimelineEvent] = Field(default_factory=list)
    # Goals the comparison report checks each variant against.
    targets: list[Target] = Field(default_factory=list)
    # Monitoring signals (observable, grouping, detector) read each day from observed data only,
    # and controllers acting on them (sim/platform/monitoring/, sim/platform/controllers/).
    signals: list[SignalConfig] = Field(default_factory=list)
    controllers: list[SerializeAsAny[ControllerConfig]] = Field(default_factory=list)

    # What the file itself said, kept so that overrides can be re-applied the way the file's
    # own values would be: its [policy] table before any preset was merged (a new preset from
    # ``--set policy_preset=NAME`` is merged under it), where its presets live, and its own
    # ``days`` (an override that shortens the run turns a timeline error into a warning).
    _own_policy: dict[str, Any] = PrivateAttr(default_factory=dict)
    _base_dir: str | None = PrivateAttr(default=None)
    _file_days: int | None = PrivateAttr(default=None)
    _timeline_checked: bool = PrivateAttr(default=False)

    @property
    def effective_warmup(self) -> int:
        """The warm-up the summaries leave out: ``warmup_days``, or 0 when that is not shorter than the run."""
        return self.warmup_days if self.warmup_days < self.days else 0

    def __eq__(self, other: object) -> bool:
        """Scenarios are equal when their fields are: what a file said (the private
        attributes) does not change what is simulated."""
        if not isinstance(other, Scenario):
            return NotImplemented
        return self.model_dump() == other.model_dump()

    __hash__ = StrictModel.__hash__

    @model_validator(mode="wrap")
    @classmethod
    def _merge_preset(cls, data: Any, handler: Any, info: ValidationInfo) -> Any:
        """Merge the named preset under the file's [policy] table, and remember the table."""
        context = info.context or {}
        own: dict[str, Any] | None = None
        if isinstance(data, dict) and not context.get("preset_merged"):
            policy = data.get("policy")
            own = dict(policy) if isinstance(policy, dict) else {}
            preset_name = data.get("policy_preset")
            if isinstance(preset_name, str) and (policy is None or isinstance(policy, dict)):
                preset = load_preset(preset_name, context.get("base_dir"))
                data = dict(data)
                data["policy"] = _deep_merge(preset, own)
        scenario = handler(data)
        if own is not None:
            scenario._own_policy = own
            base_dir = context.get("base_dir")
            scenario._base_dir = str(base_dir) if base_dir is not None else None
            scenario._file_days = scenario.days
        return scenario

    @model_validator(mode="after")
    def _cross_checks(self) -> Scenario:
        markets = {m.name for m in self.world.markets}
        categories = {c.name for c in self.world.categories}
        names = [e.name for e in self.timeline]
        for i, name in enumerate(names):
            if name in names[:i]:
                raise ValueError(f"@timeline[{i}].name|{name!r} is used by an earlier event; names must be unique")
        for i, event in enumerate(self.timeline):
            for m in event.markets:
                if m not in markets:
                    raise ValueError(f"@timeline[{i}].markets|unknown market {m!r}; allowed: {', '.join(sorted(markets))}")
        for i, t in enumerate(self.targets):
            if t.market != "all" and t.market not in markets:
                raise ValueError(f"@targets[{i}].market|unknown market {t.market!r}; allowed: all, "
                                 f"{', '.join(sorted(markets))}")
        for m in self.policy_overrides:
            if m not in markets:
                raise ValueError(f"@policy_overrides.{m}|unknown market {m!r}; allowed: {', '.join(sorted(markets))}")
        for name in markets:
            policy = self.market_policy(name)  # raises with the failing path
            for field, given in (("commission_cap_by_category", policy.commission_cap_by_category),
                                 ("recommender.category_exposure", policy.recommender.category_exposure),
                                 ("onboarding.kyc_strictness_by_category",
                                  policy.onboarding.kyc_strictness_by_category)):
                for c in given:
                    if c not in categories:
                        raise ValueError(f"@policy.{field}|unknown category {c!r}; "
                                         f"allowed: {', '.join(sorted(categories))}")
        groups = {"categories": categories, "creator_types": set(creator_type_names())}
        for i, event in enumerate(self.timeline):
            if event.kind != "trend":
                continue
            for field, given in event.group_names().items():
                allowed = groups["categories" if field.startswith("categor") else "creator_types"]
                for name in given:
                    if name not in allowed:
                        what = "category" if field.startswith("categor") else "creator type"
                        raise ValueError(f"@timeline[{i}].{field}|unknown {what} {name!r}; allowed: "
                                         f"{', '.join(sorted(allowed))}")
        for key, entries in (("signals", self.signals), ("controllers", self.controllers)):
            names = [e.name for e in entries]
            for i, name in enumerate(names):
                if name in names[:i]:
                    raise ValueError(f"@{key}[{i}].name|{name!r} is used by an earlier entry; names must be unique")
        for i, ctl in enumerate(self.controllers):
            for m in ctl.markets:
                if m not in markets:
                    raise ValueError(f"@controllers[{i}].markets|unknown market {m!r}; allowed: "
                                     f"{', '.join(sorted(markets))}")
            check = getattr(ctl, "check", None)
            if check is not None:
                check(self, f"controllers[{i}]")
        for i, event in enumerate(self.timeline):
            targets = event.markets or sorted(markets)
            if event.kind == "policy":
                for m in targets:
                    _policy_with(self.market_policy(m), event.set, f"timeline[{i}].set")
            elif event.kind == "ramp":
                for m in targets:
                    for v in (event.start_value, event.end_value):
                        _policy_with(self.market_policy(m), {event.path: v}, f"timeline[{i}].path")
        return self

    def market_policy(self, market: str) -> Policy:
        """The policy market ``market`` starts with: ``policy`` plus its overrides."""
        overrides = self.policy_overrides.get(market)
        if not overrides:
            return self.policy
        return _policy_with(self.policy, _flatten(overrides), f"policy_overrides.{market}")


def apply_policy_changes(policy: Policy, changes: dict[str, Any]) -> Policy:
    """``policy`` with dotted-path changes applied and re-validated (changes already checked)."""
    return _policy_with(policy, changes, "policy")


def _policy_with(policy: Policy, changes: dict[str, Any], where: str) -> Policy:
    """``policy`` with dotted-path ``changes``; errors name ``where.path`` (inside validation)."""
    data = policy.model_dump(mode="python")
    for path, value in changes.items():
        try:
            _set_path(data, path, value, "")
        except ScenarioError as exc:
            raise ValueError(f"@{where}.{exc.field}|{exc.allowed}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        err = format_validation_error(exc, "", Policy)
        got = f"got {err.value!r}; " if err.value is not None else ""
        raise ValueError(f"@{where}.{err.field}|{got}{err.allowed}") from None


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Nested tables to dotted paths; dotted keys pass through."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not _is_open_dict([*path.split("."), ""]):
            out.update(_flatten(value, path))
        else:
            out[path] = value
    return out


def _deep_merge(base: dict[str, Any], top: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in top.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict) and key != "enforcement":
            out[key] = _deep_merge(out[key], value)
        elif key == "enforcement" and isinstance(value, dict) and isinstance(out.get(key), dict) \
                and value.get("kind", out[key].get("kind")) == out[key].get("kind"):
            out[key] = _deep_merge(out[key], value)  # same ladder kind: refine the preset's
        else:
            out[key] = value
    return out


def preset_names() -> list[str]:
    """Names of the bundled policy presets."""
    from sim.bundled import preset_names as bundled

    return bundled()


def load_preset(name: str, base_dir: str | Path | None = None) -> dict[str, Any]:
    """The ``[policy]`` table of preset ``name``: ``<scenario dir>/policies/<name>.toml`` first,
    then the bundled presets (``scenarios/policies/``, installed as package data).

    ``name`` is a plain name (lower-case letters, digits, underscores), checked before any file
    is looked at, so a preset can never be read from an arbitrary path."""
    from sim.bundled import preset_path

    if not isinstance(name, str) or not re.fullmatch(r"[a-z][a-z0-9_]*", name) or len(name) > 40:
        raise ValueError(f"@policy_preset|got {name!r}; a preset is named, not a path: lower-case letters, digits "
                         f"and underscores; bundled presets: {', '.join(preset_names())}")
    candidates = [Path(base_dir) / "policies" / f"{name}.toml"] if base_dir else []
    bundled = preset_path(name)
    if bundled is not None:
        candidates.append(bundled)
    for path in candidates:
        if path.is_file():
            try:
                data = read_toml(path, "preset")
            except ScenarioError as exc:
                raise ValueError(f"@policy_preset|preset file {exc.message}") from None
            extra = set(data) - {"policy", "description"}
            if extra or not isinstance(data.get("policy"), dict):
                raise ValueError(f"@policy_preset|preset file {path} must hold a [policy] table (and a description)")
            return data["policy"]
    raise ValueError(f"@policy_preset|got {name!r}; {unknown_name_message(name, preset_names(), 'preset')}")


# ---------------------------------------------------------------------------------------
# Loading and overriding
# ---------------------------------------------------------------------------------------

# Short names accepted wherever overrides are (LiveShopModel keywords, CLI flags).
OVERRIDE_ALIASES: dict[str, str] = {
    "n_buyers": "world.n_buyers",
    "n_creators": "world.n_creators",
    "days": "days",
    "seed": "seed",
}


def read_toml(path: str | Path, what: str = "scenario") -> dict[str, Any]:
    """A TOML file as a dict; a missing file or bad TOML is a ScenarioError naming the file."""
    path = Path(path)
    if path.is_dir():
        raise ScenarioError(str(path), None, None, f"is a directory, not a {what} file")
    if not path.is_file():
        if path.exists():
            raise ScenarioError(str(path), None, None, f"is not a regular file (a device, pipe or socket), not a "
                                f"{what} file")
        raise ScenarioError(str(path), None, None, f"no such {what} file")
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(str(path), None, None, f"not valid TOML: {exc}") from None
    except RecursionError:
        raise ScenarioError(str(path), None, None, "not usable: its arrays or tables are nested too deeply") from None
    except UnicodeDecodeError:
        raise ScenarioError(str(path), None, None, "not a UTF-8 text file") from None
    except ValueError:  # Python refuses integers of more than 4,300 digits
        raise ScenarioError(str(path), None, None, "not usable: it holds a number of thousands of digits") from None
    except OSError as exc:
        raise ScenarioError(str(path), None, None, f"cannot be read: {exc.strerror or exc}") from None


def validate_tables(items: list[Any], model: type[BaseModel], path: str | Path, key: str) -> list[Any]:
    """Each table of an array of tables (``[[key]]``) validated as ``model``; the first bad one
    raises ScenarioError naming the file and ``key[i].field``."""
    out = []
    for i, item in enumerate(items):
        try:
            out.append(model.model_validate(item))
        except ValidationError as exc:
            err = format_validation_error(exc, str(path), model)
            field = f"{key}[{i}]" if err.field in (None, "(top level)") else f"{key}[{i}].{err.field}"
            raise ScenarioError(str(path), field, err.value, err.allowed) from None
    return out


def load_scenario(path: str | Path, *, check_timeline: bool = True) -> Scenario:
    """Read and validate a scenario TOML file (or a bundled scenario by name, e.g. ``baseline``);
    raise ScenarioError naming file, field and value.

    ``check_timeline=False`` defers the timeline-versus-run-length check to whoever applies
    overrides next (``--days`` may still change the run length)."""
    from sim.bundled import resolve_scenario

    path = resolve_scenario(path)
    return scenario_from_dict(read_toml(path), source=str(path), base_dir=path.parent, check_timeline=check_timeline)


def scenario_from_dict(data: dict[str, Any], source: str = "<scenario>", base_dir: str | Path | None = None,
                       *, check_timeline: bool = True) -> Scenario:
    """Validate a plain dict as a Scenario (``base_dir``: where to look for policy presets first).

    numpy scalars and arrays in ``data`` count as the Python numbers and lists they hold
    (``sim.plain``)."""
    try:
        scenario = Scenario.model_validate(plain(data), context={"base_dir": base_dir})
    except ValidationError as exc:
        raise format_validation_error(exc, source, Scenario) from None
    if check_timeline:
        _check_timeline(scenario, source)
    return scenario


def check_timeline(scenario: Scenario, source: str) -> None:
    """Timeline entries must fall inside the run (days 1 to ``days``).

    An entry wholly after the last day can never happen: a ScenarioError, unless the file had
    it inside its own run and an override (``--days``, a sweep's ``days``) shortened the run,
    which is deliberate: then a ScenarioWarning says it is ignored. An entry that starts inside
    the run but runs past the last day (a campaign, an incentive programme, a ramp) is a
    ScenarioWarning naming the days that are ignored."""
    last = scenario.days
    file_days = scenario._file_days or last
    for i, event in enumerate(scenario.timeline):
        label = f"timeline[{i}] ({event.name})"
        start = event.start_day
        if event.kind in ("campaign", "incentive", "trend"):
            end = start + event.days - 1  # a trend is at full size from then on
        elif event.kind == "ramp":
            end = start + event.days  # the end value is reached on this day
        else:
            end = start  # a policy launch is in force from start_day to the end of the run
        if start > last:
            if last < file_days and start <= file_days:
                warnings.warn(ScenarioWarning(
                    f"{source}: {label}: starts on day {start}, after the last day ({last}) of this shortened "
                    f"run; it is ignored"), stacklevel=2)
                continue
            raise ScenarioError(source, f"timeline[{i}].start_day", start,
                                f"{event.kind} {event.name!r} would start after the last day of the run ({last}); "
                                f"allowed: 1-{last}")
        if end > last:
            ignored = f"day {end} is" if end == last + 1 else f"days {last + 1}-{end} are"
            warnings.warn(ScenarioWarning(
                f"{source}: {label}: runs to day {end}, past the last day ({last}); {ignored} ignored"), stacklevel=2)
    if scenario.warmup_days >= last > 0 and scenario.warmup_days > 0:
        warnings.warn(ScenarioWarning(
            f"{source}: warmup_days ({scenario.warmup_days}) is not shorter than the run ({last} days); "
            f"the run summaries cover every day"), stacklevel=2)
    scenario._timeline_checked = True


_check_timeline = check_timeline  # for functions whose keyword argument has the same name


def with_overrides(scenario: Scenario, overrides: dict[str, Any], source: str = "<overrides>",
                   *, check_timeline: bool = True) -> Scenario:
    """Return a re-validated copy with dotted-path overrides applied (``world.n_buyers=1000``).

    ``policy_preset`` means what it means in a scenario file: the named preset is the base and
    the file's own [policy] values still win; other ``policy.*`` overrides apply on top.
    ``policy_overrides.<market>.<policy path>`` changes one lever in one market. The timeline
    is checked against the resolved run length (see ``check_timeline``). numpy scalars and arrays
    count as the Python numbers and lists they hold (``sim.plain``)."""
    overrides = plain(overrides)
    if not overrides:
        if check_timeline and not scenario._timeline_checked:
            _check_timeline(scenario, source)
        return scenario
    data = scenario.model_dump(mode="python")
    own = copy.deepcopy(scenario._own_policy)
    changes = {OVERRIDE_ALIASES.get(str(k), str(k)): v for k, v in overrides.items()}
    if "policy_preset" in changes:
        name = changes.pop("policy_preset")
        preset: dict[str, Any] = {}
        if name is not None:
            try:
                preset = load_preset(name, scenario._base_dir)
            except ValueError as exc:
                raise ScenarioError(source, "policy_preset", None, str(exc).split("|", 1)[-1]) from None
        try:  # complete, so that other policy.* overrides find every lever
            data["policy"] = Policy.model_validate(_deep_merge(preset, own)).model_dump(mode="python")
        except ValidationError as exc:
            err = format_validation_error(exc, source, Policy)
            raise ScenarioError(source, f"policy.{err.field}", err.value, err.allowed) from None
        data["policy_preset"] = name
    per_market = {k: v for k, v in changes.items() if k == "policy_overrides" or k.startswith("policy_overrides.")}
    for key, value in changes.items():
        if key in per_market:
            continue
        try:
            _set_path(data, key, value, source)
        except ScenarioError as exc:
            raise _with_suggestion(exc, data, key, value, source) from None
        if key == "policy":
            own = copy.deepcopy(value) if isinstance(value, dict) else own
        elif key.startswith("policy."):
            _remember(own, key.split(".")[1:], value)
    for key, value in per_market.items():
        _set_market_override(data, key, value, source)
    try:  # the preset is already merged into data["policy"]
        new = Scenario.model_validate(data, context={"preset_merged": True})
    except ValidationError as exc:
        raise format_validation_error(exc, source, Scenario) from None
    new._own_policy = own
    new._base_dir = scenario._base_dir
    new._file_days = scenario._file_days
    if check_timeline:
        if scenario._timeline_checked and (new.days, new.timeline) == (scenario.days, scenario.timeline):
            new._timeline_checked = True
        else:
            _check_timeline(new, source)
    return new


def value_at(scenario: Scenario, path: str) -> Any:
    """The value a dotted path (as :func:`with_overrides` takes it) has in ``scenario``.

    ``policy_overrides.<market>.<policy path>`` reads the market's own override when there is one
    and the platform-wide ``policy.<policy path>`` otherwise: the value in force in that market.
    Raises ScenarioError for a path the scenario does not have."""
    data = scenario.model_dump(mode="json")
    key = OVERRIDE_ALIASES.get(path, path)
    if key.startswith("policy_overrides."):
        parts = key.split(".", 2)
        if len(parts) == 3:
            own = (data.get("policy_overrides") or {}).get(parts[1]) or {}
            flat = _flatten(own) if isinstance(own, dict) else {}
            if parts[2] in flat:
                return flat[parts[2]]
            key = f"policy.{parts[2]}"
    node: Any = data
    parts = key.split(".")
    for depth, part in enumerate(parts):
        node = _child(node, part, ".".join(parts[: depth + 1]), "<scenario>")
    return node


def _remember(own: dict[str, Any], parts: list[str], value: Any) -> None:
    """Record a ``policy.*`` override in the file's own policy table, so that a later preset
    change keeps it (best effort: paths into lists are not recorded)."""
    node = own
    for part in parts[:-1]:
        child = node.get(part)
        if child is None:
            child = node[part] = {}
        if not isinstance(child, dict):
            return
        node = child
    node[parts[-1]] = copy.deepcopy(value)


def _set_market_override(data: dict[str, Any], key: str, value: Any, source: str) -> None:
    """``policy_overrides.<market>[.<policy path>] = value``: the market is checked here, the
    policy path when the scenario is validated (both errors name the full path)."""
    if key == "policy_overrides":
        data["policy_overrides"] = value
        return
    parts = key.split(".", 2)
    market = parts[1]
    markets = [str(m.get("name")) for m in data["world"]["markets"] if isinstance(m, dict)]
    if market not in markets:
        raise ScenarioError(source, f"policy_overrides.{market}", None, unknown_name_message(market, markets, "market"))
    table = data.setdefault("policy_overrides", {})
    if len(parts) == 2 or not parts[2]:
        table[market] = value
        return
    current = table.get(market) or {}
    flat = _flatten(current) if isinstance(current, dict) else {}
    flat[parts[2]] = value
    table[market] = flat


def _with_suggestion(exc: ScenarioError, data: dict[str, Any], key: str, value: Any, source: str) -> ScenarioError:
    """An unknown top-level path that exists under ``policy.`` or ``world.`` names the full path."""
    first = key.split(".", 1)[0]
    if first in data:
        return exc
    for prefix in ("policy", "world"):
        try:
            _set_path(copy.deepcopy(data), f"{prefix}.{key}", value, source)
        except ScenarioError:
            continue
        return ScenarioError(source, key, None,
                             f"unknown parameter (did you mean '{prefix}.{key}'?); top-level parameters: "
                             f"{', '.join(sorted(data))}")
    return exc


def _set_path(data: dict[str, Any], path: str, value: Any, source: str) -> None:
    parts = path.split(".")
    node: Any = data
    for depth, part in enumerate(parts[:-1]):
        node = _child(node, part, ".".join(parts[: depth + 1]), source)
    last = parts[-1]
    if isinstance(node, list):
        node[_list_index(node, last, path, source)] = value
    elif isinstance(node, dict) and (last in node or _is_open_dict(parts)):
        node[last] = value
    else:
        allowed = sorted(node) if isinstance(node, dict) else []
        raise ScenarioError(source, path, None, unknown_name_message(last, allowed, "parameter"))


def _child(node: Any, part: str, where: str, source: str) -> Any:
    if isinstance(node, list):
        return node[_list_index(node, part, where, source)]
    if isinstance(node, dict) and part in node:
        return node[part]
    allowed = sorted(node) if isinstance(node, dict) else []
    raise ScenarioError(source, where, None, unknown_name_message(part, allowed, "parameter"))


def _list_index(node: list[Any], part: str, where: str, source: str) -> int:
    # Lists of named items (markets, categories, timeline) are addressed by name or index.
    for i, item in enumerate(node):
        if isinstance(item, dict) and item.get("name") == part:
            return i
    if part.isdigit() and int(part) < len(node):
        return int(part)
    names = [str(item.get("name", i)) for i, item in enumerate(node) if isinstance(item, dict)]
    if not names:
        allowed = f"an index 0-{len(node) - 1}" if node else "none (the list is empty)"
        raise ScenarioError(source, where, part, f"no such item; allowed: {allowed}")
    raise ScenarioError(source, where, part, f"no such item; allowed: {', '.join(names)}")


def _is_open_dict(parts: list[str]) -> bool:
    # Dict-valued fields whose keys are data, not schema.
    return parts[-2:-1] in (["commission_cap_by_category"], ["opportunist_weights"], ["points"], ["set"],
                            ["category_exposure"], ["threshold_by_tactic"], ["kyc_strictness_by_category"])
