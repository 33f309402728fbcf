"""LiveShopModel: one simulated live-shopping marketplace; one step is one day.

This module builds the world and conducts the day: ``step`` names the phases in the order the
rules apply (design §3); each phase body is a function ``phase(model, day)`` that lives with its
mechanic (plan, recommender, commerce, governance, rewards, lifecycle under ``sim/platform/``).
What one phase hands to a later one travels in the day's context (``sim.day.Day``).

Creators are Mesa agents whose state lives in ``self.creators`` (column arrays); buyers are the array population
``self.buyers``. Governance (``self.governance``) acts between ``settle`` and ``reward`` on ``self.today`` (the
day's streams) and writes back through sanction timers on the creator columns, which become ``suspended``,
``traffic_multiplier``, ``campaign_eligible`` and ``incentive_eligible`` each day; a ban sets ``state``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mesa
import numpy as np
from mesa.time import Schedule

from sim import categorical
from sim.agents.adaptation import Learner
from sim.agents.buyers import BuyerPopulation
from sim.agents.creators import CreatorTable
from sim.config import Scenario, load_scenario, with_overrides
from sim.datacollector import DayMetricsCollector
from sim.day import Day, DayStreams, RollingSum
from sim.events import EventLog, NoEvents
from sim.labels import CreatorState
from sim.metrics import METRICS, DayCounts, day_metrics, type_lookup
from sim.platform.commerce import Ledger, OrderBook, expected_return_chance, settle, shop
from sim.platform.governance import Governance
from sim.platform.levers import Levers
from sim.platform.lifecycle import adapt, add_creators, initial_levels, refresh_levels
from sim.platform.monitoring.monitor import Monitor
from sim.platform.plan import plan
from sim.platform.recommender import recommend
from sim.platform.rewards import reward
from sim.platform.timeline import Timeline
from sim.platform.trends import WorldShift
from sim.policy import Policy
from sim.seeding import RunStreams, run_seed_sequence
from sim.tactics import TacticArrays, adversary_type_codes

__all__ = ["DEFAULT_SCENARIO", "DayMetricsCollector", "DayStreams", "LiveShopModel", "RollingSum"]

DEFAULT_SCENARIO = "baseline"  # the bundled baseline scenario (sim.bundled)


class LiveShopModel(mesa.Model):
    """A live-shopping marketplace: creators, buyers, the recommender, commerce and a timeline.

    Keyword arguments only: ``scenario`` (a Scenario, a path, or None for the bundled baseline), ``replication``
    (which world of the scenario's seed), ``rng`` (Mesa's seed argument; when given it replaces the scenario
    seed), ``events`` (keep the run's event log, ``self.events``; see sim/events.py), and overrides —
    ``n_buyers``, ``n_creators``, ``days``, ``seed`` or any dotted path such as ``policy.referral_fee``.
    """

    def __init__(
        self,
        *,
        scenario: Scenario | str | Path | None = None,
        replication: int = 0,
        rng: int | np.random.SeedSequence | np.random.Generator | None = None,
        events: bool = False,
        **overrides: Any,
    ) -> None:
        config = _resolve_scenario(scenario, overrides)
        self.events: NoEvents = EventLog() if events else NoEvents()
        if isinstance(rng, np.random.Generator):
            rng = int(rng.integers(2**63))
        seq = run_seed_sequence(config.seed if rng is None else rng, replication)
        self.rngs = RunStreams(seq)
        super().__init__(rng=self.rngs["mesa"])
        self.config = config
        self.replication = int(replication)
        self.seed_sequence = seq
        self._build_world()
        self.world_shift = WorldShift(self)  # what abuse trends change (none in force yet)
        self.timeline = Timeline(self)
        self.monitor = Monitor.of(self)  # signals and controllers (without any: does nothing)
        self.schedule_recurring(self.refresh_levels, Schedule(interval=30, start=30.5))
        self.datacollector = DayMetricsCollector(list(METRICS))
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

        self.tactics = TacticArrays.of(world)  # per-tactic numbers, indexed by tactic code (sim/tactics/)

        self.governance = Governance(self)
        self.learner = Learner(self)

        # Creators.
        self.creators = CreatorTable(capacity=int(world.n_creators * 1.5) + 16)
        self.n_initial_creators = world.n_creators
        c_share = np.array([m.creator_share for m in world.markets], dtype=float)
        c_market = rng.choice(n_m, size=world.n_creators, p=c_share / c_share.sum())
        self.creator_market_cdf = categorical.cdf(c_share / c_share.sum())  # where newcomers join (adapt)
        add_creators(self, c_market, self.rngs["creators"], day=0, state=CreatorState.active)

        # Buyers.
        self.buyers = BuyerPopulation(cfg, capacity=int(world.n_buyers * 1.2) + 16)
        b_share = np.array([m.buyer_share for m in world.markets], dtype=float)
        b_market = rng.choice(n_m, size=world.n_buyers, p=b_share / b_share.sum())
        self.buyer_market_cdf = categorical.cdf(b_share / b_share.sum())
        self.buyers.add(b_market.astype(np.int16), self.rngs["buyers"], day=0)
        self.buyers.n_initial = world.n_buyers

        # Usual live supply per market: the sessions' supply elasticity's reference (none under a stream a day).
        c = self.creators
        self.reference_streams = np.bincount(c.col("market"), weights=c.col("streams_per_week") / 7.0, minlength=n_m)
        # Expected monthly commission of the day-0 creators, net of change-of-mind returns: the income
        # metric's stand-in for the days of its 30-day window not yet run (no ramp from zero on day 1).
        rate = np.minimum(c.col("commission_rate"), self.levers.commission_cap[c.col("market"), c.col("category")])
        kept = 1.0 - expected_return_chance(self.return_rate, world.buyers.return_propensity_sigma)[c.col("category")]
        self.expected_income = initial_levels(self) * rate * kept

        self._adversary_codes: tuple[int, ...] = ()  # adversary_type_codes() as of the last lookup table
        self._adversary_type = type_lookup(())
        self.orders = OrderBook()
        self.ledger = Ledger(n_m)
        self.counts = DayCounts(n_m)
        # Day counters summed after the warm-up (summaries) and over every day; rows read by counter name.
        self._totals = np.zeros_like(self.counts.table)
        self._run_totals = np.zeros_like(self.counts.table)
        self.totals = {f: self._totals[i] for i, f in enumerate(self.counts.fields)}
        self.run_totals = {f: self._run_totals[i] for i, f in enumerate(self.counts.fields)}
        self.income_30d, self.gmv_30d, self.profit_30d = (RollingSum(30, c.n) for _ in range(3))
        self.complaints_7d = RollingSum(7, c.n)
        # Before the first step: a day on which nobody streamed and nothing happened.
        self.current_day = Day(start={k: np.zeros(c.n) for k in ("earnings", "profit", "gmv", "complaints")},
                               clean_orders=np.zeros(c.n))
        self.summary_start = self.current_day.start  # replaced on the first day after the warm-up

    def set_market_policy(self, market: int, policy: Policy) -> None:
        """Market ``market`` runs ``policy`` from now on (a launch or a ramp step)."""
        self.policies[market] = policy
        self.levers = Levers(self.policies, self.category_names)
        self.governance.enforcer.policy_changed(market)

    # ------------------------------------------------------------------ the day

    @property
    def day(self) -> int:
        """The current day (1 on the first step; 0 before any step)."""
        return self.steps

    @property
    def today(self) -> DayStreams:
        """The current day's live streams (``current_day.streams``), as governance reads them."""
        return self.current_day.streams

    def step(self) -> None:
        """One day (due timeline events fired just before it); a phase is ``phase(model, day)``."""
        day = self.begin_day()
        plan(self, day)  # who goes live, who violates; classifiers scan (sim/platform/plan.py)
        recommend(self, day)  # sessions become views by score (sim/platform/recommender.py)
        shop(self, day)  # views become orders; the money is split (sim/platform/commerce.py)
        settle(self, day)  # delivered orders resolve; viewers report (sim/platform/commerce.py)
        self.governance.detect()  # flags, reports, complaint spikes (sim/platform/governance.py)
        self.governance.review()  # appeals, then the queue by priority
        self.governance.daily(day.clean_orders)  # enforce: the ladders move with time
        reward(self, day)  # incentive payouts (sim/platform/rewards.py)
        adapt(self, day)  # learning, pilots, churn, arrivals (sim/platform/lifecycle.py)
        self.collect(day)
        if self.day >= self.config.days:
            self.running = False

    def begin_day(self) -> Day:
        """Open the day: reset the day's counts, derive its random streams, remember where running
        totals started, and put today's sanctions (suspensions, traffic penalties, lost eligibility)
        in force."""
        self.counts.reset()
        self.rngs.new_day(self.day)
        c = self.creators
        self.current_day = Day(start={k: c.col(k).copy() for k in ("earnings", "profit", "gmv", "complaints")})
        if self.day == self.config.effective_warmup + 1:  # creator totals as the summarised days begin
            self.summary_start = self.current_day.start
        self.governance.enforcer.refresh(self.day)
        self.monitor.begin_day(self.day)  # controllers' costs of the day
        return self.current_day

    def refresh_levels(self) -> None:
        """Monthly levels (scheduled every 30 days; a method: Mesa holds callables by weak reference)."""
        refresh_levels(self)

    def collect(self, day: Day) -> None:
        """Close the day's books and record the metrics."""
        c = self.creators
        start = day.start
        n0 = start["earnings"].size

        def delta(col: str) -> np.ndarray:
            out = c.col(col).copy()
            out[:n0] -= start[col]
            return out

        profit = delta("profit")
        self.income_30d.push(delta("earnings"))
        self.gmv_30d.push(delta("gmv"))
        self.profit_30d.push(profit)
        codes = adversary_type_codes()
        if codes != self._adversary_codes:
            self._adversary_codes, self._adversary_type = codes, type_lookup(codes)
        adversary = self._adversary_type[c.col("ctype")]
        self.counts.add("adversary_profit", c.col("market").astype(np.int64), np.where(adversary, profit, 0.0))
        self._run_totals += self.counts.table
        if self.day > self.config.effective_warmup:
            self._totals += self.counts.table
        self.metrics_today = day_metrics(self)
        self.history.append(self.metrics_today)
        self.events.end_of_day(self)
        self.datacollector.collect(self)
        self.monitor.end_of_day()  # signals and controllers read the finished day


def _resolve_scenario(scenario: Scenario | str | Path | None, overrides: dict[str, Any]) -> Scenario:
    scenario = scenario if isinstance(scenario, Scenario) else load_scenario(scenario or DEFAULT_SCENARIO)
    return with_overrides(scenario, overrides, source="LiveShopModel keyword arguments")
