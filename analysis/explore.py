"""Robust decisions: policies across sampled worlds (``livesim explore EXPLORE.toml``).

An explore file names the **policies** a team weighs (named variants, as in a sweep, and/or a
lever grid or sample) and the **uncertainties** it cannot rule out (ranges or distributions
over world parameters, and the creator mix as a composition). livesim samples worlds, runs
every policy on every world with the same random numbers (replication ``r`` of every policy
and world uses the same seed: the sweep engine's common random numbers), and analyses the
outcome table: robustness per policy (:mod:`analysis.robustness`), global sensitivity
(:mod:`analysis.sensitivity`), scenario discovery (:mod:`analysis.discovery`) and a red team
(:mod:`analysis.redteam`)::

    name = "ladders_robust"
    scenario = "../baseline.toml"
    replications = 1
    days = 150
    outcomes = ["prevalence", "buyer_harm", "net_gmv"]

    [policies.points_sea]                     # the scenario's own policy
    [policies.health_score]
    policy_preset = "tiktok_health_score"

    [[uncertainties]]
    path = "world.adaptation.learning_rate"
    low = 0.05
    high = 0.6                                # uniform unless distribution = ...

    [[uncertainties]]
    path = "world.creators.mix"               # a composition: Dirichlet around the scenario's shares
    distribution = "dirichlet"
    concentration = 100

    [design]
    method = "saltelli"                       # the worlds: saltelli (Sobol' indices), lhs or sobol
    n = 32
    morris = 8                                # and Morris trajectories for elementary effects

    [[targets]]
    metric = "prevalence"
    max = 0.05

**Distributions** (each maps a unit-cube coordinate ``u`` to a value by its quantile function,
so LHS, Sobol' and Saltelli designs keep their balance): ``uniform`` and ``loguniform`` on
``[low, high]``, ``triangular`` (``low``, ``mode``, ``high``), ``normal`` (``mean``, ``sd``,
truncated to ``[low, high]``), ``integer`` (each of ``low..high`` equally likely) and ``choice``
(``values``, equally likely).

**Compositions.** The creator mix sums to one, so its shares cannot be sampled one by one.
Two correct ways, each documented in the README:

* ``distribution = "dirichlet"`` on ``world.creators.mix``: every share drawn together from a
  Dirichlet whose mean is the scenario's own mix and whose ``concentration`` sets how far a
  world strays from it (the variance of share ``k`` is ``m_k (1 - m_k) / (concentration + 1)``).
  It is drawn as normalised Gamma(``concentration x m_k``) quantiles of one unit coordinate per
  type, so it is one *group* of inputs in the sensitivity analysis (``world.creators.mix``);
  a type whose share is 0 in the scenario stays 0.
* uncertainties on ``world.creators.mix.<type>``: those shares are sampled (their upper bounds
  must sum below 1), and the types not sampled share what is left in their scenario
  proportions (mostly honest creators).

**Uncertainty paths** are ``world.*`` and the platform's *capabilities* it does not choose and
cannot know in advance (:data:`CAPABILITY_PATHS`: how well its classifiers separate violations,
``policy.detection.dprime_scale`` and ``policy.detection.dprime.*``, and how accurate its
reviewers are). A policy may not set a path that is also an uncertainty.

Files written into ``--out`` (a sweep folder, so ``livesim query`` and ``livesim report`` read
it): the sweep's ``manifest.json`` and shards, ``explore.json`` (the resolved explore file and
its design), ``worlds.parquet`` (one row per world: its design, unit coordinates and values),
``outcomes.parquet`` (one row per policy, world and market: each outcome's mean over
replications), then each analysis's tables and figures.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from pydantic import Field, Strict, ValidationError, model_validator

from sim.config import Target, read_toml, value_at, with_overrides
from sim.errors import ScenarioError, format_validation_error, unknown_name_message
from sim.mix import MIX_PATH, mix_shares
from sim.outdir import atomic_parquet, atomic_write_bytes
from sim.plain import plain
from sim.schema import Name, StrictModel
from sim.sweep import Axis, Sweep, SweepFile, sweep_from_dict

__all__ = [
    "CAPABILITY_PATHS",
    "EXPLORE_FILES",
    "DesignSpec",
    "Explore",
    "ExploreFile",
    "ExploreResult",
    "Uncertainty",
    "explore",
    "explore_from_dict",
    "load_explore",
    "make_design",
    "outcome_table",
    "read_explore",
]

# Policy paths that describe what the platform can do rather than what it chooses: unknown in
# advance (a classifier's real separability once launched, its reviewers' accuracy), so they
# may be uncertainties of an exploration.
CAPABILITY_PATHS = ("policy.detection.dprime_scale", "policy.detection.dprime.", "policy.review.sensitivity",
                    "policy.review.specificity")
MIX = MIX_PATH
MARKER = "livesim explore"
EXPLORE_FILES = ("explore.json", "worlds.parquet", "outcomes.parquet")
# A unit coordinate is kept this far from 0 and 1 where a quantile function is infinite there.
_EDGE = 1e-9

Number = Annotated[float, Strict(), Field(allow_inf_nan=False)]


class Uncertainty(StrictModel):
    """One uncertain parameter and its distribution (see the module docstring)."""

    path: Annotated[str, Field(min_length=1, max_length=200)]
    distribution: Literal["uniform", "loguniform", "triangular", "normal", "integer", "choice", "dirichlet"] = "uniform"
    low: Number | int | None = None
    high: Number | int | None = None
    mode: Number | None = None
    mean: Number | None = None
    sd: Annotated[float, Strict(), Field(gt=0.0, allow_inf_nan=False)] | None = None
    values: list[Any] | None = None
    concentration: Annotated[float, Strict(), Field(gt=0.0, le=1e6, allow_inf_nan=False)] | None = None

    @model_validator(mode="after")
    def _fields_of_its_distribution(self) -> Uncertainty:
        d = self.distribution
        need = {"uniform": ("low", "high"), "loguniform": ("low", "high"), "triangular": ("low", "mode", "high"),
                "normal": ("mean", "sd", "low", "high"), "integer": ("low", "high"), "choice": ("values",),
                "dirichlet": ("concentration",)}[d]
        for name in ("low", "high", "mode", "mean", "sd", "values", "concentration"):
            given = getattr(self, name) is not None
            if name in need and not given:
                raise ValueError(f"@{name}|required by distribution {d!r} (it needs {', '.join(need)})")
            if name not in need and given:
                raise ValueError(f"@{name}|not used by distribution {d!r}, which takes {', '.join(need)}")
        if self.low is not None and self.high is not None:
            if isinstance(self.low, bool) or isinstance(self.high, bool):
                raise ValueError("@low|expected numbers, not booleans")
            if self.low > self.high:
                raise ValueError(f"@low|{self.low} is above high {self.high}")
            if d == "loguniform" and self.low <= 0:
                raise ValueError(f"@low|got {self.low}; a loguniform range is positive")
            if d == "integer" and not (isinstance(self.low, int) and isinstance(self.high, int)):
                raise ValueError("@low|an integer range has integer low and high")
        if d == "triangular" and not self.low <= self.mode <= self.high:  # type: ignore[operator]
            raise ValueError(f"@mode|got {self.mode}; the mode lies within [low, high]")
        if d == "choice" and not self.values:
            raise ValueError("@values|needs at least one value")
        if d == "dirichlet" and self.path != MIX:
            raise ValueError(f"@distribution|a dirichlet is a composition: only {MIX} (the creator mix) is one")
        if d != "dirichlet" and self.path == MIX:
            raise ValueError(f"@distribution|{MIX} is a composition: use distribution = \"dirichlet\", or sample "
                             f"single shares ({MIX}.<type>) and let the rest fill up to 1")
        return self

    @property
    def inputs(self) -> int:
        """How many unit coordinates it takes (one; a Dirichlet takes one per creator type)."""
        return 0 if self.distribution == "dirichlet" else 1

    def value(self, u: float) -> Any:
        """The parameter value at unit coordinate ``u`` (its quantile function)."""
        from scipy import stats

        d, lo, hi = self.distribution, self.low, self.high
        if d == "uniform":
            return float(lo + u * (hi - lo))  # type: ignore[operator]
        if d == "loguniform":
            return float(math.exp(math.log(lo) + u * (math.log(hi) - math.log(lo))))  # type: ignore[arg-type]
        if d == "triangular":
            if hi == lo:
                return float(lo)  # type: ignore[arg-type]
            c = (self.mode - lo) / (hi - lo)  # type: ignore[operator]
            return float(stats.triang.ppf(u, c, loc=lo, scale=hi - lo))  # type: ignore[operator]
        if d == "normal":
            a, b = (lo - self.mean) / self.sd, (hi - self.mean) / self.sd  # type: ignore[operator]
            return float(np.clip(stats.truncnorm.ppf(u, a, b, loc=self.mean, scale=self.sd), lo, hi))
        if d == "integer":
            return int(min(lo + math.floor(u * (hi - lo + 1)), hi))  # type: ignore[operator]
        assert self.values is not None
        return self.values[min(math.floor(u * len(self.values)), len(self.values) - 1)]


class DesignSpec(StrictModel):
    """How the worlds are sampled."""

    # saltelli: Saltelli's design from a scrambled Sobol' sequence (SALib), n x (inputs + 2)
    # worlds, for Sobol' indices; lhs / sobol: n space-filling worlds (no Sobol' indices).
    method: Literal["saltelli", "lhs", "sobol"] = "saltelli"
    n: Annotated[int, Strict(), Field(ge=2, le=65_536)] = 32
    seed: Annotated[int, Strict(), Field(ge=0, le=2**32 - 1)] = 0
    # Morris trajectories (each inputs + 1 worlds on a 4-level grid), for elementary effects; 0: none.
    morris: Annotated[int, Strict(), Field(ge=0, le=1_000)] = 0

    @model_validator(mode="after")
    def _power_of_two(self) -> DesignSpec:
        if self.method in ("saltelli", "sobol") and self.n & (self.n - 1):
            raise ValueError(f"@n|got {self.n}; a Sobol' sequence keeps its balance at powers of 2 (8, 16, 32, ...)")
        if self.method == "saltelli" and self.n < 4:
            raise ValueError(f"@n|got {self.n}; a Saltelli design needs n >= 4 (its convergence check uses n/2)")
        return self


class SensitivitySpec(StrictModel):
    """Which outcomes (and which differences between two policies) the sensitivity analysis explains."""

    outcomes: list[str] = Field(default_factory=list)
    # [policy_a, policy_b]: also the sensitivity of outcome(a) - outcome(b), world by world.
    difference: list[Name] = Field(default_factory=list)
    bootstrap: Annotated[int, Strict(), Field(ge=10, le=10_000)] = 200

    @model_validator(mode="after")
    def _a_pair(self) -> SensitivitySpec:
        if self.difference and (len(self.difference) != 2 or self.difference[0] == self.difference[1]):
            raise ValueError("@difference|name two different policies: [a, b] explains outcome(a) - outcome(b)")
        return self


class DiscoverySpec(StrictModel):
    """Scenario discovery: where does a policy miss its targets?"""

    # The policy whose failures are described (default: the top of the robustness ranking).
    policy: Name | None = None
    # PRIM's peeling share and the smallest box (share of worlds) it may end on.
    peel_alpha: Annotated[float, Strict(), Field(gt=0.0, lt=0.5)] = 0.05
    mass_min: Annotated[float, Strict(), Field(gt=0.0, lt=1.0)] = 0.05
    # The box chosen on the peeling trajectory: the last one whose density is at least this.
    min_density: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] = 0.8


class RedTeamSpec(StrictModel):
    """The worst adversary a search finds within stated bounds, per policy."""

    objective: str = "buyer_harm"
    # Adversary parameters and their bounds: mix shares (world.creators.mix.<type>), tactic
    # strengths and evasion (world.tactics.*), adaptation (world.adaptation.*).
    ranges: dict[str, tuple[Number | int, Number | int]] = Field(min_length=1)
    budget: Annotated[int, Strict(), Field(ge=1, le=10_000)] = 24
    batch: Annotated[int, Strict(), Field(ge=1, le=1_000)] = 4
    replications: Annotated[int, Strict(), Field(ge=1, le=100)] = 1
    seed: Annotated[int, Strict(), Field(ge=0, le=2**32 - 1)] = 0
    policies: list[Name] = Field(default_factory=list)  # default: every policy


class ExploreFile(StrictModel):
    """The validated contents of an explore TOML file."""

    name: Name
    description: str = ""
    scenario: str | dict[str, Any]
    replications: Annotated[int, Strict(), Field(ge=1, le=1_000)] | None = None
    days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None
    # Overrides of the base scenario for every run (e.g. a smaller world for a large design).
    set: dict[str, Any] = Field(default_factory=dict)
    policies: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    levers: Axis = Field(default_factory=Axis)
    uncertainties: list[Uncertainty] = Field(min_length=1, max_length=200)
    design: DesignSpec = Field(default_factory=DesignSpec)
    outcomes: list[str] = Field(default_factory=lambda: ["prevalence", "buyer_harm", "net_gmv"], min_length=1)
    targets: list[Target] = Field(default_factory=list)
    # How policies are ranked: satisficing (share of worlds meeting every target; the default
    # with targets), regret_p90, regret_max or mean (of the first outcome; the default without).
    rank_by: Literal["satisficing", "regret_p90", "regret_max", "mean"] | None = None
    sensitivity: SensitivitySpec = Field(default_factory=SensitivitySpec)
    discovery: DiscoverySpec = Field(default_factory=DiscoverySpec)
    red_team: RedTeamSpec | None = None


# ---------------------------------------------------------------------------------------
# The design: unit coordinates -> world values
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Design:
    """The sampled worlds: unit coordinates, their values, and what SALib needs to analyse them."""

    inputs: list[str]  # one name per unit coordinate (``world.creators.mix:honest`` for a Dirichlet's)
    groups: list[str]  # the uncertainty each input belongs to (its path)
    unit: np.ndarray  # worlds x inputs, in [0, 1]
    kind: list[str]  # per world: "saltelli", "lhs", "sobol" or "morris"
    values: list[dict[str, Any]]  # per world: dotted path -> value (the sweep's uncertainty point)
    method: str
    n: int

    @property
    def problem(self) -> dict[str, Any]:
        """SALib's problem over the unit cube, grouped by uncertainty."""
        return {"num_vars": len(self.inputs), "names": list(self.inputs), "bounds": [[0.0, 1.0]] * len(self.inputs),
                "groups": list(self.groups)}

    @property
    def group_names(self) -> list[str]:
        return list(dict.fromkeys(self.groups))

    def frame(self) -> pd.DataFrame:
        """One row per world: its index, design, unit coordinates (``u:<input>``) and values."""
        head = pd.DataFrame({"world": np.arange(len(self.kind)), "design": self.kind})
        unit = pd.DataFrame(self.unit, columns=[f"u:{c}" for c in self.inputs])
        vals = pd.DataFrame(self.values)
        return pd.concat([head, unit, vals], axis=1)


