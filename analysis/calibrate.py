"""Calibration: fit a scenario's world to a team's own observed numbers.

``livesim calibrate SCENARIO --observed OBSERVED.toml`` searches the ``[[fit]]`` ranges of the
observed file (:mod:`analysis.observed`) for worlds whose runs reproduce its ``[[targets]]``:

* **Search**: optuna's TPE sampler (Bayesian optimisation), its study kept in SQLite
  (``calibration.db``), so a calibration stopped at any point, even by SIGKILL, resumes with
  ``--resume`` and ends exactly where an uninterrupted one would. Candidates are proposed in
  batches of the file's ``batch`` (not of ``--workers``), and each proposal's sampler is seeded
  from the seed and the trial number, so the same seed gives the same calibration whatever the
  number of workers, the backend or the interruptions. Why optuna rather than ABC-SMC: it
  resumes from its own storage, needs no distance threshold schedule, and its every evaluated
  world is kept, so the plausible set below comes from the same runs (docs/calibration.md).
* **Evaluation**: every candidate world runs ``replications`` times through the sweep engine's
  unit of work (:func:`sim.experiment.run_spec`, on a local process pool or dask), replication
  ``r`` of every candidate with the same seed (common random numbers: candidates differ by their
  parameters, not their luck). Its loss is the root mean square implausibility of the fitted
  targets: the distance from the simulated mean to the observed value in half-band widths
  (history matching's measure; 1 is the band's edge). A target with a standard error widens its
  band by the simulation's run-to-run noise, pooled over every world evaluated
  (:class:`SimulationNoise`), not taken from each world's own few runs.
* **Plausible set**: every evaluated world whose simulated means lie within every fitted
  target's band: a region of worlds the data cannot rule out, not one point (history matching's
  "not implausible" region). Its per-parameter ranges are what the data pins down.
* **Fit report**: the best world is run again on fresh replications (``check_replications``,
  seeds the search never saw, so the winner's luck does not flatter it) for the fit table:
  observed, simulated mean and 95 % interval, normalised error ``(sim - observed) / observed``
  per target and the overall NRMSE, held-out targets apart (the out-of-sample check).

Files in ``--out`` (all written by livesim; nothing else there is touched): ``calibration.db``,
``calibration.json``, ``trials.parquet``, ``plausible.parquet``, ``best.toml`` (runs as is),
``fit.md``, ``marginals.png``, ``convergence.png``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.batches import batches
from analysis.observed import Observed, ObservedTarget
from sim.config import Scenario, with_overrides
from sim.errors import ScenarioError
from sim.outdir import atomic_parquet, atomic_write_bytes

__all__ = [
    "CALIBRATION_FILES",
    "CalibrationResult",
    "SimulationNoise",
    "calibrate",
    "fit_table",
    "format_fit",
    "format_fit_table",
    "format_recovery",
    "identify",
    "read_calibration",
    "recovery_table",
    "scenario_fit",
    "synthetic_observed",
    "target_values",
    "truth_values",
]

CALIBRATION_FILES = ("calibration.db", "calibration.json", "trials.parquet", "plausible.parquet", "profiles.parquet",
                     "fit.parquet",
                     "best.toml", "fit.md", "marginals.png", "convergence.png", "profiles.png", "identify.md")
MARKER = "livesim calibration"
# A parameter is "pinned down" when its profile interval spans at most this share of the searched range.
PINNED_SHARE = 0.5
STUDY = "livesim"


@dataclass
class CalibrationResult:
    """What a calibration found (also written to its folder)."""

    out_dir: Path
    best_params: dict[str, float | int]
    best_loss: float
    best_scenario: Scenario
    fit: pd.DataFrame  # one row per target (fitted and held out), from the check replications
    nrmse: float  # over the fitted targets
    nrmse_held_out: float  # over the held-out targets (NaN without any)
    trials: pd.DataFrame  # every evaluated world: parameters, loss, per-target simulated means
    plausible: pd.DataFrame  # the evaluated worlds within every fitted target's band
    evaluations: int
    seconds: float
    ranges: list[dict[str, Any]] = field(default_factory=list)  # the searched ranges (path, low, high, log)
    # Per parameter, worlds on a slice through the best one (the others held at their best values):
    # one row per (path, value) with its loss and whether it is within every fitted band.
    profiles: pd.DataFrame = field(default_factory=pd.DataFrame)
    files: list[str] = field(default_factory=list)
    noise: SimulationNoise | None = None  # the run-to-run noise every world was judged with


# ---------------------------------------------------------------------------------------
# Target values from a run
# ---------------------------------------------------------------------------------------


def _scale(t: ObservedTarget, scenario: Scenario) -> float:
    if not t.per_10k_creators:
        return 1.0
    share = 1.0
    if t.market != "all":
        total = sum(m.creator_share for m in scenario.world.markets) or 1.0
        share = next(m.creator_share for m in scenario.world.markets if m.name == t.market) / total
    base = scenario.world.n_creators * share
    return 10_000.0 / base if base else float("nan")


def target_values(targets: list[ObservedTarget], frames: dict[str, pd.DataFrame], scenario: Scenario) -> list[float]:
    """Each target's simulated value in one run (``run_spec``'s frames): the summary value of its
    metric in its market, or the mean of its daily values over its window, scaled per 10k
    creators when it says so."""
    summary, daily = frames["summary"], frames["daily"]
    out = []
    for t in targets:
        if t.days is None:
            rows = summary.loc[summary["market"] == t.market, t.metric]
        else:
            first, last = t.days
            sel = (daily["market"] == t.market) & (daily["day"] >= first) & (daily["day"] <= last)
            rows = daily.loc[sel, t.metric]
        x = float(rows.astype(float).mean()) if len(rows) else float("nan")
        out.append(x * _scale(t, scenario))
    return out


def _stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per column of ``values`` (replications x targets): mean, sd, and the 95 % t-interval of the mean."""
    from scipy import stats

    n = values.shape[0]
    with np.errstate(invalid="ignore"):
        mean = values.mean(axis=0)
        sd = values.std(axis=0, ddof=1) if n > 1 else np.zeros(values.shape[1])
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n) if n > 1 else np.full(values.shape[1], np.nan)
    return mean, sd, mean - half, mean + half


