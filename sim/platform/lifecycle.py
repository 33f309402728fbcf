"""Creators' and buyers' life on the platform: arrival, the pilot programme, levels, churn.

New creators join at the end of a day (small accounts start in the pilot programme where the
policy runs one), graduate after ``pilot_days`` (with a clean record where asked), are ranked
into levels L0-L8 by their monthly GMV, and leave by a base churn rate raised by low profit and,
for honest creators, by recent sanctions. Buyers churn and arrive in their population
(``BuyerPopulation``); onboarding (KYC friction, ban evaders' re-entry) is governance's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from sim import categorical
from sim.agents.creators import Creator, draw_creators
from sim.labels import CreatorState, CreatorType
from sim.platform.recommender import scores
from sim.tactics import names as tactic_names

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["adapt", "add_creators", "add_reentry", "initial_levels", "levels", "refresh_levels"]


def add_creators(
    model: LiveShopModel,
    markets: np.ndarray,
    rng: np.random.Generator,
    day: int,
    state: CreatorState | None = None,
    ctypes: np.ndarray | None = None,
    admit: Callable[[dict[str, np.ndarray]], np.ndarray | None] | None = None,
) -> slice:
    """New creator rows (and their Mesa agents) in ``markets``; newcomers may start as pilots.

    ``admit`` sees the drawn traits before any row exists (a check that depends on the category,
    such as its stricter KYC) and returns which accounts join (None: all).
    """
    traits = draw_creators(model.config, markets.size, markets, rng, day, ctypes=ctypes)
    if admit is not None and (keep := admit(traits)) is not None:
        traits = {name: values[keep] for name, values in traits.items()}
        markets = markets[keep]
    if state is None:  # newcomers: small accounts start in the pilot programme
        lv = model.levers
        small = traits["followers"] < lv.pilot_followers_max[markets]
        states = np.where(small & (lv.pilot_days[markets] > 0), CreatorState.pilot, CreatorState.active)
    else:
        states = np.full(markets.size, state)
    traits["state"] = states.astype(np.int8)
    # Columns not drawn start at their declared defaults (sim/state.py); the enforcer and the
    # learner then set the starting values that depend on the model.
    rows = model.creators.append(traits, markets.size)
    model.creators.col("actor")[rows] = np.arange(rows.start, rows.stop)
    model.governance.enforcer.init_rows(rows)
    model.learner.add_rows(rows)
    Creator.create_agents(model, markets.size, row=np.arange(rows.start, rows.stop))
    return rows


def add_reentry(
    model: LiveShopModel,
    market: int,
    actor: int,
    tactic: int,
    rng: np.random.Generator,
    admit: Callable[[dict[str, np.ndarray]], np.ndarray | None] | None = None,
) -> int | None:
    """A banned evader's new account (same person, same tactic), as onboarding admits it
    (None: ``admit`` refused it once its category was known)."""
    rows = add_creators(model, np.array([market]), rng, model.day,
                        ctypes=np.array([CreatorType.ban_evader], dtype=np.int8), admit=admit)
    if rows.stop == rows.start:
        return None
    c = model.creators
    c.col("actor")[rows] = actor
    c.col("tactic")[rows] = tactic
    c.col("intensity")[rows] = getattr(model.config.world.tactics, tactic_names()[tactic]).intensity
    model.learner.add_rows(rows)
    return rows.start


def initial_levels(model: LiveShopModel) -> np.ndarray:
    """Day-0 levels from each creator's expected monthly GMV under the recommender (returned)."""
    c = model.creators
    if c.n == 0:
        return np.zeros(0)
    score = scores(model, np.arange(c.n), np.zeros(c.n, dtype=np.int8), np.ones(c.n))
    weight = score * c.col("streams_per_week") / 7.0
    market = c.col("market")
    n_m = model.n_markets
    share = weight / np.maximum(np.bincount(market, weights=weight, minlength=n_m)[market], 1e-12)
    b = model.buyers
    sessions = np.bincount(b.col("market"), weights=b.col("activity"), minlength=n_m)
    sessions = sessions.astype(float) * model.activity_level
    conv = model.base_conversion[market] * c.col("skill") * np.sqrt(c.col("quality"))
    aov = np.exp(model.value_mu + model.value_sigma**2 / 2.0)[c.col("category")] * model.price_level[market]
    monthly = 30.0 * share * sessions[market] * conv * aov
    c.col("level")[:] = levels(model, monthly)
    return monthly


