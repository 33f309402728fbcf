"""The ``livesim`` command: run, sweep, query and validate.

Errors a user can fix (a missing file, bad TOML, an unknown key, a wrong value) print one line
naming the file, the field, the value and what is allowed, and exit with status 2.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

from sim.config import Scenario, load_scenario, with_overrides
from sim.errors import ScenarioError

__all__ = ["main"]

EXIT_USAGE = 2


class _Progress:
    """A one-line progress report on stderr, shown once a run has taken a couple of seconds."""

    def __init__(self, label: str, after_s: float = 2.0, enabled: bool = True) -> None:
        self.label = label
        self.after_s = after_s
        self.enabled = enabled
        self.t0 = time.perf_counter()
        self.shown = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled:
            return
        now = time.perf_counter()
        elapsed = now - self.t0
        if elapsed < self.after_s or (now - self._last < 0.25 and done < total):
            return
        self._last = now
        left = elapsed / done * (total - done) if done else 0.0
        width = 30
        filled = int(width * done / total)
        bar = "#" * filled + "-" * (width - filled)
        sys.stderr.write(f"\r{self.label} [{bar}] day {done}/{total}  {elapsed:5.1f}s elapsed, ~{left:4.1f}s left ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")
            sys.stderr.flush()


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if getattr(args, "days", None) is not None:
        out["days"] = args.days
    if getattr(args, "seed", None) is not None:
        out["seed"] = args.seed
    for item in getattr(args, "set", None) or []:
        if "=" not in item:
            raise ScenarioError("--set", item, None, "expected PATH=VALUE, e.g. --set policy.referral_fee=0.08")
        key, raw = item.split("=", 1)
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def _load(args: argparse.Namespace) -> Scenario:
    scenario = load_scenario(args.scenario)
    return with_overrides(scenario, _overrides(args), source=f"{args.scenario} (command-line overrides)")


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
    head = f"{'metric':<26}{'unit':<20}{'all':>14}" + "".join(f"{m:>14}" for m in markets)
    lines = [head, "-" * len(head)]
    for name, meta in METRICS.items():
        row = f"{name:<26}{meta.unit:<20}{_fmt(summary.get(name), meta.unit):>14}"
        row += "".join(f"{_fmt(by_market[m].get(name), meta.unit):>14}" for m in markets)
        lines.append(row)
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace) -> int:
    from sim.runner import run, write_outputs

    scenario = _load(args)
    out = Path(args.out) if args.out else Path("results") / scenario.name
    progress = _Progress(f"{scenario.name} rep {args.replication}", enabled=not args.quiet)
    try:
        result = run(scenario, replication=args.replication, progress=progress)
    finally:
        progress.close()
    write_outputs(result, out, plot=not args.no_plot)
    print(f"livesim {scenario.name}: {scenario.days} days, seed {scenario.seed}, replication "
          f"{args.replication}, {scenario.world.n_buyers:,} buyers, {scenario.world.n_creators:,} creators "
          f"({result.runtime_s:.1f}s)")
    print(summary_table(result.summary, result.summary_by_market))
    print(f"\nwrote {out}/daily.parquet, creators.parquet, sanctions.parquet, summary.json"
          + ("" if args.no_plot else ", daily.png"))
    return 0


def cmd_validate(args: argparse.Namespace) -> int:
    scenario = _load(args)
    print(f"{args.scenario}: valid scenario {scenario.name!r}")
    if not args.brief:
        print(json.dumps(scenario.model_dump(mode="json"), indent=2))
    return 0


class _SweepProgress:
    """Runs done and failed, and the time left, on one stderr line."""

    def __init__(self, label: str, enabled: bool = True) -> None:
        self.label = label
        self.enabled = enabled
        self.shown = False
        self._already = 0  # runs done before this call (resume)

    def __call__(self, done: int, failed: int, total: int, left: int, elapsed: float) -> None:
        if not self.enabled:
            return
        if not self.shown:
            self._already = done
        finished = done + failed
        ran = finished - self._already
        width = 30
        filled = int(width * finished / total) if total else width
        eta = f"~{elapsed / ran * left:5.0f}s left" if ran else ""
        sys.stderr.write(f"\r{self.label} [{'#' * filled}{'-' * (width - filled)}] {done}/{total} done, "
                         f"{failed} failed, {elapsed:5.0f}s elapsed {eta} ")
        sys.stderr.flush()
        self.shown = True

    def close(self) -> None:
        if self.shown:
            sys.stderr.write("\n")


def cmd_sweep(args: argparse.Namespace) -> int:
    from sim.experiment import default_workers, execute
    from sim.sweep import load_sweep

    sweep = load_sweep(args.sweep)
    out = Path(args.out) if args.out else Path("results") / sweep.file.name
    workers = args.workers if args.workers else default_workers()
    n_runs = len(sweep.variants) * len(sweep.points) * sweep.replications
    print(f"livesim sweep {sweep.file.name}: {len(sweep.variants)} variants x {len(sweep.points)} points x "
          f"{sweep.replications} replications = {n_runs} runs, {workers} workers ({args.backend})")
    progress = _SweepProgress(sweep.file.name, enabled=not args.quiet)
    try:
        outcome = execute(sweep, out, workers=workers, backend=args.backend, scheduler=args.scheduler,
                          resume=args.resume, overwrite=args.overwrite, with_creators=args.creators,
                          progress=progress)
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


def cmd_query(args: argparse.Namespace) -> int:
    """SQL over a sweep's results. The connection cannot touch files: see analysis.load.connect."""
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


