"""Policy comparisons for the decision report: paired effects world by world, corrections, guardrails, targets."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats as sps

from analysis.stats import (
    NON_INFERIORITY_COLUMNS,
    POLICY_COMPARISON_COLUMNS,
    adjust_pvalues,
    compare_policies,
    holm,
    non_inferiority,
    target_levels,
)

COLUMNS = [
    "policy", "metric", "n", "reference_mean", "policy_mean", "diff", "ci_low", "ci_high",
    "rel_diff", "rel_ci_low", "rel_ci_high", "up", "down", "same", "p_value", "p_adjusted",
    "significant", "tested", "method", "correction",
]


def _frame(values: dict[str, dict[str, list[float]]], worlds: list[str] | None = None) -> pd.DataFrame:
    """One market's runs: ``values[policy][metric]`` lists one value per world ``w00, w01, ...`` (or ``worlds``)."""
    rows = []
    for policy, metrics in values.items():
        n = len(next(iter(metrics.values())))
        names = worlds if worlds is not None else [f"w{k:02d}" for k in range(n)]
        for k in range(n):
            rows.append({"policy": policy, "world": names[k], **{m: v[k] for m, v in metrics.items()}})
    return pd.DataFrame(rows)


def _random_policies(seed: int, n: int, policies=("lenient", "strict"), metrics=("gmv", "orders")):
    """Reference and policies with world effects and noise: (frame, {policy: {metric: values}})."""
    rng = np.random.default_rng(seed)
    values = {"baseline": {m: rng.normal(10, 3, n) for m in metrics}}
    for k, p in enumerate(policies):
        values[p] = {m: values["baseline"][m] + rng.normal(0.3 * k, 1 + k, n) for m in metrics}
    return _frame(values), values


# ---------------------------------------------------------------------------------------
# compare_policies, method "t"
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", [0, 1, 2, 3, 4])
def test_t_matches_scipy_ttest_rel_and_its_interval(seed):
    """Every row's diff, interval and p-value are scipy's paired t-test of policy minus reference (rtol 1e-10)."""
    frame, values = _random_policies(seed, n=7 + seed)
    out = compare_policies(frame, ["gmv", "orders"], reference="baseline", level=0.9)
    assert list(out.columns) == COLUMNS == POLICY_COMPARISON_COLUMNS
    assert list(zip(out.policy, out.metric, strict=True)) == [("lenient", "gmv"), ("lenient", "orders"),
                                                 ("strict", "gmv"), ("strict", "orders")]
    for row in out.itertuples():
        ref, pol = values["baseline"][row.metric], values[row.policy][row.metric]
        res = sps.ttest_rel(pol, ref)
        ci = res.confidence_interval(0.9)
        assert (row.n, row.method, row.correction, row.tested) == (7 + seed, "t", "holm", True)
        assert row.diff == pytest.approx((pol - ref).mean(), rel=1e-10)
        assert row.p_value == pytest.approx(res.pvalue, rel=1e-10)
        assert (row.ci_low, row.ci_high) == pytest.approx((ci.low, ci.high), rel=1e-10)
        assert (row.reference_mean, row.policy_mean) == pytest.approx((ref.mean(), pol.mean()), rel=1e-12)
    np.testing.assert_array_equal(out.p_adjusted.to_numpy(), holm(out.p_value.to_numpy()))
    np.testing.assert_array_equal(out.significant.to_numpy(), out.p_adjusted.to_numpy() < 0.1)


def test_pairing_cancels_a_world_effect_common_to_both_policies():
    """World effects of sd 1000 shared by both policies leave the interval of a +1 effect within 1 ± 0.01."""
    rng = np.random.default_rng(8)
    world_effect = rng.normal(0, 1000, 10)
    frame = _frame({"baseline": {"gmv": world_effect},
                    "strict": {"gmv": world_effect + 1 + rng.normal(0, 0.001, 10)}})
    for method in ("t", "bootstrap"):
        row = compare_policies(frame, ["gmv"], reference="baseline", method=method, n_resamples=999).iloc[0]
        assert 0.99 < row.ci_low < row["diff"] < row.ci_high < 1.01
        assert row.significant
    # Unpaired, the same runs say nothing: Welch's interval is hundreds wide.
    welch = sps.ttest_ind(world_effect + 1, world_effect, equal_var=False).confidence_interval()
    assert welch.high - welch.low > 100


