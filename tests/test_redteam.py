"""Red team: the search beats random search of the same budget on a toy objective, is seeded,
resumes an interrupted batch exactly, and the minimax comparison reads a cross table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.redteam import minimax, search_worst

RANGES = {f"x{i}": (0.0, 1.0) for i in range(4)}


def _toy(points: list[dict]) -> list[float]:
    """A single worst case at x = 0.73 in every dimension (value 0 there, negative elsewhere)."""
    return [-sum((p[k] - 0.73) ** 2 for k in RANGES) for p in points]


def test_the_search_beats_random_search_of_the_same_budget() -> None:
    """Over 8 seeds, 40 evaluations each: TPE's worst case found is worse (higher) than random
    search's in at least 7 seeds, and on average."""
    tpe = [search_worst(_toy, RANGES, budget=40, batch=4, seed=s)["value"].max() for s in range(8)]
    rnd = [search_worst(_toy, RANGES, budget=40, batch=4, seed=s, sampler="random")["value"].max() for s in range(8)]
    assert sum(t > r for t, r in zip(tpe, rnd, strict=True)) >= 7
    assert np.mean(tpe) > np.mean(rnd)


def test_an_interrupted_search_resumes_to_the_same_trials(tmp_path) -> None:
    """A search stopped in its third batch and resumed from its SQLite study proposes and keeps
    exactly the trials of an uninterrupted search with the same seed."""
    whole = search_worst(_toy, RANGES, budget=16, batch=4, seed=5)
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    calls = {"n": 0}

    def dies_on_the_third_batch(points: list[dict]) -> list[float]:
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return _toy(points)

    with pytest.raises(KeyboardInterrupt):
        search_worst(dies_on_the_third_batch, RANGES, budget=16, batch=4, seed=5, storage=url)
    resumed = search_worst(_toy, RANGES, budget=16, batch=4, seed=5, storage=url)
    pd.testing.assert_frame_equal(resumed, whole)


def test_failed_evaluations_are_recorded_as_failed_trials() -> None:
    """An evaluation that gives no value is a FAIL trial and still counts toward the budget."""
    trials = search_worst(lambda ps: [None for _ in ps], {"x": (0, 10)}, budget=3, batch=2)
    assert trials["state"].tolist() == ["FAIL"] * 3
    assert trials["x"].map(type).eq(int).all()


def test_minimax_ranks_policies_by_their_worst_value_over_every_worst_world() -> None:
    """Each policy's worst over all the worlds found; lowest first; which policy's world it was."""
    cross = pd.DataFrame({"a": [5.0, 9.0], "b": [7.0, 6.0]}, index=["a", "b"])
    mm = minimax(cross)
    assert mm["policy"].tolist() == ["b", "a"]
    assert mm["worst"].tolist() == [7.0, 9.0]
    assert mm["worst_world_of"].tolist() == ["a", "b"]