def _loss(obs: Observed, mean: np.ndarray, noise_sd: np.ndarray, n: int) -> tuple[float, bool, list[float]]:
    """Root mean square implausibility over the fitted targets of means over ``n`` runs, one run's
    noise being ``noise_sd`` per target; whether every fitted target is within its band; every
    target's implausibility."""
    scale = _noise_scale(obs, n)
    imp = [t.implausibility(float(m), float(s) * scale) for t, m, s in zip(obs.targets, mean, noise_sd, strict=True)]
    fitted = [i for t, i in zip(obs.targets, imp, strict=True) if not t.held_out]
    loss = math.sqrt(sum(i * i for i in fitted) / len(fitted))
    return loss, all(i <= 1.0 for i in fitted), imp


def _noise_scale(obs: Observed, n: int) -> float:
    """The noise of a mean over ``n`` runs less the observation, in units of one run's: 1 / sqrt(n),
    and a synthetic observation's own runs add theirs (a difference of two independent means)."""
    return math.sqrt(1.0 / max(n, 1) + (1.0 / obs.observation_runs if obs.observation_runs else 0.0))


@dataclass(frozen=True)
class SimulationNoise:
    """Each target's run-to-run noise, pooled over the worlds evaluated.

    A world run ``n`` times gives per target a standard deviation over its runs; alone (two runs
    per candidate: one degree of freedom) that is a very unreliable estimate, yet it sets how far
    a simulated mean may stray from an observation with a standard error. The pool sums every
    world's relative variance ``(sd / mean)^2`` weighted by its degrees of freedom ``n - 1``: the
    pooled within-world variance, on the relative scale because a search's worlds differ in their
    means by orders of magnitude and in their relative noise far less. A world whose mean is zero
    or not finite adds nothing for that target."""

    ss: tuple[float, ...]  # per target: the sum over worlds of (n - 1) (sd / mean)^2
    df: tuple[int, ...]  # per target: the sum over worlds of n - 1 (the degrees of freedom)

    @classmethod
    def empty(cls, k: int) -> SimulationNoise:
        return cls((0.0,) * k, (0,) * k)

    def add(self, mean: Sequence[float], sd: Sequence[float], n: int) -> SimulationNoise:
        """The pool with one more world: its per-target means and standard deviations over ``n`` runs."""
        ss, df = list(self.ss), list(self.df)
        for i, (m, s) in enumerate(zip(mean, sd, strict=True)):
            if n > 1 and m != 0 and math.isfinite(m) and math.isfinite(s):
                ss[i] += (n - 1) * (s / m) ** 2
                df[i] += n - 1
        return SimulationNoise(tuple(ss), tuple(df))

    @property
    def relative_sd(self) -> np.ndarray:
        """Per target: the pooled relative standard deviation of one run (0 without a degree of freedom)."""
        return np.array([math.sqrt(s / d) if d else 0.0 for s, d in zip(self.ss, self.df, strict=True)])

    def sd_at(self, obs: Observed) -> np.ndarray:
        """Per target: one run's noise in a world that reproduces the observation (the pooled
        relative sd times the observed value), the same for every world judged."""
        return self.relative_sd * np.array([abs(t.centre) for t in obs.targets], dtype=float)


def _pooled(prior: SimulationNoise, trials: list[Any], reps: int,
            fresh: dict[int, tuple[list[float], list[float]]]) -> SimulationNoise:
    """``prior`` and every complete trial's world (its stored means and sds, or ``fresh`` ones of
    trials being judged), added in trial order: a resumed search pools exactly the same numbers."""
    from optuna.trial import TrialState

    worlds = {t.number: (t.user_attrs["mean"], t.user_attrs["sd"]) for t in trials
              if t.state == TrialState.COMPLETE and "mean" in t.user_attrs}
    worlds.update(fresh)
    noise = prior
    for number in sorted(worlds):
        noise = noise.add(*worlds[number], reps)
    return noise


# ---------------------------------------------------------------------------------------
# Running candidate worlds
# ---------------------------------------------------------------------------------------


def run_quiet(spec: Any) -> dict[str, Any]:
    """The sweep engine's ``run_spec`` without scenario warnings: the command line has shown the
    base scenario's once (a candidate differs only in world parameters)."""
    import warnings

    from sim.errors import ScenarioWarning
    from sim.experiment import run_spec

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        return run_spec(spec)


class _Runner:
    """Runs specs on the sweep engine's unit of work: in this process (one worker), a process
    pool kept for the whole calibration, or dask. Results never depend on which."""

    def __init__(self, workers: int, backend: str, scheduler: str | None) -> None:
        self.workers, self.backend = workers, backend
        self.pool: Any = None
        self.client: Any = None
        self.cluster: Any = None
        if backend == "dask":
            from sim.experiment import _dask_client

            self.client, self.cluster = _dask_client(workers, scheduler)
        elif workers > 1:
            import multiprocessing as mp
            from concurrent.futures import ProcessPoolExecutor

            from sim.workerinit import start_pool_worker

            self.pool = ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                            initializer=start_pool_worker, initargs=(os.getpid(),))

    def map(self, specs: list[Any]) -> list[dict[str, Any]]:
        if self.client is not None:
            futures = [self.client.submit(run_quiet, s, pure=False, key=f"livesim-cal-{s.run_id}") for s in specs]
            return [f.result() for f in futures]
        if self.pool is not None:
            return list(self.pool.map(run_quiet, specs))
        return [run_quiet(s) for s in specs]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
        if self.client is not None:
            self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def _candidate(base: Scenario, obs: Observed, params: dict[str, float]) -> tuple[Scenario, dict[str, Any]]:
    values = {p.path: obs.value(p, params[p.path]) for p in obs.fit}
    return with_overrides(base, values, source="calibration candidate", check_timeline=False), values


