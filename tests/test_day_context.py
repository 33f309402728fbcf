"""Phases as functions of the model and a hand-built day (``sim.day.Day``)."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import with_overrides
from sim.day import Day, DayStreams
from sim.labels import Tactic
from sim.model import LiveShopModel
from sim.platform.commerce import settle, tactic_orders
from sim.platform.recommender import recommend


def _streams(model: LiveShopModel, rows: np.ndarray, tactic: np.ndarray | None = None) -> DayStreams:
    """Streams of creators ``rows`` (clean unless ``tactic`` says otherwise), before any view."""
    c = model.creators
    n = rows.size
    zeros = np.zeros(n, dtype=np.int64)
    return DayStreams(
        creator=rows.astype(np.int64),
        market=c.col("market")[rows].astype(np.int64),
        category=c.col("category")[rows].astype(np.int64),
        tactic=np.zeros(n, dtype=np.int8) if tactic is None else tactic.astype(np.int8),
        induced=np.zeros(n, dtype=bool),
        campaign=np.zeros(n, dtype=bool),
        views=zeros,
        reports=zeros.copy(),
        false_reports=zeros.copy(),
    )


def _open_day(model: LiveShopModel) -> Day:
    """The model's fresh day context (counts reset, the day's random streams drawn)."""
    return model.begin_day()


def test_settle_conserves_money_on_hand_built_orders(tiny):
    """Settling hand-filed orders keeps buyer spend - refunds == commissions + fees + forfeits + seller revenue."""
    m = LiveShopModel(scenario=tiny)
    day = _open_day(m)
    k = 400
    rng = np.random.default_rng(5)
    buyers = rng.integers(0, m.buyers.n, size=k)
    m.buyers.col("return_propensity")[buyers] = 1.0  # so that refunds happen
    creator = rng.integers(0, m.creators.n, size=k)
    market = m.creators.col("market")[creator]
    value = rng.uniform(5.0, 50.0, size=k)
    fake = np.arange(k) % 10 == 0
    orders = {
        "buyer": np.where(fake, -1, buyers).astype(np.int64),
        "creator": creator.astype(np.int64),
        "market": market.astype(np.int16),
        "category": m.creators.col("category")[creator].astype(np.int16),
        "value": value,
        "commission": value * 0.1,
        "fee": value * 0.05,
        "tactic": np.where(np.arange(k) % 3 == 0, Tactic.counterfeit, Tactic.none).astype(np.int8),
        "bad": np.arange(k) % 2 == 0,
        "offplatform": np.zeros(k, dtype=bool),
        "fake": fake,
        "induced": np.zeros(k, dtype=bool),
        "bonus": np.zeros(k, dtype=bool),
        "placed_day": np.zeros(k, dtype=np.int32),
    }
    # Book the split as shop would, then file the orders to settle today.
    led = m.ledger
    n_m = m.n_markets
    led.buyer_paid += np.bincount(market, weights=value, minlength=n_m)
    led.commissions += np.bincount(market, weights=orders["commission"], minlength=n_m)
    led.platform_fees += np.bincount(market, weights=orders["fee"], minlength=n_m)
    led.seller_revenue += np.bincount(market, weights=value * 0.85, minlength=n_m)
    m.orders.add(orders, np.full(k, m.day))

    settle(m, day)

    d = led.as_dict()
    assert m.orders.pending == 0
    assert d["buyer_refunded"] > 0
    booked = d["commissions"] + d["platform_fees"] + d["forfeited"] + d["seller_revenue"]
    assert d["buyer_paid"] - d["buyer_refunded"] == pytest.approx(booked, rel=1e-12)
    assert m.counts.refund_value.sum() == pytest.approx(d["buyer_refunded"], rel=1e-12)
    assert day.clean_orders.size == m.creators.n


def test_recommend_sends_no_views_to_a_market_without_live_streams(tiny):
    """With live streams only in market 0, market 1's sessions see nothing and every view is market 0's."""
    # No supply elasticity, so market 1's buyers still open sessions with nobody live there.
    m = LiveShopModel(scenario=with_overrides(tiny, {"world.buyers.supply_elasticity": 0.0}))
    day = _open_day(m)
    rows = np.flatnonzero(m.creators.col("market") == 0)[:20]
    day.streams = _streams(m, rows)
    day.campaign = {"boost": np.ones(m.creators.n)}
    recommend(m, day)
    assert day.view_stream.size > 0
    assert np.all(m.buyers.col("market")[day.view_buyer] == 0)
    assert day.streams.views.sum() == day.view_stream.size
    assert m.counts.sessions[1] > 0 and m.counts.views[1] == 0
    assert np.array_equal(m.creators.col("views")[rows], day.streams.views)


def test_fake_orders_go_only_to_fraud_streams_with_a_target(tiny):
    """Fake orders are placed only for violating incentive-fraud streams whose creator has a GMV gap to fill."""
    m = LiveShopModel(scenario=tiny)
    day = _open_day(m)
    rows = np.array([0, 1, 2])
    # Creator 0 commits incentive fraud with a target, 1 commits it without one, 2 streams clean.
    day.streams = _streams(m, rows, np.array([Tactic.incentive_fraud, Tactic.incentive_fraud, Tactic.none]))
    day.fraud_target = np.zeros(m.creators.n)
    day.fraud_target[[0, 2]] = 500.0
    o = tactic_orders(m, day, np.random.default_rng(1))
    assert o["value"].size > 0
    assert np.all(o["creator"] == 0)
    assert np.all(o["fake"]) and np.all(o["buyer"] == -1) and not o["bad"].any()
