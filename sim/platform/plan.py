"""The day's plan: which creators go live, and which of them violate (design §3 phase 2).

Each creator who may stream (pilot or active, not suspended) goes live with probability
(streams/week)/7, times the go-live multiplier of the campaigns admitting them, times the effort
boost of the incentive programmes they are enrolled in (each programme's ``effort_boost``: it
follows the bonus the creator expects, and is 0 where none is on offer); the share of streams
only the boost brought about is ``induced``. A live creator violates with probability ``intensity``, drawn
per creator (not per stream) so that paired runs stay paired across policies. The classifiers
score the streams as they go live, and fake-engagement bots are paid for per stream.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.day import DayStreams
from sim.tactics import CLEAN, code, kinds_with

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
    for run in model.timeline.incentives:
        if run.active:
            mask = run.enrolled()
            day.enrolled[run] = mask
            boost += run.effort_boost(mask)
    # Tactics prepare what their streams need today (incentive fraud: the GMV to fake).
    day.fraud_target = np.zeros(c.n)
    tac_cfg = model.config.world.tactics
    for kind in kinds_with("prepare"):  # (the default prepares nothing)
        kind.prepare(getattr(tac_cfg, kind.name), model, day)
    p_full = np.minimum(p_base * boost, 1.0)
    u = rng.random(c.n)
    live = c.live_mask() & (u < p_full)
    induced = live & (u >= p_base)
    rows = live.nonzero()[0]

    tactic = c.col("tactic")[rows]
    p_violate = c.col("intensity")[rows]
    shock = model.world_shift.violation_factor  # category shocks in force (sim/platform/trends/)
    if shock is not None:
        p_violate = np.minimum(p_violate * shock[market[rows], c.col("category")[rows], tactic], 1.0)
    violate = rng.random(c.n)[rows] < p_violate  # a draw per creator: paired runs
    # Some tactics pay only on some days (incentive fraud: while enrolled in a programme).
    for kind in kinds_with("may_violate"):  # (by default a tactic may violate every day)
        mine = tactic == code(kind.name)
        if mine.any():
            ok = kind.may_violate(model, day, rows[mine])
            if ok is not None:
                violate[mine] &= ok
    s_tactic = np.where(violate, tactic, CLEAN).astype(np.int8)
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
    model.counts.add_by_tactic("violating_streams", s.market, s_tactic)
    # Some tactics cost money per violating stream (bought bots and likes).
    per_stream = model.tactics.stream_cost[s_tactic]
    paying = (per_stream > 0).nonzero()[0]
    spend = per_stream[paying] * model.price_level[s.market[paying]]
    c.col("profit")[rows[paying]] -= spend
    model.ledger.bot_spend += np.bincount(s.market[paying], weights=spend, minlength=model.n_markets)
