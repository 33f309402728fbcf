"""Statistics for sweep results: exact intervals, paired effects, Holm, and honest false-positive rates."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.load import load
from analysis.stats import (
    effect_direction,
    holm,
    mean_ci,
    paired_differences,
    unpaired_differences,
    variant_table,
)
from sim import run
from sim.config import scenario_from_dict
from tests.conftest import tiny_dict

COLUMNS = [
    "variant", "point", "metric", "n", "baseline_mean", "variant_mean", "diff",
    "ci_low", "ci_high", "p_value", "p_holm", "significant", "method",
]
T975_3 = sps.t.ppf(0.975, 3)


def _summary(values: dict[str, dict[str, list[float]]], point: int = 0, market: str = "all") -> pd.DataFrame:
    """A summary table: ``values[variant][metric]`` lists one value per replication 0, 1, ..."""
    rows = []
    for variant, metrics in values.items():
        n = len(next(iter(metrics.values())))
        for r in range(n):
            rows.append({"run_id": f"{variant}-{r}", "variant": variant, "point": point, "replication": r,
                         "seed": 1, "market": market, **{m: v[r] for m, v in metrics.items()}})
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------
# mean_ci and variant_table
# ---------------------------------------------------------------------------------------


def test_mean_ci_is_the_hand_computed_t_interval():
    """[1, 2, 3, 4] has mean 2.5, sd sqrt(5/3), so the 95 % interval is 2.5 ± t(0.975, 3)·sd/2."""
    mean, low, high = mean_ci(np.array([1.0, 2.0, 3.0, 4.0]))
    half = T975_3 * np.sqrt(5 / 3) / 2
    assert mean == 2.5
    assert low == pytest.approx(2.5 - half, rel=1e-12)
    assert high == pytest.approx(2.5 + half, rel=1e-12)


def test_mean_ci_level_widens_the_interval():
    """A 99 % interval uses t(0.995, n-1) and so is wider than the 95 % one."""
    x = np.array([3.0, 1.0, 4.0, 1.0, 5.0])
    _, low, high = mean_ci(x, level=0.99)
    half = sps.t.ppf(0.995, 4) * x.std(ddof=1) / np.sqrt(5)
    assert (low, high) == pytest.approx((x.mean() - half, x.mean() + half), rel=1e-12)
    assert high - low > mean_ci(x)[2] - mean_ci(x)[1]


def test_mean_ci_of_one_value_has_no_bounds_and_nans_are_dropped():
    """One value (after dropping NaNs) gives its value and NaN bounds; no values give all NaN."""
    mean, low, high = mean_ci(np.array([np.nan, 7.0, np.nan]))
    assert mean == 7.0 and np.isnan(low) and np.isnan(high)
    assert all(np.isnan(mean_ci(np.array([np.nan]))))
    assert mean_ci(np.array([1.0, np.nan, 3.0]))[0] == 2.0


def test_mean_ci_of_equal_values_is_exactly_that_value():
    """Identical values give (x, x, x) exactly, even where summing them would round (0.1)."""
    assert mean_ci(np.full(7, 0.1)) == (0.1, 0.1, 0.1)


def test_mean_ci_rejects_a_level_outside_zero_one():
    """A confidence level of 95 (a percentage) is an error, not a silently absurd interval."""
    with pytest.raises(ValueError, match="level"):
        mean_ci(np.array([1.0, 2.0]), level=95)


def test_variant_table_has_one_row_per_group_and_metric_with_t_intervals():
    """Each (variant, point, metric) row carries n, mean, sd and the 95 % t-interval of its replications."""
    summary = pd.concat([
        _summary({"baseline": {"gmv": [1.0, 2.0, 3.0, 4.0], "orders": [5.0, 5.0, 5.0, np.nan]}}, point=0),
        _summary({"baseline": {"gmv": [2.0, 2.0, 2.0, 2.0], "orders": [1.0, 2.0, 3.0, 4.0]}}, point=1),
        _summary({"baseline": {"gmv": [9.0] * 4, "orders": [9.0] * 4}}, point=0, market="aa"),
    ])
    table = variant_table(summary, ["gmv", "orders"])
    assert list(table.columns) == ["variant", "point", "metric", "n", "mean", "sd", "ci_low", "ci_high"]
    assert len(table) == 4
    row = table[(table.point == 0) & (table.metric == "gmv")].iloc[0]
    assert (row.n, row["mean"], row.sd) == (4, 2.5, pytest.approx(np.sqrt(5 / 3), rel=1e-12))
    assert row.ci_high == pytest.approx(2.5 + T975_3 * np.sqrt(5 / 3) / 2, rel=1e-12)
    missing = table[(table.point == 0) & (table.metric == "orders")].iloc[0]
    assert (missing.n, missing["mean"], missing.sd, missing.ci_low) == (3, 5.0, 0.0, 5.0)
    assert variant_table(summary, ["gmv"], market="aa")["mean"].tolist() == [9.0]


# ---------------------------------------------------------------------------------------
# holm
# ---------------------------------------------------------------------------------------


def test_holm_matches_a_hand_worked_example():
    """p = [0.01, 0.04, 0.03, 0.005]: sorted ×4, ×3, ×2, ×1 then running max gives [0.03, 0.06, 0.06, 0.02]."""
    np.testing.assert_allclose(holm(np.array([0.01, 0.04, 0.03, 0.005])), [0.03, 0.06, 0.06, 0.02], rtol=1e-12)


def test_holm_is_monotone_at_least_the_raw_p_and_capped_at_one():
    """Adjusted p-values keep the order of the raw ones, are never smaller than them and never exceed 1."""
    p = np.random.default_rng(3).uniform(0, 0.5, size=50) ** 2
    adj = holm(p)
    order = np.argsort(p)
    assert np.all(np.diff(adj[order]) >= 0)
    assert np.all(adj >= p) and np.all(adj <= 1)
    assert holm(np.array([0.6, 0.7]))[0] == 1.0


def test_holm_keeps_nan_and_leaves_it_out_of_the_count():
    """NaN stays NaN and two real p-values are adjusted as a family of two, not three."""
    adj = holm(np.array([0.01, np.nan, 0.04]))
    assert np.isnan(adj[1])
    np.testing.assert_allclose(adj[[0, 2]], [0.02, 0.04], rtol=1e-12)
    assert holm(np.array([])).shape == (0,)


# ---------------------------------------------------------------------------------------
# paired_differences, method "t"
# ---------------------------------------------------------------------------------------


def test_paired_t_is_the_hand_computed_interval_of_the_differences():
    """Differences [1, 2, 3, 4] on top of noisy baselines give diff 2.5 and 2.5 ± t(0.975, 3)·sqrt(5/3)/2."""
    base = [10.0, 30.0, 20.0, 50.0]
    summary = _summary({"baseline": {"gmv": base}, "strict": {"gmv": [b + d for b, d in zip(base, [1, 2, 3, 4], strict=True)]}})
    row = paired_differences(summary, ["gmv"]).iloc[0]
    half = T975_3 * np.sqrt(5 / 3) / 2
    assert (row.variant, row.point, row.metric, row.n, row.method) == ("strict", 0, "gmv", 4, "t")
    assert row["diff"] == pytest.approx(2.5, rel=1e-12)
    assert (row.ci_low, row.ci_high) == pytest.approx((2.5 - half, 2.5 + half), rel=1e-12)
    assert (row.baseline_mean, row.variant_mean) == (27.5, 30.0)
    assert row.p_value == pytest.approx(sps.ttest_rel([11, 32, 23, 54], base).pvalue, rel=1e-12)


def test_paired_t_p_values_equal_scipy_ttest_rel():
    """On random data every row's p-value is scipy's ttest_rel of the paired replications."""
    rng = np.random.default_rng(5)
    base = {m: rng.normal(0, 1, 8) for m in ("gmv", "orders", "views")}
    var = {m: base[m] + rng.normal(0.3, 1, 8) for m in base}
    out = paired_differences(_summary({"baseline": base, "strict": var}), list(base))
    for row in out.itertuples():
        assert row.p_value == pytest.approx(sps.ttest_rel(var[row.metric], base[row.metric]).pvalue, rel=1e-10)


def test_pairing_uses_replication_not_row_order():
    """Shuffling the summary rows changes nothing: runs are matched on (point, replication)."""
    rng = np.random.default_rng(8)
    base = rng.normal(0, 10, 6)
    summary = _summary({"baseline": {"gmv": base}, "strict": {"gmv": base + rng.normal(1, 0.1, 6)}})
    shuffled = summary.sample(frac=1, random_state=1)
    pd.testing.assert_frame_equal(paired_differences(summary, ["gmv"]), paired_differences(shuffled, ["gmv"]))


def test_pairing_removes_shared_world_noise_that_welch_cannot():
    """A small shift under large common noise is significant paired and invisible unpaired."""
    rng = np.random.default_rng(2)
    world = rng.normal(0, 100, 6)
    summary = _summary({"baseline": {"gmv": world}, "strict": {"gmv": world + 1 + rng.normal(0, 0.1, 6)}})
    assert paired_differences(summary, ["gmv"]).significant.item()
    assert not unpaired_differences(summary, ["gmv"], "baseline", "strict").significant.item()


def test_zero_paired_differences_mean_no_effect_with_p_one():
    """Identical runs give diff 0, CI [0, 0], p = 1 (not NaN) and no significance, for both methods."""
    base = [1.5, 2.5, 0.1]
    summary = _summary({"baseline": {"gmv": base}, "strict": {"gmv": list(base)}})
    for method in ("t", "bootstrap"):
        row = paired_differences(summary, ["gmv"], method=method).iloc[0]
        assert (row["diff"], row.ci_low, row.ci_high, row.p_value, row.p_holm) == (0.0, 0.0, 0.0, 1.0, 1.0)
        assert not row.significant


def test_constant_nonzero_paired_difference_is_significant_under_t():
    """The same nonzero difference in every replication collapses the CI onto it, p = 0, significant."""
    summary = _summary({"baseline": {"gmv": [1.0, 5.0, 9.0]}, "strict": {"gmv": [1.25, 5.25, 9.25]}})
    row = paired_differences(summary, ["gmv"]).iloc[0]
    assert (row["diff"], row.ci_low, row.ci_high, row.p_value) == (0.25, 0.25, 0.25, 0.0)
    assert row.significant


def test_pairs_with_a_nan_on_either_side_are_dropped():
    """A NaN in the baseline or the variant removes that pair, and n counts the pairs left."""
    summary = _summary({"baseline": {"gmv": [1.0, np.nan, 3.0, 4.0, 6.0]},
                        "strict": {"gmv": [2.0, 5.0, np.nan, 6.0, 9.0]}})
    row = paired_differences(summary, ["gmv"]).iloc[0]
    assert row.n == 3
    assert row["diff"] == pytest.approx(2.0, rel=1e-12)
    assert row.p_value == pytest.approx(sps.ttest_rel([2, 6, 9], [1, 4, 6]).pvalue, rel=1e-12)


def test_one_pair_gives_a_difference_but_no_interval_or_p():
    """With a single usable pair there is no spread: diff is reported, CI and p are NaN, not significant."""
    summary = _summary({"baseline": {"gmv": [1.0, np.nan]}, "strict": {"gmv": [3.0, 4.0]}})
    row = paired_differences(summary, ["gmv"]).iloc[0]
    assert row.n == 1 and row["diff"] == 2.0
    assert np.isnan(row.ci_low) and np.isnan(row.p_value) and np.isnan(row.p_holm) and not row.significant


def test_missing_baseline_is_a_clear_error():
    """Asking for a baseline the sweep did not run names it and lists the variants that exist."""
    summary = _summary({"strict": {"gmv": [1.0, 2.0]}, "loose": {"gmv": [1.0, 2.0]}})
    with pytest.raises(ValueError, match=r"baseline variant 'baseline' is not in the summary.*'loose', 'strict'"):
        paired_differences(summary, ["gmv"])


def test_a_sweep_with_only_the_baseline_gives_an_empty_table():
    """Nothing to compare is an empty table with the usual columns, not an error."""
    out = paired_differences(_summary({"baseline": {"gmv": [1.0, 2.0]}}), ["gmv"])
    assert out.empty and list(out.columns) == COLUMNS


def test_unknown_market_or_method_is_a_clear_error():
    """A market with no rows and an unknown method are rejected by name."""
    summary = _summary({"baseline": {"gmv": [1.0, 2.0]}, "strict": {"gmv": [1.0, 2.0]}})
    with pytest.raises(ValueError, match="market 'zz'"):
        paired_differences(summary, ["gmv"], market="zz")
    with pytest.raises(ValueError, match="method"):
        paired_differences(summary, ["gmv"], method="wilcoxon")  # type: ignore[arg-type]


def test_holm_runs_across_every_variant_point_and_metric():
    """p_holm is holm() of all the rows' p-values together, and significance is p_holm < 1 - level."""
    rng = np.random.default_rng(11)
    frames = []
    for point in range(3):
        base = {m: rng.normal(0, 1, 5) for m in ("gmv", "orders")}
        frames.append(_summary({"baseline": base,
                                "strict": {m: v + rng.normal(0.8, 1, 5) for m, v in base.items()},
                                "loose": {m: v + rng.normal(0, 1, 5) for m, v in base.items()}}, point=point))
    out = paired_differences(pd.concat(frames), ["gmv", "orders"])
    assert list(out.columns) == COLUMNS
    assert len(out) == 2 * 3 * 2
    np.testing.assert_array_equal(out.p_holm.to_numpy(), holm(out.p_value.to_numpy()))
    assert (out.significant == (out.p_holm < 0.05)).all()
    assert 0 < out.significant.sum() < len(out)  # the example separates real from null effects
    loose = paired_differences(pd.concat(frames), ["gmv", "orders"], level=0.8)
    assert (loose.significant == (loose.p_holm < 0.2)).all()