def _evaluate(runner: _Runner, base: Scenario, obs: Observed, candidates: list[tuple[int, dict[str, float]]],
              replications: range) -> list[dict[str, Any]]:
    """Run each candidate ``(number, params)`` once per replication; per candidate the target
    values (replications x targets) or the first error."""
    from sim.sweep import RunSpec

    specs, index = [], []
    for number, params in candidates:
        scenario, values = _candidate(base, obs, params)
        for r in replications:
            specs.append(RunSpec(run_id=f"t{number:05d}-r{r:03d}", variant="calibration", point=number,
                                 replication=r, params=values, scenario=scenario))
            index.append(number)
    outcomes = runner.map(specs)
    out: dict[int, dict[str, Any]] = {n: {"values": [], "error": None} for n, _ in candidates}
    for number, spec, outcome in zip(index, specs, outcomes, strict=True):
        if outcome["status"] != "done":
            out[number]["error"] = out[number]["error"] or outcome.get("error", "failed")
            continue
        out[number]["values"].append(target_values(obs.targets, outcome["frames"], spec.scenario))
    return [out[n] for n, _ in candidates]


# ---------------------------------------------------------------------------------------
# The folder
# ---------------------------------------------------------------------------------------


def _identity(base: Scenario, obs: Observed, seed: int, mode: str) -> dict[str, Any]:
    from sim.provenance import scenario_hash

    text = Path(obs.source).read_bytes() if Path(obs.source).is_file() else obs.source.encode()
    return {"scenario_hash": scenario_hash(base), "observed_sha256": hashlib.sha256(text).hexdigest()[:16],
            "seed": seed, "mode": mode}


