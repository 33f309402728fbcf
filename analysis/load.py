"""Read sweep results: tidy pandas DataFrames from the Parquet shards, and DuckDB over them.

A results folder is checked before anything is read from it: a manifest that is not valid JSON,
is not a sweep manifest, or promises runs whose shards are missing, and a folder with no shards
at all, each raise :class:`ResultsError`, one line naming the file.

The DuckDB connection :func:`connect` returns is read-only towards the file system: the shards
are copied into in-memory tables first, then external access is switched off and the
configuration locked, so SQL run on it cannot write or read files, attach databases, install
or load extensions, or change settings. Results folders are often shared, and a query must
never be able to overwrite the manifest or slip a shard into them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from sim.errors import ScenarioError
from sim.provenance import SWEEP_FORMAT

__all__ = ["KINDS", "TABLES", "Results", "ResultsError", "connect", "load", "load_runs", "query", "read_manifest"]

KINDS = ("summary", "daily", "sanctions", "creators")
# Every sweep stores these three for each finished run; creators/ only with --creators.
REQUIRED_KINDS = ("summary", "daily", "sanctions")
TABLES = (*KINDS, "runs")


class ResultsError(ScenarioError):
    """A results folder that cannot be read as a sweep's: says which file and why, in one line."""


@dataclass
class Results:
    """A sweep's results: one DataFrame per shard kind, plus the manifest."""

    path: Path
    manifest: dict[str, Any]
    summary: pd.DataFrame
    daily: pd.DataFrame
    sanctions: pd.DataFrame
    creators: pd.DataFrame

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


def read_manifest(results: str | Path) -> dict[str, Any]:
    """The sweep manifest of a results folder, checked to be one.

    Raises FileNotFoundError when there is no manifest (not a results folder), and
    :class:`ResultsError` when it is truncated, not JSON, or not a livesim sweep manifest.
    """
    path = Path(results)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: no manifest.json (is this a sweep results folder?)")
    try:
        doc = json.loads(manifest_path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError:
        raise ResultsError(str(manifest_path), None, None, "not valid JSON (not UTF-8 text)") from None
    except json.JSONDecodeError as exc:
        raise ResultsError(str(manifest_path), None, None,
                           f"not valid JSON (truncated?): {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    except OSError as exc:
        raise ResultsError(str(manifest_path), None, None, f"cannot be read: {exc.strerror}") from None
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


def _read(path: Path, kind: str) -> pd.DataFrame:
    files = _shards(path, kind)
    if not files:
        return pd.DataFrame()
    frames = []
    for f in files:
        try:
            frames.append(pd.read_parquet(f))
        except Exception as exc:  # pyarrow raises several types for a damaged file
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ResultsError(str(f), None, None, f"not a readable Parquet shard (truncated?): {first}") from None
    return pd.concat(frames, ignore_index=True)


def load(results: str | Path) -> Results:
    """Load a sweep folder (``results/<sweep>/``) written by ``livesim sweep``."""
    path = Path(results)
    manifest = read_manifest(path)
    _check_shards(path, manifest)
    return Results(path, manifest, *(_read(path, k) for k in KINDS))


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def tables_named_in(sql: str) -> tuple[str, ...]:
    """The result tables a SQL text mentions: only those need loading into memory."""
    return tuple(t for t in TABLES if re.search(rf"\b{t}\b", sql, flags=re.IGNORECASE))


def connect(results: str | Path, tables: tuple[str, ...] | None = None):  # -> duckdb.DuckDBPyConnection
    """An in-memory DuckDB connection with tables ``summary``, ``daily``, ``sanctions`` (and
    ``creators`` when stored) copied from the shards, and ``runs`` from the manifest.

    The connection is read-only towards files: once the tables exist, external access is off
    and the configuration locked, so no SQL on it can write or read files, attach databases,
    install or load extensions, or change settings (such statements raise
    ``duckdb.PermissionException`` or ``duckdb.InvalidInputException``). The tables themselves
    are in-memory copies: changing them changes nothing on disk. ``tables`` limits which are
    loaded (all by default), to save memory on big sweeps.
    """
    import duckdb

    path = Path(results)
    manifest = read_manifest(path)
    _check_shards(path, manifest)
    wanted = TABLES if tables is None else tuple(tables)
    unknown = sorted(set(wanted) - set(TABLES))
    if unknown:
        raise ValueError(f"connect: unknown table(s) {', '.join(unknown)}; tables: {', '.join(TABLES)}")
    con = duckdb.connect()
    try:
        for kind in KINDS:
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
            runs_df = _runs_frame(manifest)
            con.register("runs_df", runs_df)
            con.execute("CREATE TABLE runs AS SELECT * FROM runs_df")
            con.unregister("runs_df")
        _lock_down(con)
    except BaseException:
        con.close()
        raise
    return con


def _lock_down(con: Any) -> None:
    """No file, network or extension access, and no way to turn it back on."""
    for setting, value in (("autoinstall_known_extensions", "false"), ("autoload_known_extensions", "false"),
                           ("allow_community_extensions", "false"), ("allow_persistent_secrets", "false"),
                           ("enable_external_access", "false"), ("lock_configuration", "true")):
        con.execute(f"SET {setting} = {value}")


def load_runs(path: str | Path) -> pd.DataFrame:
    """The manifest's table of runs (one row per run), without reading any shard."""
    return _runs_frame(read_manifest(path))


RUN_FIELDS = ("variant", "point", "replication", "seed", "status", "duration_s", "error")
CODE_FIELDS = ("livesim", "commit", "dirty")


def _runs_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    rows = []
    for k, v in manifest.get("runs", {}).items():
        code = v.get("code") if isinstance(v.get("code"), dict) else {}
        rows.append({"run_id": k, **{f: v.get(f) for f in RUN_FIELDS}, **{f: code.get(f) for f in CODE_FIELDS}})
    return pd.DataFrame(rows, columns=["run_id", *RUN_FIELDS, *CODE_FIELDS])


def query(results: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL over a sweep's results and return a DataFrame (read-only: see :func:`connect`)."""
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