# ---------------------------------------------------------------------------------------
# paired_differences, method "bootstrap"
# ---------------------------------------------------------------------------------------


def _normal_pairs(n: int, shift: float, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = rng.normal(50, 10, n)
    return _summary({"baseline": {"gmv": base}, "strict": {"gmv": base + rng.normal(shift, 1, n)}})


def test_bootstrap_is_reproducible_from_its_seed_and_leaves_global_state_alone():
    """The same seed gives identical rows, another seed another CI, and numpy's global state is untouched."""
    summary = _normal_pairs(40, 0.2, seed=1)
    # The legacy global generator is exactly what must not be used, so it is what we watch.
    np.random.seed(123)  # noqa: NPY002
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = paired_differences(summary, ["gmv"], method="bootstrap", seed=4)
    b = paired_differences(summary, ["gmv"], method="bootstrap", seed=4)
    c = paired_differences(summary, ["gmv"], method="bootstrap", seed=5)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    pd.testing.assert_frame_equal(a, b)
    assert a.ci_low.item() != c.ci_low.item()
    assert (a.method == "bootstrap").all()


def test_bootstrap_interval_is_close_to_the_t_interval_for_200_normal_pairs():
    """For 200 normal pairs each percentile bound lies within 10 % of the t half-width of the t bound.

    The t half-width is about 0.14; 2000 resamples put a Monte-Carlo sd of about 6 % of the
    standard error (0.004) on each percentile bound, and z vs t and ddof add about 1 %, so 10 %
    of the half-width (0.014) is more than three Monte-Carlo sds.
    """
    summary = _normal_pairs(200, 0.5, seed=2)
    t = paired_differences(summary, ["gmv"]).iloc[0]
    boot = paired_differences(summary, ["gmv"], method="bootstrap", n_boot=2000, seed=0).iloc[0]
    half = (t.ci_high - t.ci_low) / 2
    assert boot["diff"] == pytest.approx(t["diff"], rel=1e-12)
    assert abs(boot.ci_low - t.ci_low) < 0.1 * half
    assert abs(boot.ci_high - t.ci_high) < 0.1 * half


def test_bootstrap_p_is_small_for_a_clear_shift_and_large_for_none():
    """A shift of half a noise sd over 200 pairs gives p below 0.01; no shift gives p above 0.05."""
    shifted = paired_differences(_normal_pairs(200, 0.5, seed=3), ["gmv"], method="bootstrap").iloc[0]
    # Sampled sign flips: the observed pattern counts, so the smallest possible p is 2 / (n_boot + 1).
    assert 2 / 2001 <= shifted.p_value < 0.01 and shifted.significant
    null = paired_differences(_normal_pairs(200, 0.0, seed=3), ["gmv"], method="bootstrap").iloc[0]
    assert null.p_value > 0.05 and not null.significant


def test_bootstrap_p_is_the_exact_sign_flip_p_for_few_pairs():
    """With 3 pairs all 8 sign patterns are enumerated: all-positive differences give p = 2/8 = 0.25.

    That is the honest floor for 3 replications, also for a constant difference (unlike the t test).
    """
    summary = _summary({"baseline": {"gmv": [0.0, 0.0, 0.0], "orders": [1.0, 2.0, 3.0]},
                        "strict": {"gmv": [1.0, 2.0, 3.0], "orders": [1.5, 2.5, 3.5]}})
    out = paired_differences(summary, ["gmv", "orders"], method="bootstrap").set_index("metric")
    assert out.loc["gmv", "p_value"] == 0.25
    assert out.loc["orders", "p_value"] == 0.25
    assert (out.loc["orders", "ci_low"], out.loc["orders", "ci_high"]) == (0.5, 0.5)
    # Mixed signs: flips of [-1, 2, 3] reach a mean >= 4/3 in 2 of 8 patterns ({+2,+3} with ±1), so p = 0.5.
    mixed = _summary({"baseline": {"gmv": [0.0, 0.0, 0.0]}, "strict": {"gmv": [-1.0, 2.0, 3.0]}})
    assert paired_differences(mixed, ["gmv"], method="bootstrap").p_value.item() == 0.5


def test_bootstrap_sign_flip_test_holds_its_level_under_the_null():
    """Over 400 null comparisons of 15 skewed pairs the share with p < 0.05 is 5 % ± 3.3 % (3 binomial sds)."""
    rng = np.random.default_rng(21)
    frames = []
    for point in range(400):
        base = rng.exponential(1, 15)
        # Symmetric null differences: the exchangeability the sign-flip test assumes, in skewed metrics.
        frames.append(_summary({"baseline": {"gmv": base}, "strict": {"gmv": base + rng.laplace(0, 1, 15)}},
                               point=point))
    out = paired_differences(pd.concat(frames), ["gmv"], method="bootstrap", n_boot=1000)
    rate = (out.p_value < 0.05).mean()
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / 400)


