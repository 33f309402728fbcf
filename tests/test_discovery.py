"""Scenario discovery: PRIM finds a box planted in synthetic worlds, with its coverage and density,
and feature scoring ranks the planted dimensions first; both agree with EMA Workbench's (when the
ema extra is installed, as in the test extra)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.discovery import describe_box, discover, feature_scores, prim


def _planted(n: int = 1000, seed: int = 0) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame(rng.random((n, 4)), columns=["world.a", "world.b", "world.c", "world.d"])
    y = ((x["world.a"] >= 0.6) & (x["world.c"] <= 0.3)).to_numpy()
    return x, y


def test_prim_finds_the_planted_box() -> None:
    """Failures planted in a >= 0.6 and c <= 0.3: the box restricts exactly a and c, its limits lie
    within 0.05 of the planted ones, coverage and density are at least 0.9, and its mass is the
    planted box's volume (0.12) within 0.03."""
    x, y = _planted()
    d = discover(x, y, min_density=0.9)
    box = d.box.set_index("input")
    assert box.index[box["restricted"]].tolist() == ["world.a", "world.c"]
    assert box.loc["world.a", "low"] == pytest.approx(0.6, abs=0.05)
    assert box.loc["world.c", "high"] == pytest.approx(0.3, abs=0.05)
    assert d.coverage >= 0.9 and d.density >= 0.9
    assert d.mass == pytest.approx(0.12, abs=0.03)
    assert (d.cases, d.worlds) == (int(y.sum()), 1000)
    assert describe_box(d.box).startswith("a >= 0.")
    assert ", c <= 0." in describe_box(d.box)


def test_feature_scores_rank_the_planted_dimensions_first_and_are_seeded() -> None:
    """The two planted dimensions score highest; the same seed gives the same scores."""
    x, y = _planted()
    d = discover(x, y, seed=4)
    assert set(d.scores["input"][:2]) == {"world.a", "world.c"}
    assert d.scores["score"].sum() == pytest.approx(1.0)
    pd.testing.assert_frame_equal(discover(x, y, seed=4).scores, d.scores)


def test_nothing_to_discover_without_a_boundary() -> None:
    """With no failing world (or only failing ones) there is no box to describe."""
    x, _ = _planted(50)
    with pytest.raises(ValueError, match="no boundary"):
        discover(x, np.zeros(50, dtype=bool))
    with pytest.raises(ValueError, match="no boundary"):
        discover(x, np.ones(50, dtype=bool))


def _mixed(seed: int, n: int = 600) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = pd.DataFrame({"world.a": rng.random(n), "world.ch": rng.choice(["p", "q", "r"], n), "world.b": rng.random(n)})
    y = ((x["world.a"] >= 0.5) & (x["world.ch"] != "r")).to_numpy() ^ (rng.random(n) < 0.03)
    return x, y


def _ema_trajectory(x: pd.DataFrame, y: np.ndarray) -> tuple[pd.DataFrame, list[list]]:
    import warnings

    ema_prim = pytest.importorskip("ema_workbench.analysis.prim")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        box = ema_prim.Prim(x, y).find_box()
    traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float).reset_index(drop=True)
    lims = [[tuple(sorted(lim[c].iloc[0])) if isinstance(lim[c].iloc[0], set) else tuple(lim[c]) for c in x.columns]
            for lim in box.box_lims]
    return traj, lims


@pytest.mark.parametrize("case", ["planted", "planted_small", "categorical"])
def test_prim_peels_and_pastes_as_ema_workbench(case: str) -> None:
    """On real-valued and categorical inputs the peeling-and-pasting trajectory (coverage, density,
    mass, restricted inputs) and every box's limits are exactly EMA Workbench's Prim.find_box()."""
    x, y = {"planted": lambda: _planted(1000, 0), "planted_small": lambda: _planted(200, 3),
            "categorical": lambda: _mixed(5)}[case]()
    ema_traj, ema_lims = _ema_trajectory(x, y)
    ours = prim(x, y)
    pd.testing.assert_frame_equal(ours.trajectory.astype(float), ema_traj)
    assert ours.limits == ema_lims


def test_feature_scores_are_ema_workbench_extra_trees_scores() -> None:
    """feature_scores gives EMA Workbench's get_ex_feature_scores values for the same seed, inputs in the same order."""
    import warnings

    fs = pytest.importorskip("ema_workbench.analysis.feature_scoring")
    x, y = _mixed(2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs, _ = fs.get_ex_feature_scores(x, y.astype(int), mode=fs.RuleInductionType.CLASSIFICATION,
                                             random_state=7)
    ours = feature_scores(x, y, seed=7)
    assert ours["input"].tolist() == list(theirs.index)
    assert np.array_equal(ours["score"].to_numpy(), theirs.iloc[:, 0].to_numpy())


def test_prim_keeps_integer_limits_and_names_categories() -> None:
    """An integer input is cut at integers (planted k <= 4 is found as exactly 0..4) and a categorical
    one by the categories kept; the description names both (k from its lowest value: "k <= 4")."""
    rng = np.random.default_rng(1)
    n = 600
    x = pd.DataFrame({"world.a": rng.random(n), "world.k": rng.integers(0, 10, n),
                      "world.ch": rng.choice(["p", "q", "r"], n)})
    y = ((x["world.a"] >= 0.5) & (x["world.k"] <= 4) & (x["world.ch"] != "r")).to_numpy()
    d = discover(x, y, min_density=0.95)
    box = d.box.set_index("input")
    assert box["restricted"].all()
    assert (box.loc["world.k", "low"], box.loc["world.k", "high"]) == (0, 4)
    assert box.loc["world.ch", "low"] == ["p", "q"] and box.loc["world.ch", "range_low"] == ["p", "q", "r"]
    assert box.loc["world.a", "low"] == pytest.approx(0.5, abs=0.03)
    text = describe_box(d.box)
    assert text.endswith("k <= 4, ch in {p, q}")
    assert d.density >= 0.95 and d.coverage >= 0.9


def test_prim_is_pure_and_stops_at_the_minimum_mass() -> None:
    """The same worlds give the same trajectory; no box on it holds fewer than mass_min of the worlds."""
    x, y = _planted(400, 2)
    a, b = prim(x, y, mass_min=0.2), prim(x, y, mass_min=0.2)
    pd.testing.assert_frame_equal(a.trajectory, b.trajectory)
    assert a.limits == b.limits
    assert a.trajectory["mass"].min() >= 0.2
    assert a.trajectory.loc[0].tolist() == [1.0, y.mean(), 1.0, 0]

