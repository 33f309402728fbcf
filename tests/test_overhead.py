"""Caches and running indexes that keep a day's fixed cost low agree with recomputing from scratch."""

from __future__ import annotations

import json
from functools import partial

import mesa
import numpy as np
import pandas as pd
import pytest

from sim import LiveShopModel, categorical
from sim.agents.adaptation import Learner
from sim.agents.creators import _draw_shares
from sim.config import scenario_from_dict
from sim.datacollector import _today
from sim.metrics import METRICS, DayCounts, DayView, _median, _quantile, _Today, gini
from sim.platform.ladders import ladder_for
from sim.seeding import DAILY_STREAMS, STREAMS, RunStreams, day_streams, run_seed_sequence, spawn_streams
from sim.tactics import creator_type_names
from sim.tactics import names as tactic_names
from tests.conftest import tiny_dict


def _draws(rng: np.random.Generator) -> list[float]:
    return rng.random(5).tolist()


def test_run_streams_before_the_first_day_are_the_spawned_ones():
    """Until the first day, every stream is the one spawned from the run's seed sequence."""
    lazy = RunStreams(run_seed_sequence(11, 2))
    eager = spawn_streams(run_seed_sequence(11, 2))
    assert list(lazy) == list(STREAMS)
    for name in STREAMS:
        assert _draws(lazy[name]) == _draws(eager[name])


@pytest.mark.parametrize("seed", [11, 0, 2**80 + 3])
@pytest.mark.parametrize("hashed", [True, False])
def test_run_streams_derive_each_days_streams_draw_for_draw(seed, hashed):
    """On day d a daily stream, set on first use, draws exactly as day_streams(seq, d) does,
    whichever streams were used on earlier days, across blocks of hashed days and with numpy's
    own seeding as the fallback; build streams carry on undisturbed."""
    seq = run_seed_sequence(seed, 2)
    lazy = RunStreams(seq)
    assert lazy._seeds is not None
    if not hashed:
        lazy._seeds = None
    build = spawn_streams(run_seed_sequence(seed, 2))
    for day in (1, 2, 5, 63, 64, 65, 200, 130):
        lazy.new_day(day)
        eager = day_streams(seq, day)
        used = DAILY_STREAMS[day % 3::3]  # a different subset each day
        for name in used:
            assert _draws(lazy[name]) == _draws(eager[name])
            assert lazy[name] is lazy[name]  # the same generator all day: draws continue
            assert _draws(lazy[name]) == _draws(eager[name])
        assert _draws(lazy["world"]) == _draws(build["world"])


# ------------------------------------------------------------------ the day's books


def _enforced_model(days: int = 120, **world: object) -> LiveShopModel:
    data = tiny_dict(enforced=True, **world)
    data["days"] = days
    return LiveShopModel(scenario=scenario_from_dict(data))


def _metrics_rule_by_rule(m: LiveShopModel) -> dict[str, dict[str, float]]:
    """Today's metrics with each rule called on its own view, each counter summed on demand."""
    today = _Today(m)
    out = {}
    for key, market in [("all", None), *((name, i) for i, name in enumerate(m.market_names))]:
        view = DayView(m, today, key, market)
        out[key] = {name: metric.daily(view) for name, metric in METRICS.items()}
    return out


_TALLIES = (("live",), ("adversary", "live"), ("day0_honest",), ("day0_honest", "present"), ("honest",),
            ("honest", "sanctioned"))


def _tallies_both_ways(m: LiveShopModel) -> list[tuple[list[int], list[int]]]:
    """Per mask combination: ``_Today.tally`` and each view's masks ANDed with its creators and counted."""
    today = _Today(m)
    out = []
    for masks in _TALLIES:
        scratch = []
        for key, market in [("all", None), *((name, i) for i, name in enumerate(m.market_names))]:
            view = DayView(m, _Today(m), key, market)
            mask = view.creators.copy()
            for name in masks:
                mask &= getattr(view.today, name)
            scratch.append(int(mask.sum()))
        out.append((today.tally(*masks), scratch))
    return out


