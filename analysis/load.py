"""Read results: tidy pandas DataFrames from a sweep's Parquet shards or a single run's folder,
and DuckDB over them.

Two kinds of folder are read alike: a sweep's (``livesim sweep --out``: ``manifest.json`` and
one shard per run under ``summary/``, ``daily/``, ``sanctions/``, ``creators/``, ``events/``) and
a single run's (``livesim run --out``: ``summary.json``, ``daily.parquet``, ``sanctions.parquet``,
``creators.parquet``, ``events.parquet``, ``scenario.toml``). A run folder is read as a sweep of one run
(run_id ``"run"``, its scenario's name as the variant, point 0) with a manifest made up to
match, so every analysis of sweeps applies to it; ``manifest["kind"]`` says which it was.

A results folder is checked before anything is read from it: a manifest or run summary that is
not valid JSON or not livesim's, a sweep manifest that promises runs whose shards are missing,
a folder with no shards at all, and a damaged Parquet file, each raise :class:`ResultsError`,
one line naming the file.

The DuckDB connection :func:`connect` returns is read-only towards the file system: the shards
are copied into in-memory tables first, then external access is switched off and the
configuration locked, so SQL run on it cannot write or read files, attach databases, install
or load extensions, or change settings. Results folders are often shared, and a query must
never be able to overwrite the manifest or slip a shard into them.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError
from sim.outdir import MARKER as RUN_SUMMARY
from sim.provenance import RUN_FORMAT, SWEEP_FORMAT

__all__ = ["KINDS", "RUN_ID", "TABLES", "Results", "ResultsError", "connect", "is_run_folder", "load", "load_runs",
           "query", "read_manifest"]

KINDS = ("summary", "daily", "sanctions", "creators", "events")
# Every sweep stores these three for each finished run; creators/ only with --creators, events/
# only with --events (and a run folder of `livesim run --no-events` has no events.parquet).
REQUIRED_KINDS = ("summary", "daily", "sanctions")
TABLES = (*KINDS, "runs")
MANIFEST = "manifest.json"
RUN_ID = "run"  # the run_id of a run folder's one run
RUN_SCENARIO = "scenario.toml"  # a run folder's resolved scenario


class ResultsError(ScenarioError):
    """A results folder that cannot be read as a sweep's or a run's: says which file and why, in one line."""


@dataclass
class Results:
    """A sweep's results, or a single run's shaped as a sweep of one run: one DataFrame per
    shard kind, plus the manifest (``manifest["kind"]`` is ``"sweep"`` or ``"run"``)."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    daily: pd.DataFrame
    sanctions: pd.DataFrame
    creators: pd.DataFrame
    events: pd.DataFrame

    @property
    def runs(self) -> pd.DataFrame:
        """One row per run in the manifest: variant, point, replication, status, duration, error, code."""
        return _runs_frame(self.manifest)


def _kind_dir(path: Path, kind: str) -> str:
    return f"{path / kind}/"


def _shards(path: Path, kind: str) -> list[Path]:
    return sorted(p for p in (path / kind).glob("*.parquet") if not p.name.startswith("."))


def _type_name(doc: Any) -> str:
    return {list: "a list", str: "a string", int: "a number", float: "a number", bool: "a boolean",
            type(None): "null", dict: "an object"}.get(type(doc), type(doc).__name__)