def _mix_types(base_mix: dict[str, float] | None) -> list[str]:
    return sorted(base_mix) if base_mix else []


def make_design(uncertainties: list[Uncertainty], spec: DesignSpec,
                base_mix: dict[str, float] | None = None) -> Design:
    """The worlds of an exploration: ``spec``'s design over the uncertainties' unit coordinates,
    each mapped through its distribution; the creator mix completed to sum to one. Pure: the
    same uncertainties, spec and base mix give the same worlds."""
    inputs, groups = [], []
    for unc in uncertainties:
        if unc.distribution == "dirichlet":
            for t in _mix_types(base_mix):
                inputs.append(f"{MIX}:{t}")
                groups.append(unc.path)
        else:
            inputs.append(unc.path)
            groups.append(unc.path)
    k = len(inputs)
    problem = {"num_vars": k, "names": inputs, "bounds": [[0.0, 1.0]] * k, "groups": groups}
    if spec.method == "saltelli":
        from SALib.sample import sobol as sobol_sample

        unit = sobol_sample.sample(problem, spec.n, calc_second_order=False, scramble=True, seed=spec.seed)
    else:
        from scipy.stats import qmc

        rng = np.random.default_rng(spec.seed)
        engine = qmc.LatinHypercube(d=k, rng=rng) if spec.method == "lhs" else qmc.Sobol(d=k, scramble=True, rng=rng)
        unit = engine.random(spec.n)
    kind = [spec.method] * len(unit)
    if spec.morris:
        from SALib.sample import morris as morris_sample

        more = morris_sample.sample(problem, spec.morris, num_levels=4, seed=spec.seed)
        unit = np.vstack([unit, more])
        kind += ["morris"] * len(more)
    values = [_world(uncertainties, row, inputs, base_mix) for row in unit]
    return Design(inputs, groups, np.asarray(unit, dtype=float), kind, values, spec.method, spec.n)


