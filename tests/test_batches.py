"""Batched searches survive being killed anywhere: a proposal is one transaction, a trial left
with some parameters by optuna's own ``ask`` is completed as its proposal gives, and a search
killed again and again and resumed ends with exactly the trials of an uninterrupted one."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pandas as pd
import pytest
from optuna.trial import TrialState

from analysis.batches import batches
from analysis.redteam import _sampler, search_worst

RANGES = {f"x{i}": (0.0, 1.0) for i in range(4)}
ROOT = Path(__file__).resolve().parents[1]


def _toy(points: list[dict]) -> list[float]:
    return [-sum((p[k] - 0.73) ** 2 for k in RANGES) for p in points]


def test_a_trial_left_with_some_parameters_is_completed_as_its_proposal_gives(tmp_path) -> None:
    """Two batches of a search told, then trial 8 asked through optuna's ``ask`` and stopped after its first
    parameter (as a kill between two parameter writes leaves it): resuming completes it with the
    values an uninterrupted search proposed and ends with the same trials."""
    whole = search_worst(_toy, RANGES, budget=16, batch=4, seed=5)
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    search_worst(_toy, RANGES, budget=8, batch=4, seed=5, storage=url)
    study = optuna.load_study(study_name="redteam", storage=url)
    assert len(study.get_trials()) == 8
    study.sampler = _sampler("tpe", 5, 8)
    trial = study.ask()
    trial.suggest_float("x0", 0.0, 1.0)
    left = study.get_trials()[8]
    assert left.state == TrialState.RUNNING and set(left.params) == {"x0"}

    resumed = search_worst(_toy, RANGES, budget=16, batch=4, seed=5, storage=url)
    pd.testing.assert_frame_equal(resumed, whole)


def test_the_batch_loop_yields_whole_batches_until_the_budget_is_spent() -> None:
    """Batches of 3 for a budget of 7: sizes 3, 3, 1; every yielded trial has every parameter."""
    study = optuna.create_study(direction="maximize")
    dist = {"x": optuna.distributions.FloatDistribution(0.0, 1.0)}
    sizes = []
    for batch in batches(study, dist, budget=7, batch=3, sampler_for=lambda n: _sampler("random", 0, n)):
        sizes.append(len(batch))
        assert all(set(t.params) == {"x"} for t in batch)
        for t in batch:
            study.tell(t.number, t.params["x"])
    assert sizes == [3, 3, 1]
    assert [t.state for t in study.get_trials()] == [TrialState.COMPLETE] * 7


SEARCH = """
import sys
import optuna
from analysis.redteam import search_worst
RANGES = {f"x{i}": (0.0, 1.0) for i in range(4)}
def toy(points):
    return [-sum((p[k] - 0.73) ** 2 for k in RANGES) for p in points]
# The storage is opened before "ready": the kills fall in the search, not in setting it up.
optuna.create_study(study_name="redteam", storage=sys.argv[1], direction="maximize", load_if_exists=True)
print("ready", flush=True)
search_worst(toy, RANGES, budget=int(sys.argv[2]), batch=4, seed=5, storage=sys.argv[1])
"""


@pytest.mark.slow
def test_a_search_killed_again_and_again_ends_as_an_uninterrupted_one(tmp_path) -> None:
    """A search in SQLite killed with SIGKILL 12 times, each at a random moment in the first
    0.6 s after its study is open (most of a search's time is spent proposing and writing
    trials), never leaves a trial with missing parameters, and resumed to the end it holds
    exactly the trials of an uninterrupted search."""
    budget = 48
    whole = search_worst(_toy, RANGES, budget=budget, batch=4, seed=5)
    url = f"sqlite:///{tmp_path / 'rt.db'}"
    script = tmp_path / "search.py"
    script.write_text(SEARCH)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rng = np.random.default_rng(11)
    kills = 0
    for _ in range(12):
        proc = subprocess.Popen([sys.executable, str(script), url, str(budget)], env=env, stdout=subprocess.PIPE,
                                text=True)
        assert proc.stdout is not None and proc.stdout.readline() == "ready\n"  # imports done: the search starts
        time.sleep(float(rng.uniform(0.0, 0.6)))
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        proc.stdout.close()
        for t in optuna.load_study(study_name="redteam", storage=url).get_trials():
            assert set(t.params) == set(RANGES), f"trial {t.number} has only {sorted(t.params)}"
    assert kills >= 6
    resumed = search_worst(_toy, RANGES, budget=budget, batch=4, seed=5, storage=url)
    pd.testing.assert_frame_equal(resumed, whole)