_QUERY_TABLES = "summary, daily, sanctions, runs, creators (sweeps run with --creators)"


def cmd_report(args: argparse.Namespace) -> int:
    from analysis.report import build_report, load_targets

    targets = load_targets(args.targets) if args.targets else None
    try:
        report = build_report(args.results, args.out, baseline=args.baseline, targets=targets, method=args.method)
    except (FileNotFoundError, ValueError) as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from analysis.text import strip_controls

    for w in report.warnings:  # names in warnings come from files: one plain line each
        print("warning: " + " ".join(strip_controls(w).split()), file=sys.stderr)
    print(f"wrote {report.html} ({len(report.pngs)} figures beside it) and {report.markdown}")
    return 0


def cmd_compare(args: argparse.Namespace) -> int:
    """A small sweep (the scenario vs policy presets) and its report, in one command."""
    from analysis.report import build_report
    from sim.experiment import default_workers, execute
    from sim.sweep import sweep_from_presets

    variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    sweep = sweep_from_presets(args.scenario, variants, replications=args.replications, days=args.days)
    out = Path(args.out) if args.out else Path("results") / sweep.file.name
    workers = args.workers if args.workers else default_workers()
    n = len(sweep.variants) * sweep.replications
    print(f"livesim compare: {', '.join(sweep.variants)} on {args.scenario}, {sweep.replications} replications "
          f"({n} runs, {workers} workers)")
    progress = _SweepProgress(sweep.file.name, enabled=not args.quiet)
    try:
        outcome = execute(sweep, out, workers=workers, overwrite=True, progress=progress)
    except FileExistsError as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    finally:
        progress.close()
    if outcome.done == 0:
        print("livesim: error: every run failed; see the manifest", file=sys.stderr)
        return 1
    try:
        report = build_report(out, out / "report.html", baseline="baseline")
    except ValueError as exc:
        print(f"livesim: error: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {report.html} and {report.markdown}")
    return 0 if outcome.failed == 0 else 1


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="livesim",
        description="Agent-based simulation of live-shopping marketplaces for policy design.",
    )
    sub = parser.add_subparsers(dest="command", required=True)

    p_run = sub.add_parser("run", help="simulate one scenario and write its results")
    p_run.add_argument("scenario", help="scenario TOML file")
    p_run.add_argument("--days", type=int, help="override the number of days")
    p_run.add_argument("--seed", type=int, help="override the scenario seed")
    p_run.add_argument("--replication", type=int, default=0, help="which replication (world) of the seed")
    p_run.add_argument("--out", help="output folder (default: results/<scenario name>/)")
    p_run.add_argument("--set", action="append", metavar="PATH=VALUE",
                       help="override any parameter, e.g. --set policy.referral_fee=0.08 (repeatable)")
    p_run.add_argument("--no-plot", action="store_true", help="skip the PNG")
    p_run.add_argument("--quiet", action="store_true", help="no progress bar")
    p_run.set_defaults(func=cmd_run)

    p_sw = sub.add_parser("sweep", help="run a sweep: variants x grid/sample points x replications")
    p_sw.add_argument("sweep", help="sweep TOML file")
    p_sw.add_argument("--workers", type=int, help="parallel runs (default: the number of cores)")
    p_sw.add_argument("--backend", choices=("local", "dask"), default="local",
                      help="local process pool, or dask.distributed (a LocalCluster unless --scheduler)")
    p_sw.add_argument("--scheduler", help="address of a running dask scheduler (with --backend dask)")
    p_sw.add_argument("--out", help="results folder (default: results/<sweep name>/)")
    p_sw.add_argument("--resume", action="store_true", help="finish an interrupted sweep: skip runs already done")
    p_sw.add_argument("--overwrite", action="store_true", help="delete earlier results in the folder and start over")
    p_sw.add_argument("--creators", action="store_true", help="also store one creators shard per run")
    p_sw.add_argument("--quiet", action="store_true", help="no progress bar")
    p_sw.set_defaults(func=cmd_sweep)

    p_q = sub.add_parser("query", help="read-only SQL over a sweep's results (tables: summary, daily, sanctions, "
                                       "runs; creators with --creators); it cannot read or write files")
    p_q.add_argument("results", help="a sweep results folder")
    p_q.add_argument("sql", help='e.g. "SELECT variant, avg(prevalence) FROM summary WHERE market = \'all\' GROUP BY 1"')
    p_q.add_argument("--csv", action="store_true", help="CSV on stdout instead of a table")
    p_q.add_argument("--max-rows", type=int, default=200, help="rows shown in the table (default 200)")
    p_q.set_defaults(func=cmd_query)

    p_rep = sub.add_parser("report", help="an HTML comparison report (with PNGs and a Markdown summary) of a sweep")
    p_rep.add_argument("results", help="a sweep results folder")
    p_rep.add_argument("--baseline", default="baseline", help="the variant others are compared with")
    p_rep.add_argument("--out", help="the HTML file (default: RESULTS/report.html); PNGs go beside it")
    p_rep.add_argument("--targets", help="a TOML file with [[targets]] (added to the scenario's own)")
    p_rep.add_argument("--method", choices=("t", "bootstrap"), default="t",
                       help="paired intervals: t (default) or bootstrap")
    p_rep.set_defaults(func=cmd_report)

    p_cmp = sub.add_parser("compare", help="run a scenario against policy presets and report, in one command")
    p_cmp.add_argument("scenario", help="scenario TOML file (the baseline)")
    p_cmp.add_argument("--variants", required=True, help="comma-separated policy presets, e.g. strict,lenient")
    p_cmp.add_argument("--replications", type=int, default=5, help="replications per variant (default 5)")
    p_cmp.add_argument("--days", type=int, help="override the number of days")
    p_cmp.add_argument("--workers", type=int, help="parallel runs (default: the number of cores)")
    p_cmp.add_argument("--out", help="results folder (default: results/compare_<scenario>/)")
    p_cmp.add_argument("--quiet", action="store_true", help="no progress bar")
    p_cmp.set_defaults(func=cmd_compare)

    p_val = sub.add_parser("validate", help="check a scenario file and print it fully resolved")
    p_val.add_argument("scenario", help="scenario TOML file")
    p_val.add_argument("--days", type=int, help=argparse.SUPPRESS)
    p_val.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    p_val.add_argument("--set", action="append", metavar="PATH=VALUE", help="override parameters before checking")
    p_val.add_argument("--brief", action="store_true", help="only say whether it is valid")
    p_val.set_defaults(func=cmd_validate)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if getattr(args, "replication", 0) < 0:
        parser.error("--replication must be >= 0")
    if getattr(args, "workers", None) is not None and args.workers < 1:
        parser.error("--workers must be >= 1")
    if getattr(args, "resume", False) and getattr(args, "overwrite", False):
        parser.error("--resume and --overwrite exclude each other")
    try:
        return int(args.func(args))
    except ScenarioError as exc:
        print(f"livesim: error: {exc.message}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("livesim: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