def levels(model: LiveShopModel, monthly_gmv: np.ndarray) -> np.ndarray:
    """Level L0-L8 of each creator for a month's GMV, by its market's thresholds."""
    market = model.creators.col("market")
    thresholds = model.levers.level_thresholds[market]  # (creators, 8)
    return (monthly_gmv[:, None] >= thresholds).sum(axis=1)


def refresh_levels(model: LiveShopModel) -> None:
    """Monthly: levels L0-L8 from last month's GMV, and a new month's GMV count."""
    c = model.creators
    c.col("level")[:] = levels(model, c.col("gmv_month"))
    c.col("gmv_month")[:] = 0.0


def adapt(model: LiveShopModel, day: Day) -> None:
    """Adaptive creators re-pick; pilots graduate; creators and buyers churn; newcomers arrive.

    Uses no field of ``day``: it acts on the lasting populations at the end of the day.
    """
    c = model.creators
    today = model.day
    pop = model.config.world.creators
    rng = model.rngs["adapt"]
    model.learner.decide(model.rngs["learn"])
    state = c.col("state")
    market = c.col("market")
    lv = model.levers
    # Pilots graduate after pilot_days (with a clean record where the policy asks for one).
    since = np.where(lv.pilot_clean[market], np.maximum(c.col("joined_day"), c.col("last_confirmed_day")),
                     c.col("joined_day"))
    graduate = (state == CreatorState.pilot) & (today - since >= lv.pilot_days[market])
    state[graduate] = CreatorState.active

    live = c.live_mask()
    # Creators weigh what staying brings them: profit (for honest creators, their earnings).
    profit = np.zeros(c.n)
    profit[: model.profit_30d.values.size] = model.profit_30d.values[: c.n]
    # (the threshold is in price-level-1 currency, scaled to each market's prices)
    poor = (profit < pop.low_income_monthly * model.price_level[market]) & (today - c.col("joined_day") >= 60)
    # Honest creators also leave after sanctions (deserved or not) make staying less worth it.
    sanctioned = (today - c.col("last_sanction_day") <= 30) & (c.col("ctype") == CreatorType.honest)
    p_leave = pop.churn_rate + np.where(poor, pop.low_income_churn_rate, 0.0)
    p_leave += np.where(sanctioned, model.config.world.adaptation.sanction_churn_rate, 0.0)
    leave = live & (rng.random(c.n) < p_leave)
    state[leave] = CreatorState.churned
    c.col("left_day")[leave] = today
    model.buyers.churn(today)
    if model.buyers.worth_compacting():
        model.orders.renumber_buyers(model.buyers.compact(model.orders.buyers_in_flight()))

    arr = model.rngs["arrivals"]
    world = model.config.world
    missing = max(0, model.n_initial_creators - int(c.present_mask().sum()))
    k_c = arr.poisson(pop.arrival_rate * model.n_initial_creators + pop.entry_response * missing)
    if k_c:
        markets = categorical.draw(arr, model.creator_market_cdf, k_c)
        markets = markets[model.governance.onboarding.newcomers_admitted(markets, arr)]
        if markets.size:
            add_creators(model, markets, arr, today, admit=model.governance.onboarding.newcomers_pass)
    model.governance.onboarding.daily()
    k_b = arr.poisson(world.buyers.arrival_rate * model.buyers.n_initial)
    if k_b:
        model.buyers.add(categorical.draw(arr, model.buyer_market_cdf, k_b).astype(np.int16), arr, today)