@pytest.fixture(scope="module")
def stepped() -> list[dict]:
    """One enforced run, stepped day by day, with what each cache gives next to a from-scratch
    recomputation taken the same day."""
    m = _enforced_model(days=120, n_creators=120, n_buyers=3_000)
    plain = mesa.DataCollector(model_reporters={name: partial(_today, name) for name in METRICS})
    plain.collect(m)
    rolling = ("income", "gmv", "profit")
    deltas: dict[str, list[np.ndarray]] = {"income": [], "gmv": [], "profit": []}
    run_totals = np.zeros_like(m.counts.table)
    days = []
    while m.running:
        before = {k: m.creators.col(c).copy() for k, c in (("income", "earnings"), ("gmv", "gmv"), ("profit", "profit"))}
        m.step()
        plain.collect(m)
        log = m.governance.enforcer.log
        for k, c in (("income", "earnings"), ("gmv", "gmv"), ("profit", "profit")):
            d = m.creators.col(c).copy()
            d[: before[k].size] -= before[k]
            deltas[k].append(d)
        run_totals += np.stack([np.asarray(getattr(m.counts, f)) for f in m.counts.fields])
        days.append({
            "day": m.day,
            "metrics": json.dumps(m.metrics_today),
            "metrics_rule_by_rule": json.dumps(_metrics_rule_by_rule(m)),
            "decisions_today": _Today(m)._decisions_today.tolist(),
            "tallies": _tallies_both_ways(m),
            "decisions_scan": np.flatnonzero(log.col("day") == m.day).tolist(),
            "counts": {f: np.asarray(getattr(m.counts, f)).copy() for f in m.counts.fields},
            "sums": [m.counts.sums(None), *(m.counts.sums(i) for i in range(m.n_markets))],
            "rolling": {k: getattr(m, f"{k}_30d").values.copy() for k in rolling},
            "scratch": {k: np.sum([np.pad(d, (0, m.creators.n - d.size)) for d in deltas[k][-30:]], axis=0)
                        for k in rolling},
            "run_totals": run_totals.copy(),
            "model_run_totals": np.stack([m.run_totals[f] for f in m.counts.fields]),
            "creators": m.creators.n,
        })
    return [{"model": m, "plain": plain}, *days]


def test_todays_decisions_found_by_bisection_are_those_a_scan_finds(stepped):
    """Every day, today's decision rows found by bisection of the log's day column are exactly
    the rows a scan of the whole log finds (the run has decisions on many days)."""
    days = stepped[1:]
    assert sum(bool(d["decisions_scan"]) for d in days) > 10
    for d in days:
        assert d["decisions_today"] == d["decisions_scan"], d["day"]


def test_creator_tallies_for_all_views_are_each_views_mask_counted(stepped):
    """Every day, the creators in a combination of masks counted for the platform and every
    market in one bincount equal each view's masks ANDed with its creators and counted."""
    days = stepped[1:]
    assert stepped[0]["model"].n_markets > 1
    assert any(d["tallies"][-1][1][0] > 0 for d in days)  # honest creators sanctioned: the last tally is not all zeros
    for d in days:
        for tally, scratch in d["tallies"]:
            assert tally == scratch, d["day"]


def test_counter_sums_are_the_per_counter_sums(stepped):
    """The day's counter sums from one reduction over the counts table equal each counter
    summed on its own, bit for bit, for the platform and for each market."""
    for d in stepped[1:]:
        platform, *markets = d["sums"]
        for f, v in d["counts"].items():
            assert platform[f] == float(v.sum())
            for i, sums in enumerate(markets):
                assert sums[f] == float(v[i : i + 1].sum())


def test_day_metrics_evaluated_together_equal_each_rule_on_its_own(stepped):
    """Every day, the metrics (counter arithmetic evaluated for all metrics and markets at once)
    equal each metric's rule called on its own view, bit for bit, NaN included."""
    for d in stepped[1:]:
        assert d["metrics"] == d["metrics_rule_by_rule"], d["day"]
    assert any("NaN" in d["metrics"] for d in stepped[1:])


def test_run_totals_are_the_sum_of_every_days_counts(stepped):
    """model.run_totals, kept as one table, equal the day counts added up day by day."""
    for d in stepped[1:]:
        np.testing.assert_array_equal(d["model_run_totals"], d["run_totals"])


def test_rolling_sums_match_the_last_30_days_recomputed(stepped):
    """The 30-day rolling sums, grown in place as creators arrive, equal the sum of the last 30
    days' deltas recomputed from scratch (to rounding: the ring adds and subtracts)."""
    days = stepped[1:]
    assert days[-1]["creators"] > days[0]["creators"]  # creators arrived during the run
    for d in days:
        for k, values in d["rolling"].items():
            assert values.size == d["creators"]
            np.testing.assert_allclose(values, d["scratch"][k], rtol=1e-9, atol=1e-6)


