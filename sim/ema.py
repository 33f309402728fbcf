"""livesim as a model in EMA Workbench (``pip install livesim[ema]``).

:func:`ema_model` builds an EMA Workbench model from a scenario, so that an exploratory modeller
gets EMA's samplers, ``perform_experiments``, ``optimize``/``robust_optimize``, PRIM, dimensional
stacking and feature scoring on livesim::

    from ema_workbench import MultiprocessingEvaluator, perform_experiments
    from sim.ema import ema_model

    model = ema_model("baseline", levers={"policy.detection.threshold": (2.0, 3.5)},
                      outcomes=["prevalence", "net_gmv"], overrides={"world.n_buyers": 20_000, "days": 60})
    experiments, outcomes = perform_experiments(model, scenarios=50, policies=4,
                                                uncertainty_sampling_kwargs={"rng": 1},
                                                lever_sampling_kwargs={"rng": 2})

Names are livesim's own: an uncertainty or lever is called by its dotted path
(``world.buyers.report_rate``, ``policy.review.capacity_per_day``), an outcome by its metric
name, or ``metric[market]`` for one market. EMA passes numpy scalars; livesim's Python API
takes them as the Python numbers they hold and validates them as strictly as a file.

**Uncertainties** are ``world.*`` paths; a range ``(low, high)`` becomes an EMA
``IntegerParameter`` when the scenario's value is an integer, else a ``RealParameter``; a list
of values a ``CategoricalParameter``; an EMA parameter named by its path is used as it is.
Without ``uncertainties`` the defaults (:data:`DEFAULT_UNCERTAINTIES`) are the six world
parameters ``scenarios/observed/public_facts.toml`` fits, over the plausible ranges
docs/model.md gives, and the adversaries' learning rate (which drives the ladder comparison).

**The creator mix is a composition**: its shares sum to one. Uncertainties on
``world.creators.mix.<type>`` sample those types' shares; the types not sampled share what is
left in their scenario proportions (honest creators, mostly). The sampled shares' upper bounds
must leave room for the others (their sum below 1), which is checked when the model is built.

**Levers** are ``policy.*``, ``policy_overrides.<market>.*``, ``timeline.*`` paths or
``policy_preset`` (a list of preset names), given the same way.

**Outcomes** are run-summary metrics (``sim.metrics.METRICS``), each an EMA ``ScalarOutcome``
whose kind follows the metric's direction (higher is better: MAXIMIZE; lower: MINIMIZE; neither:
INFO), so ``optimize`` needs no further description.

**Replications**: with ``replicator=False`` (the default) an experiment runs replications
0..R-1 of the scenario and its outcome is their mean; every experiment uses the same R random
seeds (common random numbers), so two experiments differ by their parameters, not by luck. With
``replicator=True`` the model is an EMA ``ReplicatorModel``: EMA runs the R replications (one
call each, so an evaluator spreads replications over its processes too) and each outcome
reduces its R values with ``reduce`` (default the mean; ``np.median``, a percentile...). Either way a given experiment gives
the same result whatever the evaluator (sequential or ``MultiprocessingEvaluator``).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from sim.config import Scenario, load_scenario, value_at, with_overrides
from sim.errors import ScenarioError
from sim.metrics import METRICS
from sim.plain import plain

__all__ = ["DEFAULT_OUTCOMES", "DEFAULT_UNCERTAINTIES", "LivesimFunction", "ema_model", "mix_shares"]

# The six world parameters the public facts fit (scenarios/observed/public_facts.toml, the
# ranges docs/model.md gives) and the adversaries' learning rate (docs/model.md, "Adaptation").
DEFAULT_UNCERTAINTIES: dict[str, tuple[float, float]] = {
    "world.creators.followers_alpha": (1.5, 2.6),
    "world.buyers.return_propensity_sigma": (0.1, 1.2),
    "world.buyers.false_report_rate": (0.0002, 0.003),
    "world.buyers.report_rate": (0.005, 0.08),
    "world.buyers.price_sensitivity_sigma": (0.1, 1.2),
    "world.creators.opportunist_intensity": (0.05, 0.4),
    "world.adaptation.learning_rate": (0.05, 0.6),
}
# What a governance team weighs: money, harm, fairness to honest creators and the cost of review.
DEFAULT_OUTCOMES: tuple[str, ...] = (
    "net_gmv", "prevalence", "buyer_harm", "honest_sanctioned_per_10k", "moderation_cost",
)
MIX = "world.creators.mix."
LEVER_ROOTS = ("policy.", "policy_overrides.", "timeline.")
REPLICATION = "replication"  # the keyword a ReplicatorModel's replications carry


def _ema() -> Any:
    try:
        import ema_workbench
    except ImportError:  # pragma: no cover - depends on the install
        raise ImportError("sim.ema needs EMA Workbench: pip install 'livesim[ema]'") from None
    return ema_workbench


def mix_shares(base: Mapping[str, float], sampled: Mapping[str, float], source: str = "<mix>") -> dict[str, float]:
    """The creator mix with the ``sampled`` types' shares set and the other types sharing what is
    left (``1 - sum(sampled)``) in their ``base`` proportions."""
    unknown = sorted(set(sampled) - set(base))
    if unknown:
        raise ScenarioError(source, MIX + unknown[0], None, f"not a creator type; allowed: {', '.join(sorted(base))}")
    rest = [k for k in base if k not in sampled]
    room = 1.0 - math.fsum(float(v) for v in sampled.values())
    rest_total = math.fsum(float(base[k]) for k in rest)
    if not rest or room < 0.0 or (room > 0.0 and rest_total <= 0.0):
        raise ScenarioError(source, MIX + ",".join(sorted(sampled)), dict(sampled),
                            "the sampled shares must leave room (sum below 1) for a type not sampled "
                            "with a positive share in the scenario")
    out = {k: float(v) for k, v in sampled.items()}
    for k in rest:
        out[k] = room * float(base[k]) / rest_total if rest_total > 0.0 else 0.0
    return {k: out[k] for k in base}


class LivesimFunction:
    """The callable an EMA model runs: keyword arguments named by livesim paths become overrides
    of the scenario; returns the outcomes (picklable, for EMA's multiprocessing evaluator)."""

    def __init__(self, scenario: Scenario, outcomes: Sequence[str], replications: int, *,
                 overrides: Mapping[str, Any] | None = None) -> None:
        self.scenario = scenario
        self.outcomes = list(outcomes)
        self.replications = int(replications)
        self.overrides = dict(overrides or {})

    def overrides_for(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The livesim overrides for one experiment's values (the creator mix made whole)."""
        values = plain(dict(values))
        changes = {**self.overrides, **{k: v for k, v in values.items() if not k.startswith(MIX)}}
        sampled = {k[len(MIX):]: v for k, v in values.items() if k.startswith(MIX)}
        if sampled:
            base = self.scenario.world.creators.mix.model_dump()
            changes["world.creators.mix"] = mix_shares(base, sampled, "EMA experiment")
        return changes

    def __call__(self, **values: Any) -> dict[str, float]:
        from sim.runner import run

        replication = values.pop(REPLICATION, None)
        scenario = with_overrides(self.scenario, self.overrides_for(values), source="EMA experiment")
        reps = [int(replication)] if replication is not None else list(range(self.replications))
        results = [run(scenario, r) for r in reps]
        return {name: _mean([_outcome(res, name) for res in results]) for name in self.outcomes}


def _outcome(result: Any, name: str) -> float:
    metric, market = _split_outcome(name)
    summary = result.summary if market is None else result.summary_by_market[market]
    return float(summary[metric])


def _mean(values: list[float]) -> float:
    return math.fsum(values) / len(values)


def _split_outcome(name: str) -> tuple[str, str | None]:
    if name.endswith("]") and "[" in name:
        metric, market = name[:-1].split("[", 1)
        return metric, market
    return name, None


def _parameter(ema: Any, path: str, spec: Any, scenario: Scenario, source: str) -> Any:
    """An EMA parameter for ``path`` from ``spec``: (low, high), a list of values, or an EMA parameter."""
    if isinstance(spec, ema.em_framework.parameters.Parameter):
        if spec.name != path:
            raise ScenarioError(source, path, spec.name, "an EMA parameter must be named by its livesim path")
        return spec
    spec = plain(spec)
    if isinstance(spec, list) and spec:
        return ema.CategoricalParameter(path, spec)
    if not (isinstance(spec, tuple) and len(spec) == 2):
        raise ScenarioError(source, path, spec, "a range (low, high), a list of values, or an EMA parameter")
    low, high = spec
    if path.startswith(MIX):
        current: Any = 0.0
    else:
        try:
            current = value_at(scenario, path)
        except ScenarioError as exc:
            raise ScenarioError(source, path, None, exc.allowed) from None
    numbers = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (low, high))
    if not numbers or not low < high:
        raise ScenarioError(source, path, spec, "a range (low, high) of numbers with low < high")
    if isinstance(current, int) and not isinstance(current, bool):
        if not (isinstance(low, int) and isinstance(high, int)):
            raise ScenarioError(source, path, spec, "an integer parameter needs integer bounds")
        return ema.IntegerParameter(path, low, high)
    return ema.RealParameter(path, float(low), float(high))


def ema_model(
    scenario: Scenario | str | Path = "baseline",
    *,
    uncertainties: Mapping[str, Any] | Iterable[Any] | None = None,
    levers: Mapping[str, Any] | Iterable[Any] | None = None,
    outcomes: Sequence[str] | None = None,
    markets: Sequence[str] = (),
    replications: int | None = None,
    replicator: bool = False,
    reduce: Callable[[Any], float] | None = None,
    overrides: Mapping[str, Any] | None = None,
    name: str = "livesim",
) -> Any:
    """An EMA Workbench model of ``scenario`` (a Scenario, a path or a bundled name).

    ``uncertainties``/``levers``: ``{path: (low, high) | [values] | EMA parameter}`` or a list of
    EMA parameters named by their paths; ``outcomes``: metric names (default
    :data:`DEFAULT_OUTCOMES`), each also per market for ``markets``; ``replications``: per
    experiment (default the scenario's ``replications``); ``overrides``: fixed changes to the
    scenario for every experiment (``{"world.n_buyers": 20_000, "days": 60}``). Everything is
    checked here, before any experiment runs: a bad path or range is a ScenarioError naming it.
    """
    ema = _ema()
    source = "ema_model"
    if reduce is None:
        import numpy as np

        reduce = np.mean
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = with_overrides(scenario, plain(dict(overrides or {})), source=f"{source} overrides")
    reps = int(plain(replications)) if replications is not None else scenario.replications
    if reps < 1:
        raise ScenarioError(source, "replications", reps, "at least 1")

    def params(given: Any, roots: tuple[str, ...], side: str) -> list[Any]:
        if given is None:
            given = DEFAULT_UNCERTAINTIES if side == "uncertainties" else {}
        if not isinstance(given, Mapping):
            given = {p.name: p for p in given}
        out = []
        for path, spec in given.items():
            if not (path.startswith(roots) or (side == "levers" and path == "policy_preset")):
                allowed = ", ".join(f"{r}*" for r in roots) + (" or policy_preset" if side == "levers" else "")
                raise ScenarioError(source, f"{side}.{path}", None, f"not a {side[:-1]} path; allowed: {allowed}")
            out.append(_parameter(ema, path, spec, scenario, f"{source} {side}"))
        return out

    unc = params(uncertainties, ("world.",), "uncertainties")
    lev = params(levers, LEVER_ROOTS, "levers")
    clash = sorted({p.name for p in unc} & {p.name for p in lev})
    if clash:
        raise ScenarioError(source, clash[0], None, "is both an uncertainty and a lever; make it one of them")
    mix_hi = {p.name[len(MIX):]: p.upper_bound for p in unc + lev if p.name.startswith(MIX)
              and hasattr(p, "upper_bound")}
    if mix_hi:  # the largest sampled shares must still leave room for the others
        mix_shares(scenario.world.creators.mix.model_dump(), mix_hi, f"{source} uncertainties")

    names = list(outcomes) if outcomes is not None else list(DEFAULT_OUTCOMES)
    market_names = [m.name for m in scenario.world.markets]
    for metric in names:
        if metric not in METRICS:
            raise ScenarioError(source, "outcomes", metric, f"not a metric; see `livesim metrics` ({len(METRICS)} metrics)")
    for market in markets:
        if market not in market_names:
            raise ScenarioError(source, "markets", market, f"not a market of the scenario; allowed: {', '.join(market_names)}")
    out_names = names + [f"{metric}[{market}]" for market in markets for metric in names]

    kinds = {True: ema.ScalarOutcome.MAXIMIZE, False: ema.ScalarOutcome.MINIMIZE, None: ema.ScalarOutcome.INFO}
    function = LivesimFunction(scenario, out_names, reps)
    if replicator:
        model = ema.ReplicatorModel(name, function=function)
        model.replications = [{REPLICATION: r} for r in range(reps)]
    else:
        model = ema.Model(name, function=function)
    model.uncertainties = unc
    model.levers = lev
    # A ReplicatorModel hands each outcome its R values; ``reduce`` makes them one number.
    model.outcomes = [ema.ScalarOutcome(n, kind=kinds[METRICS[_split_outcome(n)[0]].higher_is_better],
                                        function=reduce if replicator else None) for n in out_names]
    return model
