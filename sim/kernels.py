"""The per-buyer and per-session inner loops, compiled with numba when it is installed.

Every kernel here has two implementations that draw the same random numbers in the same order
and do the same floating-point operations, so they give bit-identical results:

- the **numpy** engine, vectorised array code: the reference, and what runs where numba is not
  installed (``tests/test_kernels.py`` checks both engines agree exactly);
- the **numba** engine, the same loops compiled (``numba.njit``), with no temporary arrays and
  no random gathers over all buyers: the default when numba imports.

``LIVESIM_ENGINE=numpy`` (environment) selects the reference engine; ``ENGINE`` says which one
runs. Random numbers come from the phase's own ``numpy.random.Generator``: numba draws from the
same bit generator with the same algorithms as numpy, so the engine never changes a stream.

A kernel takes columns and returns arrays; it knows nothing of the model.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["ENGINE", "alias_tables", "assign_sessions", "churn", "draw_orders", "due_sessions", "stream_sums", "view_conversion"]


def _numba_jit():
    """numba.njit with an on-disk cache, or None when numba is not installed or not wanted."""
    if os.environ.get("LIVESIM_ENGINE", "").strip().lower() == "numpy":
        return None
    try:
        import numba
    except ImportError:  # pragma: no cover - depends on the install
        return None
    return numba.njit(cache=True, nogil=True)


_JIT = _numba_jit()
ENGINE: str = "numba" if _JIT is not None else "numpy"


# ---------------------------------------------------------------- who shops today


def _due_numpy(threshold, activity, appetite, market, reached, rng):
    due = np.flatnonzero(threshold <= reached[market])
    lam = activity[due] * appetite[due]
    r = reached[market[due]]
    nxt = threshold[due]
    count = np.ones(due.size, dtype=np.int64)
    going = np.arange(due.size)
    while going.size:  # the next arrival of every buyer still inside today, round by round
        nxt[going] += rng.standard_exponential(going.size) / lam[going]
        going = going[nxt[going] <= r[going]]
        count[going] += 1
    threshold[due] = nxt
    return due, count


def _due_numba_source(threshold, activity, appetite, market, reached, rng):  # pragma: no cover - compiled
    n = threshold.size
    buf = np.empty(n, dtype=np.int64)
    k = 0
    for i in range(n):  # branch-free: write every row, advance past the due ones
        buf[k] = i
        k += threshold[i] <= reached[market[i]]
    due = buf[:k].copy()
    lam = np.empty(k)
    r = np.empty(k)
    nxt = np.empty(k)
    for j in range(k):
        i = due[j]
        lam[j] = activity[i] * appetite[i]
        r[j] = reached[market[i]]
        nxt[j] = threshold[i]
    count = np.ones(k, dtype=np.int64)
    going = np.arange(k)
    n_going = k
    while n_going:  # one pass a round: draw, keep those still inside today, count them
        m = 0
        for q in range(n_going):
            j = going[q]
            nxt[j] += rng.standard_exponential() / lam[j]
            inside = nxt[j] <= r[j]
            going[m] = j
            m += inside
            count[j] += inside
        n_going = m
    for j in range(k):
        threshold[due[j]] = nxt[j]
    return due, count


_due_numba = _JIT(_due_numba_source) if _JIT is not None else None


def due_sessions(threshold: np.ndarray, activity: np.ndarray, appetite: np.ndarray, market: np.ndarray,
                 reached: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Buyers with at least one session today, and how many each has.

    Each buyer's sessions are the arrivals of a Poisson process whose clock runs at
    ``activity x appetite`` times its market's session rate. ``threshold`` holds, per buyer, the
    point of its market's cumulative rate at which its next session falls; ``reached`` is where
    each market's cumulative rate stands at the end of today. A buyer is due when its threshold
    has been reached; then exponential gaps (one per session, drawn round by round over the
    buyers still inside today) walk its process forward until an arrival falls past today,
    which becomes its next threshold. A buyer that is not due draws nothing (memoryless).
    Updates ``threshold`` in place; inactive buyers carry an infinite threshold.
    """
    if _due_numba is not None:
        return _due_numba(threshold, activity, appetite, market, reached, rng)
    return _due_numpy(threshold, activity, appetite, market, reached, rng)


# ---------------------------------------------------------------- which stream each session sees


