"""livesim query and analysis.load.connect cannot touch files: SQL reads the results, nothing else."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from analysis.load import connect, query
from sim.cli import main


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` with its bytes."""
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def results(sweep_results, tmp_path) -> Path:
    """A private copy of the stored sweep, so an attack that succeeds harms nothing shared."""
    copy = tmp_path / "results"
    shutil.copytree(sweep_results, copy)
    return copy


ATTACKS = [
    "COPY (SELECT 1 AS x) TO '{r}/manifest.json'",
    "COPY (SELECT * FROM summary LIMIT 1) TO '{r}/summary/injected.parquet' (FORMAT parquet)",
    "COPY (SELECT * FROM summary) TO '{first_shard}' (FORMAT parquet, USE_TMP_FILE false)",
    "ATTACH '{r}/new.duckdb' AS x",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_text('/etc/passwd')",
    "SELECT * FROM read_blob('{r}/manifest.json')",
    "SELECT * FROM glob('/etc/*')",
    "SELECT * FROM read_parquet('{r}/summary/*.parquet')",
    "INSTALL httpfs",
    "SET enable_external_access = true",
    "SET lock_configuration = false",
    "RESET lock_configuration",
    "PRAGMA enable_profiling",
    "SET memory_limit = '1GB'",
    "EXPORT DATABASE '{r}/exported'",
]


@pytest.mark.parametrize("sql", ATTACKS)
def test_sql_cannot_write_read_files_or_change_settings(results, sql, capsys):
    """File access, ATTACH, INSTALL, SET/RESET/PRAGMA and EXPORT fail with exit 2 and one line;
    the results folder is byte-identical afterwards and holds no new file."""
    before = _snapshot(results)
    first_shard = sorted((results / "summary").glob("*.parquet"))[0]
    assert main(["query", str(results), sql.format(r=results, first_shard=first_shard)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("livesim: error: ")
    assert "SQL not allowed" in err and "read-only" in err and "Traceback" not in err
    assert _snapshot(results) == before


@pytest.mark.parametrize("table", ["summary", "daily", "sanctions", "runs", "creators"])
def test_plain_selects_over_every_table_still_work(results, table, capsys):
    """Legitimate SELECTs over each table answer as before."""
    assert main(["query", str(results), f"SELECT count(*) AS n FROM {table}", "--csv"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "n" and int(lines[1]) > 0


def test_query_counts_match_the_shards(results):
    """Tables copied into memory hold every shard's rows (24 runs x 3 markets in summary)."""
    frame = query(results, "SELECT count(*) AS n, count(DISTINCT run_id) AS runs FROM summary")
    assert int(frame["n"][0]) == 24 * 3 and int(frame["runs"][0]) == 24
    joined = query(results, "SELECT count(*) AS n FROM summary s JOIN runs r USING (run_id) WHERE s.market = 'all'")
    assert int(joined["n"][0]) == 24


def test_python_connection_is_read_only(results):
    """analysis.load.connect answers SELECTs but refuses to write a file or re-enable file access."""
    before = _snapshot(results)
    con = connect(results)
    try:
        assert con.execute("SELECT count(*) FROM daily").fetchone()[0] > 0
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{results}/manifest.json'")
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_csv('/etc/passwd')")
    finally:
        con.close()
    assert _snapshot(results) == before
