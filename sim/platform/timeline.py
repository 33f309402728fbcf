"""The timeline: dated campaigns and incentive programmes, fired by Mesa's event scheduler.

Each scenario event becomes a runtime object whose bound ``start``/``end`` methods are scheduled
with ``model.schedule_event`` half a day before the step they affect, so they take effect at the
start of that day (phase 1 of the step). Concurrent campaigns in one market multiply.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.config import Campaign, Eligibility, Incentive
from sim.labels import CreatorState

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["CampaignRun", "IncentiveRun", "Timeline", "eligible_creators"]


def eligible_creators(model: LiveShopModel, rule: Eligibility, markets: np.ndarray, flag: str) -> np.ndarray:
    """Creators meeting ``rule`` in the given markets (bool per market), and not barred by ``flag``."""
    c = model.creators
    ok = c.live_mask() & markets[c.col("market")] & c.col(flag)
    ok &= c.col("level") >= rule.min_level
    ok &= c.col("followers") >= rule.min_followers
    if rule.exclude_pilot:
        ok &= c.col("state") != CreatorState.pilot
    if rule.max_age_days is not None:
        ok &= (model.day - c.col("joined_day")) < rule.max_age_days
    return ok


class _Run:
    def __init__(self, model: LiveShopModel, cfg: Campaign | Incentive) -> None:
        self.model = model
        self.cfg = cfg
        names = [m.name for m in model.config.world.markets]
        chosen = cfg.markets or names
        self.market_mask = np.array([n in chosen for n in names])
        self.active = False

    def schedule(self) -> None:
        self.model.schedule_event(self.start, at=self.cfg.start_day - 0.5)
        end = self.cfg.end_day + 0.5
        if end < self.model.config.days + 1:
            self.model.schedule_event(self.end, at=end)

    def start(self) -> None:
        self.active = True

    def end(self) -> None:
        self.active = False


class CampaignRun(_Run):
    """A running sale event."""

    cfg: Campaign


class IncentiveRun(_Run):
    """A running GMV-bonus programme: enrolment, period GMV, payouts within a budget."""

    cfg: Incentive

    def __init__(self, model: LiveShopModel, cfg: Incentive) -> None:
        super().__init__(model, cfg)
        self.remaining = float(cfg.budget)
        self.spent = 0.0
        self.period_gmv = np.zeros(0)
        self.period_start = 0
        # Closed periods waiting for the net-basis holdback: (payout day, first day, last day, gmv).
        self.awaiting: list[tuple[int, int, int, np.ndarray]] = []

    def start(self) -> None:
        super().start()
        self._open_period(self.model.day + 1)

    def _open_period(self, first_day: int) -> None:
        self.period_start = first_day
        self.period_gmv = np.zeros(self.model.creators.n)

    def enrolled(self) -> np.ndarray:
        """Creators eligible for the programme today."""
        return eligible_creators(self.model, self.cfg.eligibility, self.market_mask, "incentive_eligible")

    def period_gmv_of_all(self) -> np.ndarray:
        """GMV of the open period so far, one entry per creator (0 for newcomers)."""
        n = self.model.creators.n
        out = np.zeros(n)
        k = min(n, self.period_gmv.size)
        out[:k] = self.period_gmv[:k]
        return out

    def record_orders(self, creator: np.ndarray, value: np.ndarray, enrolled: np.ndarray) -> None:
        """Add today's on-platform GMV of enrolled creators to the open period."""
        if not self.active:
            return
        n = self.model.creators.n
        if self.period_gmv.size < n:
            self.period_gmv = np.pad(self.period_gmv, (0, n - self.period_gmv.size))
        keep = enrolled[creator]
        self.period_gmv += np.bincount(creator[keep], weights=value[keep], minlength=n)

    def record_refunds(self, creator: np.ndarray, value: np.ndarray, placed_day: np.ndarray) -> None:
        """Net basis: refunds of orders placed in a period (open, or closed and held back) reduce its GMV."""
        if self.cfg.basis != "net":
            return
        periods = list(self.awaiting)
        if self.active and self.period_gmv.size:
            periods.append((0, self.period_start, self.model.day, self.period_gmv))
        for _, first, last, gmv in periods:
            inside = (placed_day >= first) & (placed_day <= last) & (creator < gmv.size)
            if inside.any():
                gmv -= np.bincount(creator[inside], weights=value[inside], minlength=gmv.size)

    def close_day(self, day: int) -> np.ndarray:
        """End-of-day bookkeeping; returns bonuses paid today per creator."""
        cfg = self.cfg
        n = self.model.creators.n
        paid = np.zeros(n)
        if self.active and (day - self.period_start + 1 >= cfg.period_days or day >= cfg.end_day):
            gmv = self.period_gmv
            if cfg.basis == "gross":
                paid[: gmv.size] += self._pay(gmv)
            else:
                self.awaiting.append((day + cfg.holdback_days, self.period_start, day, gmv.copy()))
            if day < cfg.end_day:
                self._open_period(day + 1)
            else:
                self.period_gmv = np.zeros(0)
        due = [a for a in self.awaiting if a[0] <= day]
        self.awaiting = [a for a in self.awaiting if a[0] > day]
        for _, _, _, gmv in due:
            paid[: gmv.size] += self._pay(gmv)
        return paid

    def _pay(self, gmv: np.ndarray) -> np.ndarray:
        cfg = self.cfg
        c = self.model.creators
        # Only creators still on the platform and not barred from incentives are paid.
        payable = c.present_mask()[: gmv.size] & c.col("incentive_eligible")[: gmv.size]
        bonus = np.where(payable & (gmv >= max(cfg.gmv_threshold, 1e-9)),
                         np.minimum(cfg.bonus_rate * gmv, cfg.bonus_cap), 0.0)
        total = float(bonus.sum())
        if total > self.remaining:  # budget exhausted: pay pro rata what is left
            bonus *= self.remaining / total if total > 0 else 0.0
            total = self.remaining
        self.remaining -= total
        self.spent += total
        return bonus


