"""LiveShopModel: one simulated live-shopping marketplace; one step is one day.

The step reads like the rules (design §3). Creators are Mesa agents whose state lives in
``self.creators`` (column arrays); buyers are the array population ``self.buyers``; every
phase is array code over all creators, streams, sessions or orders at once.

Governance (``self.governance``: detection, review, enforcement, appeals) acts between
``settle`` and ``reward`` on ``self.today`` (the day's streams with ground-truth labels, views,
reports) and writes back through sanction timers on the creator columns, which become
``suspended``, ``traffic_multiplier``, ``campaign_eligible`` and ``incentive_eligible`` each
day; a ban sets ``state``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time import Schedule

from sim.agents.adaptation import Learner
from sim.agents.buyers import BuyerPopulation
from sim.agents.creators import Creator, CreatorTable, draw_creators
from sim.config import Scenario, load_scenario, with_overrides
from sim.labels import ADVERSARY_TYPES, CreatorState, CreatorType, Tactic
from sim.metrics import METRICS, DayCounts, day_metrics
from sim.platform.commerce import Ledger, OrderBook
from sim.platform.enforcement import NEVER
from sim.platform.governance import Governance
from sim.platform.levers import Levers
from sim.platform.recommender import assign_sessions
from sim.platform.timeline import Timeline
from sim.policy import Policy
from sim.seeding import day_streams, run_seed_sequence, spawn_streams

__all__ = ["DEFAULT_SCENARIO", "LiveShopModel"]

DEFAULT_SCENARIO = "baseline"  # the bundled baseline scenario (sim.bundled)


class RollingSum:
    """Per-creator sum over the last ``window`` days, growable as creators arrive."""

    def __init__(self, window: int, n: int) -> None:
        self.window = window
        self._ring = np.zeros((window, max(n, 16)))
        self.values = np.zeros(n)
        self._slot = 0

    def push(self, today: np.ndarray) -> None:
        n = today.size
        if n > self.values.size:
            self.values = np.pad(self.values, (0, n - self.values.size))
        if n > self._ring.shape[1]:
            cap = self._ring.shape[1]
            while cap < n:
                cap *= 2
            self._ring = np.pad(self._ring, ((0, 0), (0, cap - self._ring.shape[1])))
        row = self._ring[self._slot, :n]
        self.values += today - row
        row[:] = today
        self._slot = (self._slot + 1) % self.window


@dataclass
class DayStreams:
    """The day's live streams (one per live creator) and what happened on them."""

    creator: np.ndarray  # creator row
    market: np.ndarray
    category: np.ndarray
    tactic: np.ndarray  # ground-truth violation label (Tactic code; 0 = clean)
    induced: np.ndarray  # went live only because of an incentive programme
    campaign: np.ndarray  # admitted to a campaign in force
    views: np.ndarray  # filled by recommend
    reports: np.ndarray  # buyer reports today (true and false), filled by settle
    false_reports: np.ndarray
    # Filled by the classifiers' live scan (governance):
    score: np.ndarray = field(default_factory=lambda: np.zeros(0))  # highest classifier score
    reason: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int8))  # its violation type
    flagged: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    keep_share: np.ndarray = field(default_factory=lambda: np.zeros(0))  # views kept if cut live


def _today(name: str, model: LiveShopModel) -> float:
    """DataCollector reporter: one of today's platform-wide metrics (a scalar)."""
    return model.metrics_today["all"][name]


