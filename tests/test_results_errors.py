"""A damaged results folder is one line naming the file, for load, query and report alike."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from analysis.load import ResultsError, connect, load, load_runs, query
from sim.cli import main
from tests.conftest import cli_error


@pytest.fixture
def results(sweep_results, tmp_path) -> Path:
    """A private copy of the stored sweep to damage."""
    copy = tmp_path / "results"
    shutil.copytree(sweep_results, copy)
    return copy


def _both(results: Path, tmp_path: Path, capsys) -> list[str]:
    return [
        cli_error(["query", str(results), "SELECT count(*) FROM summary"], capsys),
        cli_error(["report", str(results), "--out", str(tmp_path / "rep" / "r.html")], capsys),
    ]


def test_truncated_manifest_names_the_file(results, tmp_path, capsys):
    """A manifest cut short says '<folder>/manifest.json: not valid JSON (truncated?)'."""
    manifest = results / "manifest.json"
    manifest.write_bytes(manifest.read_bytes()[:200])
    for err in _both(results, tmp_path, capsys):
        assert f"{manifest}: not valid JSON (truncated?)" in err
    for fn in (load, connect, load_runs):
        with pytest.raises(ResultsError, match="not valid JSON"):
            fn(results)
    assert not (tmp_path / "rep").exists()  # nothing written for a report that failed


def test_manifest_that_is_a_list_names_the_file(results, tmp_path, capsys):
    """A manifest holding a JSON list is named, with what was expected and what it holds."""
    manifest = results / "manifest.json"
    manifest.write_text(json.dumps([1, 2, 3]))
    for err in _both(results, tmp_path, capsys):
        assert f'{manifest}: expected a livesim sweep manifest (a JSON object with "runs"), got a list' in err
    with pytest.raises(ResultsError, match="got a list"):
        query(results, "SELECT 1")


def test_manifest_without_runs_names_the_file(results, capsys):
    """A JSON object that is not a sweep manifest (no "runs") is named too."""
    (results / "manifest.json").write_text(json.dumps({"name": "x"}))
    err = cli_error(["query", str(results), "SELECT 1"], capsys)
    assert 'got an object without "runs"' in err and "manifest.json" in err


def test_missing_shards_of_done_runs_are_named(results, tmp_path, capsys):
    """Runs the manifest calls done but whose shards are gone: the folder, the count and one run id."""
    shards = sorted((results / "summary").glob("*.parquet"))[:3]
    for p in shards:
        p.unlink()
    gone = {p.stem for p in shards}
    for err in _both(results, tmp_path, capsys):
        assert f"{results / 'summary'}/: no shards for 3 runs marked done in the manifest (e.g. " in err
        assert any(run_id in err for run_id in gone)
    with pytest.raises(ResultsError, match="no shards for 3 runs"):
        load(results)


def test_folder_without_any_shard_is_one_line(results, tmp_path, capsys):
    """A sweep with no finished run at all (every shard missing, runs pending) is one line, not 'SQL failed'."""
    manifest = json.loads((results / "manifest.json").read_text())
    for entry in manifest["runs"].values():
        entry["status"] = "pending"
    (results / "manifest.json").write_text(json.dumps(manifest))
    for kind in ("summary", "daily", "sanctions", "creators"):
        for p in (results / kind).glob("*.parquet"):
            p.unlink()
    for err in _both(results, tmp_path, capsys):
        assert f"{results / 'summary'}/: no shards" in err and "30 pending" in err
        assert "SQL failed" not in err


def test_truncated_shard_names_the_shard(results, capsys):
    """A shard cut short is named as the unreadable file (load), or by its folder (query), not 'SQL failed'."""
    shard = sorted((results / "summary").glob("*.parquet"))[0]
    shard.write_bytes(shard.read_bytes()[:100])
    with pytest.raises(ResultsError, match=f"^{shard}: not a readable Parquet shard"):
        load(results)
    err = cli_error(["query", str(results), "SELECT count(*) FROM summary"], capsys)
    assert err.startswith(f"livesim: error: {results / 'summary'}/: a shard cannot be read (truncated?)")


@pytest.mark.parametrize("sql", ["", "   ", "-- a comment only", ";"])
def test_query_without_a_statement_is_one_line(sweep_results, capsys, sql: str) -> None:
    """SQL with no statement to answer exits 2 with one line saying what to give, not a Python error."""
    assert main(["query", str(sweep_results), sql]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "SELECT" in err[0] and "NoneType" not in err[0]


def test_target_for_a_market_not_in_the_results_is_refused(sweep_results, tmp_path, capsys) -> None:
    """A --targets entry naming a market the results do not have exits 2 naming the file, the field and the markets."""
    targets = tmp_path / "t.toml"
    targets.write_text('[[targets]]\nmetric = "prevalence"\nmax = 0.1\nmarket = "zz"\n')
    assert main(["report", str(sweep_results), "--targets", str(targets), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "t.toml: targets[0].market: got 'zz'" in err[0] and "markets: all" in err[0]
    assert not (tmp_path / "r.html").exists()
