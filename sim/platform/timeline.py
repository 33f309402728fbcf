"""The timeline: dated campaigns, incentive programmes, policy changes and abuse trends, fired
by Mesa's event scheduler.

Each scenario event becomes a runtime object whose bound methods are scheduled with
``model.schedule_event`` (or ``schedule_recurring`` for ramps) half a day before the step they
affect, so they take effect at the start of that day (phase 1 of the step). Concurrent
campaigns multiply, each only for the creators it admits. Incentive programmes are run by
their registered type (``sim/platform/programmes/``), abuse trends by their registered kind
(``sim/platform/trends/``): the timeline only builds and schedules them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from mesa.time import Schedule

from sim.config import Campaign, Eligibility, PolicyLaunch, Ramp, apply_policy_changes
from sim.labels import CreatorState
from sim.platform.dated import DatedRun
from sim.platform.programmes import Programme, programme_for
from sim.platform.trends import TrendRun, trend_for

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["CampaignRun", "IncentiveRun", "Timeline", "eligible_creators"]

# A running incentive programme, whatever its type (the name the day and older code use).
IncentiveRun = Programme


def eligible_creators(model: LiveShopModel, rule: Eligibility, markets: np.ndarray, flag: str) -> np.ndarray:
    """Creators meeting ``rule`` in the given markets (bool per market), and not barred by ``flag``."""
    c = model.creators
    ok = c.live_mask() & markets[c.col("market")] & c.col(flag)
    ok &= c.col("level") >= rule.min_level
    ok &= c.col("followers") >= rule.min_followers
    if rule.exclude_pilot:
        ok &= c.col("state") != CreatorState.pilot
    if rule.max_age_days is not None:
        ok &= (model.day - c.col("joined_day")) <= rule.max_age_days  # joined at the end of a day
    return ok


class CampaignRun(DatedRun):
    """A running sale event."""

    cfg: Campaign


class _PolicyChange:
    """A dated change to some markets' policies."""

    def __init__(self, model: LiveShopModel, cfg: PolicyLaunch | Ramp) -> None:
        self.model = model
        self.cfg = cfg
        names = model.market_names
        self.markets = [names.index(m) for m in (cfg.markets or names)]

    def apply(self, changes: dict) -> None:
        for m in self.markets:
            self.model.set_market_policy(m, apply_policy_changes(self.model.policies[m], changes))


class PolicyRun(_PolicyChange):
    """A policy launch: from its day, the markets run their policy with the changes applied."""

    cfg: PolicyLaunch

    def schedule(self) -> None:
        self.model.schedule_event(self.launch, at=self.cfg.start_day - 0.5)

    def launch(self) -> None:
        self.apply(self.cfg.set)


class RampRun(_PolicyChange):
    """A lever moving linearly between two values, set afresh before each day of the ramp."""

    cfg: Ramp

    def schedule(self) -> None:
        cfg = self.cfg
        self.model.schedule_recurring(self.step, Schedule(interval=1, start=cfg.start_day - 0.5, count=cfg.days + 1))

    def step(self) -> None:
        day = round(self.model.time + 0.5)
        self.apply({self.cfg.path: self.cfg.value_on(day)})


class Timeline:
    """All dated events of a scenario, scheduled on the model's event list."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        events = model.config.timeline
        self.campaigns = [CampaignRun(model, e) for e in events if e.kind == "campaign"]
        self.incentives: list[Programme] = [programme_for(model, e) for e in events if e.kind == "incentive"]
        self.launches = [PolicyRun(model, e) for e in events if e.kind == "policy"]
        self.ramps = [RampRun(model, e) for e in events if e.kind == "ramp"]
        self.trends: list[TrendRun] = [trend_for(model, e) for e in events if e.kind == "trend"]
        for run in (*self.campaigns, *self.incentives, *self.launches, *self.ramps, *self.trends):
            run.schedule()

    def traffic(self) -> np.ndarray:
        """Per-market demand multiplier of the campaigns in force today (1 where none)."""
        out = np.ones(self.model.n_markets)
        for run in self.campaigns:
            if run.active:
                out[run.market_mask] *= run.cfg.traffic_multiplier
        return out

    def campaign_effects(self) -> dict[str, np.ndarray]:
        """Per creator: whether a campaign in force admits them, and the product of the
        go-live, boost and conversion multipliers of the campaigns that do (the boost, the
        recommender's score multiplier, also carries the traffic programmes in force grant)."""
        n = self.model.creators.n
        out = {"admitted": np.zeros(n, dtype=bool), "go_live": np.ones(n), "boost": np.ones(n),
               "conversion": np.ones(n)}
        for run in self.campaigns:
            if run.active:
                elig = eligible_creators(self.model, run.cfg.eligibility, run.market_mask, "campaign_eligible")
                out["admitted"] |= elig
                out["go_live"][elig] *= run.cfg.go_live_multiplier
                out["boost"][elig] *= run.cfg.boost
                out["conversion"][elig] *= run.cfg.conversion_multiplier
        for programme in self.incentives:
            if programme.active:
                factor = programme.traffic_factor()
                if factor is not None:
                    out["boost"] *= factor
        return out

    def campaign_days(self) -> list[tuple[str, int, int, list[str]]]:
        """(name, first day, last day, markets) of every campaign, for plots."""
        names = [m.name for m in self.model.config.world.markets]
        return [
            (r.cfg.name, r.cfg.start_day, r.cfg.end_day, [n for n, on in zip(names, r.market_mask, strict=False) if on])
            for r in self.campaigns
        ]
