"""The ``livesim`` command: run, sweep, calibrate, query and validate.

Errors a user can fix (a missing file, bad TOML, an unknown key, a wrong value) print one line
naming the file, the field, the value and what is allowed, and exit with status 2. Things
livesim can run but the user should know about (a timeline entry past the last day) print one
``livesim: warning: ...`` line each and the command carries on.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path
from typing import Any, NoReturn

from sim.config import Scenario, check_timeline, load_scenario, with_overrides
from sim.errors import ScenarioError, ScenarioWarning

__all__ = ["main"]

EXIT_USAGE = 2


def _is_tty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


class _Progress:
    """A progress bar on stderr (tqdm), shown once a run has taken a couple of seconds.

    When stderr is not a terminal (a log file, a pipe, CI) no frames are written, since
    carriage-return frames turn into thousands of lines there; a single line at the end says
    how long the run took.
    """

    def __init__(self, label: str, after_s: float = 2.0, enabled: bool = True) -> None:
        self.label = label
        self.after_s = after_s
        self.enabled = enabled
        self.tty = _is_tty(sys.stderr)
        self.t0 = time.perf_counter()
        self.shown = False
        self._bar: Any = None
        self._done = 0
        self._total = 0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        self._done, self._total = done, total
        if not self.tty:
            return
        if self._bar is None:
            if time.perf_counter() - self.t0 < self.after_s:
                return
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit="day", file=sys.stderr, leave=True,
                             dynamic_ncols=True, mininterval=0.25)
            self.shown = True
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self.enabled and not self.tty and self._total:
            elapsed = time.perf_counter() - self.t0
            if elapsed >= self.after_s:
                sys.stderr.write(f"{self.label}: day {self._done}/{self._total} in {elapsed:.1f}s\n")
                sys.stderr.flush()
                self.shown = True


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    """``--days``, ``--seed`` and each ``--set PATH=VALUE`` (VALUE read as JSON when it is JSON,
    else as a string) as one dict of overrides."""
    out: dict[str, Any] = {}
    if getattr(args, "days", None) is not None:
        out["days"] = args.days
    if getattr(args, "seed", None) is not None:
        out["seed"] = args.seed
    for item in getattr(args, "set", None) or []:
        if "=" not in item:
            raise ScenarioError("--set", item, None, "expected PATH=VALUE, e.g. --set policy.referral_fee=0.08")
        key, raw = item.split("=", 1)
        key = key.strip()
        if not key or any(not part for part in key.split(".")):
            raise ScenarioError("--set", item, None, "expected PATH=VALUE with a dotted PATH, e.g. "
                                "--set policy.referral_fee=0.08")
        try:
            value = json.loads(raw)
        except (json.JSONDecodeError, RecursionError):
            value = raw
        except ValueError:  # e.g. an integer of thousands of digits
            raise ScenarioError("--set", key, raw[:40] + ("..." if len(raw) > 40 else ""),
                                "not a usable value (too long a number?)") from None
        out[key] = value
    return out


def _load(args: argparse.Namespace) -> Scenario:
    """The scenario with the command line's overrides applied; the timeline is checked against
    the final run length (``--days`` may shorten or lengthen the run)."""
    from sim.bundled import resolve_scenario

    overrides = _overrides(args)
    path = resolve_scenario(args.scenario)
    scenario = load_scenario(path, check_timeline=False)
    scenario = with_overrides(scenario, overrides, source=f"{path} (command-line overrides)", check_timeline=False)
    check_timeline(scenario, str(path))
    return scenario


def _fmt(value: float | None, unit: str) -> str:
    if value is None or value != value:
        return "n/a"
    if unit == "share":
        return f"{value:.2%}"
    if abs(value) >= 1000 or float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.4g}"


def summary_table(summary: dict[str, float], by_market: dict[str, dict[str, float]]) -> str:
    """A plain-text table: one row per metric, a column for the platform and each market."""
    from sim.metrics import METRICS

    markets = list(by_market)
    w = max(26, *(len(name) + 2 for name in METRICS))  # per-tactic names run long
    head = f"{'metric':<{w}}{'unit':<20}{'all':>14}" + "".join(f"{m:>14}" for m in markets)
    lines = [head, "-" * len(head)]
    for name, meta in METRICS.items():
        row = f"{name:<{w}}{meta.unit:<20}{_fmt(summary.get(name), meta.unit):>14}"
        row += "".join(f"{_fmt(by_market[m].get(name), meta.unit):>14}" for m in markets)
        lines.append(row)
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from sim.capacity import check_memory
    from sim.outdir import check_out_dir, run_files

    overrides = _overrides(args)
    scenario = _load(args)
    given = args.out if args.out is not None else str(Path("results") / scenario.name)
    # Everything that can be refused is refused before the simulation (or its imports) starts.
    has_trends = any(e.kind == "trend" for e in scenario.timeline)
    out = check_out_dir(given, run_files(not args.no_plot, has_trends, events=not args.no_events))
    check_memory(scenario, args.scenario)
    from sim.runner import run, write_run

    progress = _Progress(f"{scenario.name} rep {args.replication}", enabled=not args.quiet)
    try:
        result = run(scenario, replication=args.replication, overrides=overrides, progress=progress,
                     events=not args.no_events)
    finally:
        progress.close()
    written = write_run(result, out, plot=not args.no_plot)
    print(f"livesim {scenario.name}: {scenario.days} days, seed {scenario.seed}, replication "
          f"{args.replication}, {scenario.world.n_buyers:,} buyers, {scenario.world.n_creators:,} creators "
          f"({result.runtime_s:.1f}s)")
    print(summary_table(result.summary, result.summary_by_market))
    print(f"\nwrote {out}/daily.parquet, creators.parquet, sanctions.parquet, "
          + ("trends.parquet, " if len(result.trends) else "")
          + ("" if args.no_events else "events.parquet, ") + "scenario.toml, summary.json"
          + ("" if args.no_plot else ", daily.png"))
    note = written.describe()
    if note:
        print(note)
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    print(f"{args.scenario}: valid scenario {scenario.name!r}")
    if not args.brief:
        print(json.dumps(scenario.model_dump(mode="json"), indent=2))
    return 0


class _SweepProgress:
    """Runs done and failed, and the time left, as a progress bar on stderr (tqdm).

    When stderr is not a terminal no frames are written; one line at the end gives the counts.
    """

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.tty = _is_tty(sys.stderr)
        self.shown = False
        self._bar: Any = None
        self._last: tuple[int, int, int, float] | None = None

    def __call__(self, done: int, failed: int, total: int, left: int, elapsed: float) -> None:
        if not self.enabled:
            return
        self._last = (done, failed, total, elapsed)
        if not self.tty:
            return
        if self._bar is None:
            from tqdm import tqdm

            # Runs already done before this call (resume) count as done, not toward the rate.
            self._bar = tqdm(total=total, initial=done + failed, desc=self.label, unit="run", file=sys.stderr,
                             leave=True, dynamic_ncols=True, mininterval=0.25)
            self.shown = True
        self._bar.set_postfix_str(f"{done} done, {failed} failed", refresh=False)
        self._bar.update(done + failed - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._last is not None and not self.shown:
            done, failed, total, elapsed = self._last
            sys.stderr.write(f"{self.label}: {done}/{total} done, {failed} failed, {elapsed:.0f}s\n")
            sys.stderr.flush()
            self.shown = True


MAX_RUNS_WITHOUT_YES = 100_000  # a sweep this large is more likely a mistake than a plan


def _workers(requested: int | None) -> int:
    """The worker count: the cores available by default; more than that is capped, with a note."""
    from sim.experiment import default_workers

    cores = default_workers()
    if requested is None:
        return cores
    if requested > cores:
        print(f"livesim: note: --workers {requested} is more than the {cores} cores available; using {cores}",
              file=sys.stderr)
        return cores
    return requested


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiment import execute
    from sim.outdir import check_results_dir
    from sim.sweep import load_sweep

    if args.scheduler and args.backend != "dask":
        raise ScenarioError("--scheduler", None, args.scheduler, "needs --backend dask")
    if args.worlds_n is not None and args.worlds is None:
        raise ScenarioError("--worlds-n", None, args.worlds_n, "needs --worlds FILE")
    sweep = load_sweep(args.sweep, worlds=args.worlds, worlds_n=args.worlds_n)
    out = check_results_dir(args.out if args.out is not None else str(Path("results") / sweep.file.name))
    n_runs = len(sweep.variants) * len(sweep.all_points) * sweep.replications
    if n_runs > MAX_RUNS_WITHOUT_YES and not args.yes:
        raise ScenarioError(str(args.sweep), "runs", n_runs,
                            f"more than {MAX_RUNS_WITHOUT_YES:,} runs needs --yes (is the grid or the number of "
                            "replications what you meant?)")
    # A scheduler's cluster has its own workers; the cap is about this machine's cores.
    workers = (args.workers or 1) if args.scheduler else _workers(args.workers)
    where = f"the workers of {args.scheduler}" if args.scheduler else f"{workers} workers ({args.backend})"
    if not args.scheduler:  # this machine runs them: the largest run, times the runs at once, must fit
        from sim.capacity import check_memory, estimate_memory_bytes

        largest = max((spec.scenario for spec in sweep.runs()), key=estimate_memory_bytes)
        check_memory(largest, str(args.sweep), workers=min(workers, n_runs))
    print(f"livesim sweep {sweep.file.name}: {len(sweep.variants)} variants x {len(sweep.all_points)} points x "
          f"{sweep.replications} replications = {n_runs} runs, {where}")
    progress = _SweepProgress(sweep.file.name, enabled=not args.quiet)
    try:
        outcome = execute(sweep, out, workers=workers, backend=args.backend, scheduler=args.scheduler,
                          resume=args.resume, overwrite=args.overwrite, force=args.force,
                          with_creators=args.creators, with_events=args.events, progress=progress, notify=print)
    except (FileExistsError, ValueError) as exc:
        progress.close()
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    progress.close()
    print(f"{outcome.done} runs done, {outcome.failed} failed, {outcome.skipped} already done; "
          f"{outcome.seconds:.1f}s; results in {out}/")
    if outcome.failed:
        print(f"failed runs are listed in {out}/manifest.json (status \"failed\", with their errors); "
              "rerun with --resume to retry them", file=sys.stderr)
        return 1
    return 0


class _CountProgress:
    """A progress bar over candidate worlds (tqdm on a terminal; otherwise nothing until the end)."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label, self.enabled, self.tty = label, enabled, _is_tty(sys.stderr)
        self._bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if not (self.enabled and self.tty):
            return
        if self._bar is None:
            from tqdm import tqdm

            self._bar = tqdm(total=total, desc=self.label, unit="world", file=sys.stderr, leave=True,
                             dynamic_ncols=True, mininterval=0.25)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit the scenario's world to observed numbers (analysis.calibrate)."""
    from analysis.calibrate import calibrate, format_fit, format_recovery, identify
    from analysis.observed import load_observed
    from sim.outdir import check_path_text

    if args.scheduler and args.backend != "dask":
        raise ScenarioError("--scheduler", None, args.scheduler, "needs --backend dask")
    if args.budget < 0:
        raise ScenarioError("--budget", None, args.budget, "expected 0 (the scenario's own fit) or more candidate worlds")
    scenario = _load(args)
    observed = load_observed(args.observed, scenario)
    if args.budget == 0:  # the scenario as it is: its fit table, nothing searched, nothing written
        from analysis.calibrate import format_fit_table, scenario_fit

        if args.identify or args.resume or args.out:
            raise ScenarioError("--budget", None, 0, "--budget 0 reports the scenario's own fit and writes nothing: "
                                "leave out --identify, --resume and --out")
        workers = (args.workers or 1) if args.scheduler else _workers(args.workers)
        fit, nrmse, nrmse_ho = scenario_fit(scenario, observed, workers=workers, backend=args.backend,
                                            scheduler=args.scheduler)
        print(f"Fit of scenario {scenario.name} as it is ({int(fit['n'].iloc[0])} replications):\n")
        print("\n".join(format_fit_table(fit, nrmse, nrmse_ho)))
        return 0
    out = Path(args.out if args.out is not None else str(Path("results") / f"calibrate_{scenario.name}"))
    check_path_text(out, str(out))
    workers = (args.workers or 1) if args.scheduler else _workers(args.workers)
    if not args.scheduler:
        from sim.capacity import check_memory

        check_memory(scenario, str(args.scenario), workers=workers)
    print(f"livesim calibrate {scenario.name}: {len(observed.fit)} parameters to {len(observed.fitted)} targets "
          f"({len(observed.held_out)} held out), {args.budget} worlds x {observed.replications} replications, "
          f"{workers} workers ({args.backend})")
    progress = _CountProgress("identify" if args.identify else "calibrate", enabled=not args.quiet)
    kw = dict(budget=args.budget, workers=workers, backend=args.backend, scheduler=args.scheduler, resume=args.resume,
              seed=args.seed, progress=progress, notify=lambda msg: print(f"livesim calibrate: {msg}", file=sys.stderr))
    try:
        if args.identify:
            result, recovery = identify(scenario, observed, out, **kw)
        else:
            result = calibrate(scenario, observed, out, **kw)
    finally:
        progress.close()
    print(format_fit(result))
    if args.identify:
        print("\nIdentifiability (synthetic observations from the known world; can the targets recover it?):\n")
        print(format_recovery(recovery))
    print(f"\n{result.evaluations} worlds evaluated in {result.seconds:.1f}s; best scenario {out}/best.toml; "
          f"files in {out}/: {', '.join(result.files)}")
    return 0