def _world(uncertainties: list[Uncertainty], row: np.ndarray, inputs: list[str],
           base_mix: dict[str, float] | None) -> dict[str, Any]:
    """One world's values: each uncertainty at its coordinate, the mix completed to sum to one."""
    out: dict[str, Any] = {}
    col = {name: float(u) for name, u in zip(inputs, row, strict=True)}
    for unc in uncertainties:
        if unc.distribution == "dirichlet":
            out.update(dirichlet_shares(base_mix or {}, unc.concentration or 1.0,
                                        {t: col[f"{MIX}:{t}"] for t in _mix_types(base_mix)}))
        else:
            out[unc.path] = unc.value(col[unc.path])
    shares = {p.removeprefix(f"{MIX}."): v for p, v in out.items() if p.startswith(f"{MIX}.")}
    if shares and not any(u.distribution == "dirichlet" for u in uncertainties):
        out.update(_filled(base_mix or {}, shares, "explore world"))
    return out


def dirichlet_shares(base_mix: dict[str, float], concentration: float, unit: dict[str, float]) -> dict[str, float]:
    """A creator mix from a Dirichlet with mean ``base_mix`` and the given concentration, drawn by
    inversion: share k is the Gamma(concentration x m_k) quantile at ``unit[k]``, normalised."""
    from scipy import stats

    gammas = {}
    for t in sorted(base_mix):
        m = base_mix[t]
        u = min(max(unit[t], _EDGE), 1.0 - _EDGE)
        gammas[t] = float(stats.gamma.ppf(u, concentration * m)) if m > 0 else 0.0
    total = sum(gammas.values())
    if not total > 0:  # every quantile 0 (all coordinates at the edge): the mean itself
        return {f"{MIX}.{t}": float(base_mix[t]) for t in sorted(base_mix)}
    shares = {t: g / total for t, g in gammas.items()}
    return _exact_sum({f"{MIX}.{t}": s for t, s in shares.items()})


def _filled(base_mix: dict[str, float], sampled: dict[str, float], source: str) -> dict[str, float]:
    """The whole mix as overrides (``world.creators.mix.<type>``) when some types' shares are set:
    :func:`sim.mix.mix_shares`, the one completion livesim uses."""
    return {f"{MIX}.{t}": v for t, v in mix_shares(base_mix, sampled, source).items()}


