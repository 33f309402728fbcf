"""Orders in flight and the money they move.

Every order is split when placed: the buyer pays ``value``; the creator earns ``commission``;
the platform takes ``fee``; the seller keeps the rest. A refund reverses the split, except the
refund admin fee the platform keeps from the seller; a forfeited commission moves from the
creator to the platform. So at any time
``buyer spend - refunds == commissions + platform fees + forfeited + seller revenue`` exactly.

The two commerce phases of the day book every one of these flows: ``shop`` turns the day's views
into orders and splits their money, ``settle`` resolves the orders delivered today.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from scipy.special import ndtr

from sim import kernels
from sim.tactics import CLEAN, code, kinds, kinds_with

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["ORDER_FIELDS", "Ledger", "OrderBook", "expected_return_chance", "settle", "shop", "tactic_orders"]

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
        ordered = settle_day[order]
        first = np.concatenate(([0], (ordered[1:] != ordered[:-1]).nonzero()[0] + 1))  # each day's first order
        days = ordered[first]
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

    def buyers_in_flight(self) -> np.ndarray:
        """The buyer rows of every pending order placed by a real buyer (with repeats)."""
        parts = [b["buyer"] for batches in self._due.values() for b in batches]
        if not parts:
            return np.zeros(0, dtype=np.int64)
        every = np.concatenate(parts)
        return every[every >= 0]

    def renumber_buyers(self, new_row: np.ndarray) -> None:
        """Buyer rows moved (``sim.agents.buyers.BuyerPopulation.compact``): pending orders follow."""
        for batches in self._due.values():
            for b in batches:
                real = b["buyer"] >= 0
                b["buyer"] = np.where(real, new_row[np.maximum(b["buyer"], 0)], b["buyer"])

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


# ---------------------------------------------------------------------- the day's phases


def shop(model: LiveShopModel, day: Day) -> None:
    """Views become orders; violating streams change conversion and outcomes; money is split.

    Reads ``day.streams``, ``day.view_buyer``/``view_stream``, ``day.campaign`` (conversion),
    ``day.fraud_target`` and ``day.enrolled``; files the orders in ``model.orders`` under their
    settle day and books the split in ``model.ledger``, the creator totals and the day's counts.
    """
    s = day.streams
    c = model.creators
    b = model.buyers
    rng = model.rngs["shop"]
    cfg = model.config
    tac_cfg = cfg.world.tactics
    vb, vs = day.view_buyer, day.view_stream
    bc = cfg.world.buyers
    # Per-stream part of conversion, computed once per stream rather than per view.
    sc = s.creator
    stream_conv = model.base_conversion[s.market] * c.col("skill")[sc] * np.sqrt(c.col("quality")[sc])
    p, camp, violating = kernels.view_conversion(vb, vs, stream_conv, b.col("trust"), max(bc.trust_initial, 1e-9),
                                                 s.campaign, s.tactic != CLEAN)
    if bc.trust_conversion_elasticity != 1.0:
        p **= bc.trust_conversion_elasticity  # applies to the trust ratio only: rescale below
        p *= stream_conv[vs] ** (1.0 - bc.trust_conversion_elasticity)
    # Campaign prices move price-sensitive buyers more; so do cheap counterfeits.
    if camp.size:
        conv_f = day.campaign["conversion"][s.creator[vs[camp]]]
        p[camp] *= 1.0 + (conv_f - 1.0) * b.col("price_sensitivity")[vb[camp]]
    # Violating views convert as their tactic says (e.g. counterfeits lift price-sensitive buyers).
    t_violating = s.tactic[vs[violating]]
    for kind in kinds():
        idx = violating[t_violating == code(kind.name)]
        if idx.size:
            p[idx] *= kind.conversion(getattr(tac_cfg, kind.name), model, vb[idx])
    # Sellers pass part of the referral fee on to prices (policy.fee_pass_through): a dearer
    # market converts less, more so for price-sensitive buyers (nothing changes at the
    # reference fee).
    lv = model.levers
    price_f = lv.fee_price_factor
    if np.any(price_f != 1.0):
        vm = s.market[vs]
        p *= price_f[vm] ** (-lv.fee_price_elasticity[vm] * b.col("price_sensitivity")[vb])
    buy = kernels.draw_orders(p, 0.95, rng)

    o_buyer = vb[buy]
    o_stream = vs[buy]
    o_creator = sc[o_stream]
    o_market = s.market[o_stream]
    o_tactic = s.tactic[o_stream]
    o_cat = s.category[o_stream]
    k = o_buyer.size
    value = np.exp(model.value_mu[o_cat] + model.value_sigma[o_cat] * rng.standard_normal(k))
    value *= model.price_level[o_market]
    if np.any(price_f != 1.0):
        value *= price_f[o_market]  # the fee passed on is part of the price buyers pay
    bad_rate = model.tactics.bad_rate
    clean_bad = bad_rate[CLEAN] * (1.5 - c.col("quality")[o_creator])
    bad_p = np.where(o_tactic == CLEAN, clean_bad, bad_rate[o_tactic])
    bad = rng.random(k) < bad_p
    # Some tactics take a share of their orders off the platform.
    divert = rng.random(k) < model.tactics.diversion_share[o_tactic]
    orders = {
        "buyer": o_buyer.astype(np.int64),
        "creator": o_creator.astype(np.int64),
        "market": o_market.astype(np.int16),
        "category": o_cat.astype(np.int16),
        "value": value,
        "tactic": o_tactic.astype(np.int8),
        "bad": bad,
        "offplatform": divert,
        "fake": np.zeros(k, dtype=bool),
        "induced": s.induced[o_stream],
    }
    orders = _concat(orders, tactic_orders(model, day, rng))

    value = orders["value"]
    creator = orders["creator"]
    market = orders["market"].astype(np.int64)
    on = ~orders["offplatform"]
    rate = np.minimum(c.col("commission_rate")[creator], lv.commission_cap[market, orders["category"]])
    orders["commission"] = np.where(on, value * rate, 0.0)
    orders["fee"] = np.where(on, value * lv.referral_fee[market], 0.0)
    orders["placed_day"] = np.full(value.size, model.day, dtype=np.int32)

    onv = np.where(on, value, 0.0)
    led = model.ledger
    n_m = model.n_markets
    led.buyer_paid += np.bincount(market, weights=onv, minlength=n_m)
    led.commissions += np.bincount(market, weights=orders["commission"], minlength=n_m)
    led.platform_fees += np.bincount(market, weights=orders["fee"], minlength=n_m)
    led.seller_revenue += np.bincount(
        market, weights=onv - orders["commission"] - orders["fee"], minlength=n_m
    )
    led.offplatform_paid += np.bincount(market, weights=value - onv, minlength=n_m)

    n_c = c.n
    c.col("earnings")[:] += np.bincount(creator, weights=orders["commission"], minlength=n_c)
    c.col("profit")[:] += np.bincount(creator, weights=orders["commission"], minlength=n_c)
    # A fake order is self-dealing: the commission goes round in a circle and the fraudster
    # is out of pocket by the platform fee plus the cost of running the fake accounts.
    fake_cost = np.where(orders["fake"], orders["commission"] + orders["fee"]
                         + value * model.tactics.fake_order_cost[orders["tactic"]], 0.0)
    c.col("profit")[:] -= np.bincount(creator, weights=fake_cost, minlength=n_c)
    creator_gmv = np.bincount(creator, weights=onv, minlength=n_c)
    c.col("gmv")[:] += creator_gmv
    c.col("gmv_month")[:] += creator_gmv
    c.col("orders")[:] += np.bincount(creator, weights=on, minlength=n_c).astype(np.int64)

    counts = model.counts
    counts.add("gmv", market, onv)
    counts.add("violating_gmv", market, np.where(orders["tactic"] != CLEAN, onv, 0.0))
    counts.add("orders", market, on)
    counts.add("offplatform_gmv", market, value - onv)
    real_induced = orders["induced"] & on & ~orders["fake"]
    counts.add("induced_net_gmv", market, np.where(real_induced, value, 0.0))
    orders["bonus"] = np.zeros(value.size, dtype=bool)
    for run in model.timeline.incentives:
        if run.active:
            enrolled = day.enrolled[run]
            run.record_orders(creator[on], value[on], enrolled)
            orders["bonus"] |= on & enrolled[creator]

    lag = rng.integers(model.delivery_min[market], model.delivery_max[market] + 1)
    model.orders.add(orders, model.day + lag)


def tactic_orders(model: LiveShopModel, day: Day, rng: np.random.Generator) -> dict[str, np.ndarray]:
    """Orders the day's violating streams add by their tactic (e.g. incentive fraud's fake
    orders from colluding accounts), in tactic-code order; no columns when there are none."""
    s = day.streams
    tac_cfg = model.config.world.tactics
    out: dict[str, np.ndarray] = {}
    for kind in kinds_with("extra_orders"):  # (by default a tactic adds no orders)
        streams = (s.tactic == code(kind.name)).nonzero()[0]
        extra = kind.extra_orders(getattr(tac_cfg, kind.name), model, day, streams, rng)
        if extra is not None:
            out = extra if not out else _concat(out, extra)
    return out


def expected_return_chance(return_rate: np.ndarray, sigma: float) -> np.ndarray:
    """Mean chance that a good item is returned, over buyers whose return propensity is
    lognormal(0, ``sigma``): E[min(1, rate * X)], the expectation of ``settle``'s daily draw.

    The cap matters: with X lognormal, E[rate * X] = rate * exp(sigma^2 / 2) exceeds 1 for a
    high-return category once sigma is wide, while no order is returned more than once. With
    a = -ln(rate), E[min(1, rate X)] = rate exp(sigma^2/2) Phi((a - sigma^2)/sigma) + Phi(-a/sigma)
    (the lognormal's partial expectation below 1/rate plus the chance of reaching it).
    """
    rate = np.asarray(return_rate, dtype=float)
    if sigma == 0.0:
        return np.minimum(rate, 1.0)
    with np.errstate(divide="ignore"):
        a = -np.log(rate)  # +inf for a rate of 0: both terms are then 0
    below = rate * np.exp(sigma**2 / 2.0) * ndtr((a - sigma**2) / sigma)
    return np.where(rate > 0.0, below + ndtr(-a / sigma), 0.0)


def settle(model: LiveShopModel, day: Day) -> None:
    """Delivered orders resolve: returns and refunds, harm, complaints, trust; viewers report.

    Pops today's orders from ``model.orders`` and reverses the split of the refunded ones in
    ``model.ledger``; writes ``day.clean_orders`` and the streams' ``reports`` (from
    ``day.view_buyer``/``view_stream``).
    """
    o = model.orders.pop_due(model.day)
    rng = model.rngs["settle"]
    cfg = model.config
    bc = cfg.world.buyers
    c = model.creators
    b = model.buyers
    n_m, n_c = model.n_markets, c.n
    k = o["value"].size
    real = o["buyer"] >= 0
    on = ~o["offplatform"]
    bad = o["bad"]
    value = o["value"]
    market = o["market"].astype(np.int64)
    creator = o["creator"]
    u1, u2, u3 = rng.random(k), rng.random(k), rng.random(k)
    rp = np.where(real, b.col("return_propensity")[np.maximum(o["buyer"], 0)], 0.0)
    want = np.where(bad, bc.return_if_bad * rp, model.return_rate[o["category"]] * rp)
    # Buyers take a few days to ask (geometric from 0 with mean return_delay_mean); requests after
    # the market's return window are refused, so a short window leaves more bad items unremedied.
    asked_after = rng.geometric(1.0 / (1.0 + bc.return_delay_mean), size=k) - 1
    in_window = asked_after <= model.return_window[market]
    lv = model.levers
    refunded = real & on & (u1 < want) & in_window & (~bad | (u2 < lv.refund_protection[market]))
    refunded |= o["fake"] & (u1 < model.tactics.fake_cancel_rate[o["tactic"]])
    admin = np.where(
        refunded, np.minimum(lv.admin_fee_share[market] * o["fee"], lv.admin_fee_cap[market]), 0.0
    )
    rv = np.where(refunded, value, 0.0)
    rc = np.where(refunded, o["commission"], 0.0)
    rf = np.where(refunded, o["fee"] - admin, 0.0)
    led = model.ledger
    led.buyer_refunded += np.bincount(market, weights=rv, minlength=n_m)
    led.commissions -= np.bincount(market, weights=rc, minlength=n_m)
    led.platform_fees -= np.bincount(market, weights=rf, minlength=n_m)
    led.seller_revenue -= np.bincount(market, weights=rv - rc - rf, minlength=n_m)
    clawback = np.bincount(creator, weights=rc, minlength=n_c)
    c.col("earnings")[:] -= clawback

    # Illicit gains and losses by tactic, recognised on delivery.
    gain = np.zeros(k)
    tac = cfg.world.tactics
    for kind in kinds_with("settle_gain"):  # (by default a tactic gains nothing beyond commission)
        mine = o["tactic"] == code(kind.name)
        g = kind.settle_gain(getattr(tac, kind.name), model, o, mine, on, refunded)
        if g is not None:
            gain += g
    # A cancelled fake order hands the fee back (less the admin fee); the claw-back of the
    # circular commission is no loss either.
    gain += np.where(o["fake"] & refunded, o["commission"] + o["fee"] - admin, 0.0)
    c.col("profit")[:] += np.bincount(creator, weights=gain, minlength=n_c) - clawback

    harmed = real & bad & ~refunded
    harm = np.where(harmed, value * model.tactics.harm_fraction[o["tactic"]], 0.0)
    complaint = real & bad & (u3 < bc.complaint_rate * np.where(refunded, bc.complaint_refunded_factor, 1.0))
    settled_on = on.astype(float)
    counts = model.counts
    counts.add("settled", market, settled_on)
    counts.add("refunded", market, refunded)
    counts.add("refund_value", market, rv)
    counts.add("buyer_harm", market, harm)
    counts.add("complaints", market, complaint)
    counts.add("induced_net_gmv", market, -np.where(o["induced"], rv, 0.0))
    c.col("settled")[:] += np.bincount(creator, weights=settled_on, minlength=n_c).astype(np.int64)
    c.col("refunded")[:] += np.bincount(creator, weights=refunded, minlength=n_c).astype(np.int64)
    c.col("bad_outcomes")[:] += np.bincount(creator, weights=real & bad, minlength=n_c).astype(np.int64)
    c.col("complaints")[:] += np.bincount(creator, weights=complaint, minlength=n_c).astype(np.int64)
    counted = refunded & o["bonus"]
    for run in model.timeline.incentives:
        run.record_refunds(creator[counted], value[counted], o["placed_day"][counted])
        # Clean as the platform sees it: not bad, not refunded (a fake order kept looks clean).
        run.record_settled(creator[on], (~bad & ~refunded)[on], complaint[on])

    b.update_trust(o["buyer"][real], bad[real], refunded[real])
    day.clean_orders = np.bincount(creator, weights=real & on & ~bad & ~refunded, minlength=n_c)
    model.complaints_7d.push(np.bincount(creator, weights=complaint, minlength=n_c))

    # Viewers report streams: true reports scale with how visible the breach is; a few
    # viewers report clean streams too. Each viewer reports with a small probability, so a
    # stream's count is Poisson with the summed probabilities (exact to O(p^2)).
    s = day.streams
    prop = kernels.stream_sums(day.view_stream, day.view_buyer, b.col("report_propensity"), s.creator.size)
    clean = s.tactic == CLEAN
    true_rate = bc.report_rate * model.tactics.visibility[s.tactic] * prop
    false_rate = np.where(clean, bc.false_report_rate * prop, 0.0)
    s.false_reports = rng.poisson(false_rate)
    s.reports = rng.poisson(true_rate) + s.false_reports
    c.col("reports")[s.creator] += s.reports
    counts.add("reports", s.market, s.reports)
    counts.add("false_reports", s.market, s.false_reports)


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if not b or next(iter(b.values())).size == 0:
        return a
    return {k: np.concatenate([a[k], b[k]]) for k in a}