def _read_json(file: Path) -> Any:
    """The JSON document in ``file``; :class:`ResultsError` naming it when it cannot be read or parsed."""
    try:
        return json.loads(file.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(str(file), None, None, "not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(str(file), None, None,
                           f"not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except OSError as exc:
        raise ResultsError(str(file), None, None, f"cannot be read: {exc.strerror}") from None


def read_manifest(results: str | Path) -> dict[str, Any]:
    """The sweep manifest of a results folder, checked to be one.

    Raises FileNotFoundError when there is no manifest (not a results folder), and
    :class:`ResultsError` when it is truncated, not JSON, or not a livesim sweep manifest.
    """
    path = Path(results)
    manifest_path = path / MANIFEST
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: no manifest.json (is this a sweep results folder?)")
    doc = _read_json(manifest_path)
    expected = 'expected a livesim sweep manifest (a JSON object with "runs")'
    if not isinstance(doc, dict):
        raise ResultsError(str(manifest_path), None, None, f"{expected}, got {_type_name(doc)}")
    fmt = doc.get("format")
    if fmt is not None and fmt != SWEEP_FORMAT:
        raise ResultsError(str(manifest_path), "format", fmt,
                           f"expected {SWEEP_FORMAT!r} (a livesim sweep manifest this version can read)")
    runs = doc.get("runs")
    if not isinstance(runs, dict):
        got = 'an object without "runs"' if runs is None else f'"runs" as {_type_name(runs)}'
        raise ResultsError(str(manifest_path), None, None, f"{expected}, got {got}")
    for run_id, entry in runs.items():
        if not isinstance(entry, dict):
            raise ResultsError(str(manifest_path), f"runs.{run_id}", None,
                               f"expected an object (variant, point, replication, status), got {_type_name(entry)}")
    return doc


def _check_shards(path: Path, manifest: dict[str, Any]) -> None:
    """Fail when the folder holds no shards, or lacks shards of runs the manifest calls done.

    A shard is written before the manifest records its run, so a run with shards that the
    manifest still calls pending is fine; the reverse means files went missing.
    """
    runs = manifest["runs"]
    if not _shards(path, "summary"):
        statuses = [str(e.get("status", "pending")) for e in runs.values()]
        counts = ", ".join(f"{statuses.count(s)} {s}" for s in dict.fromkeys(statuses))
        detail = f"the manifest lists {len(runs)} runs ({counts})" if runs else "the manifest lists no runs"
        raise ResultsError(_kind_dir(path, "summary"), None, None,
                           f"no shards: no run of this sweep has finished yet; {detail}")
    done = [r for r, e in runs.items() if e.get("status") == "done"]
    for kind in REQUIRED_KINDS:
        missing = [r for r in done if not (path / kind / f"{r}.parquet").is_file()]
        if missing:
            raise ResultsError(_kind_dir(path, kind), None, None,
                               f"no shards for {len(missing)} run{'s' if len(missing) != 1 else ''} marked done in "
                               f"the manifest (e.g. {missing[0]}); rerun the sweep with --resume to recreate them")


def _read_parquet(file: Path, what: str = "Parquet shard") -> pd.DataFrame:
    try:
        return pd.read_parquet(file)
    except Exception as exc:  # pyarrow raises several types for a damaged file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ResultsError(str(file), None, None, f"not a readable {what} (truncated?): {first}") from None


def _read(path: Path, kind: str) -> pd.DataFrame:
    files = _shards(path, kind)
    if not files:
        return pd.DataFrame()
    return pd.concat([_read_parquet(f) for f in files], ignore_index=True)


# ---------------------------------------------------------------------------------------
# A single run's folder, read as a sweep of one run
# ---------------------------------------------------------------------------------------


def is_run_folder(results: str | Path) -> bool:
    """True if ``results`` is a folder written by ``livesim run --out``: its summary.json is a
    JSON object carrying the run format tag livesim writes (``"format": "livesim-run/1"``).

    A folder whose summary.json is damaged or someone else's is not one (:func:`load` then says
    what is wrong with the file); an interrupted run's folder is one that :func:`load` refuses.
    """
    try:
        doc = _read_json(Path(results) / RUN_SUMMARY)
    except ResultsError:
        return False
    return isinstance(doc, dict) and doc.get("format") == RUN_FORMAT


def _is_number(x: Any) -> bool:
    return isinstance(x, int | float) and not isinstance(x, bool)


def _check_metrics(file: Path, field: str, values: Any) -> None:
    if not isinstance(values, dict):
        raise ResultsError(str(file), field, None, f"expected an object of metric values, got {_type_name(values)}")
    for name, value in values.items():
        if value is not None and not _is_number(value):
            raise ResultsError(str(file), f"{field}.{name}", value, "expected a number or null")


def _read_run_summary(results: str | Path) -> dict[str, Any]:
    """The summary.json of a run folder, checked to be one a finished ``livesim run`` wrote.

    :class:`ResultsError` names the file when it is truncated, not JSON, not tagged as a livesim
    run, left by an interrupted run, or lacks the scenario, seed, replication or metric values.
    """
    file = Path(results) / RUN_SUMMARY
    doc = _read_json(file)
    if not isinstance(doc, dict):
        raise ResultsError(str(file), None, None,
                           f"expected a livesim run summary (a JSON object with \"format\": {RUN_FORMAT!r}), "
                           f"got {_type_name(doc)}")
    if doc.get("format") != RUN_FORMAT:
        raise ResultsError(str(file), "format", doc.get("format"),
                           f"expected {RUN_FORMAT!r} (a summary.json livesim run wrote, in a form this version reads)")
    if doc.get("status") == "incomplete":
        raise ResultsError(str(file), None, None, "livesim was interrupted while writing this run folder "
                           "(status \"incomplete\"); run it again")
    if not isinstance(doc.get("scenario"), str):
        raise ResultsError(str(file), "scenario", doc.get("scenario"), "expected the scenario's name (a string)")
    for key in ("seed", "replication"):
        if not isinstance(doc.get(key), int) or isinstance(doc.get(key), bool):
            raise ResultsError(str(file), key, doc.get(key), "expected a whole number")
    _check_metrics(file, "metrics", doc.get("metrics"))
    by_market = doc.get("by_market")
    if not isinstance(by_market, dict):
        raise ResultsError(str(file), "by_market", None, f"expected an object of markets, got {_type_name(by_market)}")
    for market, values in by_market.items():
        _check_metrics(file, f"by_market.{market}", values)
    return doc


def _run_manifest(path: Path, doc: dict[str, Any]) -> dict[str, Any]:
    """A sweep-shaped manifest for a run folder: one run, done, with no axes, and its resolved
    scenario (read from scenario.toml) as the base scenario."""
    from sim.config import read_toml

    file = path / RUN_SCENARIO
    try:
        base = read_toml(file, "resolved scenario")
    except ScenarioError as exc:
        raise ResultsError(exc.source, exc.field, exc.value, exc.allowed) from None
    name = doc["scenario"]
    provenance = doc.get("provenance") if isinstance(doc.get("provenance"), dict) else {}
    versions = provenance.get("versions") if isinstance(provenance.get("versions"), dict) else {}
    runtime = doc.get("runtime_s")
    return {
        "format": doc["format"],
        "kind": "run",
        "name": name,
        "provenance": provenance,
        "versions": {**versions, "livesim": doc.get("livesim_version", provenance.get("livesim"))},
        "config": {
            "name": name,
            "description": "",
            "replications": 1,
            "design": "none",
            "axes": {"levers": [], "uncertainties": []},
            "variants": {name: {}},
            "points": [{}],
            "expectations": {},
            "base_scenario": base,
        },
        "runs": {
            RUN_ID: {
                "variant": name, "point": 0, "replication": doc["replication"], "seed": doc["seed"], "params": {},
                "status": "done", "duration_s": runtime if _is_number(runtime) else None,
                "code": {k: provenance.get(k) for k in ("livesim", "commit", "dirty", "diff")},
            }
        },
    }


def _run_table(path: Path, kind: str, doc: dict[str, Any]) -> pd.DataFrame:
    """One table of a run folder with the key columns a sweep's shard of that kind has.

    The summary comes from summary.json: one row for the platform (market ``"all"``) and one per
    market, null values (NaN or infinite in the run) read as NaN.
    """
    from sim.experiment import _tagged

    tags = {"run_id": RUN_ID, "variant": doc["scenario"], "point": 0, "replication": doc["replication"],
            "seed": doc["seed"]}
    if kind == "summary":
        markets = {"all": doc["metrics"], **doc["by_market"]}
        frame = pd.DataFrame([{"market": m, **{k: (math.nan if v is None else v) for k, v in values.items()}}
                              for m, values in markets.items()])
    else:
        file = path / f"{kind}.parquet"
        if kind == "events" and not file.exists():
            return pd.DataFrame()
        if not file.is_file():
            raise ResultsError(str(file), None, None, "missing from this run folder; run it again")
        frame = _read_parquet(file, "Parquet file")
    return _tagged(frame, tags)


# ---------------------------------------------------------------------------------------
# Either kind of folder
# ---------------------------------------------------------------------------------------


def _open(path: Path, *, check: bool = True) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The folder's manifest and, for a run folder, its run summary (None for a sweep).

    A folder with manifest.json is a sweep's (its shards are checked unless ``check`` is off);
    one with summary.json a run's. FileNotFoundError says, in one line, when it is neither.
    """
    if (path / RUN_SUMMARY).is_file() and not (path / MANIFEST).is_file():
        doc = _read_run_summary(path)
        return _run_manifest(path, doc), doc
    if not (path / MANIFEST).is_file():
        what = ("no such folder" if not path.exists()
                else "a file, not a sweep results folder or a run folder" if not path.is_dir()
                else "neither a sweep results folder (no manifest.json) nor a run folder (no summary.json)")
        raise FileNotFoundError(f"{path}: {what}; give a folder that livesim sweep --out or livesim run --out wrote")
    manifest = {**read_manifest(path), "kind": "sweep"}
    if check:
        _check_shards(path, manifest)
    return manifest, None


def _table(path: Path, kind: str, run: dict[str, Any] | None) -> pd.DataFrame:
    """All rows of one kind: a sweep's shards together, or a run folder's file with its key columns."""
    return _read(path, kind) if run is None else _run_table(path, kind, run)


def load(results: str | Path) -> Results:
    """Load a sweep folder (``results/<sweep>/``, written by ``livesim sweep``) or a run folder
    (written by ``livesim run --out``, read as a sweep of one run)."""
    path = Path(results)
    manifest, run = _open(path)
    return Results(path, manifest, *(_table(path, k, run) for k in KINDS))


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def tables_named_in(sql: str) -> tuple[str, ...]:
    """The result tables a SQL text mentions: only those need loading into memory."""
    return tuple(t for t in TABLES if re.search(rf"\b{t}\b", sql, flags=re.IGNORECASE))


def connect(results: str | Path, tables: tuple[str, ...] | None = None):  # -> duckdb.DuckDBPyConnection
    """An in-memory DuckDB connection with tables ``summary``, ``daily``, ``sanctions`` (and
    ``creators`` when stored) copied from the shards, and ``runs`` from the manifest; for a
    run folder, the same tables as :func:`load` gives them (``runs`` has one row).

    The connection is read-only towards files: once the tables exist, external access is off
    and the configuration locked, so no SQL on it can write or read files, attach databases,
    install or load extensions, or change settings (such statements raise
    ``duckdb.PermissionException`` or ``duckdb.InvalidInputException``). The tables themselves
    are in-memory copies: changing them changes nothing on disk. ``tables`` limits which are
    loaded (all by default), to save memory on big sweeps.
    """
    import duckdb

    path = Path(results)
    manifest, run = _open(path)
    wanted = TABLES if tables is None else tuple(tables)
    unknown = sorted(set(wanted) - set(TABLES))
    if unknown:
        raise ValueError(f"connect: unknown table(s) {', '.join(unknown)}; tables: {', '.join(TABLES)}")
    con = duckdb.connect()
    try:
        for kind in KINDS:
            if kind in wanted and run is not None:
                _create_from_frame(con, kind, _table(path, kind, run))
                continue
            files = _shards(path, kind)
            if kind in wanted and files:
                listing = ", ".join(_sql_string(str(f.resolve())) for f in files)
                try:
                    con.execute(f"CREATE TABLE {kind} AS SELECT * FROM read_parquet([{listing}], union_by_name=true)")
                except duckdb.Error as exc:
                    first = str(exc).splitlines()[0]
                    raise ResultsError(_kind_dir(path, kind), None, None,
                                       f"a shard cannot be read (truncated?): {first}") from None
        if "runs" in wanted:
            _create_from_frame(con, "runs", _runs_frame(manifest))
        _lock_down(con)
    except BaseException:
        con.close()
        raise
    return con


def _create_from_frame(con: Any, name: str, frame: pd.DataFrame) -> None:
    """Copy ``frame`` into the in-memory table ``name`` (before the lock-down)."""
    view = f"{name}_df"
    con.register(view, frame)
    try:
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM {view}")
    finally:
        con.unregister(view)


def _lock_down(con: Any) -> None:
    """No file, network or extension access, and no way to turn it back on."""
    for setting, value in (("autoinstall_known_extensions", "false"), ("autoload_known_extensions", "false"),
                           ("allow_community_extensions", "false"), ("allow_persistent_secrets", "false"),
                           ("enable_external_access", "false"), ("lock_configuration", "true")):
        con.execute(f"SET {setting} = {value}")


def load_runs(path: str | Path) -> pd.DataFrame:
    """The manifest's table of runs (one row per run; one for a run folder), without reading any shard."""
    return _runs_frame(_open(Path(path), check=False)[0])


RUN_FIELDS = ("variant", "point", "replication", "seed", "status", "duration_s", "error")
CODE_FIELDS = ("livesim", "commit", "dirty")


def _runs_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for k, v in manifest.get("runs", {}).items():
        code = v.get("code") if isinstance(v.get("code"), dict) else {}
        rows.append({"run_id": k, **{f: v.get(f) for f in RUN_FIELDS}, **{f: code.get(f) for f in CODE_FIELDS}})
    return pd.DataFrame(rows, columns=["run_id", *RUN_FIELDS, *CODE_FIELDS])


def query(results: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL over a sweep's or a run folder's results and return a DataFrame (read-only: see :func:`connect`)."""
    from sim.errors import ScenarioError

    con = connect(results, tables=tables_named_in(sql))
    try:
        cursor = con.execute(sql)
        if cursor is None or cursor.description is None:
            raise ScenarioError(str(results), "SQL", sql, "no query to answer; give one SELECT statement, e.g. "
                                "\"SELECT variant, avg(prevalence) FROM summary GROUP BY 1\"")
        return cursor.df()
    finally:
        con.close()
