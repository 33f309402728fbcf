"""Red team: the worst adversary a search can find against each policy, within stated bounds.

For a fixed policy, optuna's TPE sampler searches the adversary's parameters (the creator mix's
adversarial shares, tactic strengths and evasion, how fast adversaries adapt: the ranges of
``[red_team.ranges]``) for the world that **maximises** buyer harm or prevalence. As in
calibration (:mod:`analysis.calibrate`) the study lives in SQLite (``redteam.db``), proposals
are made in batches fixed by trial numbers and each proposal's sampler is seeded from the seed
and the trial number (:mod:`analysis.batches`), so the same file gives the same search whatever the workers and however
often it is interrupted (SIGKILL included) and resumed.

Then the **minimax comparison**: every policy is run in every policy's worst world found, and
the policy whose worst value over those worlds is lowest is the minimax choice (the policy
whose worst case, as far as the searches found, is least bad). Each value is the mean of
``replications`` runs with the exploration's common random numbers.

:func:`search_worst` takes any evaluation function, so the same search is tested on a toy
objective against random search of the same budget.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from analysis.batches import batches

__all__ = ["minimax", "search_worst"]

Evaluate = Callable[[list[dict[str, Any]]], list[float | None]]


def _sampler(kind: str, seed: int, number: int) -> Any:
    import optuna

    state = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    if kind == "random":
        return optuna.samplers.RandomSampler(seed=state)
    return optuna.samplers.TPESampler(seed=state)


def search_worst(evaluate: Evaluate, ranges: dict[str, tuple[float, float]], *, budget: int, batch: int = 4,
                 seed: int = 0, storage: str | None = None, study_name: str = "redteam", sampler: str = "tpe",
                 progress: Callable[[int, int], None] | None = None) -> pd.DataFrame:
    """Maximise ``evaluate`` over ``ranges`` with ``budget`` evaluations, ``batch`` at a time; one
    row per trial (``trial``, each parameter, ``value``, ``state``). ``storage`` (an optuna
    storage URL, e.g. SQLite) makes the search resumable: trials already told are kept, and a
    batch interrupted mid-way is proposed again exactly as before."""
    import optuna
    from optuna.distributions import FloatDistribution, IntDistribution
    from optuna.trial import TrialState

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    dist = {p: (IntDistribution(int(lo), int(hi)) if isinstance(lo, int) and isinstance(hi, int)
                else FloatDistribution(float(lo), float(hi))) for p, (lo, hi) in ranges.items()}
    study = optuna.create_study(study_name=study_name, storage=storage, direction="maximize", load_if_exists=True)
    for pending in batches(study, dist, budget=budget, batch=batch, sampler_for=lambda n: _sampler(sampler, seed, n),
                           progress=progress):
        values = evaluate([dict(t.params) for t in pending])
        for t, v in zip(pending, values, strict=True):
            if v is None or not np.isfinite(v):
                study.tell(t.number, state=TrialState.FAIL)
            else:
                study.tell(t.number, float(v))
    rows = []
    for t in study.get_trials(deepcopy=False)[:budget]:
        rows.append({"trial": t.number, **t.params, "value": t.value if t.value is not None else np.nan,
                     "state": t.state.name})
    return pd.DataFrame(rows)


def minimax(cross: pd.DataFrame) -> pd.DataFrame:
    """From a table of each policy's value (columns) in each policy's worst world (rows), per
    policy: its worst value over all those worlds, and the minimax ranking (lowest worst first)."""
    worst = cross.max(axis=0)
    frame = pd.DataFrame({"policy": list(cross.columns), "worst": worst.to_numpy(dtype=float),
                          "worst_world_of": [str(cross[c].idxmax()) for c in cross.columns]})
    frame = frame.sort_values("worst", kind="stable").reset_index(drop=True)
    frame.insert(0, "rank", np.arange(1, len(frame) + 1))
    return frame


def best_trial(trials: pd.DataFrame, params: Sequence[str]) -> dict[str, Any]:
    """The parameters of the trial with the highest value (the first of equals)."""
    done = trials[trials["state"] == "COMPLETE"]
    row = done.sort_values(["value", "trial"], ascending=[False, True], kind="stable").iloc[0]
    return {p: (int(row[p]) if isinstance(row[p], np.integer) else float(row[p]) if isinstance(row[p], np.floating)
                else row[p]) for p in params}