def _check_folder(out: Path, resume: bool) -> dict[str, Any] | None:
    """The earlier calibration's record when resuming; ScenarioError when the folder cannot be used."""
    given = str(out)
    if not out.exists():
        if resume:
            raise ScenarioError("--out", None, given, "no calibration to resume there; leave out --resume to start one")
        return None
    if not out.is_dir():
        raise ScenarioError("--out", None, given, "is a file, not a folder; choose a folder for the calibration")
    record = out / "calibration.json"
    doc = None
    if record.is_file():
        try:
            doc = json.loads(record.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            doc = None
        if not isinstance(doc, dict) or doc.get("kind") != MARKER:
            doc = None
    entries = list(out.iterdir())
    if doc is None:
        if entries:
            raise ScenarioError("--out", None, given, "holds files and is not a livesim calibration folder; livesim "
                                "writes only into a new or empty folder, or resumes its own calibration: choose "
                                "another --out")
        if resume:
            raise ScenarioError("--out", None, given, "no calibration to resume there (the folder is empty)")
        return None
    if not resume:
        raise ScenarioError("--out", None, given, "already holds a calibration; add --resume to continue it, or "
                            "choose another --out (livesim does not replace a calibration)")
    clash = [p.name for p in entries if p.name in CALIBRATION_FILES and p.is_dir()]
    if clash:
        raise ScenarioError("--out", None, given, f"{clash[0]} is a folder where livesim writes a file; move it away")
    return doc


# ---------------------------------------------------------------------------------------
# The search
# ---------------------------------------------------------------------------------------


def _sampler(seed: int, number: int) -> Any:
    import optuna

    state = int(np.random.SeedSequence([seed, number]).generate_state(1)[0])
    return optuna.samplers.TPESampler(seed=state)


def calibrate(
    scenario: Scenario,
    observed: Observed,
    out: str | Path,
    *,
    budget: int = 60,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    seed: int | None = None,
    check_replications: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    notify: Callable[[str], None] | None = None,
    mode: str = "observed",
    noise: SimulationNoise | None = None,
) -> CalibrationResult:
    """Fit ``scenario``'s world to ``observed`` with ``budget`` evaluated candidates (each run
    ``observed.replications`` times), then check the best on fresh replications and write the
    calibration's files into ``out`` (a new or empty folder, or its own with ``resume``).

    Every world is judged with the run-to-run noise pooled over the worlds evaluated
    (:class:`SimulationNoise`): during the search, those up to the end of its batch; at the end,
    every one, so the plausible set, the best world and the slices share one estimate. ``noise``
    holds runs made before the search to pool with its own (an identifiability check's known world)."""
    import optuna
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState

    if budget < 1:
        raise ScenarioError("--budget", None, budget, "expected at least 1 candidate world")
    if backend not in ("local", "dask"):
        raise ScenarioError("--backend", None, backend, "allowed: local, dask")
    out = Path(out)
    seed = scenario.seed if seed is None else int(seed)
    reps = observed.replications
    n_check = check_replications or max(5, 2 * reps)
    identity = _identity(scenario, observed, seed, mode)
    earlier = _check_folder(out, resume)
    if earlier is not None and earlier.get("identity") != identity:
        raise ScenarioError("--out", None, str(out), "holds a calibration of another scenario, observed file or seed; "
                            "--resume continues only the same calibration: choose another --out")
    t0 = time.perf_counter()
    runner = _Runner(workers, backend, scheduler)  # connect before making anything: a failure leaves no trace
    try:  # the runner is closed if setting up the folder or the study fails
        out.mkdir(parents=True, exist_ok=True)
        record = {"kind": MARKER, "identity": identity, "status": "running", "budget": budget,
                  "scenario": scenario.name, "observed": observed.source, "replications": reps,
                  "batch": observed.batch, "fit": [p.model_dump() for p in observed.fit],
                  "targets": [t.describe() for t in observed.targets]}
        atomic_write_bytes(out / "calibration.json", json.dumps(record, indent=2).encode())

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        storage = optuna.storages.RDBStorage(f"sqlite:///{(out / 'calibration.db').resolve()}")
        study = optuna.create_study(study_name=STUDY, storage=storage, direction="minimize", load_if_exists=True)
        study_id = storage.get_study_id_from_name(STUDY)

        def note(number: int, key: str, value: Any) -> None:
            storage.set_trial_user_attr(storage.get_trial_id_from_study_id_trial_number(study_id, number), key, value)

    except BaseException:
        runner.close()
        raise
    dist = {p.path: FloatDistribution(float(p.low), float(p.high), log=p.log) for p in observed.fit}
    prior = noise if noise is not None else SimulationNoise.empty(len(observed.targets))
    try:
        for batch in batches(study, dist, budget=budget, batch=observed.batch,
                             sampler_for=lambda number: _sampler(seed, number), progress=progress):
            results = _evaluate(runner, scenario, observed, [(t.number, t.params) for t in batch], range(reps))
            fresh: dict[int, tuple[list[float], list[float]]] = {}
            for t, res in zip(batch, results, strict=True):
                if res["error"] is not None or not res["values"]:
                    note(t.number, "error", str(res["error"])[:500])
                    study.tell(t.number, state=TrialState.FAIL)
                    continue
                mean, sd, _, _ = _stats(np.array(res["values"], dtype=float))
                fresh[t.number] = ([float(x) for x in mean], [float(x) for x in sd])
                note(t.number, "mean", fresh[t.number][0])
                note(t.number, "sd", fresh[t.number][1])
            # The batch is judged with the noise of every world up to its end (its own included).
            noise_sd = _pooled(prior, study.get_trials(deepcopy=False), reps, fresh).sd_at(observed)
            for number, (mean, _) in fresh.items():
                loss, ok, _ = _loss(observed, np.array(mean, dtype=float), noise_sd, reps)
                note(number, "plausible", bool(ok))
                study.tell(number, float(loss) if math.isfinite(loss) else 1e300)
        final = _pooled(prior, study.get_trials(deepcopy=False), reps, {})
        noise_sd = final.sd_at(observed)
        trials_df = _trials_frame(study, observed, noise_sd, reps)
        complete = trials_df[trials_df["state"] == "COMPLETE"]
        if complete.empty:
            raise ScenarioError(str(observed.source), None, None, "no candidate world could be run (every one failed; "
                                f"first error: {trials_df['error'].dropna().iloc[0] if 'error' in trials_df else '?'})")
        best = complete.sort_values(["loss", "trial"]).iloc[0]
        best_params = {p.path: observed.value(p, float(best[p.path])) for p in observed.fit}
        best_loss = float(best["loss"])
        if observed.profile_points and notify is not None:
            notify(f"profiles: {observed.profile_points} worlds per parameter on slices through the best one")
        profiles = _profiles(runner, scenario, observed, best_params, best_loss, bool(best["plausible"]), noise_sd)
        # A world on a slice ran on the search's replications too: if it fits better, it is the best.
        better = profiles[~profiles["best"] & (profiles["loss"] < best_loss)] if len(profiles) else profiles
        if len(better):
            top = better.sort_values("loss", kind="stable").iloc[0]
            best_params = {**best_params, top["path"]: top["value"]}
            best_loss = float(top["loss"])
        if notify is not None:
            notify(f"checking the best world on {n_check} fresh replications")
        check = _evaluate(runner, scenario, observed, [(int(best["trial"]), {k: float(v) for k, v in best_params.items()})],
                          range(reps, reps + n_check))[0]
    finally:
        runner.close()
    if check["error"] is not None and not check["values"]:
        raise ScenarioError(str(observed.source), None, None, f"the best world failed on its check runs: {check['error']}")
    best_scenario, _ = _candidate(scenario, observed, {k: float(v) for k, v in best_params.items()})
    fit = fit_table(observed, np.array(check["values"], dtype=float), noise_sd)
    nrmse = _nrmse(fit, held_out=False)
    nrmse_ho = _nrmse(fit, held_out=True)
    # Every evaluated world within every fitted band: the search's, then those of the slices.
    found = trials_df[trials_df["plausible"].fillna(False).astype(bool)].assign(source="search")
    on_slices = profiles[profiles["plausible"].astype(bool) & ~profiles["best"].astype(bool)] if len(profiles) else profiles
    on_slices = on_slices.drop(columns=["value", "best"]).rename(columns={"path": "slice"}).assign(source="slice")
    plausible = pd.concat([found, on_slices], ignore_index=True) if len(on_slices) else found.reset_index(drop=True)
    result = CalibrationResult(out, best_params, best_loss, best_scenario, fit, nrmse, nrmse_ho,
                               trials_df, plausible, len(complete), time.perf_counter() - t0,
                               ranges=[p.model_dump() for p in observed.fit], profiles=profiles, noise=final)
    _write(result, observed, record, seed)
    return result


# Run numbers of the profile worlds (apart from the search's trial numbers).
PROFILE_BASE = 1_000_000


def profile_grid(lo: float, hi: float, log: bool, k: int) -> np.ndarray:
    """``k`` evenly spaced values over a range (geometrically on a log scale)."""
    return np.geomspace(lo, hi, k) if log else np.linspace(lo, hi, k)


def _profiles(runner: _Runner, base: Scenario, obs: Observed, best: dict[str, float | int], best_loss: float,
              best_plausible: bool, noise_sd: np.ndarray) -> pd.DataFrame:
    """Per fitted parameter, ``profile_points`` worlds across its range with every other parameter
    at its best value, run on the search's replications (so they compare with the best world's
    loss under common random numbers). The best world itself is one row of every slice. Each row
    has the slice (``path``, ``value``), the world's parameters, its loss, whether it is within
    every fitted band, and its simulated means."""
    k = obs.profile_points
    names = [f"sim: {t.describe()}" for t in obs.targets]
    cols = ["path", "value", "loss", "plausible", "best", *(p.path for p in obs.fit), *names]
    if not k:
        return pd.DataFrame(columns=cols)
    cands, where = [], []
    for j, p in enumerate(obs.fit):
        for i, x in enumerate(profile_grid(float(p.low), float(p.high), p.log, k)):
            x = obs.value(p, float(x))
            if x == best[p.path]:
                continue
            cands.append((PROFILE_BASE + j * 1000 + i, {**{q: float(v) for q, v in best.items()}, p.path: float(x)}))
            where.append((p.path, x))
    results = _evaluate(runner, base, obs, cands, range(obs.replications))
    rows = [{"path": p.path, "value": best[p.path], "loss": best_loss, "plausible": best_plausible, "best": True,
             **best} for p in obs.fit]
    for (path, x), res in zip(where, results, strict=True):
        row = {"path": path, "value": x, "best": False, **best, path: x}
        if res["error"] is not None or not res["values"]:
            rows.append(row | {"loss": math.inf, "plausible": False})
            continue
        values = np.array(res["values"], dtype=float)
        mean, _, _, _ = _stats(values)
        loss, ok, _ = _loss(obs, mean, noise_sd, values.shape[0])
        rows.append(row | {"loss": loss, "plausible": ok} | dict(zip(names, (float(m) for m in mean), strict=True)))
    frame = pd.DataFrame(rows, columns=cols)
    return frame.sort_values(["path", "value"], kind="stable").reset_index(drop=True)


def profile_intervals(result: CalibrationResult) -> pd.DataFrame:
    """Per fitted parameter, the interval of values the data leaves plausible: from the lowest to
    the highest value among every evaluated world within every fitted band (the plausible set of
    the search and the plausible worlds of the parameter's slice through the best one), the slice
    end widened halfway to its neighbouring implausible world (the grid's resolution). With its
    share of the searched range and the verdict: ``pinned down`` (at most half the range), ``left
    open`` (more) or ``no plausible world`` (nothing evaluated lies within every band).

    The slice shows how far the parameter can move alone; the plausible set adds the worlds where
    it moves together with others (a ridge), so the interval is the projection of every plausible
    world found, not a slice alone."""
    rows = []
    for r in result.ranges:
        path, lo, hi, log = r["path"], float(r["low"]), float(r["high"]), bool(r.get("log"))
        t = np.log if log else (lambda v: np.asarray(v, dtype=float))
        inv = np.exp if log else (lambda v: v)
        ends: list[float] = []
        if len(result.plausible):
            vals = result.plausible[path].to_numpy(dtype=float)
            ends += [float(vals.min()), float(vals.max())]
        sl = result.profiles[result.profiles["path"] == path] if len(result.profiles) else pd.DataFrame()
        if len(sl) and sl["plausible"].any():
            x = sl["value"].to_numpy(dtype=float)
            ok = sl["plausible"].to_numpy(dtype=bool)
            first, last = int(np.flatnonzero(ok)[0]), int(np.flatnonzero(ok)[-1])
            ends.append(x[first] if first == 0 else float(inv((t(x[first]) + t(x[first - 1])) / 2)))
            ends.append(x[last] if last == len(x) - 1 else float(inv((t(x[last]) + t(x[last + 1])) / 2)))
        row = {"path": path, "low": lo, "high": hi, "log": log, "interval_low": float("nan"),
               "interval_high": float("nan"), "share_of_range": float("nan"), "verdict": "no plausible world"}
        if ends:
            a, b = min(ends), max(ends)
            share = float((t(b) - t(a)) / (t(hi) - t(lo)))
            row |= {"interval_low": a, "interval_high": b, "share_of_range": share,
                    "verdict": "pinned down" if share <= PINNED_SHARE else "left open"}
        rows.append(row)
    return pd.DataFrame(rows)


def scenario_fit(scenario: Scenario, observed: Observed, *, replications: int | None = None, workers: int = 1,
                 backend: str = "local", scheduler: str | None = None) -> tuple[pd.DataFrame, float, float]:
    """The fit of ``scenario`` as it is (its own parameter values, nothing searched) to
    ``observed``: the fit table over ``replications`` runs (default ``max(5, 2 x the file's
    replications)``, on the same fresh seeds a calibration checks its best world on), and the
    NRMSE of the fitted and of the held-out targets (``livesim calibrate --budget 0``)."""
    n = replications or max(5, 2 * observed.replications)
    runner = _Runner(workers, backend, scheduler)
    try:
        from sim.sweep import RunSpec

        specs = [RunSpec(run_id=f"as-is-r{r:03d}", variant="calibration", point=0, replication=r, params={},
                         scenario=scenario)
                 for r in range(observed.replications, observed.replications + n)]
        outcomes = runner.map(specs)
    finally:
        runner.close()
    failed = [o for o in outcomes if o["status"] != "done"]
    if failed:
        raise ScenarioError(str(observed.source), None, None, f"the scenario failed to run: {failed[0].get('error')}")
    values = np.array([target_values(observed.targets, o["frames"], scenario) for o in outcomes], dtype=float)
    fit = fit_table(observed, values)
    return fit, _nrmse(fit, held_out=False), _nrmse(fit, held_out=True)


def _trials_frame(study: Any, obs: Observed, noise_sd: np.ndarray, reps: int) -> pd.DataFrame:
    """Every trial: its parameters, its loss and plausibility judged with the final pooled noise
    (``noise_sd``), the loss it was told in the search (``search_loss``, judged with the noise known
    then) and its simulated means."""
    rows = []
    names = [t.describe() for t in obs.targets]
    for t in study.get_trials(deepcopy=False):
        mean = t.user_attrs.get("mean") if t.state.name == "COMPLETE" else None
        loss, ok = (float("nan"), False) if not mean else _loss(obs, np.array(mean, dtype=float), noise_sd, reps)[:2]
        row: dict[str, Any] = {"trial": t.number, "state": t.state.name, "loss": loss,
                               "search_loss": t.value if t.value is not None else float("nan")}
        for p in obs.fit:
            row[p.path] = obs.value(p, t.params[p.path]) if p.path in t.params else float("nan")
        for i, name in enumerate(names):
            row[f"sim: {name}"] = mean[i] if mean else float("nan")
        row["plausible"] = bool(ok)
        row["error"] = t.user_attrs.get("error")
        rows.append(row)
    frame = pd.DataFrame(rows)
    return frame.sort_values("trial").reset_index(drop=True)


def fit_table(obs: Observed, values: np.ndarray, noise_sd: np.ndarray | None = None) -> pd.DataFrame:
    """Per target, from ``values`` (replications x targets): observed, simulated mean and 95 %
    interval, normalised error, implausibility, within the band, held out. The implausibility
    counts one run's noise as ``noise_sd`` (a calibration's pooled estimate), else as the sd of
    these runs."""
    mean, sd, low, high = _stats(values)
    scale = _noise_scale(obs, values.shape[0])
    noise_sd = sd if noise_sd is None else noise_sd
    rows = []
    for i, t in enumerate(obs.targets):
        m = float(mean[i])
        imp = t.implausibility(m, float(noise_sd[i]) * scale)
        rows.append({"target": t.describe(), "metric": t.metric, "market": t.market,
                     "days": "" if t.days is None else f"{t.days[0]}-{t.days[1]}",
                     "observed": t.band_text(), "simulated": m, "low95": float(low[i]), "high95": float(high[i]),
                     "normalised_error": t.normalised_error(m), "implausibility": imp,
                     "within": bool(imp <= 1.0), "held_out": t.held_out, "n": int(values.shape[0])})
    return pd.DataFrame(rows)


def _nrmse(fit: pd.DataFrame, held_out: bool) -> float:
    e = fit.loc[fit["held_out"] == held_out, "normalised_error"].to_numpy(dtype=float)
    return float(np.sqrt(np.mean(e**2))) if e.size else float("nan")


def _g(x: float) -> str:
    if x != x:
        return "n/a"
    if math.isinf(x):
        return "inf"
    return f"{x:,.4g}"


def _fit_rows(rows: pd.DataFrame, markdown: bool) -> list[str]:
    head = ["target", "observed", "simulated", "95% interval", "norm. error", "implaus.", "within"]
    body = [[r.target, r.observed, _g(r.simulated), f"{_g(r.low95)} to {_g(r.high95)}",
             f"{r.normalised_error:+.3f}" if math.isfinite(r.normalised_error) else "inf",
             _g(r.implausibility), "yes" if r.within else "NO"] for r in rows.itertuples()]
    if markdown:
        return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(b) + " |" for b in body]
    widths = [max(len(h), *(len(b[i]) for b in body)) for i, h in enumerate(head)]
    fmt = "  ".join(f"{{:{'<' if i < 2 else '>'}{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*head), fmt.format(*("-" * w for w in widths))] + [fmt.format(*b) for b in body]


def format_fit_table(fit: pd.DataFrame, nrmse: float, nrmse_held_out: float, markdown: bool = False) -> list[str]:
    """A fit table as lines: the fitted targets and their NRMSE, then the held-out ones apart."""
    lines = [*_fit_rows(fit[~fit["held_out"]], markdown), "", f"NRMSE over the fitted targets: {nrmse:.3f}"]
    if fit["held_out"].any():
        lines += ["", "Held out (not fitted; the out-of-sample check):", ""]
        lines += _fit_rows(fit[fit["held_out"]], markdown)
        lines += ["", f"NRMSE over the held-out targets: {nrmse_held_out:.3f}"]
    return lines


def format_fit(result: CalibrationResult, markdown: bool = False) -> str:
    """The fit table as text (or Markdown), fitted targets first, held-out ones apart."""
    fit = result.fit
    n = int(fit["n"].iloc[0]) if len(fit) else 0
    lines = [f"Fit of the best world ({n} fresh replications; loss {_g(result.best_loss)} in the search):", ""]
    lines += format_fit_table(fit, result.nrmse, result.nrmse_held_out, markdown)
    if result.noise is not None and len(fit):
        lines += ["", "Run-to-run noise of one run, pooled over the worlds evaluated (relative sd, degrees of "
                  "freedom); it widens the band of each target given with an se:"]
        lines += [f"  {name}: {r:.3f} ({d})" for name, r, d
                  in zip(fit["target"], result.noise.relative_sd, result.noise.df, strict=True)]
    lines += ["", "Best world:"]
    lines += [f"  {k} = {v:g}" if isinstance(v, float) else f"  {k} = {v}" for k, v in result.best_params.items()]
    lines.append("")
    n_slice = len(result.profiles) - len(result.ranges) if len(result.profiles) else 0
    lines.append(f"Plausible set: {len(result.plausible)} of {result.evaluations + n_slice} evaluated worlds "
                 f"({result.evaluations} in the search, {n_slice} on the slices) within every fitted target's band")
    ranges = marginal_ranges(result)
    for row in ranges.itertuples():
        lines.append(f"  {row.path}: {_g(row.plausible_low)} to {_g(row.plausible_high)} "
                     f"(searched {_g(row.low)} to {_g(row.high)}; {_pct(row.share_of_range)} of the range)")
    if len(result.profiles):
        lines += ["", "What the targets pin down (the values of every plausible world found: the search's and those "
                  "on each parameter's slice through the best world):"]
        for row in profile_intervals(result).itertuples():
            span = "" if row.interval_low != row.interval_low else \
                f"{_g(row.interval_low)} to {_g(row.interval_high)} ({_pct(row.share_of_range)} of the range): "
            lines.append(f"  {row.path}: {span}{row.verdict}")
    return "\n".join(lines)


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.0%}"