class Timeline:
    """All dated events of a scenario, scheduled on the model's event list."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        self.campaigns = [CampaignRun(model, e) for e in model.config.timeline if e.kind == "campaign"]
        self.incentives = [IncentiveRun(model, e) for e in model.config.timeline if e.kind == "incentive"]
        for run in (*self.campaigns, *self.incentives):
            run.schedule()

    def campaign_factors(self) -> dict[str, np.ndarray]:
        """Per-market multipliers of the campaigns in force today (1 where none)."""
        n_m = len(self.model.config.world.markets)
        out = {k: np.ones(n_m) for k in ("traffic", "conversion", "go_live", "boost")}
        for run in self.campaigns:
            if run.active:
                m = run.market_mask
                out["traffic"][m] *= run.cfg.traffic_multiplier
                out["conversion"][m] *= run.cfg.conversion_multiplier
                out["go_live"][m] *= run.cfg.go_live_multiplier
                out["boost"][m] *= run.cfg.boost
        return out

    def campaign_eligible(self) -> np.ndarray:
        """Per creator: True where a campaign in force today admits the creator."""
        elig = np.zeros(self.model.creators.n, dtype=bool)
        for run in self.campaigns:
            if run.active:
                elig |= eligible_creators(self.model, run.cfg.eligibility, run.market_mask, "campaign_eligible")
        return elig

    def campaign_days(self) -> list[tuple[str, int, int, list[str]]]:
        """(name, first day, last day, markets) of every campaign, for plots."""
        names = [m.name for m in self.model.config.world.markets]
        return [
            (r.cfg.name, r.cfg.start_day, r.cfg.end_day, [n for n, on in zip(names, r.market_mask, strict=False) if on])
            for r in self.campaigns
        ]
