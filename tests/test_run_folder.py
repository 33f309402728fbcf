"""A single run's folder (livesim run --out) reads like a sweep of one run: load, query, report's input."""

from __future__ import annotations

import json
import math
import os
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from analysis.load import RUN_ID, ResultsError, connect, is_run_folder, load, load_runs, query
from sim.cli import main
from sim.config import read_toml, scenario_from_dict
from sim.provenance import scenario_hash
from tests.conftest import cli_error, sweep_file

KINDS = ("summary", "daily", "sanctions", "creators")
KEYS = ["run_id", "variant", "point", "replication", "seed"]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, Path]:
    """A tiny sweep (one variant, two replications) and, from its resolved scenario, a run
    folder of replication 1 written by ``livesim run``: the same run stored both ways."""
    from sim.experiment import execute
    from sim.sweep import load_sweep

    base = tmp_path_factory.mktemp("run_folder")
    sweep = load_sweep(sweep_file(base, "replications = 2\n[variants.baseline]\n", days=20, buyers=3000,
                                  creators=120))
    execute(sweep, base / "sweep", workers=1, with_creators=True)
    run_dir = base / "run"
    argv = ["run", str(base / "sweep" / "scenarios" / "baseline.toml"), "--replication", "1", "--out", str(run_dir),
            "--no-plot", "--quiet"]
    assert main(argv) == 0
    return run_dir, base / "sweep"


@pytest.fixture
def run_dir(made) -> Path:
    """The stored run folder (read only)."""
    return made[0]


@pytest.fixture
def copy(made, tmp_path) -> Path:
    """A private copy of the run folder, to damage."""
    out = tmp_path / "run"
    shutil.copytree(made[0], out)
    return out


def _state(folder: Path) -> dict[str, tuple[int, int]]:
    """Every entry under ``folder`` (hidden ones too) with its size and modification time in ns."""
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(folder.rglob("*"))}


def test_summary_equals_summary_json_exactly(run_dir):
    """The summary table holds summary.json's values exactly: one row for the platform (market
    "all") and one per market, keyed run "run", variant = the scenario, point 0, its replication
    and seed; null values are NaN."""
    doc = json.loads((run_dir / "summary.json").read_text())
    res = load(run_dir)
    s = res.summary
    assert list(s["market"]) == ["all", *doc["by_market"]]
    assert len(doc["by_market"]) == 2  # the tiny world's two markets, each with its own row
    assert list(s.columns) == [*KEYS, "market", *doc["metrics"]]
    assert set(s["run_id"]) == {RUN_ID} and set(s["variant"]) == {doc["scenario"]} and set(s["point"]) == {0}
    assert set(s["replication"]) == {doc["replication"]} == {1} and set(s["seed"]) == {doc["seed"]}
    nulls = 0
    for market, values in {"all": doc["metrics"], **doc["by_market"]}.items():
        row = s[s["market"] == market].iloc[0]
        for name, value in values.items():
            if value is None:
                nulls += 1
                assert math.isnan(row[name]), (market, name)
            else:
                assert row[name] == value, (market, name)
    assert nulls > 0  # the null-as-NaN path is exercised (metrics undefined without a programme)


def test_run_folder_loads_exactly_as_the_same_run_in_a_sweep(made):
    """The same scenario and replication, run by livesim run and by livesim sweep, give equal
    tables (columns, dtypes, values) apart from the run_id and variant labels."""
    run_dir, sweep_dir = made
    one, sweep = load(run_dir), load(sweep_dir)
    for kind in KINDS:
        mine = getattr(one, kind)
        theirs = getattr(sweep, kind)
        theirs = theirs[theirs["replication"] == 1].reset_index(drop=True)
        assert len(theirs) > 0 and len(mine) == len(theirs), kind
        pd.testing.assert_frame_equal(mine.drop(columns=["run_id", "variant"]),
                                      theirs.drop(columns=["run_id", "variant"]), check_exact=True, obj=kind)
        assert set(mine["variant"]) == {"tiny"} and set(theirs["variant"]) == {"baseline"}


