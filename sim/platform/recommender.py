"""Recommender: stream scores become traffic, and buyer sessions are assigned to streams.

score = followers^a_f x engagement^a_e x estimated_quality^a_q x boosts, where engagement is
organic (quality x skill) inflated by fake engagement, the quality estimate learns from refunds
and complaints, and boosts are exploration for new creators, the pilot cap, campaign boosts and
the per-creator traffic multiplier that governance sets (``scores``).

Sessions pick a category by the buyer's preferences, then a live stream of that category in
the buyer's market with probability proportional to its score; when the category has no live
stream, the session goes to any live stream of the market (one uniform draw per session,
through alias tables: ``assign_sessions``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim import kernels
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
    due, count = b.due_sessions(rate, rng)
    counts = model.counts
    buyer, stream, views, sessions = _assign(due, count, b.col("market"), b.col("cat1"), b.col("cat2"),
                                             s.market, s.category, score, n_m, model.n_categories,
                                             model.config.world.buyers.primary_category_weight, rng,
                                             model.levers.category_exposure)
    counts.add("sessions", np.arange(n_m), sessions)
    seen = None if views.sum() == stream.size else stream >= 0  # None: every session found a stream
    # Streams cut live by the classifiers lose the views after the cut (a draw per view of a cut stream).
    share = model.today.keep_share
    if share.size and np.any(share < 1.0):
        at_risk = np.flatnonzero(stream >= 0) if seen is None else np.flatnonzero(seen)
        at_risk = at_risk[share[stream[at_risk]] < 1.0]
        cut = at_risk[~model.governance.interrupt(stream[at_risk], rng)]
        if cut.size:
            counts.add("interrupted_views", s.market[stream[cut]])
            if seen is None:
                seen = np.ones(stream.size, dtype=bool)
            seen[cut] = False
            views -= np.bincount(stream[cut], minlength=views.size)
    if seen is None:
        day.view_buyer, day.view_stream = buyer, stream
    else:
        day.view_buyer, day.view_stream = buyer[seen], stream[seen]
    s.views = views
    model.creators.col("views")[s.creator] += s.views
    counts.add("views", s.market, s.views)
    counts.add("violating_views", s.market, np.where(s.tactic != CLEAN, s.views, 0))
    counts.add_by_tactic("violating_views", s.market, s.tactic, s.views)


def assign_sessions(
    due: np.ndarray,
    count: np.ndarray,
    buyer_market: np.ndarray,
    cat1: np.ndarray,
    cat2: np.ndarray,
    stream_market: np.ndarray,
    stream_category: np.ndarray,
    stream_score: np.ndarray,
    n_markets: int,
    n_categories: int,
    first_weight: float,
    rng: np.random.Generator,
    exposure: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """The buyer and the stream of every session (stream -1 when its market has no live stream).

    Buyer ``due[j]`` (a row of ``buyer_market``, ``cat1``, ``cat2``: its market and first and
    second categories) opens ``count[j]`` sessions, in that order. Each picks the buyer's first category with
    probability ``first_weight`` (else its second), then a live stream of that category in the
    buyer's market with probability proportional to its score, or any live stream of the market
    when that category has nothing live: an independent draw per session through one alias table
    per group (``sim.kernels``), built once a day over the streams, never a search per session.
    ``exposure`` (markets x categories, or None) demotes categories: a buyer whose two categories
    have different weights shops the first with chance ``first_weight x w1 / (first_weight x w1
    + (1 - first_weight) x w2)`` (``policy.recommender.category_exposure``).
    """
    return _assign(due, count, buyer_market, cat1, cat2, stream_market, stream_category, stream_score,
                   n_markets, n_categories, first_weight, rng, exposure)[:2]


def _assign(due, count, buyer_market, cat1, cat2, stream_market, stream_category, stream_score,
            n_markets, n_categories, first_weight, rng, exposure=None):
    """``assign_sessions``, plus the sessions each stream received and the sessions per market
    (``sim.kernels.assign_sessions``)."""
    n_cat_groups = n_markets * n_categories
    s_group = stream_market.astype(np.int64) * n_categories + stream_category
    by_group = np.argsort(s_group, kind="stable")
    by_market = np.argsort(stream_market, kind="stable")
    member = np.concatenate([by_group, by_market]).astype(np.int64)
    start = np.concatenate([
        np.searchsorted(s_group[by_group], np.arange(n_cat_groups)),
        by_group.size + np.searchsorted(stream_market[by_market], np.arange(n_markets + 1)),
    ])
    size, prob, alias = kernels.alias_tables(stream_score[member], start)
    return kernels.assign_sessions(due, count, cat1, cat2, buyer_market, first_weight, n_categories,
                                   stream_market.size, start, size, member, prob, alias, rng, exposure)
