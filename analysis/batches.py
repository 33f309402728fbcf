"""Batched, resumable optuna searches: the proposal loop shared by calibration and the red team.

Trials are proposed in batches fixed by trial numbers: every trial of a batch is proposed before
any is evaluated, each by a sampler seeded from the search's seed and its trial number, so a
resumed batch sees the history an uninterrupted one saw and proposes the same worlds.

A proposal is made on a throwaway in-memory copy of the study and written to the study in one
transaction holding all its parameters, so a run killed at any moment (SIGKILL included) leaves
either no new trial or a whole one. (optuna's ``ask`` on the study itself writes each parameter
separately: a kill between two left a trial with some parameters missing.) A trial left that
way by an earlier version is completed on resume with the values its own proposal gives.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

__all__ = ["batches", "propose"]


def _proposal(study: Any, dist: dict[str, Any], sampler: Any, before: int) -> dict[str, Any]:
    """The parameters ``sampler`` proposes for trial number ``before`` given the trials before it."""
    import optuna

    scratch = optuna.create_study(direction=study.direction, sampler=sampler)  # in memory
    scratch.add_trials(study.get_trials(deepcopy=False)[:before])
    return scratch.ask(dist).params


def propose(study: Any, dist: dict[str, Any], sampler: Any) -> None:
    """Add the next trial, RUNNING, with every parameter of ``dist`` as ``sampler`` proposes it."""
    from optuna.trial import TrialState, create_trial

    params = _proposal(study, dist, sampler, len(study.get_trials(deepcopy=False)))
    study.add_trial(create_trial(state=TrialState.RUNNING, params=params, distributions=dist))


def _complete(study: Any, trial: Any, dist: dict[str, Any], sampler: Any) -> None:
    """Set the parameters a RUNNING ``trial`` lacks to those its own proposal gives."""
    params = _proposal(study, dist, sampler, trial.number)
    storage = study._storage
    for name in dist:
        if name not in trial.params:
            storage.set_trial_param(trial._trial_id, name, dist[name].to_internal_repr(params[name]), dist[name])


def batches(study: Any, dist: dict[str, Any], *, budget: int, batch: int, sampler_for: Callable[[int], Any],
            progress: Callable[[int, int], None] | None = None) -> Iterator[list[Any]]:
    """Yield each batch's RUNNING trials (whole, in trial order) until ``budget`` trials are
    COMPLETE or FAIL. The caller tells every trial it is given before asking for the next batch;
    ``sampler_for(number)`` is the sampler proposing trial ``number``."""
    from optuna.trial import TrialState

    while True:
        trials = study.get_trials(deepcopy=False)
        finished = sum(t.state in (TrialState.COMPLETE, TrialState.FAIL) for t in trials)
        if progress is not None:
            progress(min(finished, budget), budget)
        if finished >= budget:
            return
        start = finished // batch * batch
        end = min(start + batch, budget)
        for t in trials[start:end]:
            if t.state == TrialState.RUNNING and set(t.params) != set(dist):
                _complete(study, t, dist, sampler_for(t.number))
        for number in range(len(trials), end):
            propose(study, dist, sampler_for(number))
        yield [t for t in study.get_trials(deepcopy=False)[start:end] if t.state == TrialState.RUNNING]
