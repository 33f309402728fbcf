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


def test_selects_answer_over_every_table_and_nothing_else(results, capsys):
    """SELECTs over summary, daily, sanctions, runs and creators still answer; in the same folder,
    a COPY is refused."""
    for table in ("summary", "daily", "sanctions", "runs", "creators"):
        assert main(["query", str(results), f"SELECT count(*) AS n FROM {table}", "--csv"]) == 0
        lines = capsys.readouterr().out.strip().splitlines()
        assert lines[0] == "n" and int(lines[1]) > 0
    assert main(["query", str(results), f"COPY summary TO '{results}/summary.csv'"]) == 2
    assert "SQL not allowed" in capsys.readouterr().err
    assert not (results / "summary.csv").exists()


def test_python_connection_is_read_only(results):
    """analysis.load.connect holds every shard's rows and answers SELECTs and joins, but refuses to
    write a file, read one, or turn file access back on."""
    before = _snapshot(results)
    con = connect(results)
    try:
        n, runs = con.execute("SELECT count(*), count(DISTINCT run_id) FROM summary").fetchone()
        assert n == 30 * 3 and runs == 30  # 30 runs x (all + 2 markets)
        joined = con.execute("SELECT count(*) FROM summary s JOIN runs r USING (run_id) WHERE s.market = 'all'")
        assert joined.fetchone()[0] == 30
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY (SELECT 1) TO '{results}/manifest.json'")
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
        with pytest.raises(duckdb.PermissionException):
            con.execute("SELECT * FROM read_csv('/etc/passwd')")
    finally:
        con.close()
    assert _snapshot(results) == before


def test_query_loads_only_the_tables_it_names(results):
    """query() copies only the tables its SQL names into memory (big sweeps' daily and creators
    tables cost memory), and SQL naming none still runs."""
    assert query(results, "SELECT 42 AS x")["x"][0] == 42
    with pytest.raises(duckdb.CatalogException):
        query(results, "SELECT * FROM query_table('dai' || 'ly')")
