"""The random-stream change of the compiled kernels left every key result's distribution in place.

``tests/equivalence/before_8cd42ce.json`` holds the key results of 24 small baseline worlds run
on the code before the session clocks and the alias-table assignment (commit 8cd42ce, recorded
with ``tests.equivalence.streams``). The same 24 seeds run here on the current code. For every
key result two two-sample tests must not reject at p < 0.001: Welch's t-test (the mean) and
the Kolmogorov-Smirnov test (the whole distribution). With 21 results and two tests each, a
change that moves nothing fails by chance with probability below 5 %; a shift of one standard
deviation in any result is caught with probability above 80 %.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from tests.equivalence.streams import FORMAT, SEEDS, key_results

BEFORE = Path(__file__).resolve().parent / "equivalence" / "before_8cd42ce.json"
ALPHA = 0.001

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def samples() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    before = json.loads(BEFORE.read_text())
    assert before["format"] == FORMAT
    assert sorted(int(s) for s in before["results"]) == list(SEEDS)
    after = {seed: key_results(seed) for seed in SEEDS}
    names = sorted(before["results"][str(SEEDS[0])])
    old = {k: np.array([before["results"][str(s)][k] for s in SEEDS]) for k in names}
    new = {k: np.array([after[s][k] for s in SEEDS]) for k in names}
    return old, new


def test_every_key_result_keeps_its_distribution(samples):
    old, new = samples
    rejected = []
    for name in old:
        a, b = old[name], new[name]
        if np.all(a == a[0]) and np.all(b == a[0]):
            continue  # the same constant on both sides
        t = stats.ttest_ind(a, b, equal_var=False).pvalue
        ks = stats.ks_2samp(a, b).pvalue
        if t < ALPHA or ks < ALPHA:
            rejected.append(f"{name}: before {a.mean():.4g} after {b.mean():.4g} (t p={t:.2g}, KS p={ks:.2g})")
    assert not rejected, "; ".join(rejected)


def test_the_comparison_has_power(samples):
    """The same tests reject a shift of two standard deviations in the recorded sample itself:
    the check above is not blind."""
    old, _ = samples
    caught = 0
    for a in old.values():
        sd = a.std(ddof=1)
        if sd == 0:
            continue
        caught += stats.ttest_ind(a, a + 2 * sd, equal_var=False).pvalue < ALPHA
    assert caught == sum(1 for a in old.values() if a.std(ddof=1) > 0)
