"""Statistics for sweep results: intervals, paired and unpaired variant comparisons, Holm.

Replication ``r`` of every variant and point of a sweep runs in the same world (common random
numbers), so a policy effect is best estimated from *paired* differences on
``(point, replication)``: the world-to-world noise cancels and small effects become visible with
few replications. Unpaired (Welch) comparisons are for variants run on *independent* seeds, the
A/A check of whether the pipeline produces false positives.

A report shows every comparison at once, so p-values are Holm-adjusted across all the rows a
function returns; ``significant`` uses the adjusted value. Degenerate samples get exact answers
rather than NaN where the maths gives one: identical values have a zero-width interval, and a
paired difference that is exactly zero in every replication is "no effect" (p = 1).

The decision report compares *policies* (a variant, or a variant at a lever point) world by world
(an uncertainty point and replication): :func:`compare_policies` gives every policy's paired
effect against a reference with t or bootstrap intervals, relative effects, win/loss counts and
a Holm or Benjamini-Hochberg correction (:func:`adjust_pvalues`); :func:`non_inferiority` checks
a guardrail ("must not worsen by more than 2 %"); :func:`target_levels` proposes targets that
were met in a given share of the simulated worlds.

The variant functions take the ``summary`` table of :func:`analysis.load.load` (one row per run
and market), the policy functions a frame of one market's runs; none touches the model.
"""

from __future__ import annotations

import inspect
import warnings
from collections.abc import Iterator, Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.metrics import METRICS

__all__ = [
    "adjust_pvalues",
    "compare_policies",
    "effect_direction",
    "holm",
    "mean_ci",
    "non_inferiority",
    "paired_differences",
    "target_levels",
    "unpaired_differences",
    "variant_table",
]

COMPARISON_COLUMNS = [
    "variant", "point", "metric", "n", "baseline_mean", "variant_mean", "diff",
    "ci_low", "ci_high", "p_value", "p_holm", "significant", "method",
]
POLICY_COMPARISON_COLUMNS = [
    "policy", "metric", "n", "reference_mean", "policy_mean", "diff", "ci_low", "ci_high",
    "rel_diff", "rel_ci_low", "rel_ci_high", "up", "down", "same", "p_value", "p_adjusted",
    "significant", "tested", "method", "correction",
]
NON_INFERIORITY_COLUMNS = [
    "policy", "metric", "n", "reference_mean", "policy_mean", "diff", "worsening", "bound",
    "margin", "margin_abs", "passed",
]
# Up to this many pairs the sign-flip null is enumerated (2**n patterns), beyond it sampled.
_MAX_EXACT_FLIP_PAIRS = 12


# ---------------------------------------------------------------------------------------
# One sample
# ---------------------------------------------------------------------------------------


def mean_ci(values: np.ndarray, level: float = 0.95) -> tuple[float, float, float]:
    """Mean of ``values`` and its two-sided Student-t interval at ``level``.

    NaNs are dropped first (a failed metric should not poison the interval). One value has a
    mean but no spread, so its bounds are NaN; values that are all equal have a zero-width
    interval at exactly that value, which the t formula would only approximate.
    """
    _check_level(level)
    x = np.asarray(values, dtype=float).ravel()
    x = x[~np.isnan(x)]
    n = x.size
    if n == 0:
        return (np.nan, np.nan, np.nan)
    if np.all(x == x[0]):
        v = float(x[0])
        return (v, v, v) if n > 1 else (v, np.nan, np.nan)
    mean = float(x.mean())
    half = float(sps.t.ppf(0.5 + level / 2, n - 1) * x.std(ddof=1) / np.sqrt(n))
    return (mean, mean - half, mean + half)


def variant_table(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    market: str = "all",
    by: Sequence[str] = ("variant", "point"),
) -> pd.DataFrame:
    """Mean, sd and 95 % t-interval over replications of each metric, per group of ``by``.

    Columns ``[*by, "metric", "n", "mean", "sd", "ci_low", "ci_high"]``; ``n`` counts the
    non-missing values. This is the descriptive table that sits beside the comparisons: it
    shows how noisy each variant is on its own, which the paired differences deliberately hide.
    """
    by = list(by)
    metrics = list(metrics)
    frame = _market_rows(summary, market, by, metrics)
    rows = []
    for key, group in frame.groupby(by, sort=True, dropna=False):
        key = key if isinstance(key, tuple) else (key,)
        for metric in metrics:
            x = group[metric].to_numpy(dtype=float)
            x = x[~np.isnan(x)]
            mean, low, high = mean_ci(x, 0.95)
            sd = float(x.std(ddof=1)) if x.size > 1 else np.nan
            rows.append([*key, metric, x.size, mean, sd, low, high])
    out = pd.DataFrame(rows, columns=[*by, "metric", "n", "mean", "sd", "ci_low", "ci_high"])
    out["n"] = out["n"].astype("int64")
    return out


