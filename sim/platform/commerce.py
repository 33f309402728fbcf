"""Orders in flight and the money they move.

Every order is split when placed: the buyer pays ``value``; the creator earns ``commission``;
the platform takes ``fee``; the seller keeps the rest. A refund reverses the split, except the
refund admin fee the platform keeps from the seller; a forfeited commission moves from the
creator to the platform. So at any time
``buyer spend - refunds == commissions + platform fees + forfeited + seller revenue`` exactly.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np

__all__ = ["ORDER_FIELDS", "Ledger", "OrderBook"]

ORDER_FIELDS: dict[str, type] = {
    "buyer": np.int64,  # -1 for fake (colluding) buyer accounts
    "creator": np.int64,
    "market": np.int16,
    "category": np.int16,
    "value": np.float64,
    "commission": np.float64,
    "fee": np.float64,
    "tactic": np.int8,  # ground-truth label of the stream the order came from
    "bad": np.bool_,  # the buyer will get a bad item (fake, not as described, scam)
    "offplatform": np.bool_,  # paid off the platform: no GMV, no protection
    "fake": np.bool_,  # placed by a colluding account to game an incentive
    "induced": np.bool_,  # came from a stream an incentive programme induced
    "bonus": np.bool_,  # counted towards an incentive programme's period GMV
    "placed_day": np.int32,
}


class OrderBook:
    """Orders waiting for delivery, bucketed by the day they settle."""

    def __init__(self) -> None:
        self._due: dict[int, list[dict[str, np.ndarray]]] = defaultdict(list)
        self.pending = 0

    def add(self, orders: dict[str, np.ndarray], settle_day: np.ndarray) -> None:
        """File a batch of orders under their settle days (a loop over distinct days, not orders)."""
        if settle_day.size == 0:
            return
        order = np.argsort(settle_day, kind="stable")
        days, first = np.unique(settle_day[order], return_index=True)
        bounds = [*first[1:].tolist(), order.size]
        sorted_orders = {k: v[order] for k, v in orders.items()}
        for day, lo, hi in zip(days.tolist(), first.tolist(), bounds, strict=True):
            self._due[day].append({k: v[lo:hi] for k, v in sorted_orders.items()})
        self.pending += int(settle_day.size)

    def pop_due(self, day: int) -> dict[str, np.ndarray]:
        """All orders settling on ``day`` (empty arrays when none)."""
        batches = self._due.pop(day, [])
        if not batches:
            return {k: np.zeros(0, dtype=dt) for k, dt in ORDER_FIELDS.items()}
        out = {k: np.concatenate([b[k] for b in batches]) for k in ORDER_FIELDS}
        self.pending -= int(out["value"].size)
        return out

    def pending_value(self) -> float:
        return float(sum(b["value"].sum() for batches in self._due.values() for b in batches))


class Ledger:
    """Cumulative money flows of the run, by market."""

    FIELDS = (
        "buyer_paid",  # on-platform payments (including fake accounts')
        "buyer_refunded",
        "commissions",  # net of claw-backs
        "platform_fees",  # net of refunded fees, keeping admin fees
        "seller_revenue",  # net
        "offplatform_paid",  # diverted payments, outside the platform's books
        "incentive_paid",
        "bot_spend",  # fake-engagement purchases
        "forfeited",  # commissions forfeited to the platform by sanctions
    )

    def __init__(self, n_markets: int) -> None:
        for f in self.FIELDS:
            setattr(self, f, np.zeros(n_markets))

    def as_dict(self) -> dict[str, float]:
        return {f: float(getattr(self, f).sum()) for f in self.FIELDS}