def test_daily_sanctions_creators_are_the_parquet_files_with_key_columns(run_dir):
    """daily, sanctions and creators are the run folder's Parquet files, row for row, behind
    the key columns a sweep shard has; categorical columns become plain strings, as in shards."""
    res = load(run_dir)
    assert len(res.sanctions) > 0  # the tiny world enforces: the sanctions table has rows to check
    for kind in ("daily", "sanctions", "creators"):
        raw = pd.read_parquet(run_dir / f"{kind}.parquet")
        got = getattr(res, kind)
        assert list(got.columns) == [*KEYS, *raw.columns]
        assert len(got) == len(raw)
        for col in raw.columns:
            expected = raw[col].astype(str) if isinstance(raw[col].dtype, pd.CategoricalDtype) else raw[col]
            pd.testing.assert_series_equal(got[col], expected, check_dtype=False, obj=f"{kind}.{col}")


def test_manifest_is_a_sweep_of_one_run(run_dir, made):
    """The made-up manifest says kind "run" (a sweep's says "sweep"), lists one done run with the
    code from the run's provenance, and carries the resolved scenario, which is the run's."""
    doc = json.loads((run_dir / "summary.json").read_text())
    m = load(run_dir).manifest
    assert m["kind"] == "run" and load(made[1]).manifest["kind"] == "sweep"
    prov = doc["provenance"]
    assert m["runs"] == {RUN_ID: {
        "variant": doc["scenario"], "point": 0, "replication": 1, "seed": doc["seed"], "params": {}, "status": "done",
        "duration_s": doc["runtime_s"], "code": {k: prov[k] for k in ("livesim", "commit", "dirty", "diff")}}}
    config = dict(m["config"])
    base = config.pop("base_scenario")
    assert config == {"name": doc["scenario"], "description": "", "replications": 1, "design": "none",
                      "axes": {"levers": [], "uncertainties": []}, "variants": {doc["scenario"]: {}},
                      "points": [{}], "expectations": {}}
    assert base == read_toml(run_dir / "scenario.toml")
    assert scenario_hash(scenario_from_dict(base)) == doc["scenario_hash"]
    runs = load_runs(run_dir)
    assert runs.to_dict("records") == [{"run_id": RUN_ID, "variant": doc["scenario"], "point": 0, "replication": 1,
                                        "seed": doc["seed"], "status": "done", "duration_s": doc["runtime_s"],
                                        "error": None, "livesim": prov["livesim"], "commit": prov["commit"],
                                        "dirty": prov["dirty"]}]


def test_query_counts_equal_the_files(run_dir, capsys):
    """SQL sees every table: daily has the rows of daily.parquet, summary one per market plus
    the platform, runs one row; livesim query prints the same count."""
    assert query(run_dir, "SELECT count(*) AS n FROM daily")["n"][0] == len(pd.read_parquet(run_dir / "daily.parquet"))
    res = load(run_dir)
    for kind in KINDS:
        assert query(run_dir, f"SELECT count(*) AS n FROM {kind}")["n"][0] == len(getattr(res, kind)), kind
    assert query(run_dir, "SELECT run_id, status FROM runs").to_dict("records") == [{"run_id": RUN_ID, "status": "done"}]
    joined = query(run_dir, "SELECT count(*) AS n FROM summary JOIN runs USING (run_id) WHERE market = 'all'")
    assert joined["n"][0] == 1
    assert main(["query", str(run_dir), "SELECT count(*) AS n FROM daily", "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", str(len(pd.read_parquet(run_dir / "daily.parquet")))]


def test_lock_down_holds_on_a_run_folder(copy, capsys):
    """On a run folder too, COPY ... TO, reading files and turning access back on are refused
    (exit 2, one line), and the folder is unchanged."""
    before = _state(copy)
    for sql in (f"COPY (SELECT * FROM summary) TO '{copy}/summary.json' (FORMAT csv)",
                f"COPY daily TO '{copy}/injected.parquet' (FORMAT parquet)",
                f"SELECT * FROM read_parquet('{copy}/daily.parquet')"):
        err = cli_error(["query", str(copy), sql], capsys)
        assert "SQL not allowed" in err and "read-only" in err
    con = connect(copy)
    try:
        with pytest.raises(duckdb.PermissionException):
            con.execute(f"COPY summary TO '{copy}/summary.csv'")
        with pytest.raises(duckdb.Error):
            con.execute("SET enable_external_access = true")
    finally:
        con.close()
    assert _state(copy) == before


def test_folder_that_is_neither_is_one_line(tmp_path, capsys):
    """A folder with neither manifest.json nor summary.json exits 2 with one line saying it is
    neither a sweep results folder nor a run folder; a missing folder says there is none."""
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "notes.txt").write_text("not results")
    for cmd in (["query", str(empty), "SELECT 1"], ["report", str(empty), "--out", str(tmp_path / "r" / "r.html")]):
        err = cli_error(cmd, capsys)
        assert f"{empty}: neither a sweep results folder (no manifest.json) nor a run folder (no summary.json)" in err
    assert "no such folder" in cli_error(["query", str(tmp_path / "absent"), "SELECT 1"], capsys)
    assert not (tmp_path / "r").exists()
    with pytest.raises(FileNotFoundError, match="neither a sweep results folder"):
        load(empty)


