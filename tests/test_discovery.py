"""Scenario discovery: PRIM finds a box planted in synthetic worlds, with its coverage and density,
and feature scoring ranks the planted dimensions first."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.discovery import describe_box, discover


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