def _exact_sum(shares: dict[str, float]) -> dict[str, float]:
    """Put the rounding error on the largest share, so the shares sum to one as closely as floats can."""
    top = max(shares, key=lambda k: shares[k])
    shares[top] = 1.0 - sum(v for k, v in shares.items() if k != top)
    return shares


# ---------------------------------------------------------------------------------------
# Loading and validating
# ---------------------------------------------------------------------------------------


@dataclass
class Explore:
    """A loaded exploration: its file, the sweep that runs it, and its worlds."""

    file: ExploreFile
    source: str
    sweep: Sweep
    design: Design
    policies: list[str]  # policy names, in run order (variant, or variant@lever point)
    n_worlds: int

    @property
    def n_runs(self) -> int:
        return len(self.sweep.variants) * len(self.sweep.all_points) * self.sweep.replications

    def identity(self) -> str:
        """What the runs compute (a resumed exploration must be the same): every policy and world.
        The analyses' settings (outcomes, targets, ranking, sensitivity, discovery) are left out,
        so changing them and resuming re-analyses the same runs; the red team keeps one study per
        setting (:meth:`red_team_key`)."""
        doc = {"sweep": self.sweep.config_hash(), "design": self.file.design.model_dump(mode="json")}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]

    def red_team_key(self) -> str:
        """A short hash of the red team's settings: its studies are named by it, so a changed red
        team starts afresh beside the old one in ``redteam.db``."""
        spec = self.file.red_team.model_dump(mode="json") if self.file.red_team is not None else None
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:8]

    def red_team_objective(self) -> str | None:
        """The metric the red team maximises, if the exploration has one."""
        return self.file.red_team.objective if self.file.red_team is not None else None

    def policy_of(self, variant: str, point: int) -> str:
        """The policy name of a run: the variant, with ``@k`` for lever point ``k`` of a lever grid or sample."""
        if not self.file.levers.paths:
            return variant
        return f"{variant}@{point // self.n_worlds}"


def load_explore(path: str | Path) -> Explore:
    """Read and validate an explore file (or a bundled one by name); every world is checked."""
    from sim.bundled import bundled_root

    given = Path(path)
    if not given.exists() and "/" not in str(path) and not str(path).endswith(".toml"):
        bundled = bundled_root() / "explore" / f"{path}.toml"
        if bundled.is_file():
            given = bundled
    src = str(given)
    data = read_toml(given, "explore")
    return explore_from_dict(data, source=src, base_dir=given.parent)


def _is_capability(path: str) -> bool:
    return any(path == c or (c.endswith(".") and path.startswith(c)) for c in CAPABILITY_PATHS)


def explore_from_dict(data: dict[str, Any], source: str = "<explore>", base_dir: str | Path | None = None) -> Explore:
    """Validate and expand an exploration given as a dict (what an explore file holds), as
    :func:`load_explore` does a file; ``scenario`` a path relative to ``base_dir`` (default the
    working directory) or an inline scenario table."""
    from sim.metrics import METRICS

    src = source
    data = plain(dict(data))
    try:
        ef = ExploreFile.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, src, ExploreFile) from None
    for i, m in enumerate(ef.outcomes):
        if m not in METRICS:
            raise ScenarioError(src, f"outcomes[{i}]", m, unknown_name_message(m, list(METRICS), "metric"))
    for i, m in enumerate(ef.sensitivity.outcomes):
        if m not in ef.outcomes:
            raise ScenarioError(src, f"sensitivity.outcomes[{i}]", m, f"not one of the outcomes ({', '.join(ef.outcomes)})")
    if ef.rank_by == "satisficing" and not ef.targets:
        raise ScenarioError(src, "rank_by", "satisficing", "needs [[targets]] (the satisficing share is the share "
                            "of worlds meeting every target)")
    for i, t in enumerate(ef.targets):
        if t.per_10k_creators:
            raise ScenarioError(src, f"targets[{i}].per_10k_creators", True, "not supported in an exploration; "
                                "use a metric that is already a rate")
    if ef.policies and ef.levers.paths:
        raise ScenarioError(src, "levers", None, "give named [policies] or a [levers] grid or sample, not both")
    if ef.design.method != "saltelli" and (ef.sensitivity.outcomes or ef.sensitivity.difference):
        if not ef.design.morris:
            raise ScenarioError(src, "sensitivity", None, "Sobol' indices need design.method = \"saltelli\" "
                                "(or Morris effects: design.morris = trajectories)")

    # The base scenario and the policies, validated as a sweep's variants and levers are.
    sweep_data: dict[str, Any] = {"name": ef.name, "description": ef.description, "scenario": ef.scenario,
                                  "variants": ef.policies, "reference": False}
    if ef.replications is not None:
        sweep_data["replications"] = ef.replications
    if ef.days is not None:
        sweep_data["days"] = ef.days
    if ef.levers.paths:
        sweep_data["levers"] = ef.levers.model_dump(exclude_defaults=True)
    base_sweep = sweep_from_dict(sweep_data, source=src, base_dir=base_dir)
    base = base_sweep.base
    if ef.set:
        for path in ef.set:
            if path.split(".", 1)[0] not in ("world", "policy", "policy_overrides", "timeline", "warmup_days",
                                             "seed", "policy_preset") and path not in ("n_buyers", "n_creators"):
                raise ScenarioError(src, f"set.{path}", None, "set overrides the base scenario's world, policy, "
                                    "timeline, warmup_days or seed (the run length is the top-level days)")
        base = with_overrides(base, ef.set, source=f"{src}: set")
    variants = {name: with_overrides(base, _flatten(ef.policies.get(name, {})), source=f"{src}: policies.{name}")
                for name in (list(ef.policies) or ["baseline"])}
    lever_points = base_sweep.points if ef.levers.paths else [{}]

    # The uncertainties: known paths, on the right side, not set by a policy.
    paths = [u.path for u in ef.uncertainties]
    dupes = sorted({p for p in paths if paths.count(p) > 1})
    if dupes:
        raise ScenarioError(src, "uncertainties", dupes[0], "each path is one uncertainty; it is given twice")
    set_by_policies = set(ef.levers.paths)
    for overrides in ef.policies.values():
        set_by_policies |= set(_flatten(overrides))
    base_mix = {k: float(v) for k, v in base.world.creators.mix.model_dump().items()}
    sampled_shares: list[tuple[int, Uncertainty]] = []
    for i, unc in enumerate(ef.uncertainties):
        where = f"uncertainties[{i}].path"
        if not (unc.path.startswith("world.") or _is_capability(unc.path)):
            raise ScenarioError(src, where, unc.path, "an uncertainty is a world.* path or one of the platform's "
                                f"capabilities ({', '.join(CAPABILITY_PATHS)}); policies and levers are what the "
                                "platform chooses")
        if unc.path in set_by_policies:
            raise ScenarioError(src, where, unc.path, "is also set by a policy; a path is either a lever or an "
                                "uncertainty")
        if unc.path.startswith(f"{MIX}."):
            t = unc.path.removeprefix(f"{MIX}.")
            if t not in base_mix:
                raise ScenarioError(src, where, unc.path, unknown_name_message(t, sorted(base_mix), "creator type"))
            if unc.distribution not in ("uniform", "loguniform", "triangular", "normal") or unc.low < 0 or unc.high > 1:
                raise ScenarioError(src, f"uncertainties[{i}]", None, "a share is a number in [0, 1]: a uniform, "
                                    "loguniform, triangular or normal distribution within it")
            sampled_shares.append((i, unc))
        elif unc.path != MIX:
            try:
                current = value_at(base, unc.path)
            except ScenarioError as exc:
                raise ScenarioError(src, where, unc.path, exc.allowed) from None
            if isinstance(current, dict | list):
                raise ScenarioError(src, where, unc.path, "names a whole block; an uncertainty is one number "
                                    "(a dotted path to it)")
    if sampled_shares and MIX in paths:
        raise ScenarioError(src, "uncertainties", MIX, f"sample the mix as a Dirichlet or by single shares "
                            f"({MIX}.<type>), not both")
    if sampled_shares:
        top = sum(float(u.high) for _, u in sampled_shares)
        rest = sum(v for t, v in base_mix.items() if f"{MIX}.{t}" not in paths)
        if top >= 1.0 or rest <= 0:
            i = sampled_shares[-1][0]
            raise ScenarioError(src, f"uncertainties[{i}].high", None, f"the sampled shares' upper bounds sum to "
                                f"{top:g}; they must leave room (sum below 1) for the types not sampled, whose "
                                "scenario shares fill the rest")

    if ef.red_team is not None:
        _check_red_team(ef, variants, base_mix, src)
    design = make_design(ef.uncertainties, ef.design, base_mix)
    worlds = design.values
    # Every policy meets every world: lever points outer, worlds inner (the sweep's order).
    points = [lever | world for lever in lever_points for world in worlds]
    for vname, vscen in variants.items():
        for p, point in enumerate(points):
            try:
                with_overrides(vscen, point, source=f"{src}: policy {vname}, world {p % len(worlds)}")
            except ScenarioError as exc:
                raise ScenarioError(src, f"uncertainties (world {p % len(worlds)}, policy {vname})", None,
                                    f"makes an invalid scenario: {exc.message}") from None
    file = SweepFile(name=ef.name, description=ef.description, scenario=base_sweep.file.scenario,
                     replications=base_sweep.replications, days=ef.days,
                     variants={k: ef.policies.get(k, {}) for k in variants}, levers=ef.levers,
                     uncertainties=Axis(points=worlds), reference=False)
    sweep = Sweep(file, src, base, points, variants, base_sweep.replications)
    policies = ([f"{name}@{k}" for name in variants for k in range(len(lever_points))] if ef.levers.paths
                else list(variants))
    _check_policy_names(ef, policies, src)
    return Explore(ef, src, sweep, design, policies, len(worlds))


