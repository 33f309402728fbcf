"""The compiled engine and the numpy reference engine agree exactly, kernel by kernel and run by run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sim import kernels

ROOT = Path(__file__).resolve().parent.parent
compiled = pytest.mark.skipif(kernels.ENGINE != "numba", reason="numba is not installed")


def _buyers(n: int, seed: int):
    rng = np.random.default_rng(seed)
    activity = rng.gamma(0.8, 0.5 / 0.8, n)
    appetite = np.where(rng.random(n) < 0.1, rng.random(n), 1.0)
    threshold = rng.standard_exponential(n) / (activity * appetite)
    threshold[rng.random(n) < 0.05] = np.inf  # buyers who left
    market = (rng.random(n) < 0.35).astype(np.int16)
    cat1 = rng.integers(0, 6, n).astype(np.int16)
    cat2 = ((cat1 + 1 + rng.integers(0, 5, n)) % 6).astype(np.int16)
    return threshold, activity, appetite, market, cat1, cat2


@compiled
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_due_sessions_engines_agree(seed):
    threshold, activity, appetite, market, *_ = _buyers(50_000, seed)
    reached = np.array([0.0, 0.0])
    a_t, b_t = threshold.copy(), threshold.copy()
    for day in range(5):
        reached = reached + np.array([0.7, 1.9]) * (1 + day % 2)
        ra, rb = np.random.default_rng([seed, day]), np.random.default_rng([seed, day])
        due_a, count_a = kernels._due_numpy(a_t, activity, appetite, market, reached, ra)
        due_b, count_b = kernels._due_numba(b_t, activity, appetite, market, reached, rb)
        assert np.array_equal(due_a, due_b) and np.array_equal(count_a, count_b)
        assert np.array_equal(a_t, b_t)
        assert ra.random() == rb.random()  # the same number of draws
        assert (count_a >= 1).all() and (a_t[due_a] > reached[market[due_a]]).all()


@compiled
@pytest.mark.parametrize("demoted", [False, True])
@pytest.mark.parametrize("first_weight", [0.0, 0.7, 1.0])
def test_assignment_engines_agree(first_weight, demoted):
    _, _, _, market, cat1, cat2 = _buyers(20_000, 4)
    rng = np.random.default_rng(9)
    due = np.sort(rng.choice(20_000, 8_000, replace=False))
    count = 1 + rng.poisson(0.3, due.size)
    n_m, n_c = 2, 6
    s_market = rng.integers(0, n_m, 300).astype(np.int16)
    s_cat = rng.integers(0, n_c - 1, 300).astype(np.int16)  # category 5 has nothing live: fallback
    score = rng.lognormal(0, 2, 300)
    score[:20] = 0.0
    from sim.platform.recommender import _assign

    args = (due, count, market, cat1, cat2, s_market, s_cat, score, n_m, n_c, first_weight)
    exposure = None
    if demoted:  # two categories of market 0 and one of market 1 demoted
        exposure = np.ones((n_m, n_c))
        exposure[0, 1], exposure[0, 3], exposure[1, 2] = 0.2, 0.5, 0.05
    ra, rb = np.random.default_rng(1), np.random.default_rng(1)
    engine = kernels._assign_numba
    try:
        buyer_b, stream_b, views_b, sessions_b = _assign(*args, rb, exposure)
        kernels._assign_numba = None
        buyer_a, stream_a, views_a, sessions_a = _assign(*args, ra, exposure)
    finally:
        kernels._assign_numba = engine
    assert np.array_equal(buyer_a, buyer_b) and np.array_equal(stream_a, stream_b)
    assert np.array_equal(views_a, views_b) and np.array_equal(sessions_a, sessions_b)
    assert np.array_equal(buyer_a, np.repeat(due, count))
    assert (stream_a >= 0).all() and (score[stream_a] > 0).all()
    assert np.array_equal(views_a, np.bincount(stream_a, minlength=300))
    assert np.array_equal(sessions_a, np.bincount(market[buyer_a], minlength=n_m))
    assert (s_market[stream_a] == market[buyer_a]).all()  # a session stays in its buyer's market


@compiled
def test_alias_tables_engines_agree():
    rng = np.random.default_rng(2)
    weight = rng.lognormal(0, 1.5, 1000)
    weight[rng.random(1000) < 0.1] = 0.0
    start = np.r_[0, np.sort(rng.choice(np.arange(1, 1000), 40, replace=False)), 1000]
    start[5] = start[4]  # an empty group
    weight[start[7]:start[8]] = 0.0  # a group with no positive weight
    fast = kernels.alias_tables(weight, start)
    slow_prob, slow_alias = np.ones(1000), np.zeros(1000, dtype=np.int64)
    slow_size = kernels._alias_source(weight, start, slow_prob, slow_alias)  # as plain Python
    assert np.array_equal(fast[0], slow_size) and np.array_equal(fast[1], slow_prob)
    assert np.array_equal(fast[2], slow_alias)
    assert slow_size[4] == 0 and slow_size[7] == 0
    # The tables give each member exactly its share of the group's weight.
    for g in np.flatnonzero(slow_size):
        lo, k = start[g], slow_size[g]
        share = slow_prob[lo:lo + k].copy()
        np.add.at(share, slow_alias[lo:lo + k], 1.0 - slow_prob[lo:lo + k])
        assert np.allclose(share / k, weight[lo:lo + k] / weight[lo:lo + k].sum(), rtol=1e-9, atol=1e-12)


@compiled
def test_view_kernels_engines_agree():
    rng = np.random.default_rng(5)
    n_views, n_streams, n_buyers = 30_000, 400, 10_000
    vb, vs = rng.integers(0, n_buyers, n_views), rng.integers(0, n_streams, n_views)
    conv, trust, prop = rng.random(n_streams) * 0.2, rng.random(n_buyers), rng.lognormal(0, 1, n_buyers)
    camp, bad = rng.random(n_streams) < 0.2, rng.random(n_streams) < 0.1
    a = kernels._conversion_numpy(vb, vs, conv, trust, 0.7, camp, bad)
    b = kernels._conversion_numba(vb, vs, conv, trust, 0.7, camp, bad)
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    pa, pb = a[0] * 5, a[0] * 5
    u = np.random.default_rng(3).random(pa.size)
    assert np.array_equal(kernels._buy_numpy(pa, 0.95, u.copy()), kernels._buy_numba(pb, 0.95, u.copy()))
    assert np.array_equal(pa, pb) and pa.max() == 0.95
    assert np.array_equal(kernels._stream_sums_numpy(vs, vb, prop, n_streams),
                          kernels._stream_sums_numba(vs, vb, prop, n_streams))


@compiled
def test_churn_engines_agree():
    rng = np.random.default_rng(6)
    n = 50_000
    clock, hazard = rng.standard_exponential(n), rng.random(n) * 0.3
    active, appetite = rng.random(n) < 0.9, np.where(rng.random(n) < 0.2, rng.random(n), 1.0)
    ca, cb = clock.copy(), clock.copy()
    a = kernels._churn_numpy(ca, hazard, active, appetite)
    b = kernels._churn_numba(cb, hazard, active, appetite)
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) and np.array_equal(ca, cb)
    assert not np.intersect1d(a[0], a[1]).size and active[a[0]].all() and active[a[1]].all()


def _run_in(engine: str) -> dict:
    code = (
        "import json, warnings; warnings.simplefilter('ignore')\n"
        "from sim.model import LiveShopModel\n"
        "from sim import kernels\n"
        "m = LiveShopModel(scenario='scenarios/incentive_fraud.toml', n_buyers=8000, n_creators=200, days=90)\n"
        "while m.running: m.step()\n"
        "print(json.dumps({'engine': kernels.ENGINE, 'history': m.history}))\n"
    )
    env = {**os.environ, "LIVESIM_ENGINE": engine}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, env=env, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


@compiled
def test_a_whole_run_is_identical_in_both_engines():
    """Every metric of every day, bit for bit, with the compiled kernels and with the reference."""
    fast, ref = _run_in("numba"), _run_in("numpy")
    assert fast["engine"] == "numba" and ref["engine"] == "numpy"
    assert json.dumps(fast["history"]) == json.dumps(ref["history"])  # exact floats, NaN included