def marginal_ranges(result: CalibrationResult) -> pd.DataFrame:
    """Per fitted parameter: the searched range and the plausible set's range (NaN when empty)."""
    rows = []
    for p in result.ranges:
        vals = result.plausible[p["path"]].to_numpy(dtype=float) if len(result.plausible) else np.zeros(0)
        lo, hi = (float(vals.min()), float(vals.max())) if vals.size else (float("nan"), float("nan"))
        if p.get("log") and vals.size:
            share = (math.log(hi) - math.log(lo)) / (math.log(p["high"]) - math.log(p["low"]))
        else:
            share = (hi - lo) / (p["high"] - p["low"]) if vals.size else float("nan")
        rows.append({"path": p["path"], "low": p["low"], "high": p["high"], "log": bool(p.get("log")),
                     "plausible_low": lo, "plausible_high": hi, "share_of_range": share,
                     "best": result.best_params.get(p["path"], float("nan"))})
    return pd.DataFrame(rows)


def _write(result: CalibrationResult, obs: Observed, record: dict[str, Any], seed: int) -> None:
    from sim.provenance import scenario_toml

    out = result.out_dir
    atomic_parquet(result.trials, out / "trials.parquet")
    atomic_parquet(result.fit, out / "fit.parquet")
    atomic_parquet(result.plausible, out / "plausible.parquet")
    if len(result.profiles):
        atomic_parquet(result.profiles, out / "profiles.parquet")
    header = (f"# calibrated by livesim calibrate to {obs.source} (seed {seed}, {result.evaluations} worlds "
              f"evaluated); NRMSE {result.nrmse:.3f} over the fitted targets\n")
    atomic_write_bytes(out / "best.toml", (header + scenario_toml(result.best_scenario)).encode())
    record.update({"status": "done", "best_params": result.best_params, "best_loss": result.best_loss,
                   "nrmse": result.nrmse, "nrmse_held_out": None if result.nrmse_held_out != result.nrmse_held_out
                   else result.nrmse_held_out, "plausible": len(result.plausible),
                   "evaluations": result.evaluations,
                   "intervals": json.loads(profile_intervals(result).to_json(orient="records"))})
    if result.noise is not None:
        record["simulation_noise"] = [{"target": t.describe(), "relative_sd": float(r), "df": int(d)} for t, r, d
                                      in zip(obs.targets, result.noise.relative_sd, result.noise.df, strict=True)]
    atomic_write_bytes(out / "calibration.json", json.dumps(record, indent=2).encode())
    atomic_write_bytes(out / "fit.md", (f"# Calibration of {record['scenario']} to {obs.source}\n\n"
                                   + format_fit(result, markdown=True) + "\n").encode())
    _plots(result)
    result.files = [f for f in CALIBRATION_FILES if (out / f).exists()]