class LiveShopModel(mesa.Model):
    """A live-shopping marketplace: creators, buyers, the recommender, commerce and a timeline.

    Keyword arguments only: ``scenario`` (a Scenario, a path, or None for the bundled
    baseline), ``replication`` (which world of the scenario's seed), ``rng`` (Mesa's seed
    argument; when given it replaces the scenario seed), and overrides — ``n_buyers``,
    ``n_creators``, ``days``, ``seed`` or any dotted path such as ``policy.referral_fee``.
    """

    def __init__(
        self,
        *,
        scenario: Scenario | str | Path | None = None,
        replication: int = 0,
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        **overrides: Any,
    ) -> None:
        config = _resolve_scenario(scenario, overrides)
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(2**63))
        seq = run_seed_sequence(config.seed if rng is None else rng, replication)
        self.rngs = spawn_streams(seq)
        super().__init__(rng=self.rngs["mesa"])
        self.config = config
        self.replication = int(replication)
        self.seed_sequence = seq
        self._build_world()
        self.timeline = Timeline(self)
        self.schedule_recurring(self.refresh_levels, Schedule(interval=30, start=30.5))
        self.datacollector = mesa.DataCollector(
            model_reporters={name: partial(_today, name) for name in METRICS}
        )
        self.metrics_today = day_metrics(self)
        self.history: list[dict[str, dict[str, float]]] = []
        self.datacollector.collect(self)

    # ------------------------------------------------------------------ world build

    def _build_world(self) -> None:
        cfg = self.config
        world = cfg.world
        rng = self.rngs["world"]
        self.market_names = [m.name for m in world.markets]
        self.category_names = [c.name for c in world.categories]
        n_m = len(world.markets)
        self.n_markets = n_m
        self.n_categories = len(world.categories)

        self.price_level = np.array([m.price_level for m in world.markets])
        self.base_conversion = np.array([m.base_conversion for m in world.markets])
        self.activity_level = np.array([m.activity_level for m in world.markets])
        self.delivery_min = np.array([m.delivery_days[0] for m in world.markets])
        self.delivery_max = np.array([m.delivery_days[1] for m in world.markets])
        self.return_window = np.array([m.return_window_days for m in world.markets])
        self.value_mu = np.log([c.order_value_median for c in world.categories])
        self.value_sigma = np.array([c.order_value_sigma for c in world.categories])
        self.return_rate = np.array([c.return_rate for c in world.categories])
        self.policies = [cfg.market_policy(name) for name in self.market_names]
        self.levers = Levers(self.policies, self.category_names)

        # Per-tactic effects, indexed by Tactic code.
        t = world.tactics
        buyers_cfg = world.buyers
        n_t = len(Tactic)
        self.bad_rate = np.zeros(n_t)
        self.harm_fraction = np.zeros(n_t)
        self.visibility = np.zeros(n_t)
        self.lift = np.ones(n_t)
        self.bad_rate[Tactic.none] = buyers_cfg.clean_bad_outcome_rate
        self.harm_fraction[Tactic.none] = buyers_cfg.clean_harm_fraction
        for tac in Tactic:
            if tac is Tactic.none:
                continue
            p = getattr(t, tac.name)
            self.bad_rate[tac] = p.bad_outcome_rate
            self.harm_fraction[tac] = p.harm_fraction
            self.visibility[tac] = p.report_visibility
            self.lift[tac] = p.conversion_lift

        self.governance = Governance(self)
        self.learner = Learner(self)

        # Creators.
        self.creators = CreatorTable(capacity=int(world.n_creators * 1.5) + 16)
        self.n_initial_creators = world.n_creators
        c_share = np.array([m.creator_share for m in world.markets], dtype=float)
        c_market = rng.choice(n_m, size=world.n_creators, p=c_share / c_share.sum())
        self._add_creators(c_market, self.rngs["creators"], day=0, state=CreatorState.active)

        # Buyers.
        self.buyers = BuyerPopulation(cfg, capacity=int(world.n_buyers * 1.2) + 16)
        b_share = np.array([m.buyer_share for m in world.markets], dtype=float)
        b_market = rng.choice(n_m, size=world.n_buyers, p=b_share / b_share.sum())
        self.buyers.add(b_market.astype(np.int16), self.rngs["buyers"], day=0)
        self.buyers.n_initial = world.n_buyers

        # Usual live supply per market: the reference for the supply elasticity of sessions.
        c = self.creators
        # (A market expecting under one stream a day has no meaningful reference: no elasticity.)
        self.reference_streams = np.bincount(c.col("market"), weights=c.col("streams_per_week") / 7.0, minlength=n_m)
        self._init_levels()

        self.orders = OrderBook()
        self.ledger = Ledger(n_m)
        self.counts = DayCounts(n_m)
        self.totals = {f: np.zeros(n_m) for f in DayCounts.FIELDS}
        self.income_30d = RollingSum(30, c.n)
        self.gmv_30d = RollingSum(30, c.n)
        self.profit_30d = RollingSum(30, c.n)
        self.complaints_7d = RollingSum(7, c.n)
        self._clean_orders = np.zeros(c.n)
        self.today = self._no_streams()
        self._start_of_day = {k: np.zeros(c.n) for k in ("earnings", "profit", "gmv", "complaints")}

    def _add_creators(
        self,
        markets: np.ndarray,
        rng: np.random.Generator,
        day: int,
        state: CreatorState | None = None,
        ctypes: np.ndarray | None = None,
    ) -> slice:
        traits = draw_creators(self.config, markets.size, markets, rng, day, ctypes=ctypes)
        if state is None:  # newcomers: small accounts start in the pilot programme
            lv = self.levers
            small = traits["followers"] < lv.pilot_followers_max[markets]
            states = np.where(small & (lv.pilot_days[markets] > 0), CreatorState.pilot, CreatorState.active)
        else:
            states = np.full(markets.size, state)
        traits["state"] = states.astype(np.int8)
        traits["campaign_eligible"] = np.ones(markets.size, dtype=bool)
        traits["incentive_eligible"] = np.ones(markets.size, dtype=bool)
        for col in ("last_stream_day", "last_violation_day", "last_complaint_flag", "last_actioned_violation"):
            traits[col] = np.full(markets.size, NEVER, dtype=np.int32)
        rows = self.creators.append(traits, markets.size)
        self.creators.col("actor")[rows] = np.arange(rows.start, rows.stop)
        self.governance.enforcer.init_rows(rows)
        self.learner.add_rows(rows)
        Creator.create_agents(self, markets.size, row=np.arange(rows.start, rows.stop))
        return rows

    def add_reentry(self, market: int, actor: int, tactic: int, rng: np.random.Generator) -> int:
        """A banned evader's new account (same person, same tactic), as onboarding admits it."""
        rows = self._add_creators(np.array([market]), rng, self.day,
                                  ctypes=np.array([CreatorType.ban_evader], dtype=np.int8))
        c = self.creators
        c.col("actor")[rows] = actor
        c.col("tactic")[rows] = tactic
        c.col("intensity")[rows] = getattr(self.config.world.tactics, Tactic(tactic).name).intensity
        self.learner.add_rows(rows)
        return rows.start

    def _init_levels(self) -> None:
        """Day-0 levels from each creator's expected monthly GMV under the recommender."""
        c = self.creators
        if c.n == 0:
            return
        score = self._scores(np.arange(c.n), np.zeros(c.n, dtype=np.int8), np.ones(c.n))
        weight = score * c.col("streams_per_week") / 7.0
        market = c.col("market")
        share = weight / np.maximum(np.bincount(market, weights=weight, minlength=self.n_markets)[market], 1e-12)
        b = self.buyers
        sessions = np.bincount(b.col("market"), weights=b.col("activity"), minlength=self.n_markets)
        sessions = sessions.astype(float) * self.activity_level
        conv = self.base_conversion[market] * c.col("skill") * np.sqrt(c.col("quality"))
        aov = np.exp(self.value_mu + self.value_sigma**2 / 2.0)[c.col("category")] * self.price_level[market]
        monthly = 30.0 * share * sessions[market] * conv * aov
        c.col("level")[:] = self._levels(monthly)

    def _levels(self, monthly_gmv: np.ndarray) -> np.ndarray:
        """Level L0-L8 of each creator for a month's GMV, by its market's thresholds."""
        market = self.creators.col("market")
        thresholds = self.levers.level_thresholds[market]  # (creators, 8)
        return (monthly_gmv[:, None] >= thresholds).sum(axis=1)

    def _no_streams(self) -> DayStreams:
        z = np.zeros(0, dtype=np.int64)
        return DayStreams(z, z, z, z.astype(np.int8), z.astype(bool), z.astype(bool), z, z, z)

    # ------------------------------------------------------------------ the day

    @property
    def day(self) -> int:
        """The current day (1 on the first step; 0 before any step)."""
        return self.steps

    def step(self) -> None:
        """One day. Scheduled timeline events (campaigns, programmes) fired just before it."""
        self.begin_day()
        self.plan()
        self.recommend()
        self.shop()
        self.settle()
        self.detect()
        self.review()
        self.enforce()
        self.reward()
        self.adapt()
        self.collect()
        if self.day >= self.config.days:
            self.running = False

    def begin_day(self) -> None:
        """Reset the day's counts, remember where running totals started, and put today's
        sanctions (suspensions, traffic penalties, lost eligibility) in force."""
        self.counts.reset()
        self.rngs.update(day_streams(self.seed_sequence, self.day))
        c = self.creators
        self._start_of_day = {k: c.col(k).copy() for k in ("earnings", "profit", "gmv", "complaints")}
        self.governance.enforcer.refresh(self.day)

    def plan(self) -> None:
        """Each creator who may stream decides whether to go live today, and whether to violate."""
        c = self.creators
        rng = self.rngs["plan"]
        day_rate = c.col("streams_per_week") / 7.0
        camp = self.timeline.campaign_effects()
        self._campaign = camp
        in_campaign = camp["admitted"]
        market = c.col("market")
        p_base = np.minimum(day_rate * camp["go_live"], 1.0)
        boost = np.ones(c.n)
        self._enrolled = {}
        enrolled_any = np.zeros(c.n, dtype=bool)
        self._fraud_target = np.zeros(c.n)
        overshoot = self.config.world.tactics.incentive_fraud.overshoot
        for run in self.timeline.incentives:
            if run.active:
                mask = run.enrolled()
                self._enrolled[id(run)] = mask
                enrolled_any |= mask
                boost += np.where(mask, run.cfg.effort_boost, 0.0)
                # Incentive fraudsters top their period GMV up past the threshold with fake orders.
                gap = overshoot * run.cfg.gmv_threshold - run.period_gmv_of_all()
                self._fraud_target = np.maximum(self._fraud_target, np.where(mask, gap, 0.0))
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
        self.today = DayStreams(
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
        c.col("streams")[rows] += 1
        c.col("violating_streams")[rows] += violate
        s = self.today
        self.governance.scan(s)
        self.counts.add("streams", s.market)
        self.counts.add("violating_streams", s.market, violate)
        # Fake engagement is bought per stream.
        fe = s_tactic == Tactic.fake_engagement
        cost = self.config.world.tactics.fake_engagement.cost_per_stream
        spend = cost * self.price_level[s.market[fe]]
        c.col("profit")[rows[fe]] -= spend
        self.ledger.bot_spend += np.bincount(s.market[fe], weights=spend, minlength=self.n_markets)

    def _scores(self, rows: np.ndarray, tactic: np.ndarray, campaign_boost: np.ndarray) -> np.ndarray:
        """Recommender score of creators ``rows`` streaming with ``tactic`` today."""
        c = self.creators
        lv = self.levers
        m = c.col("market")[rows]
        fe = self.config.world.tactics.fake_engagement
        engagement = c.col("quality")[rows] * c.col("skill")[rows]
        engagement = np.where(tactic == Tactic.fake_engagement, engagement * fe.engagement_boost, engagement)
        settled = c.col("settled")[rows]
        bad_signals = c.col("refunded")[rows] + c.col("complaints")[rows]
        prior = lv.quality_prior[m]
        est_quality = np.clip((prior * 0.9 + settled - bad_signals) / (prior + settled), 0.01, 1.0)
        followers = c.col("followers")[rows] / self.config.world.creators.followers_min
        joined = c.col("joined_day")[rows]
        # Newcomers join at the end of a day: their first exploration_days days are boosted.
        explore = np.where((self.day - joined <= lv.exploration_days[m]) & (joined > 0), lv.exploration_boost[m], 1.0)
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

    def recommend(self) -> None:
        """Buyers open sessions; each session lands on a live stream of its market by score."""
        s = self.today
        rng = self.rngs["recommend"]
        score = self._scores(s.creator, s.tactic, self._campaign["boost"][s.creator])
        live_by_market = np.bincount(s.market, minlength=self.n_markets)
        ref = self.reference_streams
        ratio = np.divide(live_by_market, ref, out=np.ones(self.n_markets), where=ref >= 1.0)
        supply = ratio ** self.config.world.buyers.supply_elasticity
        rate = self.activity_level * self.timeline.traffic() * supply
        b = self.buyers
        buyer = b.draw_sessions(rate, rng)
        b_market = b.col("market")[buyer].astype(np.int64)
        first = rng.random(buyer.size) < self.config.world.buyers.primary_category_weight
        category = np.where(first, b.col("cat1")[buyer], b.col("cat2")[buyer]).astype(np.int64)
        stream = assign_sessions(
            b_market, category, s.market, s.category, score, self.n_markets, self.n_categories, rng
        )
        self.counts.add("sessions", b_market)
        seen = stream >= 0
        # Streams cut live by the classifiers lose the views after the cut.
        kept = self.governance.interrupt(stream[seen], rng)
        cut = np.flatnonzero(seen)[~kept]
        if cut.size:
            self.counts.add("interrupted_views", b_market[cut])
            seen[cut] = False
        self._view_buyer = buyer[seen]
        self._view_stream = stream[seen]
        s.views = np.bincount(self._view_stream, minlength=s.creator.size)
        self.creators.col("views")[s.creator] += s.views
        self.counts.add("views", s.market, s.views)
        self.counts.add("violating_views", s.market, np.where(s.tactic != Tactic.none, s.views, 0))

    def shop(self) -> None:
        """Views become orders; violating streams change conversion and outcomes; money is split."""
        s = self.today
        c = self.creators
        b = self.buyers
        rng = self.rngs["shop"]
        cfg = self.config
        tac_cfg = cfg.world.tactics
        vb, vs = self._view_buyer, self._view_stream
        bc = cfg.world.buyers
        # Per-stream part of conversion, computed once per stream rather than per view.
        sc = s.creator
        stream_conv = self.base_conversion[s.market] * c.col("skill")[sc] * np.sqrt(c.col("quality")[sc])
        t = s.tactic[vs]
        p = stream_conv[vs] * (b.col("trust")[vb] / max(bc.trust_initial, 1e-9))
        if bc.trust_conversion_elasticity != 1.0:
            p **= bc.trust_conversion_elasticity  # applies to the trust ratio only: rescale below
            p *= stream_conv[vs] ** (1.0 - bc.trust_conversion_elasticity)
        # Campaign prices move price-sensitive buyers more; so do cheap counterfeits.
        camp = np.flatnonzero(s.campaign[vs])
        if camp.size:
            conv_f = self._campaign["conversion"][s.creator[vs[camp]]]
            p[camp] *= 1.0 + (conv_f - 1.0) * b.col("price_sensitivity")[vb[camp]]
        cf = np.flatnonzero(t == Tactic.counterfeit)
        p[cf] *= 1.0 + (self.lift[Tactic.counterfeit] - 1.0) * b.col("price_sensitivity")[vb[cf]]
        # Misleading claims work on susceptible buyers; other tactics lift conversion flatly.
        mc = np.flatnonzero(t == Tactic.misleading_claims)
        p[mc] *= 1.0 + (self.lift[Tactic.misleading_claims] - 1.0) * b.col("susceptibility")[vb[mc]]
        flat = np.flatnonzero((t == Tactic.offplatform_diversion) | (t == Tactic.fake_engagement)
                              | (t == Tactic.incentive_fraud) | (t == Tactic.minor))
        p[flat] *= self.lift[t[flat]]
        np.minimum(p, 0.95, out=p)
        buy = rng.random(vb.size) < p

        o_buyer = vb[buy]
        o_stream = vs[buy]
        o_creator = sc[o_stream]
        o_market = s.market[o_stream]
        o_tactic = t[buy]
        o_cat = s.category[o_stream]
        k = o_buyer.size
        value = np.exp(self.value_mu[o_cat] + self.value_sigma[o_cat] * rng.standard_normal(k))
        value *= self.price_level[o_market]
        clean_bad = self.bad_rate[Tactic.none] * (1.5 - c.col("quality")[o_creator])
        bad_p = np.where(o_tactic == Tactic.none, clean_bad, self.bad_rate[o_tactic])
        bad = rng.random(k) < bad_p
        divert = (o_tactic == Tactic.offplatform_diversion) & (
            rng.random(k) < tac_cfg.offplatform_diversion.diversion_share
        )
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
        orders = _concat(orders, self._fake_orders(rng))

        value = orders["value"]
        creator = orders["creator"]
        market = orders["market"].astype(np.int64)
        on = ~orders["offplatform"]
        rate = np.minimum(c.col("commission_rate")[creator], self.levers.commission_cap[market, orders["category"]])
        orders["commission"] = np.where(on, value * rate, 0.0)
        orders["fee"] = np.where(on, value * self.levers.referral_fee[market], 0.0)
        orders["placed_day"] = np.full(value.size, self.day, dtype=np.int32)

        onv = np.where(on, value, 0.0)
        led = self.ledger
        n_m = self.n_markets
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
                             + value * tac_cfg.incentive_fraud.brushing_cost, 0.0)
        c.col("profit")[:] -= np.bincount(creator, weights=fake_cost, minlength=n_c)
        creator_gmv = np.bincount(creator, weights=onv, minlength=n_c)
        c.col("gmv")[:] += creator_gmv
        c.col("gmv_month")[:] += creator_gmv
        c.col("orders")[:] += np.bincount(creator, weights=on, minlength=n_c).astype(np.int64)

        self.counts.add("gmv", market, onv)
        self.counts.add("violating_gmv", market, np.where(orders["tactic"] != Tactic.none, onv, 0.0))
        self.counts.add("orders", market, on)
        self.counts.add("offplatform_gmv", market, value - onv)
        real_induced = orders["induced"] & on & ~orders["fake"]
        self.counts.add("induced_net_gmv", market, np.where(real_induced, value, 0.0))
        orders["bonus"] = np.zeros(value.size, dtype=bool)
        for run in self.timeline.incentives:
            if run.active:
                enrolled = self._enrolled[id(run)]
                run.record_orders(creator[on], value[on], enrolled)
                orders["bonus"] |= on & enrolled[creator]

        lag = rng.integers(self.delivery_min[market], self.delivery_max[market] + 1)
        self.orders.add(orders, self.day + lag)

    def _fake_orders(self, rng: np.random.Generator) -> dict[str, np.ndarray]:
        """Orders from colluding accounts that push incentive-fraud creators over the threshold."""
        s = self.today
        fraud = np.flatnonzero(s.tactic == Tactic.incentive_fraud)
        creator = s.creator[fraud]
        target = self._fraud_target[creator]
        cat = s.category[fraud]
        typical = np.exp(self.value_mu[cat]) * self.price_level[s.market[fraud]]
        count = np.ceil(np.maximum(target, 0.0) / typical).astype(np.int64)
        idx = np.repeat(np.arange(fraud.size), count)
        k = idx.size
        value = np.exp(self.value_mu[cat[idx]] + self.value_sigma[cat[idx]] * rng.standard_normal(k))
        value *= self.price_level[s.market[fraud][idx]]
        return {
            "buyer": np.full(k, -1, dtype=np.int64),
            "creator": creator[idx].astype(np.int64),
            "market": s.market[fraud][idx].astype(np.int16),
            "category": cat[idx].astype(np.int16),
            "value": value,
            "tactic": np.full(k, Tactic.incentive_fraud, dtype=np.int8),
            "bad": np.zeros(k, dtype=bool),
            "offplatform": np.zeros(k, dtype=bool),
            "fake": np.ones(k, dtype=bool),
            "induced": np.zeros(k, dtype=bool),
        }

    def settle(self) -> None:
        """Delivered orders resolve: returns and refunds, harm, complaints, trust; viewers report."""
        o = self.orders.pop_due(self.day)
        rng = self.rngs["settle"]
        cfg = self.config
        bc = cfg.world.buyers
        c = self.creators
        b = self.buyers
        n_m, n_c = self.n_markets, c.n
        k = o["value"].size
        real = o["buyer"] >= 0
        on = ~o["offplatform"]
        bad = o["bad"]
        value = o["value"]
        market = o["market"].astype(np.int64)
        creator = o["creator"]
        u1, u2, u3 = rng.random(k), rng.random(k), rng.random(k)
        rp = np.where(real, b.col("return_propensity")[np.maximum(o["buyer"], 0)], 0.0)
        want = np.where(bad, bc.return_if_bad * rp, self.return_rate[o["category"]] * rp)
        # Buyers take a few days to ask (geometric from 0, mean 2); requests after the market's return
        # window are refused, so a short window leaves more bad items unremedied.
        asked_after = rng.geometric(1.0 / 3.0, size=k) - 1
        in_window = asked_after <= self.return_window[market]
        lv = self.levers
        refunded = real & on & (u1 < want) & in_window & (~bad | (u2 < lv.refund_protection[market]))
        refunded |= o["fake"] & (u1 < cfg.world.tactics.incentive_fraud.cancel_rate)
        admin = np.where(
            refunded, np.minimum(lv.admin_fee_share[market] * o["fee"], lv.admin_fee_cap[market]), 0.0
        )
        rv = np.where(refunded, value, 0.0)
        rc = np.where(refunded, o["commission"], 0.0)
        rf = np.where(refunded, o["fee"] - admin, 0.0)
        led = self.ledger
        led.buyer_refunded += np.bincount(market, weights=rv, minlength=n_m)
        led.commissions -= np.bincount(market, weights=rc, minlength=n_m)
        led.platform_fees -= np.bincount(market, weights=rf, minlength=n_m)
        led.seller_revenue -= np.bincount(market, weights=rv - rc - rf, minlength=n_m)
        clawback = np.bincount(creator, weights=rc, minlength=n_c)
        c.col("earnings")[:] -= clawback

        # Illicit gains and losses, recognised on delivery.
        tac = cfg.world.tactics
        cf = o["tactic"] == Tactic.counterfeit
        gain = np.where(cf & on & ~refunded, value * tac.counterfeit.illicit_margin, 0.0)
        gain -= np.where(cf & refunded, value * tac.counterfeit.cost_of_goods, 0.0)
        gain += np.where(~on, value * tac.offplatform_diversion.illicit_margin, 0.0)
        # A cancelled fake order hands the fee back (less the admin fee); the claw-back of the
        # circular commission is no loss either.
        gain += np.where(o["fake"] & refunded, o["commission"] + o["fee"] - admin, 0.0)
        c.col("profit")[:] += np.bincount(creator, weights=gain, minlength=n_c) - clawback

        harmed = real & bad & ~refunded
        harm = np.where(harmed, value * self.harm_fraction[o["tactic"]], 0.0)
        complaint = real & bad & (u3 < bc.complaint_rate * np.where(refunded, 0.3, 1.0))
        settled_on = on.astype(float)
        self.counts.add("settled", market, settled_on)
        self.counts.add("refunded", market, refunded)
        self.counts.add("refund_value", market, rv)
        self.counts.add("buyer_harm", market, harm)
        self.counts.add("complaints", market, complaint)
        self.counts.add("induced_net_gmv", market, -np.where(o["induced"], rv, 0.0))
        c.col("settled")[:] += np.bincount(creator, weights=settled_on, minlength=n_c).astype(np.int64)
        c.col("refunded")[:] += np.bincount(creator, weights=refunded, minlength=n_c).astype(np.int64)
        c.col("bad_outcomes")[:] += np.bincount(creator, weights=real & bad, minlength=n_c).astype(np.int64)
        c.col("complaints")[:] += np.bincount(creator, weights=complaint, minlength=n_c).astype(np.int64)
        counted = refunded & o["bonus"]
        for run in self.timeline.incentives:
            if run.active or run.awaiting:
                run.record_refunds(creator[counted], value[counted], o["placed_day"][counted])

        b.update_trust(o["buyer"][real], bad[real], refunded[real])
        self._clean_orders = np.bincount(creator, weights=real & on & ~bad & ~refunded, minlength=n_c)
        self.complaints_7d.push(np.bincount(creator, weights=complaint, minlength=n_c))

        # Viewers report streams: true reports scale with how visible the breach is; a few
        # viewers report clean streams too. Each viewer reports with a small probability, so a
        # stream's count is Poisson with the summed probabilities (exact to O(p^2)).
        s = self.today
        prop = np.bincount(self._view_stream, weights=b.col("report_propensity")[self._view_buyer],
                           minlength=s.creator.size)
        clean = s.tactic == Tactic.none
        true_rate = bc.report_rate * self.visibility[s.tactic] * prop
        false_rate = np.where(clean, bc.false_report_rate * prop, 0.0)
        s.false_reports = rng.poisson(false_rate)
        s.reports = rng.poisson(true_rate) + s.false_reports
        c.col("reports")[s.creator] += s.reports
        self.counts.add("reports", s.market, s.reports)
        self.counts.add("false_reports", s.market, s.false_reports)

    def set_market_policy(self, market: int, policy: Policy) -> None:
        """Market ``market`` runs ``policy`` from now on (a launch or a ramp step)."""
        self.policies[market] = policy
        self.levers = Levers(self.policies, self.category_names)
        self.governance.enforcer.policy_changed(market)

    def detect(self) -> None:
        """Classifier flags, user reports and complaint spikes become actions or review items."""
        self.governance.detect()

    def review(self) -> None:
        """Reviewers spend the day's capacity on due appeals, then on flags by priority."""
        self.governance.review()

    def enforce(self) -> None:
        """Ladders move with time: points expire, health recovers, tiers reset, freezes resolve."""
        self.governance.daily(self._clean_orders)

    def reward(self) -> None:
        """Incentive programmes close periods and pay bonuses within their budgets."""
        c = self.creators
        for run in self.timeline.incentives:
            paid = run.close_day(self.day)
            if paid.size and paid.any():
                c.col("earnings")[: paid.size] += paid
                c.col("profit")[: paid.size] += paid
                by_market = np.bincount(c.col("market")[: paid.size], weights=paid, minlength=self.n_markets)
                self.counts.incentive_spend += by_market
                self.ledger.incentive_paid += by_market

    def adapt(self) -> None:
        """Pilots graduate; creators and buyers churn; new creators and buyers arrive."""
        c = self.creators
        day = self.day
        pop = self.config.world.creators
        rng = self.rngs["adapt"]
        self.learner.decide(self.rngs["learn"])
        state = c.col("state")
        market = c.col("market")
        lv = self.levers
        # Pilots graduate after pilot_days (with a clean record where the policy asks for one).
        since = np.where(lv.pilot_clean[market], np.maximum(c.col("joined_day"), c.col("last_confirmed_day")),
                         c.col("joined_day"))
        graduate = (state == CreatorState.pilot) & (day - since >= lv.pilot_days[market])
        state[graduate] = CreatorState.active

        live = c.live_mask()
        # Creators weigh what staying brings them: profit (for honest creators, their earnings).
        profit = np.zeros(c.n)
        profit[: self.profit_30d.values.size] = self.profit_30d.values[: c.n]
        # (the threshold is in price-level-1 currency, scaled to each market's prices)
        poor = (profit < pop.low_income_monthly * self.price_level[market]) & (day - c.col("joined_day") >= 60)
        # Honest creators also leave after sanctions (deserved or not) make staying less worth it.
        sanctioned = (day - c.col("last_sanction_day") <= 30) & (c.col("ctype") == CreatorType.honest)
        p_leave = pop.churn_rate + np.where(poor, pop.low_income_churn_rate, 0.0)
        p_leave += np.where(sanctioned, self.config.world.adaptation.sanction_churn_rate, 0.0)
        leave = live & (rng.random(c.n) < p_leave)
        state[leave] = CreatorState.churned
        c.col("left_day")[leave] = day
        self.buyers.churn(day)

        arr = self.rngs["arrivals"]
        world = self.config.world
        k_c = arr.poisson(pop.arrival_rate * self.n_initial_creators)
        if k_c:
            share = np.array([m.creator_share for m in world.markets], dtype=float)
            markets = arr.choice(self.n_markets, size=k_c, p=share / share.sum())
            markets = markets[self.governance.onboarding.newcomers_admitted(markets, arr)]
            if markets.size:
                self._add_creators(markets, arr, day)
        self.governance.onboarding.daily()
        k_b = arr.poisson(world.buyers.arrival_rate * self.buyers.n_initial)
        if k_b:
            share = np.array([m.buyer_share for m in world.markets], dtype=float)
            self.buyers.add(arr.choice(self.n_markets, size=k_b, p=share / share.sum()).astype(np.int16), arr, day)

    def refresh_levels(self) -> None:
        """Monthly: levels L0-L8 from last month's GMV (scheduled every 30 days)."""
        c = self.creators
        c.col("level")[:] = self._levels(c.col("gmv_month"))
        c.col("gmv_month")[:] = 0.0

    def collect(self) -> None:
        """Close the day's books and record the metrics."""
        c = self.creators
        start = self._start_of_day
        n0 = start["earnings"].size

        def delta(col: str) -> np.ndarray:
            out = c.col(col).copy()
            out[:n0] -= start[col]
            return out

        self.income_30d.push(delta("earnings"))
        self.gmv_30d.push(delta("gmv"))
        self.profit_30d.push(delta("profit"))
        adversary = np.isin(c.col("ctype"), [int(t) for t in ADVERSARY_TYPES])
        self.counts.add("adversary_profit", c.col("market").astype(np.int64), np.where(adversary, delta("profit"), 0.0))
        for f in DayCounts.FIELDS:
            self.totals[f] += getattr(self.counts, f)
        self.metrics_today = day_metrics(self)
        self.history.append(self.metrics_today)
        self.datacollector.collect(self)


def _concat(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if next(iter(b.values())).size == 0:
        return a
    return {k: np.concatenate([a[k], b[k]]) for k in a}


def _resolve_scenario(scenario: Scenario | str | Path | None, overrides: dict[str, Any]) -> Scenario:
    if scenario is None:
        scenario = DEFAULT_SCENARIO
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    return with_overrides(scenario, overrides, source="LiveShopModel keyword arguments")