def _alias_source(weight, start, prob, alias):
    """Vose's alias tables for consecutive groups of ``weight`` (group g is start[g]:start[g+1]).

    Fills ``prob`` and ``alias`` (local indices) and returns each group's size, 0 when the group
    has no positive weight. Written once for both engines: compiled by numba, or run as Python.
    """
    n_groups = start.size - 1
    size = np.zeros(n_groups, dtype=np.int64)
    small = np.empty(weight.size, dtype=np.int64)
    large = np.empty(weight.size, dtype=np.int64)
    scaled = np.empty(weight.size)
    for g in range(n_groups):
        lo = start[g]
        k = start[g + 1] - lo
        total = 0.0
        for j in range(k):
            total += weight[lo + j]
        if k == 0 or not total > 0.0:
            continue
        size[g] = k
        n_small = 0
        n_large = 0
        for j in range(k):
            scaled[lo + j] = weight[lo + j] * k / total
            alias[lo + j] = j
            if scaled[lo + j] < 1.0:
                small[n_small] = j
                n_small += 1
            else:
                large[n_large] = j
                n_large += 1
        while n_small > 0 and n_large > 0:
            n_small -= 1
            s = small[n_small]
            n_large -= 1
            big = large[n_large]
            prob[lo + s] = scaled[lo + s]
            alias[lo + s] = big
            scaled[lo + big] = (scaled[lo + big] + scaled[lo + s]) - 1.0
            if scaled[lo + big] < 1.0:
                small[n_small] = big
                n_small += 1
            else:
                large[n_large] = big
                n_large += 1
        for q in range(n_large):
            prob[lo + large[q]] = 1.0
        for q in range(n_small):  # leftovers of rounding
            prob[lo + small[q]] = 1.0
    return size


_alias_numba = _JIT(_alias_source) if _JIT is not None else None