def cmd_case(args: argparse.Namespace) -> int:
    """A creator's case file from a run's event log, or the creators matching the filters."""
    import pandas as pd

    from analysis.cases import find_creators, format_case, load_events

    try:
        events = load_events(args.results, args.run)
    except FileNotFoundError as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.creator is not None and not (args.type or args.market or args.outcome):
        print(format_case(events, args.creator, weeks=args.weeks))
        return 0
    found = find_creators(events, creator_id=args.creator, creator_type=args.type, market=args.market,
                          outcome=args.outcome)
    if found.empty:
        print("no creator matches")
        return 0
    cols = ["creator_id", "market", "creator_type", "joined_day", "ended", "left_day", "decisions",
            "wrong_decisions", "bans", "wrongful_bans", "appeals", "overturns"]
    with pd.option_context("display.max_rows", args.limit, "display.width", 200):
        print(found[cols].head(args.limit).to_string(index=False))
    if len(found) > args.limit:
        print(f"... {len(found) - args.limit} more (--limit)")
    if args.creator is not None and len(found) == 1:
        print()
        print(format_case(events, args.creator, weeks=args.weeks))
    return 0


def cmd_dashboard(args: argparse.Namespace) -> int:
    """Serve the browser dashboard (needs the dashboard extra)."""
    try:
        from livesim_dashboard.serve import serve
    except ImportError as exc:
        print(f"livesim: error: the dashboard needs Solara ({exc.name}): pip install 'livesim[dashboard]'",
              file=sys.stderr)
        return EXIT_USAGE
    return serve(args.source, host=args.host, port=args.port)