def test_pairing_is_by_world_not_by_row_order():
    """Shuffling the rows, and dropping worlds one policy lacks, gives the same table as the matched frame."""
    # One policy besides the reference: the table order (first appearance) is then fixed, and with
    # it the order in which the bootstrap draws from the Generator.
    frame, _ = _random_policies(5, n=9, policies=("strict",))
    extra = pd.DataFrame({"policy": ["strict", "baseline"], "world": ["only-strict", "only-base"],
                          "gmv": [1e6, -1e6], "orders": [1e6, -1e6]})
    messy = pd.concat([frame, extra]).sample(frac=1, random_state=np.random.default_rng(0)).reset_index(drop=True)
    for method in ("t", "bootstrap"):
        clean = compare_policies(frame, ["gmv", "orders"], reference="baseline", method=method, n_resamples=499)
        shuffled = compare_policies(messy, ["gmv", "orders"], reference="baseline", method=method, n_resamples=499)
        # Policies come in order of first appearance; the shuffled frame may list them differently.
        shuffled = shuffled.set_index(["policy", "metric"]).loc[clean.set_index(["policy", "metric"]).index]
        pd.testing.assert_frame_equal(shuffled.reset_index(), clean)
        assert (clean.n == 9).all()


def test_nan_pairs_are_dropped_and_counted_out():
    """A NaN on either side removes that world: n, means and diff use the complete pairs only."""
    frame = _frame({"baseline": {"gmv": [1.0, 2.0, np.nan, 4.0, 5.0]},
                    "strict": {"gmv": [2.0, 2.5, 3.0, np.nan, 7.0]}})
    row = compare_policies(frame, ["gmv"], reference="baseline").iloc[0]
    assert row.n == 3
    assert (row.reference_mean, row.policy_mean) == pytest.approx((8 / 3, 11.5 / 3), rel=1e-12)
    assert row["diff"] == pytest.approx(3.5 / 3, rel=1e-12)
    assert (row.up, row.down, row.same) == (3, 0, 0)


def test_up_down_same_count_the_worlds():
    """Above in 3 worlds, below in 2 and equal in 1: up 3, down 2, same 1, whatever the mean says."""
    frame = _frame({"baseline": {"gmv": [10.0, 10.0, 10.0, 10.0, 10.0, 10.0]},
                    "strict": {"gmv": [10.1, 10.2, 10.3, 5.0, 9.0, 10.0]}})
    out = compare_policies(frame, ["gmv"], reference="baseline")
    row = out.iloc[0]
    assert (row.up, row.down, row.same) == (3, 2, 1)
    assert row["diff"] < 0
    assert all(out[c].dtype == np.int64 for c in ("n", "up", "down", "same"))
    assert out.tested.dtype == bool and out.significant.dtype == bool


def test_rel_diff_divides_by_the_absolute_reference_mean():
    """Reference mean -4 and diff -1 give rel_diff -0.25 and the interval scaled by 1/4; a zero reference gives NaN."""
    frame = _frame({"baseline": {"loss": [-3.0, -5.0, -4.0], "harm": [1.0, -1.0, 0.0]},
                    "strict": {"loss": [-4.0, -5.5, -5.5], "harm": [2.0, 0.0, 0.5]}})
    out = compare_policies(frame, ["loss", "harm"], reference="baseline").set_index("metric")
    loss = out.loc["loss"]
    assert loss.reference_mean == -4.0 and loss["diff"] == -1.0
    assert loss.rel_diff == -0.25
    assert (loss.rel_ci_low, loss.rel_ci_high) == pytest.approx((loss.ci_low / 4, loss.ci_high / 4), rel=1e-15)
    harm = out.loc["harm"]
    assert harm.reference_mean == 0.0 and harm["diff"] > 0
    assert np.isnan(harm.rel_diff) and np.isnan(harm.rel_ci_low) and np.isnan(harm.rel_ci_high)


# ---------------------------------------------------------------------------------------
# compare_policies, method "bootstrap"
# ---------------------------------------------------------------------------------------