# ---------------------------------------------------------------------------------------
# Multiple comparisons
# ---------------------------------------------------------------------------------------


def holm(pvalues: np.ndarray) -> np.ndarray:
    """Holm-Bonferroni adjusted p-values, in the input order.

    Holm controls the family-wise error rate like Bonferroni but is uniformly more powerful,
    and needs no independence between the tests (our metrics are strongly correlated). The
    adjusted values are monotone in the raw ones and capped at 1; NaN stays NaN and does not
    count towards the number of tests (a comparison that could not be made is not a test).
    """
    p = np.asarray(pvalues, dtype=float)
    out = np.full(p.shape, np.nan)
    flat = p.ravel()
    ok = np.flatnonzero(~np.isnan(flat))
    m = ok.size
    if m == 0:
        return out
    order = ok[np.argsort(flat[ok], kind="stable")]
    scaled = (m - np.arange(m)) * flat[order]
    adjusted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    res = out.ravel()
    res[order] = adjusted
    return res.reshape(p.shape)


# ---------------------------------------------------------------------------------------
# Comparisons
# ---------------------------------------------------------------------------------------


def paired_differences(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    baseline: str = "baseline",
    market: str = "all",
    method: Literal["t", "bootstrap"] = "t",
    level: float = 0.95,
    n_boot: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """Effect of every non-baseline variant at every point on every metric: variant - baseline.

    Runs are paired on ``(point, replication)``, which share a world seed, so the interval is
    that of the mean *paired* difference; pairs with a NaN on either side are dropped and
    ``n`` counts the pairs used (``baseline_mean`` and ``variant_mean`` are over those pairs).

    ``method="t"``: paired t-interval and the ``scipy.stats.ttest_rel`` p-value (evaluated with
    ``scipy.stats.t`` for all rows at once, which gives the same numbers). If every paired
    difference is exactly 0 the effect is exactly nothing: diff 0, interval [0, 0], p = 1. If
    every difference is the same nonzero constant the effect is deterministic: the interval
    collapses to it and p = 0.

    ``method="bootstrap"``: percentile interval of the mean difference over ``n_boot``
    resamples of the pairs. Its p-value comes from the **sign-flip** (paired permutation)
    null, not a shifted bootstrap: under "no effect" each difference is as likely to have
    either sign, which is exact in small samples where a shifted bootstrap is badly
    overconfident (with 3 pairs it can return p = 0). With at most 12 pairs all 2**n flips are
    enumerated (exact); otherwise ``n_boot`` random flips are drawn and the observed one is
    counted in (so p > 0). p = 2·min(share ≤ observed, share ≥ observed), capped at 1, the
    shares being of the flipped means. All-zero differences give p = 1; a constant nonzero
    difference gives the smallest p the flips allow (2 / 2**n), *not* 0, so with 3
    replications the bootstrap never calls anything significant: that is the honest answer.
    Randomness comes only from ``numpy.random.default_rng(seed)``, drawn row by row in the
    order returned, so the same summary and seed give the same table.

    Fewer than 2 pairs give a diff but NaN interval and p-value. Holm's adjustment runs across
    all rows returned and ``significant`` is ``p_holm < 1 - level``.
    """
    _check_level(level)
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method: expected 't' or 'bootstrap', got {method!r}")
    if n_boot < 1:
        raise ValueError(f"n_boot: expected a positive number of resamples, got {n_boot}")
    metrics = list(metrics)
    frame = _market_rows(summary, market, ["variant", "point", "replication"], metrics)
    variants = list(pd.unique(frame["variant"]))
    if baseline not in variants:
        raise ValueError(
            f"baseline variant {baseline!r} is not in the summary (market {market!r}); "
            f"variants present: {sorted(map(str, variants))}"
        )
    dup = frame.duplicated(["variant", "point", "replication"])
    if dup.any():
        first = frame.loc[dup, ["variant", "point", "replication"]].iloc[0].tolist()
        raise ValueError(
            f"summary has more than one row for (variant, point, replication) = {tuple(first)} in market "
            f"{market!r}: runs cannot be paired"
        )
    rng = np.random.default_rng(seed)
    groups = {key: g.set_index("replication") for key, g in frame.groupby(["variant", "point"], sort=True)}
    empty = frame.iloc[:0].set_index("replication")
    rows = []
    for variant in variants:
        if variant == baseline:
            continue
        for point in sorted(p for var, p in groups if var == variant):
            v = groups[(variant, point)]
            b = groups.get((baseline, point), empty).reindex(v.index)
            for metric in metrics:
                bx, vx = b[metric].to_numpy(dtype=float), v[metric].to_numpy(dtype=float)
                keep = ~(np.isnan(bx) | np.isnan(vx))
                bx, vx = bx[keep], vx[keep]
                test = _paired_t(bx, vx) if method == "t" else _paired_bootstrap(vx - bx, level, n_boot, rng)
                rows.append([variant, point, metric, bx.size, _mean(bx), _mean(vx), *test, method])
    return _finish(rows, level)


def unpaired_differences(
    summary: pd.DataFrame,
    metrics: Sequence[str],
    a: str,
    b: str,
    market: str = "all",
    level: float = 0.95,
) -> pd.DataFrame:
    """Welch comparison of variant ``b`` minus variant ``a`` per point and metric.

    For variants run on independent seeds (an A/A check of the pipeline's false-positive rate),
    where pairing would be meaningless. Same columns as :func:`paired_differences` with
    ``variant = b``, ``baseline_mean`` the mean of ``a`` and ``method = "welch"``; ``n`` is the
    size of the smaller group after NaNs are dropped. Interval and p-value are Welch's
    (``scipy.stats.ttest_ind(equal_var=False)``, evaluated for all rows at once with
    ``scipy.stats.t``); both groups constant gives the exact answer
    (interval at the difference, p = 1 if equal and 0 if not); a group with fewer than two
    values gives NaN. Holm's adjustment runs across all rows.
    """
    _check_level(level)
    metrics = list(metrics)
    frame = _market_rows(summary, market, ["variant", "point"], metrics)
    present = set(pd.unique(frame["variant"]))
    missing = [v for v in (a, b) if v not in present]
    if missing:
        raise ValueError(
            f"variant(s) {missing} not in the summary (market {market!r}); variants present: "
            f"{sorted(map(str, present))}"
        )
    groups = dict(iter(frame[frame["variant"].isin([a, b])].groupby(["variant", "point"], sort=True)))
    empty = frame.iloc[:0]
    rows = []
    for point in sorted({p for _, p in groups}):
        ga, gb = groups.get((a, point), empty), groups.get((b, point), empty)
        for metric in metrics:
            xa, xb = ga[metric].to_numpy(dtype=float), gb[metric].to_numpy(dtype=float)
            xa, xb = xa[~np.isnan(xa)], xb[~np.isnan(xb)]
            rows.append([b, point, metric, min(xa.size, xb.size), _mean(xa), _mean(xb), *_welch(xa, xb), "welch"])
    return _finish(rows, level)


def effect_direction(metric: str, diff: float) -> Literal["good", "bad", "neutral"]:
    """Whether a change of ``diff`` in ``metric`` is an improvement, so reports can colour it.

    Uses ``METRICS[metric].higher_is_better``; metrics with no preferred direction, unknown
    metrics, and a zero or missing difference are "neutral".
    """
    spec = METRICS.get(metric)
    if spec is None or spec.higher_is_better is None or diff is None or np.isnan(diff) or diff == 0:
        return "neutral"
    return "good" if (diff > 0) == spec.higher_is_better else "bad"


# ---------------------------------------------------------------------------------------
# Policy comparisons for the decision report
# ---------------------------------------------------------------------------------------


def adjust_pvalues(pvalues: np.ndarray, method: Literal["holm", "bh"] = "holm") -> np.ndarray:
    """Multiplicity-adjusted p-values in the input order: Holm or Benjamini-Hochberg.

    ``"holm"`` is :func:`holm`: it bounds the chance of *any* false "significant" in the family
    (family-wise error), which suits a short list of decisive comparisons. ``"bh"`` is
    Benjamini-Hochberg (``scipy.stats.false_discovery_control``): it bounds the expected *share*
    of false findings among those flagged, which suits a long screening table of policies and
    metrics; it is never larger than Holm's value. NaN stays NaN and is not counted as a test (a
    comparison that could not be made). Values outside [0, 1] are an error.
    """
    if method not in ("holm", "bh"):
        raise ValueError(f"correction method: expected 'holm' or 'bh', got {method!r}")
    p = np.asarray(pvalues, dtype=float)
    bad = p[~np.isnan(p) & ((p < 0) | (p > 1))]
    if bad.size:
        raise ValueError(f"pvalues: expected probabilities between 0 and 1 (or NaN), got {bad[0]!r}")
    if method == "holm":
        return holm(p)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    if ok.any():
        out[ok] = sps.false_discovery_control(p[ok], method="bh")
    return out


def compare_policies(
    frame: pd.DataFrame,
    metrics: Sequence[str],
    *,
    reference: str,
    policy: str = "policy",
    world: str = "world",
    method: Literal["t", "bootstrap"] = "t",
    level: float = 0.95,
    correction: Literal["holm", "bh"] = "holm",
    n_resamples: int = 9999,
    seed: int = 0,
) -> pd.DataFrame:
    """Effect of every policy against ``reference`` on every metric, paired world by world.

    ``frame`` has one row per run of one market; runs with the same ``world`` value share their
    random numbers, so each policy's run is paired with the reference's run in that world (pairs
    with a NaN on either side are dropped) and the effect is the mean *paired* difference,
    policy - reference: the world-to-world noise cancels, so small effects show with few worlds.
    One row per (policy, metric), policies in order of first appearance and metrics as given,
    with the columns of ``POLICY_COMPARISON_COLUMNS``:

    - ``n`` pairs used; ``reference_mean`` and ``policy_mean`` over those pairs; ``diff`` the mean
      difference with its two-sided ``level`` interval ``ci_low, ci_high``.
    - ``rel_diff, rel_ci_low, rel_ci_high``: the same divided by ``|reference_mean|`` ("-3 %"),
      treating the reference mean as fixed (its own noise is not in the interval); NaN when the
      reference mean is 0 or missing.
    - ``up, down, same``: in how many worlds the policy's value is above, below or equal to the
      reference's, so a report can say "worse in 8 of 8 worlds" beside the mean.
    - ``p_value``, ``p_adjusted`` (``correction`` across every tested row of the table, see
      :func:`adjust_pvalues`) and ``significant = p_adjusted < 1 - level``.
    - ``tested`` is False for a metric that is constant over the whole frame (e.g. 0 in every run:
      there is nothing to test) and for fewer than 2 pairs; such rows have NaN p-values, are never
      significant and do not enlarge the correction's family.

    ``method="t"``: paired t-interval and the ``scipy.stats.ttest_rel`` p-value (evaluated for all
    rows at once). ``method="bootstrap"``: BCa interval of ``scipy.stats.bootstrap`` over
    ``n_resamples`` resamples of the pairs, and the sign-flip (paired permutation) p-value of
    ``scipy.stats.permutation_test``, exact when ``2**n <= n_resamples``; this makes no normality
    assumption, and with few worlds it is honestly unable to be small (3 worlds: p >= 0.25). If
    the BCa correction cannot be computed (differences equal up to rounding, so the jackknife has
    no spread) the percentile interval of the same resamples is given. Randomness comes only
    from ``numpy.random.default_rng(seed)``, drawn row by row in table order, so the same frame
    and seed give the same table.

    Exact answers where the maths gives them: differences all 0 mean no effect (diff 0,
    interval [0, 0], p = 1); a constant nonzero difference is deterministic (interval at it,
    p = 0 for "t" and the exact smallest sign-flip p, 2 / 2**n, for "bootstrap"); one pair gives a
    diff but NaN interval and p.
    """
    _check_level(level)
    if method not in ("t", "bootstrap"):
        raise ValueError(f"method: expected 't' or 'bootstrap', got {method!r}")
    if correction not in ("holm", "bh"):
        raise ValueError(f"correction: expected 'holm' or 'bh', got {correction!r}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer) or n_resamples < 1:
        raise ValueError(f"n_resamples: expected a positive whole number of resamples, got {n_resamples!r}")
    metrics = _check_metrics(metrics)
    frame = _policy_rows(frame, metrics, reference, policy, world)
    rng = np.random.default_rng(seed)
    constant = {metric: _constant(frame[metric].to_numpy()) for metric in metrics}
    rows = []
    for name, ref, pol in _policy_pairs(frame, reference, policy, world):
        for metric in metrics:
            rx, px = _paired_values(ref, pol, metric)
            d = px - rx
            if method == "t":
                test = _paired_t(rx, px)
            else:
                test = _paired_bca(d, level, n_resamples, rng)
            counts = (int(np.count_nonzero(d > 0)), int(np.count_nonzero(d < 0)), int(np.count_nonzero(d == 0)))
            testable = d.size >= 2 and not constant[metric]
            rows.append([name, metric, d.size, _mean(rx), _mean(px), *test, *counts, testable])
    return _finish_policies(rows, level, method, correction)


def non_inferiority(
    frame: pd.DataFrame,
    metric: str,
    *,
    margin: float,
    relative: bool,
    higher_is_better: bool,
    reference: str,
    policy: str = "policy",
    world: str = "world",
    level: float = 0.95,
) -> pd.DataFrame:
    """Guardrail check: does each policy keep ``metric`` from worsening by more than ``margin``?

    A non-inferiority test asks not "is there a difference?" but "can we rule out a harm larger
    than we would tolerate?". The tolerance is the non-inferiority margin: a fraction of the
    reference mean when ``relative`` (0.02 = at most 2 % worse) or an amount in the metric's units
    otherwise. Runs are paired on ``world`` as in :func:`compare_policies`; the worsening in each
    world is the paired difference with its sign set so that positive is bad (``-(policy -
    reference)`` when higher is better), and the one-sided upper ``level`` bound of the mean
    worsening is the paired-t bound ``mean + t(level, n-1) * sd / sqrt(n)``. The policy passes when
    that bound is below the margin: with ``level`` confidence the true worsening is smaller than
    what we tolerate. Failing is not proof of harm; it means the runs cannot rule it out (too few
    worlds or too much noise). Each policy is its own test, not adjusted for multiplicity.

    One row per policy other than ``reference`` (in order of first appearance) with the columns of
    ``NON_INFERIORITY_COLUMNS``; ``margin_abs`` is the margin in the metric's units. Fewer than two
    pairs give a NaN bound and ``passed`` False (non-inferiority cannot be shown); a constant
    worsening has its bound exactly at it.
    """
    _check_level(level)
    if not isinstance(metric, str):
        raise ValueError(f"metric: expected one metric name, got {metric!r}")
    if isinstance(margin, bool) or not isinstance(margin, int | float | np.integer | np.floating) \
            or not np.isfinite(margin) or margin < 0:
        raise ValueError(f"margin: expected a finite number >= 0 (the largest tolerated worsening), got {margin!r}")
    frame = _policy_rows(frame, [metric], reference, policy, world)
    rows = []
    for name, ref, pol in _policy_pairs(frame, reference, policy, world):
        rx, px = _paired_values(ref, pol, metric)
        d = px - rx
        w = -d if higher_is_better else d
        n = d.size
        if n < 2:
            bound = np.nan
        elif np.all(w == w[0]):
            bound = float(w[0])
        else:
            bound = float(w.mean() + sps.t.ppf(level, n - 1) * w.std(ddof=1) / np.sqrt(n))
        ref_mean = _mean(rx)
        margin_abs = float(margin) * abs(ref_mean) if relative else float(margin)
        diff = _mean(d)
        worsening = -diff if higher_is_better else diff
        passed = bool(n >= 2 and bound < margin_abs)
        rows.append([name, metric, n, ref_mean, _mean(px), diff, worsening, bound, float(margin), margin_abs, passed])
    out = pd.DataFrame(rows, columns=NON_INFERIORITY_COLUMNS)
    out["n"] = out["n"].astype("int64")
    for c in ("reference_mean", "policy_mean", "diff", "worsening", "bound", "margin", "margin_abs"):
        out[c] = out[c].astype(float)
    out["passed"] = out["passed"].astype(bool)
    return out


def target_levels(
    values: np.ndarray, *, higher_is_better: bool, shares: Sequence[float] = (0.5, 0.8, 0.95)
) -> dict[float, float]:
    """The most ambitious target met in at least each share of ``values``: {share: target}.

    This is what a quarterly review can propose as next quarter's target from simulated
    replications: a level reached in 50 %, 80 % or 95 % of them. When higher is better it is the
    largest ``v`` with ``mean(values >= v) >= share``; otherwise the smallest ``v`` with
    ``mean(values <= v) >= share``. It is an order statistic, so always one of the values (no
    interpolation between replications). NaNs are dropped; no values give NaN for every share.
    """
    shares = [float(s) for s in shares]
    bad = [s for s in shares if not 0 < s <= 1]
    if bad:
        raise ValueError(f"shares: expected fractions in (0, 1], got {bad[0]!r}")
    x = np.asarray(values, dtype=float).ravel()
    x = np.sort(x[~np.isnan(x)])
    n = x.size
    if n == 0:
        return {s: np.nan for s in shares}
    candidates = np.unique(x)
    if higher_is_better:
        met = (n - np.searchsorted(x, candidates, side="left")) / n  # share of values >= candidate
        return {s: float(candidates[met >= s].max()) for s in shares}
    met = np.searchsorted(x, candidates, side="right") / n  # share of values <= candidate
    return {s: float(candidates[met >= s].min()) for s in shares}


# ---------------------------------------------------------------------------------------
# Helpers
# ---------------------------------------------------------------------------------------


def _check_level(level: float) -> None:
    if not 0 < level < 1:
        raise ValueError(f"level: expected a confidence level strictly between 0 and 1, got {level}")


def _market_rows(
    summary: pd.DataFrame, market: str, columns: Sequence[str], metrics: Sequence[str]
) -> pd.DataFrame:
    """The rows of one market with ``metrics`` as floats (missing values NaN), after checking the
    columns the caller needs are there."""
    missing = [c for c in ["market", *columns, *metrics] if c not in summary.columns]
    if missing:
        raise ValueError(f"summary is missing column(s) {missing}")
    rows = summary[summary["market"] == market]
    if rows.empty:
        markets = sorted(map(str, pd.unique(summary["market"])))
        raise ValueError(f"market {market!r} has no rows in the summary; markets present: {markets}")
    rows = rows.copy()
    for metric in metrics:
        rows[metric] = pd.to_numeric(rows[metric], errors="coerce").astype(float)
    return rows


def _mean(x: np.ndarray) -> float:
    """Mean, exact for constant samples (summing n copies of 0.1 does not give n × 0.1)."""
    if x.size == 0:
        return np.nan
    return float(x[0]) if np.all(x == x[0]) else float(x.mean())


def _check_metrics(metrics: Sequence[str]) -> list[str]:
    if isinstance(metrics, str):
        raise ValueError(f"metrics: expected a list of metric names, got the string {metrics!r}")
    metrics = list(metrics)
    seen = set()
    for m in metrics:
        if m in seen:
            raise ValueError(f"metrics: {m!r} is listed twice")
        seen.add(m)
    return metrics


def _policy_rows(
    frame: pd.DataFrame, metrics: Sequence[str], reference: str, policy: str, world: str
) -> pd.DataFrame:
    """``frame`` with ``metrics`` as floats (missing values NaN), after checking the columns, the
    reference and that every (policy, world) has one run."""
    missing = [c for c in [policy, world, *metrics] if c not in frame.columns]
    if missing:
        raise ValueError(f"frame is missing column(s) {missing}; columns present: {list(map(str, frame.columns))}")
    for key in (policy, world):
        if frame[key].isna().any():
            raise ValueError(f"frame column {key!r} has missing values: every run needs a {key} to be paired")
    policies = list(pd.unique(frame[policy]))
    if reference not in policies:
        raise ValueError(f"reference policy {reference!r} is not in the frame; policies present: "
                         f"{sorted(map(str, policies))}")
    dup = frame.duplicated([policy, world])
    if dup.any():
        first = tuple(frame.loc[dup, [policy, world]].iloc[0].tolist())
        raise ValueError(f"frame has more than one row for ({policy}, {world}) = {first}: runs cannot be paired")
    frame = frame.copy()
    for metric in metrics:
        frame[metric] = pd.to_numeric(frame[metric], errors="coerce").astype(float)
    return frame


def _policy_pairs(
    frame: pd.DataFrame, reference: str, policy: str, world: str
) -> Iterator[tuple[str, pd.DataFrame, pd.DataFrame]]:
    """(name, reference rows, policy rows) per policy other than ``reference``, both indexed by the
    worlds they share, in one order that does not depend on the frame's row order."""
    by_policy = {name: g.set_index(world) for name, g in frame.groupby(policy, sort=False)}
    ref = by_policy[reference]
    for name in pd.unique(frame[policy]):
        if name == reference:
            continue
        pol = by_policy[name]
        common = sorted(ref.index.intersection(pol.index), key=str)
        yield name, ref.loc[common], pol.loc[common]


def _paired_values(ref: pd.DataFrame, pol: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    rx, px = ref[metric].to_numpy(dtype=float), pol[metric].to_numpy(dtype=float)
    keep = ~(np.isnan(rx) | np.isnan(px))
    return rx[keep], px[keep]


def _constant(x: np.ndarray) -> bool:
    """Whether the non-missing values are all equal (or there are none)."""
    x = x[~np.isnan(x)]
    return x.size == 0 or bool(np.all(x == x[0]))


# A comparison before Holm: (diff, ci_low, ci_high, p_value, se, dof). t-type rows leave the
# interval and p NaN and give the standard error and degrees of freedom instead, so that
# _finish evaluates the t distribution once for all rows (scipy's per-call overhead is ~1 ms).
_Row = tuple[float, float, float, float, float, float]
_NONE: _Row = (np.nan, np.nan, np.nan, np.nan, np.nan, np.nan)


def _exact(diff: float, low: float, high: float, p: float) -> _Row:
    return (diff, low, high, p, np.nan, np.nan)


def _degenerate(d: np.ndarray, p_constant: float) -> _Row | None:
    """The row for no pairs, one pair, or a constant difference (``p_constant`` when nonzero)."""
    n = d.size
    if n == 0:
        return _NONE
    if n < 2:
        return _exact(_mean(d), np.nan, np.nan, np.nan)
    if np.all(d == d[0]):
        c = float(d[0])
        return _exact(c, c, c, 1.0 if c == 0 else p_constant)
    return None


def _paired_t(bx: np.ndarray, vx: np.ndarray) -> _Row:
    """Paired t of ``vx - bx``: the same statistic, interval and p-value as ``scipy.stats.ttest_rel``."""
    d = vx - bx
    n = d.size
    special = _degenerate(d, 0.0)
    if special is not None:
        return special
    return (float(d.mean()), np.nan, np.nan, np.nan, float(d.std(ddof=1) / np.sqrt(n)), float(n - 1))


def _paired_bootstrap(d: np.ndarray, level: float, n_boot: int, rng: np.random.Generator) -> _Row:
    """Percentile interval of the mean of ``d`` and the two-sided sign-flip p-value."""
    n = d.size
    # A constant: every resample is the constant; sign flips reach it only when all signs are +.
    special = _degenerate(d, min(1.0, 2.0 / 2.0**n))
    if special is not None:
        return special
    means = d[rng.integers(0, n, size=(n_boot, n))].mean(axis=1)
    low, high = np.quantile(means, [0.5 - level / 2, 0.5 + level / 2])
    observed = float(d.mean())
    if n <= _MAX_EXACT_FLIP_PAIRS:
        # All 2**n sign patterns: the exact paired permutation distribution.
        signs = 1 - 2 * ((np.arange(2**n)[:, None] >> np.arange(n)) & 1)
        null = signs @ d / n
        extra = 0
    else:
        signs = rng.choice(np.array([-1.0, 1.0]), size=(n_boot, n))
        null = signs @ d / n
        extra = 1  # the observed sign pattern is one of the equally likely ones
    tol = 1e-12 * float(np.abs(d).mean())  # float ties (e.g. the identity flip) count as ties
    share_le = (extra + np.count_nonzero(null <= observed + tol)) / (extra + null.size)
    share_ge = (extra + np.count_nonzero(null >= observed - tol)) / (extra + null.size)
    return _exact(observed, float(low), float(high), min(1.0, 2.0 * min(share_le, share_ge)))


def _welch(xa: np.ndarray, xb: np.ndarray) -> _Row:
    """Welch's t of ``xb - xa``: as ``scipy.stats.ttest_ind(xb, xa, equal_var=False)``."""
    na, nb = xa.size, xb.size
    if na == 0 or nb == 0:
        return _NONE
    diff = _mean(xb) - _mean(xa)
    if na < 2 or nb < 2:
        return _exact(diff, np.nan, np.nan, np.nan)
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        return _exact(diff, diff, diff, 1.0 if diff == 0 else 0.0)
    va, vb = xa.var(ddof=1) / na, xb.var(ddof=1) / nb
    dof = (va + vb) ** 2 / (va**2 / (na - 1) + vb**2 / (nb - 1))  # Welch-Satterthwaite
    return (float(xb.mean() - xa.mean()), np.nan, np.nan, np.nan, float(np.sqrt(va + vb)), float(dof))


def _evaluate_t(out: pd.DataFrame, level: float) -> None:
    """Fill the interval and p-value of the t-type rows (those with a standard error), all at once."""
    t_rows = out["se"].notna().to_numpy()
    if t_rows.any():
        diff, se, dof = (out.loc[t_rows, c].to_numpy() for c in ("diff", "se", "dof"))
        half = sps.t.ppf(0.5 + level / 2, dof) * se
        out.loc[t_rows, "ci_low"] = diff - half
        out.loc[t_rows, "ci_high"] = diff + half
        out.loc[t_rows, "p_value"] = np.minimum(1.0, 2 * sps.t.sf(np.abs(diff / se), dof))


def _finish(rows: list[list], level: float) -> pd.DataFrame:
    """Assemble comparison rows, evaluate the t rows, and add Holm's adjustment across all rows."""
    cols = ["variant", "point", "metric", "n", "baseline_mean", "variant_mean",
            "diff", "ci_low", "ci_high", "p_value", "se", "dof", "method"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype("int64")
    for c in ("baseline_mean", "variant_mean", "diff", "ci_low", "ci_high", "p_value", "se", "dof"):
        out[c] = out[c].astype(float)
    _evaluate_t(out, level)
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = (out["p_holm"] < 1 - level).astype(bool)
    return out[COMPARISON_COLUMNS]


def _paired_bca(d: np.ndarray, level: float, n_resamples: int, rng: np.random.Generator) -> _Row:
    """BCa interval of the mean of ``d`` and its two-sided sign-flip p-value, both from scipy."""
    n = d.size
    # A constant has no sampling spread (BCa is undefined: its jackknife is flat) and sign flips
    # reach its mean only when every sign is +, so its exact p is 2 / 2**n.
    special = _degenerate(d, min(1.0, 2.0 / 2.0**n))
    if special is not None:
        return special
    with np.errstate(divide="ignore", invalid="ignore"), warnings.catch_warnings():
        # Differences equal up to rounding leave the jackknife flat and BCa NaN; handled below.
        warnings.simplefilter("ignore", sps.DegenerateDataWarning)
        boot = sps.bootstrap((d,), np.mean, method="BCa", confidence_level=level,
                             n_resamples=n_resamples, **_rng_argument(sps.bootstrap, rng))
    low, high = boot.confidence_interval
    if np.isnan(low) or np.isnan(high):
        low, high = sps.bootstrap((d,), np.mean, method="percentile", confidence_level=level,
                                  n_resamples=0, bootstrap_result=boot).confidence_interval
    flips = sps.permutation_test((d,), np.mean, permutation_type="samples", alternative="two-sided",
                                 n_resamples=n_resamples, **_rng_argument(sps.permutation_test, rng))
    return _exact(float(d.mean()), float(low), float(high), float(flips.pvalue))


def _finish_policies(rows: list[list], level: float, method: str, correction: str) -> pd.DataFrame:
    """Assemble compare_policies rows: evaluate the t rows, the relative effects and the correction."""
    cols = ["policy", "metric", "n", "reference_mean", "policy_mean", "diff", "ci_low", "ci_high",
            "p_value", "se", "dof", "up", "down", "same", "tested"]
    out = pd.DataFrame(rows, columns=cols)
    for c in ("n", "up", "down", "same"):
        out[c] = out[c].astype("int64")
    for c in ("reference_mean", "policy_mean", "diff", "ci_low", "ci_high", "p_value", "se", "dof"):
        out[c] = out[c].astype(float)
    out["tested"] = out["tested"].astype(bool)
    _evaluate_t(out, level)
    scale = out["reference_mean"].abs().to_numpy()
    scale = np.where(scale == 0, np.nan, scale)
    for c in ("diff", "ci_low", "ci_high"):
        out[f"rel_{c}"] = out[c].to_numpy() / scale
    out.loc[~out["tested"], "p_value"] = np.nan
    out["p_adjusted"] = adjust_pvalues(out["p_value"].to_numpy(), correction)
    out["significant"] = (out["p_adjusted"] < 1 - level).astype(bool)
    out["method"] = method
    out["correction"] = correction
    return out[POLICY_COMPARISON_COLUMNS]


def _rng_argument(func, rng: np.random.Generator) -> dict[str, np.random.Generator]:
    """``rng=`` for scipy >= 1.15, ``random_state=`` (which takes a Generator the same way) before."""
    name = "rng" if "rng" in inspect.signature(func).parameters else "random_state"
    return {name: rng}