# ---------------------------------------------------------------------------------------
# unpaired_differences
# ---------------------------------------------------------------------------------------


def test_welch_matches_scipy_ttest_ind_unequal_variances():
    """Each row's p-value and interval are scipy's Welch test of b minus a."""
    rng = np.random.default_rng(4)
    xa = {m: rng.normal(0, 1, 6) for m in ("gmv", "orders")}
    xb = {m: rng.normal(0.5, 3, 9) for m in ("gmv", "orders")}
    summary = pd.concat([_summary({"a": xa}), _summary({"b": xb})])
    out = unpaired_differences(summary, ["gmv", "orders"], "a", "b")
    assert list(out.columns) == COLUMNS
    for row in out.itertuples():
        res = sps.ttest_ind(xb[row.metric], xa[row.metric], equal_var=False)
        ci = res.confidence_interval(0.95)
        assert (row.variant, row.n, row.method) == ("b", 6, "welch")
        assert row.p_value == pytest.approx(res.pvalue, rel=1e-12)
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-12)
        assert row.diff == pytest.approx(xb[row.metric].mean() - xa[row.metric].mean(), rel=1e-12)
    np.testing.assert_array_equal(out.p_holm.to_numpy(), holm(out.p_value.to_numpy()))


def test_welch_of_constant_groups_is_exact():
    """Two constant groups: equal gives p = 1 and CI [0, 0]; different gives the CI at the gap and p = 0."""
    summary = pd.concat([_summary({"a": {"gmv": [2.0] * 3, "orders": [1.0] * 3}}),
                         _summary({"b": {"gmv": [2.0] * 4, "orders": [3.0] * 4}})])
    out = unpaired_differences(summary, ["gmv", "orders"], "a", "b").set_index("metric")
    assert tuple(out.loc["gmv", ["diff", "ci_low", "ci_high", "p_value"]]) == (0.0, 0.0, 0.0, 1.0)
    assert tuple(out.loc["orders", ["diff", "ci_low", "ci_high", "p_value"]]) == (2.0, 2.0, 2.0, 0.0)