def test_bootstrap_equals_scipy_bca_and_permutation_test_with_the_same_generator():
    """Row by row, the interval is scipy's BCa and the p the sign-flip permutation_test, drawn from one seeded Generator.

    8 pairs are enumerated exactly (2**8 <= 999); 20 pairs are sampled, so the p-value depends on
    the Generator's state after the rows before it, which this replays in table order.
    """
    for n in (8, 20):
        frame, values = _random_policies(11 + n, n=n)
        out = compare_policies(frame, ["gmv", "orders"], reference="baseline", method="bootstrap",
                               n_resamples=999, seed=42, level=0.9)
        rng = np.random.default_rng(42)
        for row in out.itertuples():
            d = values[row.policy][row.metric] - values["baseline"][row.metric]
            boot = sps.bootstrap((d,), np.mean, method="BCa", confidence_level=0.9, n_resamples=999, rng=rng)
            flips = sps.permutation_test((d,), np.mean, permutation_type="samples", alternative="two-sided",
                                         n_resamples=999, rng=rng)
            assert (row.ci_low, row.ci_high) == (boot.confidence_interval.low, boot.confidence_interval.high)
            assert row.p_value == flips.pvalue
            assert row.diff == pytest.approx(d.mean(), rel=1e-12)
            assert row.method == "bootstrap"
        if n == 8:
            # Exact enumeration: the smallest two-sided p is 2 / 2**8, and every p is a multiple of 1 / 2**8.
            np.testing.assert_allclose((out.p_value * 2**8) % 1, 0, atol=1e-9)


def test_bootstrap_sign_flip_p_by_hand_for_three_pairs():
    """Flips of [-1, 2, 3] reach a mean >= 4/3 in 2 of 8 patterns, so p = 2 · 2/8 = 0.5; all positive gives 0.25."""
    frame = _frame({"baseline": {"gmv": [0.0, 0.0, 0.0], "orders": [0.0, 0.0, 0.0]},
                    "strict": {"gmv": [-1.0, 2.0, 3.0], "orders": [1.0, 2.0, 3.0]}})
    out = compare_policies(frame, ["gmv", "orders"], reference="baseline", method="bootstrap").set_index("metric")
    assert out.loc["gmv", "p_value"] == 0.5
    assert out.loc["orders", "p_value"] == 0.25