def test_truncated_summary_json_is_one_line_naming_it(copy, capsys):
    """A summary.json cut short: ResultsError '<folder>/summary.json: not valid JSON (truncated?)'
    from load, connect, query and load_runs, and one line with exit 2 from livesim query."""
    file = copy / "summary.json"
    file.write_bytes(file.read_bytes()[:300])
    for fn in (load, connect, load_runs, lambda p: query(p, "SELECT 1")):
        with pytest.raises(ResultsError, match="not valid JSON") as info:
            fn(copy)
        assert str(info.value).startswith(f"{file}: not valid JSON (truncated?)")
        assert "\n" not in str(info.value)
    err = cli_error(["query", str(copy), "SELECT count(*) FROM summary"], capsys)
    assert err.startswith(f"livesim: error: {file}: not valid JSON (truncated?)")
    assert not is_run_folder(copy)


def test_damaged_parquet_file_is_one_line_naming_it(copy, capsys):
    """A daily.parquet cut short is named as an unreadable Parquet file, by load and by livesim query."""
    file = copy / "daily.parquet"
    file.write_bytes(file.read_bytes()[:100])
    with pytest.raises(ResultsError, match=f"^{file}: not a readable Parquet file"):
        load(copy)
    err = cli_error(["query", str(copy), "SELECT count(*) FROM daily"], capsys)
    assert err.startswith(f"livesim: error: {file}: not a readable Parquet file")


@pytest.mark.parametrize(("doc", "message"), [
    ({"format": "livesim-run/1", "status": "incomplete", "files": []}, "interrupted while writing this run folder"),
    ({"name": "someone else's"}, "format: expected 'livesim-run/1'"),
    ([1, 2], "expected a livesim run summary"),
])
def test_summary_json_livesim_did_not_finish_is_refused(copy, doc, message):
    """An interrupted run's stub, someone else's summary.json, or a JSON list: ResultsError naming the file."""
    (copy / "summary.json").write_text(json.dumps(doc))
    with pytest.raises(ResultsError, match=message) as info:
        load(copy)
    assert str(info.value).startswith(f"{copy / 'summary.json'}: ")


def test_summary_json_with_a_bad_metric_names_the_field(copy):
    """A metric value that is not a number or null names the file and the metric's path."""
    doc = json.loads((copy / "summary.json").read_text())
    market = next(iter(doc["by_market"]))
    doc["by_market"][market]["gmv"] = "lots"
    (copy / "summary.json").write_text(json.dumps(doc))
    with pytest.raises(ResultsError, match=f"summary.json: by_market.{market}.gmv: got 'lots'; expected a number"):
        load(copy)


def test_is_run_folder_checks_the_format_tag(run_dir, made, tmp_path):
    """is_run_folder is true for a livesim run folder only: not a sweep folder, an empty one, or a
    folder whose summary.json lacks livesim's run format tag."""
    assert is_run_folder(run_dir) and is_run_folder(str(run_dir))
    assert not is_run_folder(made[1])
    assert not is_run_folder(tmp_path)
    (tmp_path / "summary.json").write_text(json.dumps({"format": "someone-else/1"}))
    assert not is_run_folder(tmp_path)


def test_nothing_is_written_into_the_run_folder(copy, capsys):
    """Loading, connecting, querying and listing runs leave the run folder as it was: the same
    entries, sizes and modification times."""
    os.utime(copy / "summary.json", ns=(1_000_000_000, 1_000_000_000))  # an old mtime: a rewrite would show
    before = _state(copy)
    load(copy)
    load_runs(copy)
    connect(copy).close()
    query(copy, "SELECT * FROM summary JOIN runs USING (run_id)")
    assert main(["query", str(copy), "SELECT count(*) FROM creators"]) == 0
    capsys.readouterr()
    assert _state(copy) == before