def test_synthetic_aa_welch_rejects_five_percent_of_the_time():
    """2000 A/A Welch tests on normal samples reject at p < 0.05 in 5 % ± 1.5 % (3 binomial sds) of cases."""
    rng = np.random.default_rng(17)
    n_tests, n = 2000, 8
    values = rng.normal(10, 2, size=(2, n_tests, n))
    points = np.repeat(np.arange(n_tests), n)
    summary = pd.DataFrame({
        "variant": np.repeat(["a", "b"], n_tests * n), "point": np.tile(points, 2),
        "replication": np.tile(np.arange(n), 2 * n_tests), "market": "all", "gmv": values.ravel(),
    })
    out = unpaired_differences(summary, ["gmv"], "a", "b")
    assert len(out) == n_tests
    rate = (out.p_value < 0.05).mean()
    assert abs(rate - 0.05) <= 3 * np.sqrt(0.05 * 0.95 / n_tests)
    # Holm keeps the family-wise error at 5 %: one family of 2000 true nulls should flag nothing.
    assert out.significant.sum() == 0


AA_METRICS = ["gmv", "net_gmv", "orders", "refund_rate", "prevalence", "harmful_gmv_share", "buyer_harm",
              "buyer_trust", "adversary_profit", "views"]


def test_real_aa_comparison_on_independent_seeds_flags_about_five_percent():
    """An A/A comparison of two identical variants on independent seeds flags no more than about 5 % of metrics.

    8 scenario seeds x 10 metrics = 80 Welch tests of replications 0-4 against 5-9 of the same
    tiny enforced world. Uncorrected p < 0.05 should hit 4 of 80 on average; we allow 8 (10 %),
    which a binomial(80, 0.05) exceeds with probability about 2 % (more with correlated metrics,
    but the runs are seeded, so the outcome is fixed). Holm-corrected significance is a
    family-wise error of at most 5 % per seed, so at most 4 of the 80 rows (5 %) may be flagged.
    """
    frames = []
    for k in range(8):
        data = tiny_dict(enforced=True, n_buyers=1500, n_creators=60)
        data["days"] = 10
        data["seed"] = 1000 + k
        scenario = scenario_from_dict(data)
        rows = [{"variant": "a" if r < 5 else "b", "point": k, "replication": r, "market": "all",
                 **run(scenario, replication=r).summary} for r in range(10)]
        frames.append(unpaired_differences(pd.DataFrame(rows), AA_METRICS, "a", "b"))
    out = pd.concat(frames, ignore_index=True)
    assert len(out) == 80 and out.p_value.notna().all()
    assert (out.p_value < 0.05).mean() <= 0.10
    assert out.significant.mean() <= 0.05


