"""``quality_bonus``: pays for clean selling, not for volume alone (design §3 step 9).

Each period, an enrolled creator whose period GMV reaches a floor is paid a share of it (up
to a cap) only if the orders that settled in the period were mostly clean (not bad, not
refunded) and drew few complaints. Fake orders hurt exactly that: colluding accounts cancel
most of them (``world.tactics.incentive_fraud.cancel_rate``), and a cancelled order is a refunded one. So an
incentive fraudster fakes the GMV gap only while the period's clean-order share, with the fake
orders he expects to be cancelled counted in, would still meet the threshold.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.config import Incentive
from sim.platform.programmes.base import Programme
from sim.platform.programmes.registry import register
from sim.schema import Budget, Share

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["QualityBonus", "QualityBonusConfig"]


class QualityBonusConfig(Incentive):
    """A bonus on period GMV above a floor, for creators with a clean record in the period."""

    program: Literal["quality_bonus"]
    # Monthly, as TikTok Shop grades creators on the previous month's performance (domain
    # facts, "Levels and scores", H).
    period_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 30
    # Assumption: the same floor as the gmv_bonus threshold.
    gmv_floor: Budget = 200.0
    # Assumption: about the model's typical clean share (refunds run near 20 % of orders), so
    # roughly the cleaner half of sellers qualifies.
    min_clean_share: Share = 0.75
    # Assumption: complaints per settled order; the model's average is near 0.7 %.
    max_complaint_rate: Share = 0.01
    bonus_rate: Annotated[float, Strict(), Field(ge=0.0, le=5.0)] = 0.10
    bonus_cap: Budget = 500.0


@register
class QualityBonus(Programme):
    """Period GMV of enrolled creators, and their settled, clean and complained-of orders."""

    name = "quality_bonus"
    config = QualityBonusConfig
    spend_counter = "quality_bonus_spend"
    cfg: QualityBonusConfig

    def __init__(self, model: LiveShopModel, cfg: QualityBonusConfig) -> None:
        super().__init__(model, cfg)
        self.period_start = 0
        self.gmv = np.zeros(0)
        self.orders = np.zeros(0)
        self.settled = np.zeros(0)
        self.clean = np.zeros(0)
        self.complaints = np.zeros(0)

    def start(self) -> None:
        super().start()
        self._open_period(self.model.day + 1)

    def _open_period(self, first_day: int) -> None:
        self.period_start = first_day
        n = self.model.creators.n
        self.gmv, self.orders = np.zeros(n), np.zeros(n)
        self.settled, self.clean, self.complaints = np.zeros(n), np.zeros(n), np.zeros(n)

    def _grow(self) -> None:
        n = self.model.creators.n
        if self.gmv.size < n:
            pad = (0, n - self.gmv.size)
            self.gmv, self.orders = np.pad(self.gmv, pad), np.pad(self.orders, pad)
            self.settled, self.clean = np.pad(self.settled, pad), np.pad(self.clean, pad)
            self.complaints = np.pad(self.complaints, pad)

    def record_orders(self, creator: np.ndarray, value: np.ndarray, enrolled: np.ndarray) -> None:
        """Today's on-platform orders of enrolled creators count toward the period's GMV."""
        if not self.active:
            return
        self._grow()
        n = self.gmv.size
        keep = enrolled[creator]
        self.gmv += np.bincount(creator[keep], weights=value[keep], minlength=n)
        self.orders += np.bincount(creator[keep], minlength=n)

    def record_settled(self, creator: np.ndarray, clean: np.ndarray, complaint: np.ndarray) -> None:
        """Orders settling in the period make up each creator's clean share and complaint rate."""
        if not self.active:
            return
        self._grow()
        n = self.gmv.size
        keep = creator < n
        self.settled += np.bincount(creator[keep], minlength=n)
        self.clean += np.bincount(creator[keep], weights=clean[keep], minlength=n)
        self.complaints += np.bincount(creator[keep], weights=complaint[keep], minlength=n)

    def _of_all(self, a: np.ndarray) -> np.ndarray:
        out = np.zeros(self.model.creators.n)
        k = min(out.size, a.size)
        out[:k] = a[:k]
        return out

    def offers_bonus(self) -> bool:
        return super().offers_bonus() and self.cfg.bonus_rate > 0.0 and self.cfg.bonus_cap > 0.0

    def expected_bonus(self, enrolled: np.ndarray) -> np.ndarray:
        """As ``gmv_bonus`` with the floor as threshold, and only for creators whose record
        meets the quality terms: the open period's settled orders if it has any, else the
        creator's whole record (clean share taken as the share not refunded), else none yet
        (a creator with no settled order expects to be clean)."""
        cfg = self.cfg
        c = self.model.creators
        g = self.recent_gmv_per_day() * cfg.period_days
        chance = self.chance_of_reaching(g, cfg.gmv_floor)
        settled, clean, complaints = self._of_all(self.settled), self._of_all(self.clean), self._of_all(self.complaints)
        ever = c.col("settled").astype(float)
        in_period = settled > 0
        settled = np.where(in_period, settled, ever)
        clean = np.where(in_period, clean, ever - c.col("refunded"))
        complaints = np.where(in_period, complaints, c.col("complaints"))
        share = np.divide(clean, settled, out=np.ones_like(settled), where=settled > 0)
        rate = np.divide(complaints, settled, out=np.zeros_like(settled), where=settled > 0)
        good = (share >= cfg.min_clean_share) & (rate <= cfg.max_complaint_rate)
        bonus = chance * np.minimum(cfg.bonus_rate * np.maximum(g, cfg.gmv_floor), cfg.bonus_cap)
        return np.where(enrolled & good, bonus / cfg.period_days, 0.0)

    def fraud_target(self, enrolled: np.ndarray, overshoot: float, cancel_rate: float) -> np.ndarray:
        """The floor gap, for fraudsters whose clean share would survive the faking.

        The fake orders needed are the gap over the period's average order value so far (one
        order when there is none yet); ``cancel_rate`` of them will come back refunded."""
        gmv, orders = self._of_all(self.gmv), self._of_all(self.orders)
        gap = overshoot * self.cfg.gmv_floor - gmv
        aov = np.divide(gmv, orders, out=np.ones_like(gmv), where=orders > 0)
        n_fake = np.where(orders > 0, np.ceil(np.maximum(gap, 0.0) / np.maximum(aov, 1e-9)), 1.0)
        settled = self._of_all(self.settled)
        faked = settled + n_fake
        projected = np.divide(self._of_all(self.clean) + (1.0 - cancel_rate) * n_fake, faked,
                              out=np.ones_like(faked), where=faked > 0)
        worth_it = enrolled & (gap > 0) & (projected >= self.cfg.min_clean_share)
        return np.where(worth_it, gap, 0.0)

    def qualifies(self) -> np.ndarray:
        """Per creator (of the period's arrays): GMV at the floor, clean share and complaint
        rate within the thresholds, on at least one settled order."""
        cfg = self.cfg
        settled = self.settled
        share = np.divide(self.clean, settled, out=np.zeros_like(settled), where=settled > 0)
        rate = np.divide(self.complaints, settled, out=np.ones_like(settled), where=settled > 0)
        return ((self.gmv >= max(cfg.gmv_floor, 1e-9)) & (settled > 0)
                & (share >= cfg.min_clean_share) & (rate <= cfg.max_complaint_rate))

    def close_day(self, day: int) -> np.ndarray:
        """At a period's end, pay the creators who qualify; open the next period."""
        cfg = self.cfg
        paid = np.zeros(self.model.creators.n)
        if self.active and (day - self.period_start + 1 >= cfg.period_days or day >= cfg.end_day):
            self._grow()
            ok = self.qualifies() & self.payable(self.gmv.size)
            bonus = np.where(ok, np.minimum(cfg.bonus_rate * self.gmv, cfg.bonus_cap), 0.0)
            paid[: bonus.size] += self.pay_within_budget(bonus)
            if day < cfg.end_day:
                self._open_period(day + 1)
        return paid
