"""Robustness on a hand-built table: percentiles, regret, satisficing, ranking and its stability,
each checked against values worked out by hand."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.robustness import rank_policies, regret_table, robustness, satisficing
from sim.config import Target

# 3 policies x 4 worlds; prevalence is better low, net_gmv better high.
PREVALENCE = {"a": [0.02, 0.04, 0.01, 0.06], "b": [0.03, 0.02, 0.01, 0.05], "c": [0.01, 0.05, 0.03, 0.04]}
NET_GMV = {"a": [100.0, 80.0, 120.0, 60.0], "b": [90.0, 100.0, 120.0, 70.0], "c": [110.0, 70.0, 100.0, 80.0]}
TARGETS = [Target(metric="prevalence", max=0.03), Target(metric="net_gmv", min=80.0)]


def _table() -> pd.DataFrame:
    rows = [{"policy": p, "world": w, "market": "all", "prevalence": PREVALENCE[p][w], "net_gmv": NET_GMV[p][w]}
            for p in ("a", "b", "c") for w in range(4)]
    return pd.DataFrame(rows)


def test_regret_is_the_distance_to_the_best_policy_of_each_world() -> None:
    """Regret per world: x - min for a lower-is-better metric, max - x for a higher-is-better one."""
    prev = regret_table(_table(), "prevalence", higher_is_better=False)
    assert prev.to_numpy() == pytest.approx(np.array([[0.01, 0.02, 0.0], [0.02, 0.0, 0.03], [0.0, 0.0, 0.02],
                                                      [0.02, 0.01, 0.0]]), abs=1e-15)
    gmv = regret_table(_table(), "net_gmv", higher_is_better=True)
    assert gmv.to_numpy().tolist() == [[10.0, 20.0, 0.0], [20.0, 0.0, 30.0], [0.0, 0.0, 20.0], [20.0, 10.0, 0.0]]


def test_statistics_per_policy_and_outcome() -> None:
    """Mean, linear p10/p90, and regret max and p90, per policy and outcome, as worked out by hand."""
    rob = robustness(_table(), ["prevalence", "net_gmv"], TARGETS, resamples=0)
    s = rob.stats.set_index(["policy", "outcome"])
    assert s.loc[("a", "prevalence"), ["mean", "p10", "p90"]].tolist() == pytest.approx([0.0325, 0.013, 0.054],
                                                                                           abs=1e-15)
    assert s.loc[("a", "prevalence"), "regret_max"] == pytest.approx(0.02, abs=1e-15)
    assert s["regret_p90"].xs("prevalence", level="outcome").tolist() == pytest.approx([0.02, 0.017, 0.027],
                                                                                         abs=1e-15)
    assert s["regret_max"].xs("net_gmv", level="outcome").tolist() == [20.0, 20.0, 30.0]
    assert s["regret_p90"].xs("net_gmv", level="outcome").tolist() == pytest.approx([20.0, 17.0, 27.0], abs=1e-12)
    assert (s["worlds"] == 4).all()


def test_satisficing_is_the_share_of_worlds_meeting_every_target() -> None:
    """A world counts when the policy meets every target there (bounds included): a 2/4, b 3/4, c 2/4."""
    sat = satisficing(_table(), TARGETS).set_index("policy")
    assert sat["satisficing"].tolist() == [0.5, 0.75, 0.5]
    assert sat["met: prevalence <= 0.03"].tolist() == [0.5, 0.75, 0.5]
    assert sat["met: net_gmv >= 80"].tolist() == [0.75, 0.75, 0.75]


def test_a_missing_value_misses_the_target_and_leaves_regret() -> None:
    """A failed run (NaN) never meets a target, and its world drops out of every policy's regret."""
    table = _table()
    table.loc[(table["policy"] == "b") & (table["world"] == 0), "prevalence"] = np.nan
    assert satisficing(table, TARGETS).set_index("policy").loc["b", "satisficing"] == 0.5
    assert list(regret_table(table, "prevalence", higher_is_better=False).index) == [1, 2, 3]


def test_rankings_by_each_criterion() -> None:
    """Satisficing ranks b first (a and c tie and keep their order); p90 regret of prevalence
    ranks b, a, c; max regret of net GMV ranks a and b (tied) before c."""
    t = _table()
    assert rank_policies(t, "satisficing", "", TARGETS, None)["policy"].tolist() == ["b", "a", "c"]
    assert rank_policies(t, "regret_p90", "prevalence", TARGETS, False)["policy"].tolist() == ["b", "a", "c"]
    assert rank_policies(t, "regret_max", "net_gmv", TARGETS, True)["policy"].tolist() == ["a", "b", "c"]
    assert rank_policies(t, "mean", "net_gmv", TARGETS, True)["policy"].tolist() == ["b", "a", "c"]


def test_stability_of_a_dominant_ranking_is_certain() -> None:
    """When c < a < b in prevalence in every world, every bootstrap resample keeps the ranking."""
    rows = [{"policy": p, "world": w, "market": "all", "prevalence": base + 0.01 * w}
            for w in range(6) for p, base in (("a", 0.02), ("b", 0.03), ("c", 0.01))]
    rob = robustness(pd.DataFrame(rows), ["prevalence"], criterion="mean", resamples=50)
    assert rob.ranking["policy"].tolist() == ["c", "a", "b"]
    assert rob.ranking["p_first"].tolist() == [1.0, 0.0, 0.0]
    assert rob.stable_share == 1.0


def test_stability_of_a_close_ranking_is_uncertain_and_seeded() -> None:
    """On the hand table, resampled satisficing rankings disagree: p_first sums to one, b leads
    most often but not always, and the same seed gives the same shares."""
    rob = robustness(_table(), ["prevalence", "net_gmv"], TARGETS, resamples=400, seed=3)
    assert rob.ranking["p_first"].sum() == pytest.approx(1.0)
    p = rob.ranking.set_index("policy")["p_first"]
    assert 0.5 < p["b"] < 1.0
    assert 0.0 < rob.stable_share < 1.0
    again = robustness(_table(), ["prevalence", "net_gmv"], TARGETS, resamples=400, seed=3)
    assert again.ranking.equals(rob.ranking) and again.stable_share == rob.stable_share