# ---------------------------------------------------------------------------------------
# effect_direction and a real sweep
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("metric", "diff", "expected"),
    [
        ("prevalence", -0.01, "good"),
        ("prevalence", 0.01, "bad"),
        ("gmv", 5.0, "good"),
        ("gmv", -5.0, "bad"),
        ("gmv", 0.0, "neutral"),
        ("gmv", float("nan"), "neutral"),
        ("creator_gini", 0.1, "neutral"),
        ("no_such_metric", 1.0, "neutral"),
    ],
)
def test_effect_direction_follows_higher_is_better(metric, diff, expected):
    """A change is good when it moves the metric the way METRICS prefers; no preference, no change, unknown: neutral."""
    assert effect_direction(metric, diff) == expected


def test_paired_differences_on_a_real_sweep(sweep_results):
    """strict vs baseline gives one row per (point, metric) over 3 pairs, and its lower prevalence reads as good."""
    summary = load(sweep_results).summary
    metrics = ["prevalence", "gmv", "buyer_harm", "actions"]
    out = paired_differences(summary, metrics)
    assert len(out) == 5 * len(metrics)  # 4 grid points and the base's own lever values
    assert not out.duplicated(["point", "metric"]).any()
    assert (out.variant == "strict").all() and (out.n == 3).all()
    prevalence = out[out.metric == "prevalence"]
    assert (prevalence["diff"] < 0).all()
    assert {effect_direction("prevalence", d) for d in prevalence["diff"]} == {"good"}
    table = variant_table(summary, metrics)
    assert len(table) == 2 * 5 * len(metrics) and (table.n == 3).all()
    # The table's means and the comparison's means describe the same runs.
    base = table[(table.variant == "baseline") & (table.metric == "prevalence")].set_index("point")["mean"]
    np.testing.assert_allclose(prevalence.set_index("point")["baseline_mean"], base, rtol=1e-12)