def alias_tables(weight: np.ndarray, start: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Alias tables for sampling within consecutive groups of ``weight`` in O(1) per draw.

    Returns ``(size, prob, alias)``: per group its number of members (0 when none has positive
    weight), and per member the probability of keeping it and the local index of its alias.
    """
    weight = np.ascontiguousarray(weight, dtype=np.float64)
    start = np.ascontiguousarray(start, dtype=np.int64)
    prob = np.ones(weight.size)
    alias = np.zeros(weight.size, dtype=np.int64)
    fn = _alias_numba if _alias_numba is not None else _alias_source
    size = fn(weight, start, prob, alias)
    return size, prob, alias


def _first_share(first_weight, w1, w2):
    """The chance a session shops the buyer's first category: ``first_weight`` unless the two
    categories' exposure weights differ, then ``first_weight x w1`` against ``(1 - first_weight) x w2``."""
    return np.where(w1 == w2, first_weight, first_weight * w1 / (first_weight * w1 + (1.0 - first_weight) * w2))


def _assign_numpy(due, count, cat1, cat2, market, first_weight, n_categories, n_cat_groups, n_streams,
                  start, size, member, prob, alias, u, exposure):
    buyer = np.repeat(due, count)
    m = market[buyer].astype(np.int64)
    if exposure.size:
        t = _first_share(first_weight, exposure[m * n_categories + cat1[buyer]], exposure[m * n_categories + cat2[buyer]])
    else:
        t = np.full(u.size, first_weight)
    first = u < t
    group = m * n_categories + np.where(first, cat1[buyer], cat2[buyer])
    second = ~first
    u[first] /= t[first]
    u[second] = (u[second] - t[second]) / (1.0 - t[second])
    empty = size[group] == 0
    group[empty] = n_cat_groups + m[empty]
    k = size[group]
    x = u * k
    j = x.astype(np.int64)
    np.minimum(j, k - 1, out=j)
    at = start[group] + j
    local = np.where(x - j < prob[at], j, alias[at])
    stream = np.where(k > 0, member[start[group] + local], -1)
    views = np.bincount(stream[stream >= 0], minlength=n_streams)
    sessions = np.bincount(market[due], weights=count, minlength=size.size - n_cat_groups)
    return buyer, stream, views, sessions


def _assign_numba_source(due, count, cat1, cat2, market, first_weight, n_categories, n_cat_groups, n_streams,
                         start, size, member, prob, alias, u, exposure):  # pragma: no cover - compiled
    n_markets = size.size - n_cat_groups
    sessions = np.zeros(n_markets)
    # A (market, category) group with nothing live sends its sessions to the market's group.
    g_start = np.empty(size.size, dtype=np.int64)
    g_size = np.empty(size.size, dtype=np.int64)
    for g in range(size.size):
        h = g
        if g < n_cat_groups and size[g] == 0:
            h = n_cat_groups + g // n_categories
        g_start[g] = start[h]
        g_size[g] = size[h]
    n = u.size
    buyer = np.empty(n, dtype=np.int64)
    stream = np.empty(n, dtype=np.int64)
    second_weight = 1.0 - first_weight
    # Divisors that are never zero: a weight of 0 is never the branch taken, so its quotient is unused.
    first_div = first_weight if first_weight > 0.0 else 1.0
    second_div = second_weight if second_weight > 0.0 else 1.0
    demoted = exposure.size > 0
    q = 0
    for j in range(due.size):  # buyer due[j]'s count[j] sessions, in a row
        b = due[j]
        mk = market[b]
        sessions[mk] += count[j]
        base = np.int64(mk) * n_categories
        g1 = base + cat1[b]
        g2 = base + cat2[b]
        t, t_div, rest_div = first_weight, first_div, second_div  # as _first_share
        if demoted and exposure[g1] != exposure[g2]:
            t = first_weight * exposure[g1] / (first_weight * exposure[g1] + (1.0 - first_weight) * exposure[g2])
            t_div = t if t > 0.0 else 1.0
            rest_div = 1.0 - t if 1.0 - t > 0.0 else 1.0
        for _ in range(count[j]):
            # Branch-free: both candidates are computed and one is selected (the uniform decides
            # at random, so a branch would be mispredicted half the time); the same operations
            # as the branching form, so the same bits.
            v = u[q]
            first = v < t
            g = g1 if first else g2
            v = v / t_div if first else (v - t) / rest_div
            k = g_size[g]
            live = k > 0
            lo = g_start[g] if live else 0  # a group with nothing live reads slot 0, unused
            x = v * k
            i = min(np.int64(x), k - 1) if live else 0
            at = lo + i
            keep = prob[at]
            other = alias[at]
            local = i if x - i < keep else other
            s = member[lo + local]
            buyer[q] = b
            stream[q] = s if live else -1
            q += 1
    views = np.zeros(n_streams, dtype=np.int64)
    for q in range(n):
        if stream[q] >= 0:
            views[stream[q]] += 1
    return buyer, stream, views, sessions


_assign_numba = _JIT(_assign_numba_source) if _JIT is not None else None


def assign_sessions(due: np.ndarray, count: np.ndarray, cat1: np.ndarray, cat2: np.ndarray, market: np.ndarray,
                    first_weight: float, n_categories: int, n_streams: int, start: np.ndarray, size: np.ndarray,
                    member: np.ndarray, prob: np.ndarray, alias: np.ndarray, rng: np.random.Generator,
                    exposure: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The buyer and the stream of every session today (stream -1: nothing live in its market),
    the sessions each of the ``n_streams`` streams received, and the sessions of each market.

    Sessions are buyer ``due[j]`` repeated ``count[j]`` times, in that order. Each session draws
    one uniform: below ``first_weight`` it shops the buyer's first category, else its second,
    and what is left of the uniform picks a live stream of that (market, category) group with
    probability proportional to its score, through the group's alias table. A category with
    nothing live sends the session to the whole market's streams. With ``exposure`` (a weight
    per (market, category) group, 1: not demoted) the first category is chosen below
    ``first_weight x w1 / (first_weight x w1 + (1 - first_weight) x w2)`` instead, for a buyer
    whose two categories' weights differ. Groups are ``market x
    n_categories + category``, then one per market; ``start``/``size`` locate each group's
    tables, ``member`` maps table slots to stream indices. Sessions per market are floats (they
    are added to float day counts), per stream integers.
    """
    n_cat_groups = size.size // (n_categories + 1) * n_categories  # the market groups follow
    if member.size == 0:
        sessions = np.bincount(market[due], weights=count, minlength=size.size - n_cat_groups)
        return (np.repeat(due, count), np.full(int(count.sum()), -1, dtype=np.int64),
                np.zeros(int(n_streams), dtype=np.int64), sessions)
    u = rng.random(int(count.sum()))  # one uniform per session, in session order
    exposure = np.zeros(0) if exposure is None else np.ascontiguousarray(exposure, dtype=np.float64).ravel()
    args = (due, count, cat1, cat2, market, float(first_weight), int(n_categories), int(n_cat_groups),
            int(n_streams), start, size, member, prob, alias, u, exposure)
    if _assign_numba is not None:
        return _assign_numba(*args)
    return _assign_numpy(*args)


# ---------------------------------------------------------------- views become orders


def _conversion_numpy(view_buyer, view_stream, stream_conv, trust, trust_ref, stream_campaign, stream_violating):
    p = stream_conv[view_stream] * (trust[view_buyer] / trust_ref)
    return p, np.flatnonzero(stream_campaign[view_stream]), np.flatnonzero(stream_violating[view_stream])


def _conversion_numba_source(view_buyer, view_stream, stream_conv, trust, trust_ref, stream_campaign,
                             stream_violating):  # pragma: no cover - compiled
    n = view_buyer.size
    p = np.empty(n)
    camp = np.empty(n, dtype=np.int64)
    bad = np.empty(n, dtype=np.int64)
    n_camp = 0
    n_bad = 0
    for q in range(n):
        s = view_stream[q]
        p[q] = stream_conv[s] * (trust[view_buyer[q]] / trust_ref)
        camp[n_camp] = q  # branch-free lists: write, advance when it belongs
        n_camp += stream_campaign[s]
        bad[n_bad] = q
        n_bad += stream_violating[s]
    return p, camp[:n_camp].copy(), bad[:n_bad].copy()


_conversion_numba = _JIT(_conversion_numba_source) if _JIT is not None else None


def view_conversion(view_buyer: np.ndarray, view_stream: np.ndarray, stream_conv: np.ndarray, trust: np.ndarray,
                    trust_ref: float, stream_campaign: np.ndarray,
                    stream_violating: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per view, the chance of an order before campaign and tactic effects: the stream's
    conversion times the buyer's trust relative to ``trust_ref``; with the views of campaign
    streams and of violating streams (indices into the views), which those effects then adjust."""
    fn = _conversion_numba if _conversion_numba is not None else _conversion_numpy
    return fn(view_buyer, view_stream, stream_conv, trust, float(trust_ref), stream_campaign, stream_violating)


def _buy_numpy(p, cap, u):
    np.minimum(p, cap, out=p)
    return np.flatnonzero(u < p)


def _buy_numba_source(p, cap, u):  # pragma: no cover - compiled
    n = p.size
    out = np.empty(n, dtype=np.int64)
    k = 0
    for q in range(n):
        if p[q] > cap:
            p[q] = cap
        out[k] = q
        k += u[q] < p[q]
    return out[:k].copy()


_buy_numba = _JIT(_buy_numba_source) if _JIT is not None else None


def draw_orders(p: np.ndarray, cap: float, rng: np.random.Generator) -> np.ndarray:
    """Which views become orders: each with probability ``p`` capped at ``cap`` (one uniform per
    view, in order). Caps ``p`` in place; returns the indices of the views that buy."""
    fn = _buy_numba if _buy_numba is not None else _buy_numpy
    return fn(p, float(cap), rng.random(p.size))


# ---------------------------------------------------------------- sums over views


def _stream_sums_numpy(view_stream, view_buyer, buyer_value, n_streams):
    return np.bincount(view_stream, weights=buyer_value[view_buyer], minlength=n_streams)


def _stream_sums_numba_source(view_stream, view_buyer, buyer_value, n_streams):  # pragma: no cover - compiled
    out = np.zeros(n_streams)
    for q in range(view_stream.size):
        out[view_stream[q]] += buyer_value[view_buyer[q]]
    return out


_stream_sums_numba = _JIT(_stream_sums_numba_source) if _JIT is not None else None


def stream_sums(view_stream: np.ndarray, view_buyer: np.ndarray, buyer_value: np.ndarray, n_streams: int) -> np.ndarray:
    """Per stream, the sum of a buyer column over its viewers (views in order)."""
    fn = _stream_sums_numba if _stream_sums_numba is not None else _stream_sums_numpy
    return fn(view_stream, view_buyer, buyer_value, int(n_streams))


# ---------------------------------------------------------------- who leaves tonight


def _churn_numpy(clock, hazard, active, appetite):
    clock -= hazard
    gone = clock <= 0.0
    leave = np.flatnonzero(active & gone)
    wary = np.flatnonzero(active & ~gone & (appetite < 1.0))
    return leave, wary


def _churn_numba_source(clock, hazard, active, appetite):  # pragma: no cover - compiled
    n = clock.size
    leave = np.empty(n, dtype=np.int64)
    wary = np.empty(n, dtype=np.int64)
    n_leave = 0
    n_wary = 0
    for i in range(n):
        clock[i] -= hazard[i]
        gone = clock[i] <= 0.0
        leave[n_leave] = i  # branch-free lists: write, advance when it belongs
        n_leave += active[i] and gone
        wary[n_wary] = i
        n_wary += active[i] and not gone and appetite[i] < 1.0
    return leave[:n_leave].copy(), wary[:n_wary].copy()


_churn_numba = _JIT(_churn_numba_source) if _JIT is not None else None


def churn(clock: np.ndarray, hazard: np.ndarray, active: np.ndarray,
          appetite: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A night passes on every buyer's churn clock (``clock -= hazard``, in place).

    Returns the active buyers whose clock ran out (they leave) and the active buyers who stay
    with some appetite lost (they recover a little)."""
    fn = _churn_numba if _churn_numba is not None else _churn_numpy
    return fn(clock, hazard, active, appetite)