def _check_red_team(ef: ExploreFile, variants: dict[str, Any], base_mix: dict[str, float], src: str) -> None:
    """Red-team ranges: adversary parameters on the world side, ordered, and valid at both ends."""
    assert ef.red_team is not None
    shares = []
    for path, (lo, hi) in ef.red_team.ranges.items():
        where = f"red_team.ranges.{path}"
        if not (path.startswith("world.") or _is_capability(path)):
            raise ScenarioError(src, where, None, "the red team searches the world (world.* paths: the creator "
                                "mix's shares, tactics, adaptation) or the platform's capabilities, not the policy")
        if isinstance(lo, bool) or isinstance(hi, bool) or lo > hi:
            raise ScenarioError(src, where, [lo, hi], "expected [min, max] numbers with min <= max")
        if path.startswith(f"{MIX}."):
            t = path.removeprefix(f"{MIX}.")
            if t not in base_mix:
                raise ScenarioError(src, where, None, unknown_name_message(t, sorted(base_mix), "creator type"))
            shares.append(float(hi))
    if sum(shares) >= 1.0:
        raise ScenarioError(src, "red_team.ranges", None, f"the searched shares' upper bounds sum to {sum(shares):g}; "
                            "they must leave room (sum below 1) for the creator types not searched")
    for end in (0, 1):
        point = {p: r[end] for p, r in ef.red_team.ranges.items()}
        point = red_team_world(point, base_mix)
        for name, scen in variants.items():
            try:
                with_overrides(scen, point, source=f"{src}: red_team.ranges")
            except ScenarioError as exc:
                raise ScenarioError(src, "red_team.ranges", None, f"{'lower' if end == 0 else 'upper'} ends make an "
                                    f"invalid scenario for policy {name}: {exc.message}") from None


def red_team_world(params: dict[str, Any], base_mix: dict[str, float]) -> dict[str, Any]:
    """A red-team world's overrides: the searched values, the creator mix completed to sum to one."""
    shares = {p.removeprefix(f"{MIX}."): float(v) for p, v in params.items() if p.startswith(f"{MIX}.")}
    out = {p: v for p, v in params.items() if not p.startswith(f"{MIX}.")}
    if shares:
        out.update(_filled(base_mix, shares, "red team world"))
    return out


def _check_policy_names(ef: ExploreFile, policies: list[str], src: str) -> None:
    for field_name, names in (("sensitivity.difference", ef.sensitivity.difference),
                              ("discovery.policy", [ef.discovery.policy] if ef.discovery.policy else []),
                              ("red_team.policies", ef.red_team.policies if ef.red_team else [])):
        for name in names:
            if name not in policies:
                raise ScenarioError(src, field_name, name, unknown_name_message(name, policies, "policy"))
    if ef.red_team is not None:
        from sim.metrics import METRICS

        if ef.red_team.objective not in METRICS:
            raise ScenarioError(src, "red_team.objective", ef.red_team.objective,
                                unknown_name_message(ef.red_team.objective, list(METRICS), "metric"))


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    from sim.sweep import _flatten_variant

    return _flatten_variant(tree, prefix)