def cmd_query(args: argparse.Namespace) -> int:
    """SQL over a sweep's or a run folder's results. The connection cannot touch files: see analysis.load.connect."""
    import duckdb

    from analysis.load import query

    try:
        frame = query(args.results, args.sql)
    except FileNotFoundError as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (duckdb.PermissionException, duckdb.InvalidInputException) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        if isinstance(exc, duckdb.PermissionException) or "configuration has been locked" in first:
            print(f"livesim: error: {args.results}: SQL not allowed: {first} (queries are read-only: no file access, "
                  f"ATTACH, INSTALL/LOAD, SET/PRAGMA; tables: {_QUERY_TABLES})", file=sys.stderr)
        else:
            print(f"livesim: error: {args.results}: SQL failed: {first}", file=sys.stderr)
        return EXIT_USAGE
    except ScenarioError:
        raise
    except Exception as exc:  # DuckDB's errors name the problem in the SQL
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        print(f"livesim: error: {args.results}: SQL failed: {first}", file=sys.stderr)
        return EXIT_USAGE
    if args.csv:
        frame.to_csv(sys.stdout, index=False)
    else:
        import pandas as pd

        with pd.option_context("display.max_rows", args.max_rows, "display.max_columns", None, "display.width", 200):
            print(frame.to_string(index=False, max_rows=args.max_rows))
    return 0