# ---------------------------------------------------------------------------------------
# Degenerate inputs
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["t", "bootstrap"])
def test_degenerate_differences_have_exact_answers_and_no_warnings(method):
    """All-zero differences: [0, 0], p 1; constant 0.1: interval at 0.1, p 0 (t) or 2/2**5 (bootstrap); one pair: NaN."""
    base = [1.0, 2.0, 3.0, 4.0, 5.0]
    frame = _frame({"baseline": {"same": base, "shift": [0.0] * 5, "one": [1.0, np.nan, np.nan, np.nan, np.nan]},
                    "strict": {"same": base, "shift": [0.1] * 5, "one": [3.0, 1.0, np.nan, 2.0, np.nan]}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = compare_policies(frame, ["same", "shift", "one"], reference="baseline", method=method)
    out = out.set_index("metric")
    same = out.loc["same"]
    assert (same["diff"], same.ci_low, same.ci_high, same.p_value) == (0.0, 0.0, 0.0, 1.0)
    assert same.tested and (same.up, same.down, same.same) == (0, 0, 5)
    shift = out.loc["shift"]
    assert (shift["diff"], shift.ci_low, shift.ci_high) == (0.1, 0.1, 0.1)
    assert shift.p_value == (0.0 if method == "t" else 2 / 2**5)
    assert shift.tested and (shift.up, shift.down, shift.same) == (5, 0, 0)
    one = out.loc["one"]
    assert one.n == 1 and one["diff"] == 2.0
    assert np.isnan(one.ci_low) and np.isnan(one.ci_high) and np.isnan(one.p_value) and np.isnan(one.p_adjusted)
    assert not one.tested and not one.significant
    # The family is the two tested rows.
    assert out.loc["shift", "p_adjusted"] == min(1.0, 2 * shift.p_value)


def test_bootstrap_of_differences_equal_up_to_rounding_does_not_warn():
    """Differences 1, 1, 1 + 2**-52 (a flat jackknife, so no BCa) still get a finite interval around 1 and no warning."""
    frame = _frame({"baseline": {"gmv": [0.0, 0.0, 0.0]}, "strict": {"gmv": [1.0, 1.0, 1.0 + 2**-52]}})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        row = compare_policies(frame, ["gmv"], reference="baseline", method="bootstrap").iloc[0]
    assert 1.0 <= row.ci_low <= row.ci_high <= 1.0 + 2**-52
    assert row.p_value == 0.25


def test_constant_metrics_are_untested_and_do_not_enlarge_the_family():
    """With one real metric and two constant ones (0 everywhere, 7 everywhere), Holm leaves the real p unchanged."""
    rng = np.random.default_rng(3)
    base = rng.normal(5, 1, 6)
    frame = _frame({"baseline": {"gmv": base, "zero": [0.0] * 6, "seven": [7.0] * 6},
                    "strict": {"gmv": base + rng.normal(0.5, 0.5, 6), "zero": [0.0] * 6, "seven": [7.0] * 6}})
    out = compare_policies(frame, ["zero", "gmv", "seven"], reference="baseline").set_index("metric")
    assert out.tested.to_dict() == {"zero": False, "gmv": True, "seven": False}
    assert out.loc["gmv", "p_adjusted"] == out.loc["gmv", "p_value"]
    for m in ("zero", "seven"):
        assert np.isnan(out.loc[m, "p_value"]) and np.isnan(out.loc[m, "p_adjusted"]) and not out.loc[m, "significant"]
        assert (out.loc[m, "diff"], out.loc[m, "ci_low"], out.loc[m, "ci_high"]) == (0.0, 0.0, 0.0)


def test_a_metric_that_varies_elsewhere_in_the_frame_is_tested_even_when_one_policy_ties():
    """Zero differences for one policy on a metric other policies move are a real p = 1 test, counted in the family."""
    frame = _frame({"baseline": {"gmv": [1.0, 2.0, 3.0, 4.0]},
                    "copy": {"gmv": [1.0, 2.0, 3.0, 4.0]},
                    "strict": {"gmv": [2.0, 2.5, 4.0, 4.4]}})
    out = compare_policies(frame, ["gmv"], reference="baseline").set_index("policy")
    assert out.tested.all()
    assert out.loc["copy", "p_value"] == 1.0
    assert out.loc["strict", "p_adjusted"] == pytest.approx(min(1.0, 2 * out.loc["strict", "p_value"]), rel=1e-12)


def test_bh_equals_scipy_on_the_tested_rows_and_is_at_most_holm():
    """BH's p_adjusted is false_discovery_control of the tested rows' p-values and never above Holm's (1e-12 relative)."""
    frame, _ = _random_policies(9, n=10, policies=("a", "b", "c", "d"), metrics=("gmv", "orders", "views"))
    frame["zero"] = 0.0
    metrics = ["gmv", "zero", "orders", "views"]
    bh = compare_policies(frame, metrics, reference="baseline", correction="bh")
    ho = compare_policies(frame, metrics, reference="baseline", correction="holm")
    tested = bh.tested.to_numpy()
    assert tested.sum() == 12 and (bh.correction == "bh").all()
    np.testing.assert_array_equal(bh.p_value, ho.p_value)
    np.testing.assert_allclose(bh.p_adjusted[tested], sps.false_discovery_control(bh.p_value[tested], method="bh"),
                               rtol=1e-15)
    assert bh.p_adjusted[~tested].isna().all()
    assert (bh.p_adjusted[tested] <= ho.p_adjusted[tested] * (1 + 1e-12)).all()
    assert (bh.p_adjusted[tested] < ho.p_adjusted[tested]).any()


def test_same_seed_same_table_and_no_global_random_state():
    """The bootstrap table is a function of the frame and the seed; another seed moves the interval; numpy's global state is untouched."""
    frame, _ = _random_policies(4, n=15)
    before = np.random.get_state()[1].copy()  # noqa: NPY002
    a = compare_policies(frame, ["gmv", "orders"], reference="baseline", method="bootstrap", n_resamples=999, seed=7)
    b = compare_policies(frame, ["gmv", "orders"], reference="baseline", method="bootstrap", n_resamples=999, seed=7)
    c = compare_policies(frame, ["gmv", "orders"], reference="baseline", method="bootstrap", n_resamples=999, seed=8)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # noqa: NPY002
    pd.testing.assert_frame_equal(a, b)
    assert not np.array_equal(a.ci_low.to_numpy(), c.ci_low.to_numpy())


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


def test_compare_policies_errors_name_the_problem():
    """Unknown reference, duplicate runs, missing columns, bad level/method/correction/resamples are one-line ValueErrors."""
    frame = _frame({"baseline": {"gmv": [1.0, 2.0]}, "strict": {"gmv": [2.0, 3.0]}})
    cases = [
        (dict(reference="base"), r"reference policy 'base' is not in the frame; policies present: \['baseline', 'strict'\]"),
        (dict(reference="baseline", level=95), r"level: .* got 95"),
        (dict(reference="baseline", method="welch"), r"method: expected 't' or 'bootstrap', got 'welch'"),
        (dict(reference="baseline", correction="bonferroni"), r"correction: expected 'holm' or 'bh', got 'bonferroni'"),
        (dict(reference="baseline", n_resamples=0), r"n_resamples: .* got 0"),
        (dict(reference="baseline", world="replication"), r"missing column\(s\) \['replication'\]"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValueError, match=message) as info:
            compare_policies(frame, ["gmv"], **kwargs)
        assert "\n" not in str(info.value)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['orders'\]"):
        compare_policies(frame, ["gmv", "orders"], reference="baseline")
    doubled = pd.concat([frame, frame.iloc[[3]]])
    with pytest.raises(ValueError, match=r"more than one row for \(policy, world\) = \('strict', 'w01'\)"):
        compare_policies(doubled, ["gmv"], reference="baseline")
    unnamed = frame.assign(world=[None, "w01", "w00", "w01"])
    with pytest.raises(ValueError, match="column 'world' has missing values"):
        compare_policies(unnamed, ["gmv"], reference="baseline")


# ---------------------------------------------------------------------------------------
# adjust_pvalues
# ---------------------------------------------------------------------------------------


def test_adjust_pvalues_skips_nan_and_matches_holm_and_scipy_bh():
    """NaN stays NaN and is not a test: [0.01, NaN, 0.04, 0.03] adjusts like the three numbers alone."""
    p = np.array([0.01, np.nan, 0.04, 0.03])
    np.testing.assert_allclose(adjust_pvalues(p), [0.03, np.nan, 0.06, 0.06], rtol=1e-12)
    np.testing.assert_array_equal(adjust_pvalues(p, "holm"), holm(p))
    bh = adjust_pvalues(p, "bh")
    np.testing.assert_allclose(bh, [0.03, np.nan, 0.04, 0.04], rtol=1e-12)
    assert np.isnan(adjust_pvalues(np.array([np.nan, np.nan]), "bh")).all()
    with pytest.raises(ValueError, match="expected 'holm' or 'bh', got 'fdr'"):
        adjust_pvalues(p, "fdr")
    with pytest.raises(ValueError, match="between 0 and 1"):
        adjust_pvalues([0.5, 1.5], "bh")


# ---------------------------------------------------------------------------------------
# non_inferiority
# ---------------------------------------------------------------------------------------


def test_non_inferiority_relative_margin_hand_computed():
    """GMV (higher is better) down by 1, 1, 2, 0 on a mean of 100: bound 1 + t(0.95, 3)·sd/2 vs a 2 % margin of 2."""
    frame = _frame({"baseline": {"gmv": [100.0, 90.0, 110.0, 100.0]},
                    "strict": {"gmv": [99.0, 89.0, 108.0, 100.0]},
                    "bold": {"gmv": [97.0, 85.0, 108.0, 96.0]}})
    out = non_inferiority(frame, "gmv", margin=0.02, relative=True, higher_is_better=True, reference="baseline")
    assert list(out.columns) == NON_INFERIORITY_COLUMNS
    strict, bold = out.set_index("policy").loc["strict"], out.set_index("policy").loc["bold"]
    w = np.array([1.0, 1.0, 2.0, 0.0])
    bound = w.mean() + sps.t.ppf(0.95, 3) * w.std(ddof=1) / 2
    assert bound == pytest.approx(1.9608, abs=1e-4)  # just under the margin of 2
    assert (strict.n, strict.reference_mean, strict["diff"], strict.worsening) == (4, 100.0, -1.0, 1.0)
    assert strict.bound == pytest.approx(bound, rel=1e-12)
    assert (strict.margin, strict.margin_abs) == (0.02, 2.0) and strict.passed
    wb = np.array([3.0, 5.0, 2.0, 4.0])
    assert bold.bound == pytest.approx(wb.mean() + sps.t.ppf(0.95, 3) * wb.std(ddof=1) / 2, rel=1e-12)
    assert bold.worsening == 3.5 and not bold.passed


def test_non_inferiority_absolute_margin_lower_is_better():
    """Prevalence (lower is better) up by 0.01, 0.03, 0.02: bound 0.02 + t(0.9, 2)·0.01/√3; passes a 0.04 margin, fails 0.03."""
    frame = _frame({"baseline": {"prevalence": [0.10, 0.20, 0.30]},
                    "strict": {"prevalence": [0.11, 0.23, 0.32]}})
    bound = 0.02 + sps.t.ppf(0.9, 2) * 0.01 / np.sqrt(3)
    assert 0.03 < bound < 0.04
    kw = dict(relative=False, higher_is_better=False, reference="baseline", level=0.9)
    loose = non_inferiority(frame, "prevalence", margin=0.04, **kw).iloc[0]
    tight = non_inferiority(frame, "prevalence", margin=0.03, **kw).iloc[0]
    assert loose.bound == pytest.approx(bound, rel=1e-9) and loose.margin_abs == 0.04 and loose.passed
    assert tight.bound == pytest.approx(bound, rel=1e-9) and not tight.passed
    assert loose["diff"] == pytest.approx(0.02, rel=1e-9) and loose.worsening == loose["diff"]


def test_non_inferiority_degenerate_cases():
    """A constant worsening has its bound exactly at it; one pair cannot show non-inferiority (bound NaN, not passed)."""
    frame = _frame({"baseline": {"gmv": [10.0, 20.0, 30.0]}, "better": {"gmv": [11.0, 21.0, 31.0]},
                    "lone": {"gmv": [np.nan, 25.0, np.nan]}})
    out = non_inferiority(frame, "gmv", margin=0.5, relative=False, higher_is_better=True,
                          reference="baseline").set_index("policy")
    assert (out.loc["better", "bound"], out.loc["better", "worsening"]) == (-1.0, -1.0) and out.loc["better", "passed"]
    assert out.loc["lone", "n"] == 1 and np.isnan(out.loc["lone", "bound"]) and not out.loc["lone", "passed"]
    assert out.passed.dtype == bool


def test_non_inferiority_errors():
    """A negative margin, an unknown reference and a missing metric are one-line ValueErrors."""
    frame = _frame({"baseline": {"gmv": [1.0, 2.0]}, "strict": {"gmv": [2.0, 3.0]}})
    kw = dict(relative=True, higher_is_better=True)
    with pytest.raises(ValueError, match=r"margin: .* got -0\.02"):
        non_inferiority(frame, "gmv", margin=-0.02, reference="baseline", **kw)
    with pytest.raises(ValueError, match="reference policy 'nope'"):
        non_inferiority(frame, "gmv", margin=0.02, reference="nope", **kw)
    with pytest.raises(ValueError, match=r"missing column\(s\) \['orders'\]"):
        non_inferiority(frame, "orders", margin=0.02, reference="baseline", **kw)


# ---------------------------------------------------------------------------------------
# target_levels
# ---------------------------------------------------------------------------------------


def test_target_levels_higher_is_better_by_hand():
    """Values 1..10: 6 is reached by 5 of 10 (50 %), 3 by 8 of 10 (80 %), and for 95 % only the minimum, 1."""
    values = np.array([7.0, 1.0, 10.0, 3.0, 5.0, 2.0, 9.0, 4.0, 6.0, 8.0, np.nan])
    assert target_levels(values, higher_is_better=True) == {0.5: 6.0, 0.8: 3.0, 0.95: 1.0}


def test_target_levels_lower_is_better_by_hand():
    """Values 1..10, lower better: 5 is met by 5 of 10 (50 %), 8 by 80 %, 10 by 95 %."""
    values = np.arange(10, 0, -1, dtype=float)
    assert target_levels(values, higher_is_better=False) == {0.5: 5.0, 0.8: 8.0, 0.95: 10.0}


def test_target_levels_with_ties_and_empty_input():
    """Ties count together: [1, 2, 2, 2, 9] meets 2 in 80 % (higher) and 2 in 80 % (lower); no values give NaN."""
    values = [1.0, 2.0, 2.0, 2.0, 9.0]
    assert target_levels(values, higher_is_better=True, shares=(0.2, 0.8, 1.0)) == {0.2: 9.0, 0.8: 2.0, 1.0: 1.0}
    assert target_levels(values, higher_is_better=False, shares=(0.2, 0.8, 1.0)) == {0.2: 1.0, 0.8: 2.0, 1.0: 9.0}
    empty = target_levels([np.nan], higher_is_better=True)
    assert list(empty) == [0.5, 0.8, 0.95] and all(np.isnan(v) for v in empty.values())
    with pytest.raises(ValueError, match=r"shares: expected fractions in \(0, 1\], got 80.0"):
        target_levels(values, higher_is_better=True, shares=(0.5, 80))