def test_metrics_collector_records_what_mesas_collector_records(stepped):
    """model.datacollector's table is exactly the table Mesa's own DataCollector, with one
    reporter per metric collected alongside, records (NaN where it has NaN)."""
    m, plain = stepped[0]["model"], stepped[0]["plain"]
    ours = m.datacollector.get_model_vars_dataframe()
    theirs = plain.get_model_vars_dataframe()
    assert list(ours.columns) == list(METRICS)
    pd.testing.assert_frame_equal(ours, theirs, check_exact=True)
    assert m.datacollector._collection_steps == plain._collection_steps


def test_metrics_collector_table_follows_new_days():
    """Reading the collector's table mid-run and stepping on gives the longer table."""
    m = _enforced_model(days=6)
    m.step()
    assert len(m.datacollector.get_model_vars_dataframe()) == 2
    m.step()
    df = m.datacollector.get_model_vars_dataframe()
    assert len(df) == 3
    assert df["gmv"].tolist()[1:] == [h["all"]["gmv"] for h in m.history]


def test_day_counts_attributes_write_through_to_the_table():
    """A counter assigned or added to by attribute lands in the counts table's row."""
    counts = DayCounts(3)
    row = counts.fields.index("gmv")
    counts.gmv[1] += 2.0
    assert counts.table[row].tolist() == [0.0, 2.0, 0.0]
    counts.gmv = np.array([1.0, 2.0, 3.0])
    counts.gmv += np.array([0.5, 0.0, 0.0])
    assert counts.table[row].tolist() == [1.5, 2.0, 3.0]
    counts.reset()
    assert not counts.table.any() and counts.gmv.tolist() == [0.0, 0.0, 0.0]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 7, 10, 51])