_QUERY_TABLES = ("summary, daily, sanctions, runs, creators (run folders, and sweeps run with --creators), "
                 "events (run folders, and sweeps run with --events)")


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.guardrails import load_guardrails, parse_guardrail
    from analysis.report import build_report, load_targets
    from sim.bundled import resolve_targets

    targets, guardrails = None, [parse_guardrail(g) for g in args.guardrail or []]
    if args.targets:
        path = resolve_targets(args.targets)
        guardrails += load_guardrails(path)
        targets = load_targets(path, required=not guardrails)
    try:
        report = build_report(args.results, args.out, baseline=args.baseline, targets=targets, method=args.method,
                              targets_source=args.targets or "targets", markets=args.market,
                              correction=args.correction, guardrails=guardrails or None,
                              calibration=args.calibration)
    except (FileNotFoundError, ValueError) as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from analysis.text import strip_controls

    for w in report.warnings:  # names in warnings come from files: one plain line each
        print("warning: " + " ".join(strip_controls(w).split()), file=sys.stderr)
    print(f"wrote {report.html} ({len(report.pngs)} figures beside it) and {report.markdown}")
    return 0


def cmd_check_facts(args: argparse.Namespace) -> int:
    """One run (a finished run folder, or a scenario run now) against a facts file: k of n met."""
    from analysis.facts import check_facts, load_facts

    facts = load_facts(args.facts)
    target = Path(args.run)
    scenario = None
    if not target.is_dir():
        scenario = _load(argparse.Namespace(scenario=args.run, days=args.days, seed=args.seed, set=args.set))
    elif args.days is not None or args.seed is not None or args.set:
        raise ScenarioError(args.run, None, None, "is a run folder: --days, --seed and --set apply to a scenario only")
    check = check_facts(args.run, facts, replication=args.replication, scenario=scenario)
    print(check.text())
    met, n = check.met
    if args.require is not None and met < args.require:
        print(f"livesim: {met} of {n} outcome facts met, fewer than --require {args.require}", file=sys.stderr)
        return 1
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """A small sweep (the scenario vs policy presets) and its report, in one command."""
    from analysis.report import build_report, check_report_target
    from sim.experiment import execute
    from sim.outdir import check_results_dir
    from sim.sweep import sweep_from_presets

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    sweep = sweep_from_presets(args.scenario, variants, replications=args.replications, days=args.days)
    out = check_results_dir(args.out if args.out is not None else str(Path("results") / sweep.file.name))
    check_report_target(out / "report.html")  # before the runs, not after
    workers = _workers(args.workers)
    n = len(sweep.variants) * sweep.replications
    print(f"livesim compare: {', '.join(sweep.variants)} on {args.scenario}, {sweep.replications} replications "
          f"({n} runs, {workers} workers)")
    progress = _SweepProgress(sweep.file.name, enabled=not args.quiet)
    try:
        outcome = execute(sweep, out, workers=workers, overwrite=args.overwrite, progress=progress, notify=print,
                          can_resume=False)
    except (FileExistsError, ValueError) as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
    if outcome.done == 0:
        print("livesim: error: every run failed; see the manifest", file=sys.stderr)
        return 1
    try:
        report = build_report(out, out / "report.html")
    except ValueError as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report.html} and {report.markdown}")
    return 0 if outcome.failed == 0 else 1