# ---------------------------------------------------------------------------------------
# Running and reading
# ---------------------------------------------------------------------------------------


@dataclass
class ExploreResult:
    """What an exploration found (also written to its folder)."""

    out_dir: Path
    worlds: pd.DataFrame
    outcomes: pd.DataFrame
    analyses: dict[str, Any] = field(default_factory=dict)
    done: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    files: list[str] = field(default_factory=list)


def outcome_table(summary: pd.DataFrame, ex: Explore) -> pd.DataFrame:
    """One row per policy, world and market: every outcome's mean over replications (and the
    number of replications it averages)."""
    metrics = [m for m in ex.file.outcomes if m in summary.columns]
    if ex.red_team_objective() and ex.red_team_objective() not in metrics and ex.red_team_objective() in summary:
        metrics.append(ex.red_team_objective())
    frame = summary[["variant", "point", "market", *metrics]].copy()
    frame["policy"] = [ex.policy_of(v, int(p)) for v, p in zip(frame["variant"], frame["point"], strict=True)]
    frame["world"] = frame["point"].astype(int) % ex.n_worlds
    grouped = frame.groupby(["policy", "world", "market"], sort=False)
    out = grouped[metrics].mean()
    out["replications"] = grouped.size()
    out = out.reset_index()
    order = {p: i for i, p in enumerate(ex.policies)}
    out = out.sort_values(["policy", "world", "market"], key=lambda s: s.map(order) if s.name == "policy" else s,
                          kind="stable").reset_index(drop=True)
    return out


def _check_folder(out: Path, ex: Explore, resume: bool) -> None:
    """A new or empty folder, or this exploration's own with ``resume``; anything else is refused
    before a file is written."""
    given = str(out)
    if out.exists() and not out.is_dir():
        raise ScenarioError("--out", None, given, "is a file, not a folder; choose a folder for the exploration")
    record = out / "explore.json"
    if not record.exists():
        if out.is_dir() and any(out.iterdir()):
            raise ScenarioError("--out", None, given, "holds files and is not a livesim exploration folder; livesim "
                                "writes only into a new or empty folder, or resumes its own exploration: choose "
                                "another --out")
        if resume:
            raise ScenarioError("--out", None, given, "no exploration to resume there; leave out --resume")
        return
    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        doc = None
    if not isinstance(doc, dict) or doc.get("kind") != MARKER:
        raise ScenarioError(str(record), None, None, "is not a file livesim's explore wrote; choose another --out")
    if not resume:
        raise ScenarioError("--out", None, str(out), "already holds an exploration; add --resume to finish it, or "
                            "choose another --out")
    if doc.get("identity") != ex.identity():
        raise ScenarioError(str(record), "identity", doc.get("identity"), f"the explore file's policies or worlds "
                            f"changed since these runs were made (now {ex.identity()}); choose another --out (the "
                            "analyses' settings may change: --resume then re-analyses the same runs)")


def explore(ex: Explore, out: str | Path, *, workers: int = 1, backend: str = "local", scheduler: str | None = None,
            resume: bool = False, progress: Any = None, notify: Callable[[str], None] | None = None,
            analyse: bool = True) -> ExploreResult:
    """Run every policy on every world (resuming what is done) and analyse the outcomes; every
    file is written into ``out``. Results do not depend on ``workers`` or ``backend``."""
    from analysis.load import load
    from sim.experiment import execute

    t0 = time.perf_counter()
    out = Path(out)
    if backend not in ("local", "dask"):
        raise ScenarioError("--backend", None, backend, "allowed: local, dask")
    _check_folder(out, ex, resume)
    record = {"kind": MARKER, "identity": ex.identity(), "source": ex.source, "file": ex.file.model_dump(mode="json"),
              "policies": ex.policies, "n_worlds": ex.n_worlds, "inputs": ex.design.inputs,
              "groups": ex.design.groups, "design": {"method": ex.design.method, "n": ex.design.n,
                                                     "morris": ex.file.design.morris}}
    out.mkdir(parents=True, exist_ok=True)
    # The record first: a folder with a manifest and no record was never an exploration's.
    atomic_write_bytes(out / "explore.json", (json.dumps(record, indent=1, default=str) + "\n").encode())
    worlds = ex.design.frame()
    atomic_parquet(worlds, out / "worlds.parquet")
    if _all_runs_done(ex, out):  # nothing to add: re-analyse, whatever code made the runs
        from sim.experiment import SweepOutcome

        outcome = SweepOutcome(out, 0, 0, ex.n_runs, 0.0)
    else:
        outcome = execute(ex.sweep, out, workers=workers, backend=backend, scheduler=scheduler,
                          resume=(out / "manifest.json").exists(), progress=progress, notify=notify)
    summary = load(out).summary
    outcomes = outcome_table(summary, ex)
    atomic_parquet(outcomes, out / "outcomes.parquet")
    result = ExploreResult(out, worlds, outcomes, done=outcome.done, failed=outcome.failed, skipped=outcome.skipped,
                           files=list(EXPLORE_FILES))
    if analyse and not outcome.failed:
        analyse_explore(ex, result, workers=workers, backend=backend, scheduler=scheduler, notify=notify)
    result.seconds = time.perf_counter() - t0
    return result


def _all_runs_done(ex: Explore, out: Path) -> bool:
    """Whether every run of the exploration has its shards in ``out`` (the record of what is done)."""
    from sim.experiment import _shards_complete

    return (out / "manifest.json").is_file() and all(_shards_complete(out, s.run_id, False)
                                                     for s in ex.sweep.runs())


def read_explore(folder: str | Path) -> dict[str, Any] | None:
    """An exploration folder's record (``explore.json``), or None when the folder holds none."""
    record = Path(folder) / "explore.json"
    if not record.is_file():
        return None
    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) and doc.get("kind") == MARKER else None


# ---------------------------------------------------------------------------------------
# The analyses
# ---------------------------------------------------------------------------------------


