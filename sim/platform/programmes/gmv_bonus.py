"""``gmv_bonus``: a share of period GMV paid to enrolled creators above a threshold.

The classic creator bonus (design §3 step 9). Period GMV counts the on-platform orders of
enrolled creators; on the ``gross`` basis a period pays when it closes, on the ``net`` basis it
waits ``holdback_days`` and pays on the GMV not refunded by then. Because gross GMV pays as
placed, it is what incentive fraudsters top up with fake orders.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.config import Incentive
from sim.platform.programmes.base import Programme
from sim.platform.programmes.registry import register
from sim.schema import Budget

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["GmvBonus", "GmvBonusConfig"]


class GmvBonusConfig(Incentive):
    """A creator bonus: a share of period GMV paid to creators above a threshold."""

    program: Literal["gmv_bonus"] = "gmv_bonus"
    period_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 7
    # Period GMV and budgets are totals of money: up to 10^12.
    gmv_threshold: Budget = 200.0
    bonus_rate: Annotated[float, Strict(), Field(ge=0.0, le=5.0)] = 0.10
    bonus_cap: Budget = 500.0
    # "gross" pays on GMV as placed; "net" waits holdback_days and pays on GMV not refunded.
    basis: Literal["gross", "net"] = "gross"
    holdback_days: Annotated[int, Strict(), Field(ge=0, le=90)] = 10


@register
class GmvBonus(Programme):
    """Enrolment, period GMV, the net-basis holdback, payouts within a budget."""

    name = "gmv_bonus"
    config = GmvBonusConfig
    spend_counter = "gmv_bonus_spend"
    cfg: GmvBonusConfig

    def __init__(self, model: LiveShopModel, cfg: GmvBonusConfig) -> None:
        super().__init__(model, cfg)
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

    def period_gmv_of_all(self) -> np.ndarray:
        """GMV of the open period so far, one entry per creator (0 for newcomers)."""
        n = self.model.creators.n
        out = np.zeros(n)
        k = min(n, self.period_gmv.size)
        out[:k] = self.period_gmv[:k]
        return out

    def offers_bonus(self) -> bool:
        return super().offers_bonus() and self.cfg.bonus_rate > 0.0 and self.cfg.bonus_cap > 0.0

    def expected_bonus(self, enrolled: np.ndarray) -> np.ndarray:
        """At its recent pace a creator expects period GMV ``g`` (on the net basis, less the
        share of its settled orders it has seen refunded), a bonus of
        ``min(bonus_rate x max(g, gmv_threshold), bonus_cap)`` if it reaches the threshold,
        and the chance of reaching it (``chance_of_reaching``); per day of the period."""
        cfg = self.cfg
        g = self.recent_gmv_per_day() * cfg.period_days
        if cfg.basis == "net":
            c = self.model.creators
            settled = c.col("settled").astype(float)
            refunded = np.divide(c.col("refunded"), settled, out=np.zeros_like(settled), where=settled > 0)
            g = g * (1.0 - refunded)
        chance = self.chance_of_reaching(g, cfg.gmv_threshold)
        bonus = chance * np.minimum(cfg.bonus_rate * np.maximum(g, cfg.gmv_threshold), cfg.bonus_cap)
        return np.where(enrolled, bonus / cfg.period_days, 0.0)

    def fraud_target(self, enrolled: np.ndarray, overshoot: float, cancel_rate: float) -> np.ndarray:
        """Incentive fraudsters top their period GMV up past the threshold with fake orders."""
        gap = overshoot * self.cfg.gmv_threshold - self.period_gmv_of_all()
        return np.where(enrolled, gap, 0.0)

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
        if not (self.active or self.awaiting) or self.cfg.basis != "net":
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
        # Only creators still on the platform and not barred from incentives are paid.
        payable = self.payable(gmv.size)
        bonus = np.where(payable & (gmv >= max(cfg.gmv_threshold, 1e-9)),
                         np.minimum(cfg.bonus_rate * gmv, cfg.bonus_cap), 0.0)
        return self.pay_within_budget(bonus)
