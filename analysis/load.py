"""Read sweep results: tidy pandas DataFrames from the Parquet shards, and DuckDB over them."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["Results", "connect", "load", "query"]

KINDS = ("summary", "daily", "sanctions", "creators")


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
        """One row per run in the manifest: variant, point, replication, status, duration, error."""
        return _runs_frame(self.manifest)


def _shards(path: Path, kind: str) -> list[Path]:
    return sorted(p for p in (path / kind).glob("*.parquet") if not p.name.startswith("."))


def _read(path: Path, kind: str) -> pd.DataFrame:
    files = _shards(path, kind)
    if not files:
        return pd.DataFrame()
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


def load(results: str | Path) -> Results:
    """Load a sweep folder (``results/<sweep>/``) written by ``livesim sweep``."""
    path = Path(results)
    manifest_path = path / "manifest.json"
    if not manifest_path.is_file():
        raise FileNotFoundError(f"{path}: no manifest.json (is this a sweep results folder?)")
    manifest = json.loads(manifest_path.read_text())
    return Results(path, manifest, *(_read(path, k) for k in KINDS))


def connect(results: str | Path):  # -> duckdb.DuckDBPyConnection
    """An in-memory DuckDB connection with views ``summary``, ``daily``, ``sanctions`` (and
    ``creators`` when stored) over the shards, and ``runs`` over the manifest."""
    import duckdb

    path = Path(results)
    if not (path / "manifest.json").is_file():
        raise FileNotFoundError(f"{path}: no manifest.json (is this a sweep results folder?)")
    con = duckdb.connect()
    for kind in KINDS:
        files = _shards(path, kind)
        if files:
            listing = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
            con.execute(f"CREATE VIEW {kind} AS SELECT * FROM read_parquet([{listing}], union_by_name=true)")
    runs = load_runs(path)
    con.register("runs_df", runs)
    con.execute("CREATE VIEW runs AS SELECT * FROM runs_df")
    return con


def load_runs(path: Path) -> pd.DataFrame:
    return _runs_frame(json.loads((path / "manifest.json").read_text()))


def _runs_frame(manifest: dict[str, Any]) -> pd.DataFrame:
    fields = ("variant", "point", "replication", "seed", "status", "duration_s", "error")
    rows = [{"run_id": k, **{f: v.get(f) for f in fields}} for k, v in manifest.get("runs", {}).items()]
    return pd.DataFrame(rows, columns=["run_id", *fields])


def query(results: str | Path, sql: str) -> pd.DataFrame:
    """Run SQL over a sweep's results and return a DataFrame."""
    con = connect(results)
    try:
        return con.execute(sql).df()
    finally:
        con.close()
