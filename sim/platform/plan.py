"""The day's plan: which creators go live, and which of them violate (design §3 phase 2).

Each creator who may stream (pilot or active, not suspended) goes live with probability
(streams/week)/7, times the go-live multiplier of the campaigns admitting them, times the effort
boost of the incentive programmes they are enrolled in; the share of streams only the boost
brought about is ``induced``. A live creator violates with probability ``intensity``, drawn
per creator (not per stream) so that paired runs stay paired across policies. The classifiers
score the streams as they go live, and fake-engagement bots are paid for per stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.day import DayStreams
from sim.labels import Tactic

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["plan"]


def plan(model: LiveShopModel, day: Day) -> None:
    """Each creator who may stream decides whether to go live today, and whether to violate.

    Writes ``day.campaign``, ``day.enrolled``, ``day.fraud_target`` and ``day.streams``.
    """
    c = model.creators
    rng = model.rngs["plan"]
    day_rate = c.col("streams_per_week") / 7.0
    camp = model.timeline.campaign_effects()
    day.campaign = camp
    in_campaign = camp["admitted"]
    market = c.col("market")
    p_base = np.minimum(day_rate * camp["go_live"], 1.0)
    boost = np.ones(c.n)
    day.enrolled = {}
    enrolled_any = np.zeros(c.n, dtype=bool)
    day.fraud_target = np.zeros(c.n)
    overshoot = model.config.world.tactics.incentive_fraud.overshoot
    for run in model.timeline.incentives:
        if run.active:
            mask = run.enrolled()
            day.enrolled[run] = mask
            enrolled_any |= mask
            boost += run.effort_boost(mask)
            # Incentive fraudsters fake what they need to qualify (the largest gap over programmes).
            target = run.fraud_target(mask, overshoot)
            if target is not None:
                day.fraud_target = np.maximum(day.fraud_target, target)
    p_full = np.minimum(p_base * boost, 1.0)
    u = rng.random(c.n)
    live = c.live_mask() & (u < p_full)
    induced = live & (u >= p_base)
    rows = np.flatnonzero(live)

    tactic = c.col("tactic")[rows]
    violate = rng.random(c.n)[rows] < c.col("intensity")[rows]  # a draw per creator: paired runs
    # Incentive fraud only pays while a programme the creator is enrolled in runs.
    violate &= (tactic != Tactic.incentive_fraud) | enrolled_any[rows]
    s_tactic = np.where(violate, tactic, Tactic.none).astype(np.int8)
    zeros = np.zeros(rows.size, dtype=np.int64)
    s = DayStreams(
        creator=rows,
        market=market[rows].astype(np.int64),
        category=c.col("category")[rows].astype(np.int64),
        tactic=s_tactic,
        induced=induced[rows],
        campaign=in_campaign[rows],
        views=zeros,
        reports=zeros.copy(),
        false_reports=zeros.copy(),
    )
    day.streams = s
    c.col("streams")[rows] += 1
    c.col("violating_streams")[rows] += violate
    model.governance.scan(s)
    model.counts.add("streams", s.market)
    model.counts.add("violating_streams", s.market, violate)
    # Fake engagement is bought per stream.
    fe = s_tactic == Tactic.fake_engagement
    cost = model.config.world.tactics.fake_engagement.cost_per_stream
    spend = cost * model.price_level[s.market[fe]]
    c.col("profit")[rows[fe]] -= spend
    model.ledger.bot_spend += np.bincount(s.market[fe], weights=spend, minlength=model.n_markets)