def test_median_is_numpys_median_bit_for_bit(n):
    """The metrics' median equals np.median exactly, for odd and even sizes, ties and NaN."""
    rng = np.random.default_rng(n)
    for _ in range(50):
        x = rng.lognormal(2.0, 3.0, n) * rng.integers(0, 3, n)
        assert _median(x) == float(np.median(x))
    x = rng.random(n)
    x[n // 2] = np.nan
    assert np.isnan(_median(x)) and np.isnan(np.median(x))
    assert _median(np.arange(n)) == float(np.median(np.arange(n)))


# ------------------------------------------------------------------ the learner's prices


def _perceived_per_tactic(learner: Learner, rows: np.ndarray) -> np.ndarray:
    """The perceived sanction chance computed tactic by tactic (the reference)."""
    cfg, c = learner.cfg, learner.model.creators
    n = c.n
    group = c.col("ctype")[:n].astype(np.int64) * learner.model.n_markets + c.col("market")[:n]
    size = int(group.max()) + 1
    beta, m, p0 = cfg.social_learning, cfg.prior_strength, cfg.prior_sanction_rate
    out = np.empty((rows.size, learner.hits.shape[1]))
    g = group[rows]
    for t in range(learner.hits.shape[1]):
        peer_hits = np.bincount(group, weights=learner.hits[:n, t], minlength=size)[g]
        peer_trials = np.bincount(group, weights=learner.trials[:n, t], minlength=size)[g]
        prior = (m * p0 + beta * peer_hits) / (m + beta * peer_trials)
        out[:, t] = (m * prior + learner.hits[rows, t]) / (m + learner.trials[rows, t])
    return np.clip(out, 0.0, 1.0)


def _sanction_cost_per_tactic(learner: Learner, rows: np.ndarray, income: np.ndarray) -> np.ndarray:
    """The sanction cost with one ladder lookahead per market and tactic (the reference)."""
    model, cfg, c = learner.model, learner.cfg, learner.model.creators
    market = c.col("market")[rows].astype(np.int64)
    standing = c.col("ladder")[rows]
    inc30 = np.maximum(model.income_30d.values[rows], 0.0)
    names = tactic_names()
    cost = np.zeros((rows.size, len(names)))
    for m, policy in enumerate(model.policies):
        sel = np.flatnonzero(market == m)
        if sel.size == 0:
            continue
        e = policy.enforcement
        ladder = ladder_for(e)
        per_ms = [learner._milestone_cost(ms.sanction, income[sel], inc30[sel]) for ms in e.milestones]
        for t in learner._adversarial.tolist():
            lo, hi = e.points.get(names[t], (1.0, 1.0))
            points, delta, _ = ladder.score(e, np.full(sel.size, lo + (hi - lo) / 4.0), model.day)
            reached, steps, before = np.full(sel.size, -1), np.zeros(sel.size), standing[sel].copy()
            for k in range(1, 25):
                b, a = ladder.bound(e, before, before + delta)
                ms = ladder.milestones_reached(e, b, a).astype(np.int64)
                new = (reached < 0) & (ms >= 0)
                reached[new], steps[new], before = ms[new], k, a
                if (reached >= 0).all():
                    break
            money = np.zeros(sel.size)
            for i, ms_cost in enumerate(per_ms):
                hit = reached == i
                money[hit] = ms_cost[hit] / steps[hit]
            cost[sel, t] = money + cfg.penalty_per_point * points * model.price_level[m]
    return cost


@pytest.mark.parametrize("preset", ["tiktok_health_score", "tiktok_points_sea", "shopee_tiers"])
def test_learner_prices_all_tactics_at_once_as_tactic_by_tactic(preset):
    """The learner's perceived sanction chances and sanction costs, computed for every tactic in
    one pass, equal the tactic-by-tactic computation bit for bit on every ladder kind, after
    decisions, ladders moving and arrivals."""
    data = tiny_dict(enforced=True, n_creators=120, n_buyers=3_000)
    data["days"] = 90
    data["policy_preset"] = preset
    m = LiveShopModel(scenario=scenario_from_dict(data))
    checked = 0
    while m.running:
        m.step()
        if m.day % 15:
            continue
        learner, c = m.learner, m.creators
        rows = np.flatnonzero(learner.allowed[: c.n].any(axis=1))
        income = learner.daily_income(rows)
        np.testing.assert_array_equal(learner.perceived(rows), _perceived_per_tactic(learner, rows))
        np.testing.assert_array_equal(learner.sanction_cost(rows, income), _sanction_cost_per_tactic(learner, rows, income))
        checked += 1
    assert checked == 6 and m.governance.enforcer.log.n > 0 and m.creators.n > 120


@pytest.mark.parametrize("q", [0.0, 0.1, 0.25, 0.5, 0.7, 0.9, 0.99, 1.0])
def test_quantile_is_numpys_quantile_bit_for_bit(q):
    """The metrics' quantile equals np.quantile (linear) exactly, at every size, with ties and NaN."""
    rng = np.random.default_rng(int(q * 100))
    for n in [1, 2, 3, 4, 5, 9, 10, 11, 37, 200]:
        for _ in range(20):
            x = rng.lognormal(2.0, 3.0, n) * rng.integers(0, 3, n) - rng.integers(0, 2, n) * 5.0
            assert _quantile(x, q) == float(np.quantile(x, q)), (n, q)
        y = rng.random(n)
        y[0] = np.nan
        assert np.isnan(_quantile(y, q)) and np.isnan(np.quantile(y, q))


def test_counts_by_tactic_go_to_each_tactics_counter():
    """add_by_tactic adds each item to the counter of its stream's tactic in its market, skips
    clean streams, and does so again on a second call (the rows it works out are kept)."""
    counts = DayCounts(2)
    names = tactic_names()
    market = np.array([0, 1, 1, 0, 1])
    tactic = np.array([0, 1, 2, 1, len(names) - 1])
    weights = np.array([5.0, 1.5, 2.0, 0.25, 3.0])
    for _ in range(2):
        counts.add_by_tactic("violating_views", market, tactic, weights)
    expected = {name: [0.0, 0.0] for name in names[1:]}
    for m, t, w in zip(market, tactic, weights, strict=True):
        if t:
            expected[names[t]][m] += 2 * w
    for name in names[1:]:
        assert getattr(counts, f"violating_views_{name}").tolist() == expected[name]


def test_add_many_makes_the_additions_of_add():
    """add_many over several counters leaves every counter as one add per counter would, bit for bit."""
    rng = np.random.default_rng(3)
    market = rng.integers(0, 3, 200)
    values = {"gmv": rng.lognormal(3.0, 2.0, 200), "orders": None, "bans": rng.random(200) < 0.3}
    one, many = DayCounts(3), DayCounts(3)
    for counts in (one, many):
        counts.gmv[:] = [0.1, 0.2, 0.3]
    for f, w in values.items():
        one.add(f, market, w)
    many.add_many(market, values)
    np.testing.assert_array_equal(many.table, one.table)


def test_gini_clips_negative_values_as_np_clip_does():
    """The Gini coefficient of values with negatives, signed zeros and ties equals the formula on
    np.clip(x, 0, None), bit for bit; NaN for no positive total."""
    rng = np.random.default_rng(4)
    for n in (1, 2, 5, 40, 101):
        for _ in range(30):
            x = rng.normal(1.0, 3.0, n) * rng.integers(0, 2, n)
            x[0] = -0.0
            y = np.sort(np.clip(x, 0.0, None))
            if y.sum() <= 0:
                assert np.isnan(gini(x))
                continue
            ranks = np.arange(1, n + 1)
            assert gini(x) == float((2.0 * np.sum(ranks * y) / (n * y.sum())) - (n + 1.0) / n)


@pytest.mark.parametrize("n_shares", [1, 2, 3, 6])
def test_categorical_draws_are_generator_choice_draw_for_draw(n_shares):
    """Drawing from a share vector's distribution built once gives exactly the codes (and dtype)
    Generator.choice(n, size, p=shares) gives, zero shares included, and leaves the generator
    where choice leaves it."""
    for seed in range(40):
        shares = np.random.default_rng(seed).random(n_shares)
        if n_shares > 1 and seed % 4 == 0:
            shares[seed % n_shares] = 0.0
        shares /= shares.sum()
        dist = categorical.cdf(shares)
        for size in (0, 1, 3, 257):
            ours, theirs = np.random.default_rng(seed + 100), np.random.default_rng(seed + 100)
            got, want = categorical.draw(ours, dist, size), theirs.choice(n_shares, size=size, p=shares)
            assert got.dtype == want.dtype
            np.testing.assert_array_equal(got, want)
            assert ours.random() == theirs.random()


def test_newcomer_shares_are_worked_out_once_per_world_and_registry_state():
    """The creator-type and per-tactic category distributions kept for a world are the ones read
    from its pydantic blocks; asked again they come from the cache, and a different tactic
    registry state (other names) or another world object is worked out afresh."""
    world = scenario_from_dict(tiny_dict(enforced=True)).world
    types, names = creator_type_names(), tactic_names()
    type_p, category_p = _draw_shares(world, types, names)
    mix = world.creators.mix.model_dump()
    p = np.array([mix[t] for t in types], dtype=float)
    np.testing.assert_array_equal(type_p, categorical.cdf(p / p.sum()))
    share = np.array([c.share for c in world.categories], dtype=float)
    assert category_p.shape == (len(names), share.size)
    for t, name in enumerate(names):
        w = share * np.array([c.exposure.model_dump().get(name, 1.0) for c in world.categories])
        w = w if w.sum() > 0 else share
        np.testing.assert_array_equal(category_p[t], categorical.cdf(w / w.sum()))
    assert not np.array_equal(category_p[names.index("counterfeit")], categorical.cdf(share / share.sum()))
    again = _draw_shares(world, types, names)
    assert again[0] is type_p and again[1] is category_p
    fewer = _draw_shares(world, types, names[:-1])
    assert fewer[1].shape == (len(names) - 1, share.size)
    other = _draw_shares(world.model_copy(), types, names)
    assert other[1] is not category_p
    np.testing.assert_array_equal(other[1], category_p)


def test_column_views_handed_out_again_are_the_views_col_would_make():
    """Through appends that fit, appends that grow the buffers, a compaction that shrinks the
    rows and a copy, every column read (``col`` or attribute) is a view of the current buffer
    over exactly the live rows, and writes through it land in the table."""
    import copy

    from sim.table import ColumnTable

    t = ColumnTable({"a": np.int64, "b": np.float64}, capacity=16)
    expect = {"a": np.zeros(0, dtype=np.int64), "b": np.zeros(0)}

    def check(table: ColumnTable) -> None:
        for name, want in expect.items():
            for got in (table.col(name), getattr(table, name)):
                np.testing.assert_array_equal(got, want)
                assert got.base is table._data[name] or got is table._data[name]
                assert got.size == table.n

    for k in (3, 5, 20, 1, 40):  # the third and the last outgrow the buffers
        check(t)
        rows = t.append({"a": np.arange(k), "b": np.full(k, 0.5)}, k)
        t.col("b")[rows] += k  # written through the handed-out view
        expect = {"a": np.concatenate([expect["a"], np.arange(k)]),
                  "b": np.concatenate([expect["b"], np.full(k, 0.5 + k)])}
        check(t)
    keep = t.col("a") % 2 == 0
    for arr in t._data.values():  # a compaction as BuyerPopulation.compact makes it
        arr[: int(keep.sum())] = arr[: t.n][keep]
    t.n = int(keep.sum())
    expect = {name: want[keep] for name, want in expect.items()}
    check(t)
    twin = copy.deepcopy(t)
    twin.col("a")[:] = -1
    check(t)
    assert (twin.a == -1).all() and (twin._data["a"][: twin.n] == -1).all()