def _plots(result: CalibrationResult) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    out = result.out_dir
    ranges = marginal_ranges(result)
    intervals = profile_intervals(result).set_index("path")
    k = len(ranges)
    fig, axes = plt.subplots(k, 1, figsize=(7, 1.1 + 0.9 * k), squeeze=False)
    for ax, row in zip(axes[:, 0], ranges.itertuples(), strict=True):
        ax.axvspan(row.low, row.high, color="0.9", label="searched")
        iv = intervals.loc[row.path]
        if iv["interval_low"] == iv["interval_low"]:
            ax.axvspan(iv["interval_low"], iv["interval_high"], ymin=0.1, ymax=0.9, fill=False, hatch="//",
                       edgecolor="tab:orange", label=f"interval: {iv['verdict']}")
        if row.plausible_low == row.plausible_low:
            ax.axvspan(row.plausible_low, row.plausible_high, color="tab:blue", alpha=0.35, label="plausible set")
        vals = result.trials[row.path].to_numpy(dtype=float)
        ax.plot(vals, np.zeros_like(vals), "|", color="0.5", markersize=10)
        ax.plot([row.best], [0], "o", color="tab:red", label="best")
        if row.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlim(row.low, row.high)
        ax.set_yticks([])
        ax.set_title(row.path, fontsize=9, loc="left")
    handles, labels = {}, {}
    for ax in axes[:, 0]:  # one legend for every panel, above them (an interval's verdict per panel)
        for h, label in zip(*ax.get_legend_handles_labels(), strict=True):
            key = "interval" if label.startswith("interval") else label
            handles.setdefault(key, h)
            labels.setdefault(key, "interval of plausible worlds (verdict in the title)" if key == "interval" else label)
    for ax, iv in zip(axes[:, 0], (intervals.loc[r.path] for r in ranges.itertuples()), strict=True):
        ax.set_title(f"{ax.get_title(loc='left')}: {iv['verdict']}", fontsize=9, loc="left")
    fig.legend(list(handles.values()), list(labels.values()), loc="upper center", ncol=4, fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0, 1, 1 - 0.35 / fig.get_figheight()))
    _save(fig, out / "marginals.png")
    plt.close(fig)

    fig, ax = plt.subplots(figsize=(7, 3.2))
    done = result.trials[result.trials["state"] == "COMPLETE"]
    ax.plot(done["trial"], done["loss"], ".", color="0.6", label="each world")
    ax.plot(done["trial"], done["loss"].cummin(), "-", color="tab:blue", label="best so far")
    ax.axhline(1.0, color="tab:red", lw=0.8, ls="--", label="band edge (loss 1)")
    ax.set_yscale("log")
    ax.set_xlabel("evaluated world")
    ax.set_ylabel("loss (RMS implausibility)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    _save(fig, out / "convergence.png")
    plt.close(fig)

    if not len(result.profiles):
        return
    k = len(result.ranges)
    fig, axes = plt.subplots(1, k, figsize=(3.0 * k + 0.6, 3.0), squeeze=False, sharey=True)
    for ax, r in zip(axes[0], result.ranges, strict=True):
        sl = result.profiles[result.profiles["path"] == r["path"]]
        loss = sl["loss"].clip(upper=1e6)
        ax.plot(sl["value"], loss, "-o", color="tab:blue", markersize=3)
        ax.plot(sl.loc[sl["best"], "value"], sl.loc[sl["best"], "loss"], "o", color="tab:red")
        ax.axhline(1.0, color="tab:red", lw=0.8, ls="--")
        if r.get("log"):
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.tick_params(axis="x", labelsize=7)
        ax.set_yscale("log")
        ax.set_title(r["path"].removeprefix("world."), fontsize=8)
    axes[0, 0].set_ylabel("loss on the slice")
    fig.tight_layout()
    _save(fig, out / "profiles.png")
    plt.close(fig)


def _save(fig: Any, path: Path) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp.png")
    fig.savefig(tmp, dpi=110)
    os.replace(tmp, path)


# ---------------------------------------------------------------------------------------
# Identifiability: can these targets pin down these parameters at all?
# ---------------------------------------------------------------------------------------

# Replication numbers of the synthetic observations: far from the search's and the check's, so
# the calibration never sees the runs the "data" came from.
TRUTH_REPLICATION = 100_000
# A one-sided target gives no value to recover; in an identifiability check it becomes a value
# target with this relative tolerance around the synthetic observation.
ONE_SIDED_TOLERANCE = 0.10


def truth_values(scenario: Scenario, obs: Observed) -> dict[str, float | int]:
    """The known parameter values of an identifiability check: each fitted parameter's value in
    the scenario when it lies in the searched range, else the range's middle (geometric on a
    log scale)."""
    from sim.config import value_at

    out: dict[str, float | int] = {}
    for p in obs.fit:
        x = value_at(scenario, p.path)
        if not p.low <= x <= p.high:
            x = math.sqrt(p.low * p.high) if p.log else (p.low + p.high) / 2.0
        out[p.path] = obs.value(p, float(x))
    return out


def synthetic_observed(obs: Observed, means: np.ndarray, n: int) -> Observed:
    """``obs`` with every target moved to the known world's simulated mean over ``n`` runs, as a
    value with the file's precision as its standard error (a tolerance or band half-width h counts
    as se h / 3; a one-sided band as 10 % of the value). The noise of the synthetic observation
    itself is not baked into that se from its own few runs' sd: the observed file records its
    ``n`` runs (``observation_runs``) and every comparison adds the pooled noise of a mean over
    ``n`` runs (:class:`SimulationNoise`), beside the compared world's own, as history matching
    does."""
    from dataclasses import replace

    from analysis.observed import SIGMAS

    targets = []
    for t, m in zip(obs.targets, means, strict=True):
        m = float(m)
        if t.se is not None:
            se = t.se
        else:
            h = t.half_width()
            se = (h if math.isfinite(h) else ONE_SIDED_TOLERANCE * abs(m)) / SIGMAS
        targets.append(t.model_copy(update={"value": m, "se": se or 1e-12, "tolerance": None, "min": None,
                                            "max": None, "label": ""}))
    return replace(obs, targets=targets, observation_runs=n)


def identify(
    scenario: Scenario,
    observed: Observed,
    out: str | Path,
    *,
    workers: int = 1,
    backend: str = "local",
    scheduler: str | None = None,
    resume: bool = False,
    notify: Callable[[str], None] | None = None,
    **options: Any,
) -> tuple[CalibrationResult, pd.DataFrame]:
    """Calibrate to synthetic observations made by the model at known parameter values, and say
    per parameter how well it is recovered: the truth, the best value, the recovered interval
    (:func:`profile_intervals`), whether it holds the truth, and whether the targets pin the
    parameter down or leave it open. ``options`` go to :func:`calibrate` (``budget``, ``seed``,
    ``progress``...). Writes ``identify.md`` beside the calibration's files.

    The synthetic observation is the known world's mean over ``max(5, 2 x replications)`` runs on
    seeds the search never uses; its own noise is counted from the pooled estimate, not from the
    sd of those few runs (:func:`synthetic_observed`)."""
    out = Path(out)
    _check_folder(out, resume)
    truth = truth_values(scenario, observed)
    n_truth = max(5, 2 * observed.replications)
    if notify is not None:
        notify(f"making synthetic observations: the known world run {n_truth} times")
    runner = _Runner(workers, backend, scheduler)
    try:
        made = _evaluate(runner, scenario, observed, [(0, {k: float(v) for k, v in truth.items()})],
                         range(TRUTH_REPLICATION, TRUTH_REPLICATION + n_truth))[0]
    finally:
        runner.close()
    if made["error"] is not None and not made["values"]:
        raise ScenarioError(str(observed.source), None, None, f"the known world could not be run: {made['error']}")
    made_values = np.array(made["values"], dtype=float)
    n_made = made_values.shape[0]
    means, sds, _, _ = _stats(made_values)
    synthetic = synthetic_observed(observed, means, n_made)
    # The known world's runs are runs of a world like any candidate's: they join the noise pool.
    noise = SimulationNoise.empty(len(observed.targets)).add([float(x) for x in means], [float(x) for x in sds], n_made)
    result = calibrate(scenario, synthetic, out, workers=workers, backend=backend, scheduler=scheduler,
                       resume=resume, notify=notify, mode="identify", noise=noise, **options)
    table = recovery_table(result, truth)
    text = format_recovery(table)
    atomic_write_bytes(out / "identify.md", (f"# Identifiability of {len(truth)} parameters from "
                                        f"{len(observed.fitted)} targets ({observed.source})\n\n"
                                        + text + "\n").encode())
    result.files = [*result.files, "identify.md"]
    return result, table


def recovery_table(result: CalibrationResult, truth: dict[str, float | int]) -> pd.DataFrame:
    """Per parameter: the truth, the best value, the recovered interval (its profile interval,
    :func:`profile_intervals`), whether that holds the truth, its share of the searched range, the
    verdict, and the plausible set's range beside it."""
    marg = marginal_ranges(result).set_index("path")
    rows = []
    for r in profile_intervals(result).itertuples():
        x = float(truth[r.path])
        has = bool(r.interval_low <= x <= r.interval_high) if r.interval_low == r.interval_low else False
        rows.append({"path": r.path, "truth": x, "best": float(marg.loc[r.path, "best"]),
                     "interval_low": r.interval_low, "interval_high": r.interval_high, "truth_in_interval": has,
                     "share_of_range": r.share_of_range, "verdict": r.verdict,
                     "plausible_low": float(marg.loc[r.path, "plausible_low"]),
                     "plausible_high": float(marg.loc[r.path, "plausible_high"])})
    return pd.DataFrame(rows)


def format_recovery(table: pd.DataFrame) -> str:
    lines = ["parameter | truth | best | recovered interval | holds the truth | share of searched range | verdict | "
             "plausible set's range",
             "---|---|---|---|---|---|---|---"]
    for r in table.itertuples():
        lines.append(f"{r.path} | {_g(r.truth)} | {_g(r.best)} | {_g(r.interval_low)} to {_g(r.interval_high)} | "
                     f"{'yes' if r.truth_in_interval else 'NO'} | {_pct(r.share_of_range)} | {r.verdict} | "
                     f"{_g(r.plausible_low)} to {_g(r.plausible_high)}")
    return "\n".join(lines)

def read_calibration(folder: str | Path) -> dict[str, Any]:
    """A finished calibration folder's record and fit table (for the report); ScenarioError when
    the folder holds no finished livesim calibration."""
    folder = Path(folder)
    src = str(folder)
    record = folder / "calibration.json"
    try:
        doc = json.loads(record.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise ScenarioError(src, None, None, "not a livesim calibration folder (no readable calibration.json)") from None
    if not isinstance(doc, dict) or doc.get("kind") != MARKER:
        raise ScenarioError(src, None, None, "not a livesim calibration folder (its calibration.json is not livesim's)")
    if doc.get("status") != "done" or not (folder / "fit.parquet").is_file():
        raise ScenarioError(src, None, None, "the calibration has not finished: run it to the end (livesim calibrate "
                            "... --resume) first")
    doc["fit"] = pd.read_parquet(folder / "fit.parquet")
    return doc


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use: livesim calibrate SCENARIO --observed OBSERVED.toml")
