"""Recommender: stream scores become traffic, and buyer sessions are assigned to streams.

score = followers^a_f x engagement^a_e x estimated_quality^a_q x boosts, where engagement is
organic (quality x skill) inflated by fake engagement, the quality estimate learns from refunds
and complaints, and boosts are exploration for new creators, the pilot cap, campaign boosts and
the per-creator traffic multiplier that governance sets (``scores``).

Sessions pick a category by the buyer's preferences, then a live stream of that category in
the buyer's market with probability proportional to its score; when the category has no live
stream, the session goes to any live stream of the market.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorState
from sim.tactics import CLEAN

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["PRIOR_QUALITY", "assign_sessions", "recommend", "scores"]

# The quality estimate starts from this share of clean orders, weighted as ``quality_prior_orders``
# orders (policy.recommender): a newcomer is presumed to sell about 90 % of orders without a refund
# or complaint. ASSUMPTION (the platform's own prior; no published figure), range 0.7-1.0: a lower
# prior ranks newcomers lower until their record speaks (docs/model.md, "Recommender").
PRIOR_QUALITY = 0.9


def scores(model: LiveShopModel, rows: np.ndarray, tactic: np.ndarray, campaign_boost: np.ndarray) -> np.ndarray:
    """Recommender score of creators ``rows`` streaming with ``tactic`` today."""
    c = model.creators
    lv = model.levers
    m = c.col("market")[rows]
    # Some tactics fool the engagement signal (bought viewers and likes).
    engagement = c.col("quality")[rows] * c.col("skill")[rows] * model.tactics.engagement_boost[tactic]
    settled = c.col("settled")[rows]
    bad_signals = c.col("refunded")[rows] + c.col("complaints")[rows]
    prior = lv.quality_prior[m]
    est_quality = np.clip((prior * PRIOR_QUALITY + settled - bad_signals) / (prior + settled), 0.01, 1.0)
    followers = c.col("followers")[rows] / model.config.world.creators.followers_min
    joined = c.col("joined_day")[rows]
    # Newcomers join at the end of a day: their first exploration_days days are boosted.
    explore = np.where((model.day - joined <= lv.exploration_days[m]) & (joined > 0), lv.exploration_boost[m], 1.0)
    pilot = np.where(c.col("state")[rows] == CreatorState.pilot, lv.pilot_traffic[m], 1.0)
    return (
        followers ** lv.followers_exponent[m]
        * engagement ** lv.engagement_exponent[m]
        * est_quality ** lv.quality_exponent[m]
        * explore
        * pilot
        * c.col("traffic_multiplier")[rows]
        * campaign_boost
    )


def recommend(model: LiveShopModel, day: Day) -> None:
    """Buyers open sessions; each session lands on a live stream of its market by score.

    Reads ``day.streams`` and ``day.campaign``; writes ``day.view_buyer``, ``day.view_stream``
    and the streams' ``views``. Live streams the classifiers cut lose the views after the cut.
    """
    s = day.streams
    rng = model.rngs["recommend"]
    score = scores(model, s.creator, s.tactic, day.campaign["boost"][s.creator])
    n_m = model.n_markets
    live_by_market = np.bincount(s.market, minlength=n_m)
    ref = model.reference_streams
    ratio = np.divide(live_by_market, ref, out=np.ones(n_m), where=ref >= 1.0)
    supply = ratio ** model.config.world.buyers.supply_elasticity
    rate = model.activity_level * model.timeline.traffic() * supply
    b = model.buyers
    buyer = b.draw_sessions(rate, rng)
    b_market = b.col("market")[buyer].astype(np.int64)
    first = rng.random(buyer.size) < model.config.world.buyers.primary_category_weight
    category = np.where(first, b.col("cat1")[buyer], b.col("cat2")[buyer]).astype(np.int64)
    stream = assign_sessions(b_market, category, s.market, s.category, score, n_m, model.n_categories, rng)
    counts = model.counts
    counts.add("sessions", b_market)
    seen = stream >= 0
    # Streams cut live by the classifiers lose the views after the cut.
    kept = model.governance.interrupt(stream[seen], rng)
    cut = np.flatnonzero(seen)[~kept]
    if cut.size:
        counts.add("interrupted_views", b_market[cut])
        seen[cut] = False
    day.view_buyer = buyer[seen]
    day.view_stream = stream[seen]
    s.views = np.bincount(day.view_stream, minlength=s.creator.size)
    model.creators.col("views")[s.creator] += s.views
    counts.add("views", s.market, s.views)
    counts.add("violating_views", s.market, np.where(s.tactic != CLEAN, s.views, 0))
    counts.add_by_tactic("violating_views", s.market, s.tactic, s.views)


def assign_sessions(
    session_market: np.ndarray,
    session_category: np.ndarray,
    stream_market: np.ndarray,
    stream_category: np.ndarray,
    stream_score: np.ndarray,
    n_markets: int,
    n_categories: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """Stream index viewed by each session (-1 when its market has no live stream).

    Equivalent in distribution to an independent score-weighted draw per session, done
    without a per-session search: within each (market, category) group the number of views
    per stream is one multinomial draw, and sessions (in random order) are dealt out to
    streams accordingly. The Python loop runs over groups (markets x categories), never over
    sessions.
    """
    n_sessions = session_market.size
    stream = np.full(n_sessions, -1, dtype=np.int64)
    if n_sessions == 0 or stream_score.size == 0:
        return stream
    n_groups = n_markets * n_categories
    s_group = stream_market.astype(np.int64) * n_categories + stream_category
    g_total = np.bincount(s_group, weights=stream_score, minlength=n_groups)
    m_total = g_total.reshape(n_markets, n_categories).sum(axis=1)

    # Each session's effective group: its (market, category), or its whole market (key
    # n_groups + market) when that category has nothing live.
    key = session_market.astype(np.int64) * n_categories + session_category
    empty = g_total[key] <= 0
    key[empty] = n_groups + session_market[empty]
    key[empty & (m_total[session_market] <= 0)] = -1

    # Random order, then a stable sort by group: sessions are grouped, shuffled within groups.
    shuffled = rng.permutation(n_sessions)
    small = np.int16 if n_groups + n_markets < np.iinfo(np.int16).max else np.int32
    order = shuffled[np.argsort(key[shuffled].astype(small), kind="stable")]
    counts = np.bincount(key + 1, minlength=n_groups + n_markets + 1)
    n_lost = int(counts[0])  # sessions with key -1 sort first and see nothing
    counts = counts[1:]

    by_group = np.argsort(s_group, kind="stable")
    g_first = np.searchsorted(s_group[by_group], np.arange(n_groups + 1))
    by_market = np.argsort(stream_market, kind="stable")
    m_first = np.searchsorted(stream_market[by_market], np.arange(n_markets + 1))
    pieces = []
    for g in np.flatnonzero(counts):
        if g < n_groups:
            members = by_group[g_first[g] : g_first[g + 1]]
        else:
            m = g - n_groups
            members = by_market[m_first[m] : m_first[m + 1]]
        w = stream_score[members]
        views = rng.multinomial(counts[g], w / w.sum())
        pieces.append(np.repeat(members, views))
    if pieces:
        stream[order[n_lost:]] = np.concatenate(pieces)
    return stream