def analyse_explore(ex: Explore, result: ExploreResult, *, workers: int = 1, backend: str = "local",
                    scheduler: str | None = None, notify: Callable[[str], None] | None = None) -> None:
    """Every analysis the exploration asks for, on its outcome table; each writes its files into
    the folder and its tables into ``result.analyses``."""
    from analysis.explore_plots import morris_figure, robustness_figure, sobol_figure
    from analysis.robustness import robustness

    out = result.out_dir
    table = result.outcomes
    worlds = result.worlds
    sample = table[table["world"].isin(worlds.loc[worlds["design"] != "morris", "world"])]
    rob = robustness(sample, ex.file.outcomes, ex.file.targets, ex.file.rank_by, seed=ex.file.design.seed)
    result.analyses["robustness"] = rob
    atomic_parquet(rob.stats, out / "robustness.parquet")
    atomic_parquet(rob.satisficing, out / "satisficing.parquet")
    atomic_parquet(rob.ranking, out / "ranking.parquet")
    atomic_write_bytes(out / "robustness.json", json.dumps({"criterion": rob.criterion, "outcome": rob.outcome,
                                                       "stable_share": rob.stable_share,
                                                       "resamples": rob.resamples,
                                                       "targets": [t.describe() for t in ex.file.targets]},
                                                      indent=1).encode())
    result.files += ["robustness.parquet", "satisficing.parquet", "ranking.parquet", "robustness.json"]
    _save_figure(robustness_figure(rob.stats), out / "robustness.png", result)

    spec = ex.file.sensitivity
    if ex.design.method == "saltelli" or ex.file.design.morris:
        from analysis.sensitivity import sensitivity_tables

        outcomes = spec.outcomes or list(ex.file.outcomes)
        sob, mor, notes = sensitivity_tables(ex.design, worlds, table, outcomes, ex.policies, spec.difference,
                                             bootstrap=spec.bootstrap, seed=ex.file.design.seed)
        result.analyses["sobol"], result.analyses["morris"] = sob, mor
        result.analyses["sensitivity_notes"] = notes
        if len(sob):
            atomic_parquet(sob, out / "sobol.parquet")
            result.files.append("sobol.parquet")
            _save_figure(sobol_figure(sob), out / "sobol.png", result)
        if len(mor):
            atomic_parquet(mor, out / "morris.parquet")
            result.files.append("morris.parquet")
            _save_figure(morris_figure(mor), out / "morris.png", result)
        result.analyses["sensitivity_text"] = _sensitivity_text(sob, mor, notes)

    if ex.file.targets:
        _discovery(ex, result, sample, rob.ranking["policy"].iloc[0])
    if ex.file.red_team is not None:
        _red_team(ex, result, workers=workers, backend=backend, scheduler=scheduler, notify=notify)


def _discovery(ex: Explore, result: ExploreResult, sample: pd.DataFrame, top: str) -> None:
    """PRIM and feature scores of the worlds where the policy (the file's, or the most robust)
    misses a target."""
    from analysis.discovery import describe_box, discover
    from analysis.explore_plots import discovery_figure
    from analysis.robustness import meets_targets

    out = result.out_dir
    spec = ex.file.discovery
    policy = spec.policy or top
    met = meets_targets(sample, ex.file.targets)[policy]
    worlds = result.worlds.set_index("world").loc[met.index]
    x = worlds[[c for c in worlds.columns if c != "design" and not c.startswith("u:")]]
    fails = ~met.to_numpy(dtype=bool)
    head = f"Scenario discovery: where {policy} misses a target ({int(fails.sum())} of {len(fails)} worlds)"
    try:
        d = discover(x, fails, peel_alpha=spec.peel_alpha, mass_min=spec.mass_min, min_density=spec.min_density,
                     seed=ex.file.design.seed)
    except ValueError as exc:
        result.analyses["discovery_text"] = f"{head}: no box ({exc})"
        return
    result.analyses["discovery"] = d
    ends = ["low", "high", "range_low", "range_high"]
    box = d.box.astype(dict.fromkeys(ends, str)) if any(d.box[c].dtype == object for c in ends) else d.box
    atomic_parquet(box, out / "prim_box.parquet")  # a choice uncertainty's limits are kept as text
    atomic_parquet(d.trajectory, out / "prim_trajectory.parquet")
    atomic_parquet(d.scores, out / "feature_scores.parquet")
    summary = {"policy": policy, "coverage": d.coverage, "density": d.density, "mass": d.mass, "chosen": d.chosen,
               "cases": d.cases, "worlds": d.worlds, "box": describe_box(d.box),
               "min_density": spec.min_density}
    atomic_write_bytes(out / "discovery.json", json.dumps(summary, indent=1).encode())
    result.files += ["prim_box.parquet", "prim_trajectory.parquet", "feature_scores.parquet", "discovery.json"]
    _save_figure(discovery_figure(d.trajectory, d.scores, d.chosen), out / "discovery.png", result)
    top_scores = ", ".join(f"{r.input.removeprefix('world.')} {r.score:.2f}" for r in d.scores.head(4).itertuples())
    result.analyses["discovery_text"] = (f"{head}: PRIM box {describe_box(d.box)} (coverage {d.coverage:.0%}, "
                                         f"density {d.density:.0%}, {d.mass:.0%} of worlds); feature scores: "
                                         f"{top_scores}")


def policy_scenario(ex: Explore, policy: str) -> Any:
    """The scenario a policy runs: its variant, with its lever point for a lever grid or sample."""
    if not ex.file.levers.paths:
        return ex.sweep.variants[policy]
    variant, k = policy.rsplit("@", 1)
    point = ex.sweep.points[int(k) * ex.n_worlds]
    return with_overrides(ex.sweep.variants[variant], {p: point[p] for p in ex.file.levers.paths},
                          source=f"{ex.source}: policy {policy}")


