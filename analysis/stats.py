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

All functions take the ``summary`` table of :func:`analysis.load.load` (one row per run and
market) and never touch the model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats as sps

from sim.metrics import METRICS

__all__ = [
    "effect_direction",
    "holm",
    "mean_ci",
    "paired_differences",
    "unpaired_differences",
    "variant_table",
]

COMPARISON_COLUMNS = [
    "variant", "point", "metric", "n", "baseline_mean", "variant_mean", "diff",
    "ci_low", "ci_high", "p_value", "p_holm", "significant", "method",
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


def _finish(rows: list[list], level: float) -> pd.DataFrame:
    """Assemble comparison rows, evaluate the t rows, and add Holm's adjustment across all rows."""
    cols = ["variant", "point", "metric", "n", "baseline_mean", "variant_mean",
            "diff", "ci_low", "ci_high", "p_value", "se", "dof", "method"]
    out = pd.DataFrame(rows, columns=cols)
    out["n"] = out["n"].astype("int64")
    for c in ("baseline_mean", "variant_mean", "diff", "ci_low", "ci_high", "p_value", "se", "dof"):
        out[c] = out[c].astype(float)
    t_rows = out["se"].notna().to_numpy()
    if t_rows.any():
        diff, se, dof = (out.loc[t_rows, c].to_numpy() for c in ("diff", "se", "dof"))
        half = sps.t.ppf(0.5 + level / 2, dof) * se
        out.loc[t_rows, "ci_low"] = diff - half
        out.loc[t_rows, "ci_high"] = diff + half
        out.loc[t_rows, "p_value"] = np.minimum(1.0, 2 * sps.t.sf(np.abs(diff / se), dof))
    out["p_holm"] = holm(out["p_value"].to_numpy())
    out["significant"] = (out["p_holm"] < 1 - level).astype(bool)
    return out[COMPARISON_COLUMNS]