def cmd_scenarios(args: argparse.Namespace) -> int:
    """List the bundled scenarios, policy presets, sweeps and facts files, each with its description."""
    import tomllib

    from sim.bundled import bundled_root, preset_names, scenario_names, sweep_names, targets_names

    root = bundled_root()
    groups = (
        ("scenarios", "livesim run NAME", root, scenario_names()),
        ("policy presets", 'policy_preset = "NAME"', root / "policies", preset_names()),
        ("sweeps", "livesim sweep NAME", root / "sweeps", sweep_names()),
        ("facts", "livesim check-facts RUN --facts NAME", root / "targets", targets_names()),
    )
    for title, usage, folder, names in groups:
        print(f"{title} ({usage}):")
        for name in names:
            path = folder / f"{name}.toml"
            try:
                description = str(tomllib.loads(path.read_text(encoding="utf-8")).get("description", ""))
            except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
                description = "(unreadable)"
            print(f"  {name:<24}{' '.join(description.split())[:90]}")
        print()
    print(f"bundled files are in {root}")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with livesim's error format: one line, ``livesim: error: <message>``, status 2
    (subcommand parsers are made with the same class, so they answer the same way)."""

    def error(self, message: str) -> NoReturn:
        where = self.prog.removeprefix("livesim").strip()
        prefix = f"{where}: " if where else ""
        sys.stderr.write(f"livesim: error: {prefix}{' '.join(message.split())}\n")
        sys.exit(EXIT_USAGE)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="livesim",
        description="Agent-based simulation of live-shopping marketplaces for policy design.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="simulate one scenario and write its results")
    p_run.add_argument("scenario", help="scenario TOML file, or a bundled scenario's name (livesim scenarios)")
    p_run.add_argument("--days", type=int, help="override the number of days")
    p_run.add_argument("--seed", type=int, help="override the scenario seed")
    p_run.add_argument("--replication", type=int, default=0, help="which replication (world) of the seed")
    p_run.add_argument("--out", help="output folder (default: results/<scenario name>/)")
    p_run.add_argument("--set", action="append", metavar="PATH=VALUE",
                       help="override any parameter, e.g. --set policy.referral_fee=0.08 (repeatable)")
    p_run.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p_run.add_argument("--no-events", action="store_true",
                       help="skip events.parquet, the run's event log (streams, flags, reviews, decisions, appeals)")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.set_defaults(func=cmd_run)

    p_sw = sub.add_parser("sweep", help="run a sweep: variants x grid/sample points x replications")
    p_sw.add_argument("sweep", help="sweep TOML file, or a bundled sweep's name (livesim scenarios)")
    p_sw.add_argument("--workers", type=int,
                      help="parallel runs (default and maximum: the number of cores available)")
    p_sw.add_argument("--backend", choices=("local", "dask"), default="local",
                      help="local process pool, or dask.distributed (a LocalCluster unless --scheduler)")
    p_sw.add_argument("--scheduler", help="address of a running dask scheduler (with --backend dask); "
                      "one that does not answer within 10 s is an error")
    p_sw.add_argument("--out", help="results folder (default: results/<sweep name>/); one sweep at a time")
    p_sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep: skip runs already done")
    p_sw.add_argument("--force", action="store_true",
                      help="with --resume: add runs even though the code (version, commit, uncommitted changes) "
                      "differs from the code that made the results; recorded in the manifest")
    p_sw.add_argument("--overwrite", action="store_true",
                      help="delete the earlier sweep's files in the folder (manifest, shards, resolved scenarios) "
                      "and start over; other files are kept")
    p_sw.add_argument("--yes", action="store_true", help="run a sweep of more than 100,000 runs")
    p_sw.add_argument("--creators", action="store_true", help="also store one creators shard per run")
    p_sw.add_argument("--events", action="store_true",
                      help="also store one events shard per run (the run's event log, for case files)")
    p_sw.add_argument("--worlds", help="a Parquet file of worlds (world.* columns, one world a row), e.g. a "
                      "calibration's plausible.parquet: the sweep's uncertainty points, so every policy meets the "
                      "worlds the data allows")
    p_sw.add_argument("--worlds-n", type=int, help="with --worlds: a random sample of this many of them (seed 0)")
    p_sw.add_argument("--quiet", action="store_true", help="no progress bar")
    p_sw.set_defaults(func=cmd_sweep)

    p_cal = sub.add_parser("calibrate", help="fit a scenario's world (world.* parameters) to observed numbers: a fit "
                           "table, the best scenario as TOML and the plausible worlds")
    p_cal.add_argument("scenario", help="scenario TOML file or bundled name (its policy is the one in force when the "
                       "numbers were observed)")
    p_cal.add_argument("--observed", required=True, help="OBSERVED.toml: [[targets]] (the observed numbers) and "
                       "[[fit]] (the world parameters and their ranges)")
    p_cal.add_argument("--budget", type=int, default=60, help="candidate worlds to evaluate (default 60); 0: only the "
                       "fit table of the scenario as it is")
    p_cal.add_argument("--workers", type=int, help="parallel runs (default: the number of cores)")
    p_cal.add_argument("--backend", choices=("local", "dask"), default="local",
                       help="local process pool (default) or dask")
    p_cal.add_argument("--scheduler", help="with --backend dask: a running scheduler's address (tcp://host:port)")
    p_cal.add_argument("--out", help="the calibration's folder (default: results/calibrate_<scenario>/); a new or "
                       "empty folder, or its own with --resume")
    p_cal.add_argument("--resume", action="store_true", help="continue an interrupted calibration in --out")
    p_cal.add_argument("--identify", action="store_true",
                       help="identifiability check: calibrate to synthetic observations made at known values (the "
                       "scenario's own, or the middle of each range) and report how well each parameter is recovered")
    p_cal.add_argument("--days", type=int, help="override the number of days")
    p_cal.add_argument("--seed", type=int, help="override the scenario seed (also seeds the search)")
    p_cal.add_argument("--set", action="append", metavar="PATH=VALUE", help="override any parameter first")
    p_cal.add_argument("--quiet", action="store_true", help="no progress bar")
    p_cal.set_defaults(func=cmd_calibrate)

    p_case = sub.add_parser("case", help="a creator's case file (streams, flags, reviews, decisions, appeals, weeks) "
                            "from a run's event log, or find creators by type, market and outcome")
    p_case.add_argument("results", help="a run folder (livesim run --out) or a sweep folder stored with --events")
    p_case.add_argument("--creator", type=int, help="the creator's id (creator_id): print its case file")
    p_case.add_argument("--run", help="which run of a sweep (its run_id; needed when several runs have events)")
    p_case.add_argument("--type", help="find creators of this type (honest, opportunist, counterfeit, ...)")
    p_case.add_argument("--market", help="find creators of this market")
    p_case.add_argument("--outcome", help="find creators with this outcome: sanctioned, banned, wrongly_sanctioned, "
                        "wrongly_banned, appealed, overturned")
    p_case.add_argument("--weeks", action="store_true", help="with --creator: also the weekly traffic and earnings")
    p_case.add_argument("--limit", type=int, default=50, help="creators listed (default 50)")
    p_case.set_defaults(func=cmd_case)

    p_dash = sub.add_parser("dashboard", help="the browser dashboard: live run with levers, results explorer, "
                            "creator case files (a results folder is only read)")
    p_dash.add_argument("source", nargs="?", default="baseline",
                        help="a scenario (file or bundled name; default baseline), or a run or sweep results folder")
    p_dash.add_argument("--port", type=int, default=8765, help="port (default 8765)")
    p_dash.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1: this machine only)")
    p_dash.set_defaults(func=cmd_dashboard)

    p_q = sub.add_parser("query", help="read-only SQL over a sweep results folder or a run folder (tables: summary, "
                                       "daily, sanctions, runs; creators for a run folder or a sweep run with "
                                       "--creators); it cannot read or write files")
    p_q.add_argument("results", help="a sweep results folder (livesim sweep --out) or a run folder (livesim run --out)")
    p_q.add_argument("sql", help='e.g. "SELECT variant, avg(prevalence) FROM summary WHERE market = \'all\' GROUP BY 1"')
    p_q.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    p_q.add_argument("--max-rows", type=int, default=200, help="rows shown in the table (default 200)")
    p_q.set_defaults(func=cmd_query)

    p_rep = sub.add_parser("report", help="an HTML comparison report (with PNGs and a Markdown summary) of a sweep "
                           "results folder or a run folder")
    p_rep.add_argument("results", help="a sweep results folder (livesim sweep --out) or a run folder (livesim run --out)")
    p_rep.add_argument("--baseline", default=None,
                       help="the reference every other policy is compared with: a variant, VARIANT@K or @K (K: a lever "
                       "point of a grid or sample); default: the base scenario's own policy")
    p_rep.add_argument("--market", action="append", metavar="NAME",
                       help="a market to report on (repeat for several; 'all' is the platform); default: the platform "
                       "and every market")
    p_rep.add_argument("--correction", choices=("holm", "bh"), default="holm",
                       help="multiple comparisons: holm (family-wise error, default) or bh (Benjamini-Hochberg false "
                       "discovery rate)")
    p_rep.add_argument("--guardrail", action="append", metavar="METRIC=MARGIN",
                       help="a metric that must not worsen by more than MARGIN (2%%: relative; 5: absolute), tested "
                       "for non-inferiority; repeatable; default honest_creator_income=2%%")
    p_rep.add_argument("--out", help="the HTML file (default: RESULTS/report.html); PNGs go beside it")
    p_rep.add_argument("--targets", help="a TOML file with [[targets]] (added to the scenario's own), or a bundled "
                       "facts file's name (public_facts)")
    p_rep.add_argument("--calibration", metavar="DIR",
                       help="a finished calibration folder (livesim calibrate --out): its fit of the world to observed "
                       "numbers becomes a section of the report")
    p_rep.add_argument("--method", choices=("t", "bootstrap"), default="t",
                       help="paired intervals: t (default) or bootstrap")
    p_rep.set_defaults(func=cmd_report)

    p_cf = sub.add_parser("check-facts", help="check one run against public stylized facts: per fact the observed "
                          "value, its band and whether it is met, then k of n facts met")
    p_cf.add_argument("run", help="a finished run folder (livesim run --out), or a scenario file or bundled name "
                      "to run once now")
    p_cf.add_argument("--facts", default="public_facts",
                      help="a facts TOML file ([[targets]], [[parameters]]) or a bundled one's name "
                      "(default: public_facts)")
    p_cf.add_argument("--replication", type=int, default=0, help="which replication to run (a scenario only)")
    p_cf.add_argument("--days", type=int, help="override the number of days (a scenario only)")
    p_cf.add_argument("--seed", type=int, help="override the scenario seed (a scenario only)")
    p_cf.add_argument("--set", action="append", metavar="PATH=VALUE", help="override any parameter (a scenario only)")
    p_cf.add_argument("--require", type=int, help="exit with status 1 when fewer outcome facts than this are met")
    p_cf.set_defaults(func=cmd_check_facts)

    p_cmp = sub.add_parser("compare", help="run a scenario against policy presets and report, in one command")
    p_cmp.add_argument("scenario", help="scenario TOML file or bundled name (the baseline)")
    p_cmp.add_argument("--variants", required=True, help="comma-separated policy presets, e.g. strict,lenient")
    p_cmp.add_argument("--replications", type=int, default=5, help="replications per variant (default 5)")
    p_cmp.add_argument("--days", type=int, help="override the number of days")
    p_cmp.add_argument("--workers", type=int, help="parallel runs (default: the number of cores)")
    p_cmp.add_argument("--out", help="results folder (default: results/compare_<scenario>/)")
    p_cmp.add_argument("--overwrite", action="store_true",
                       help="replace an earlier sweep in the --out folder (its other files are kept)")
    p_cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    p_cmp.set_defaults(func=cmd_compare)

    p_ls = sub.add_parser("scenarios", help="list the bundled scenarios, policy presets and sweeps")
    p_ls.set_defaults(func=cmd_scenarios)

    p_val = sub.add_parser("validate", help="check a scenario file and print it fully resolved")
    p_val.add_argument("scenario", help="scenario TOML file, or a bundled scenario's name")
    p_val.add_argument("--days", type=int, help=argparse.SUPPRESS)
    p_val.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p_val.add_argument("--set", action="append", metavar="PATH=VALUE", help="override parameters before checking")
    p_val.add_argument("--brief", action="store_true", help="only say whether it is valid")
    p_val.set_defaults(func=cmd_validate)
    return parser


def _check_numbers(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Command-line numbers that are not scenario fields (those are validated with the scenario)."""
    limits = (("replication", "--replication", 0, 1_000_000), ("workers", "--workers", 1, 1024),
              ("max_rows", "--max-rows", 1, 10_000_000), ("require", "--require", 0, 10_000),
              ("limit", "--limit", 1, 10_000_000), ("port", "--port", 1, 65535))
    for attr, flag, lo, hi in limits:
        value = getattr(args, attr, None)
        if value is not None and not lo <= value <= hi:
            parser.error(f"{flag}: got {value}; allowed: {lo}-{hi}")
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        parser.error("--resume and --overwrite exclude each other")
    if getattr(args, "force", False) and not getattr(args, "resume", False):
        parser.error("--force only applies to --resume")


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    try:  # argparse exits (after its one-line error, or --help): return the status instead
        args = parser.parse_args(argv)
        _check_numbers(parser, args)
    except SystemExit as exc:
        if exc.code in (0, None):
            raise  # --help: argparse's own exit, as always
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    seen: set[str] = set()
    with warnings.catch_warnings():
        warnings.simplefilter("always", ScenarioWarning)
        shown = warnings.showwarning

        def show(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                 file: Any = None, line: str | None = None) -> None:
            # Scenario warnings: one line each (once), then carry on.
            if issubclass(category, ScenarioWarning):
                text = " ".join(str(message).split())
                if text not in seen:
                    seen.add(text)
                    print(f"livesim: warning: {text}", file=sys.stderr)
                return
            shown(message, category, filename, lineno, file, line)

        warnings.showwarning = show
        try:
            return int(args.func(args))
        except ScenarioError as exc:
            print(f"livesim: error: {' '.join(exc.message.split())}", file=sys.stderr)
            return EXIT_USAGE
        except KeyboardInterrupt:
            print("livesim: interrupted", file=sys.stderr)
            return 130
        except BrokenPipeError:  # the reader went away (`livesim query ... | head`): stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes stdout at exit
            return 1
        except Exception as exc:  # a bug, not bad input: say so in one line, traceback on request
            if os.environ.get("LIVESIM_DEBUG"):
                raise
            text = " ".join(str(exc).split())[:500]
            print(f"livesim: internal error: {type(exc).__name__}: {text} (set LIVESIM_DEBUG=1 for the traceback)",
                  file=sys.stderr)
            return 1


if __name__ == "__main__":
    sys.exit(main())