def _red_team(ex: Explore, result: ExploreResult, *, workers: int, backend: str, scheduler: str | None,
              notify: Callable[[str], None] | None) -> None:
    """Per policy, the worst world a search finds within the red team's ranges; then every policy
    in every policy's worst world (the minimax comparison)."""
    from analysis.calibrate import _Runner
    from analysis.explore_plots import red_team_figure
    from analysis.redteam import best_trial, minimax, search_worst
    from sim.sweep import RunSpec

    spec = ex.file.red_team
    assert spec is not None
    out = result.out_dir
    policies = spec.policies or ex.policies
    base_mix = {k: float(v) for k, v in ex.sweep.base.world.creators.mix.model_dump().items()}
    scenarios = {p: policy_scenario(ex, p) for p in ex.policies}
    runner = _Runner(workers, backend, scheduler)
    storage = f"sqlite:///{(out / 'redteam.db').resolve()}"

    def values(policy: str, worlds: list[dict[str, Any]], tag: str) -> list[float | None]:
        specs = []
        for i, params in enumerate(worlds):
            world = red_team_world(params, base_mix)
            scen = with_overrides(scenarios[policy], world, source=f"{ex.source}: red team", check_timeline=False)
            for r in range(spec.replications):
                specs.append(RunSpec(f"{tag}-{i:03d}-r{r:03d}", policy, i, r, world, scen))
        got: list[list[float]] = [[] for _ in worlds]
        for s_, o in zip(specs, runner.map(specs), strict=True):
            if o["status"] == "done":
                summ = o["frames"]["summary"]
                got[s_.point].append(float(summ.loc[summ["market"] == "all", spec.objective].iloc[0]))
        return [float(np.mean(v)) if len(v) == spec.replications else None for v in got]

    try:
        trials = []
        for policy in policies:
            if notify is not None:
                notify(f"red team: searching {spec.budget} worlds for the worst {spec.objective} under {policy}")
            t = search_worst(lambda pts, p=policy: values(p, pts, f"rt-{p}"), dict(spec.ranges), budget=spec.budget,
                             batch=spec.batch, seed=spec.seed, storage=storage,
                             study_name=f"redteam-{ex.red_team_key()}-{policy}")
            trials.append(t.assign(policy=policy))
        trial_frame = pd.concat(trials, ignore_index=True)
        worst = {p: best_trial(t, list(spec.ranges)) for p, t in zip(policies, trials, strict=True)}
        cross = pd.DataFrame(index=pd.Index(policies, name="worst_world_of"), columns=ex.policies, dtype=float)
        for p in ex.policies:
            got = values(p, [worst[q] for q in policies], f"rt-cross-{p}")
            cross[p] = [np.nan if v is None else v for v in got]
    finally:
        runner.close()
    mm = minimax(cross)
    result.analyses["red_team"] = {"trials": trial_frame, "worst": worst, "cross": cross, "minimax": mm}
    atomic_parquet(trial_frame, out / "redteam_trials.parquet")
    atomic_parquet(cross.reset_index(), out / "redteam_cross.parquet")
    atomic_parquet(mm, out / "redteam_minimax.parquet")
    doc = {"objective": spec.objective, "ranges": {k: list(v) for k, v in spec.ranges.items()}, "budget": spec.budget,
           "replications": spec.replications, "worst": worst,
           "worst_value": {p: float(cross.loc[p, p]) for p in policies if p in cross.columns},
           "minimax": mm["policy"].iloc[0]}
    atomic_write_bytes(out / "redteam.json", json.dumps(doc, indent=1, default=float).encode())
    result.files += ["redteam.db", "redteam_trials.parquet", "redteam_cross.parquet", "redteam_minimax.parquet",
                     "redteam.json"]
    _save_figure(red_team_figure(trial_frame, spec.objective), out / "redteam.png", result)
    lines = [f"Red team: the worst {spec.objective} found in {spec.budget} worlds per policy "
             f"({', '.join(spec.ranges)}):"]
    for p in policies:
        params = ", ".join(f"{k.removeprefix('world.')} = {v:.4g}" if isinstance(v, float) else f"{k} = {v}"
                           for k, v in worst[p].items())
        lines.append(f"  {p}: {spec.objective} {cross.loc[p, p]:.4g} at {params}")
    lines.append("  every policy in every worst world (rows: whose worst world; minimax: lowest worst value):")
    for r in mm.itertuples(index=False):
        lines.append(f"    {r.rank}. {r.policy}: worst {r.worst:.4g} (in {r.worst_world_of}'s worst world)")
    result.analyses["red_team_text"] = "\n".join(lines)


def _save_figure(fig: Any, path: Path, result: ExploreResult) -> None:
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)
    result.files.append(path.name)


def _sensitivity_text(sob: pd.DataFrame, mor: pd.DataFrame, notes: list[str]) -> str:
    """Per target, the uncertainties by total Sobol' index (or Morris mu*), largest first."""
    lines = []
    if len(sob):
        n = int(sob["n"].iloc[0])
        lines.append(f"Sensitivity: total Sobol' indices ST (95 % interval half-width; n = {n}, checked against "
                     f"n = {n // 2}):")
        for target, s in sob.groupby("target", sort=False):
            s = s.sort_values("ST", ascending=False)
            parts = [f"{r.input.removeprefix('world.')} {r.ST:.2f}±{r.ST_conf:.2f}" + ("" if r.converged else " (not converged)")
                     for r in s.itertuples(index=False)]
            lines.append(f"  {target}: " + ", ".join(parts))
    if len(mor):
        lines.append("Morris screening, mu* per unit of quantile:")
        for target, m in mor.groupby("target", sort=False):
            m = m.sort_values("mu_star", ascending=False)
            lines.append(f"  {target}: " + ", ".join(f"{r.input.removeprefix('world.')} {r.mu_star:.3g}"
                                                     for r in m.itertuples(index=False)))
    lines += [f"  note: {n}" for n in notes]
    return "\n".join(lines)


def format_explore(ex: Explore, result: ExploreResult) -> str:
    """The command line's summary: runs, then each analysis's headline."""
    lines = [f"{result.done} runs done, {result.failed} failed, {result.skipped} already done; "
             f"{result.seconds:.1f}s; files in {result.out_dir}/"]
    rob = result.analyses.get("robustness")
    if rob is not None:
        what = "satisficing share" if rob.criterion == "satisficing" else f"{rob.criterion} of {rob.outcome}"
        lines += ["", f"Robustness across {int(rob.stats['worlds'].max())} worlds (ranked by {what}; "
                  f"ranking unchanged in {rob.stable_share:.0%} of {rob.resamples} bootstrap resamples of the worlds):"]
        shown = rob.ranking.merge(rob.satisficing[["policy", "satisficing"]], on="policy")
        for row in shown.itertuples(index=False):
            sat = "" if row.satisficing != row.satisficing else f", meets every target in {row.satisficing:.0%} of worlds"
            lines.append(f"  {row.rank}. {row.policy}: first in {row.p_first:.0%} of resamples{sat}")
        lines += ["", f"{'policy':<20}{'outcome':<26}{'mean':>12}{'p10':>12}{'p90':>12}{'regret max':>12}"
                  f"{'regret p90':>12}"]
        for row in rob.stats.itertuples(index=False):
            lines.append(f"{row.policy:<20}{row.outcome:<26}{row.mean:>12.4g}{row.p10:>12.4g}{row.p90:>12.4g}"
                         f"{row.regret_max:>12.4g}{row.regret_p90:>12.4g}")
    for key in ("sensitivity", "discovery", "red_team"):
        text = result.analyses.get(f"{key}_text")
        if text:
            lines += ["", text]
    return "\n".join(lines)
