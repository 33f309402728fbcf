"""The livesim command end to end: validate, run, output files, error reporting and exit status."""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.cli import main
from sim.metrics import METRICS

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

TINY_TOML = textwrap.dedent(
    """\
    name = "tiny"
    days = 20

    [world]
    n_buyers = 3000
    n_creators = 120

    [[world.markets]]
    name = "sg"
    buyer_share = 0.4
    creator_share = 0.4

    [[world.markets]]
    name = "id"
    buyer_share = 0.6
    creator_share = 0.6
    price_level = 0.35

    [policy]
    referral_fee = 0.06

    [[timeline]]
    kind = "campaign"
    name = "sale"
    start_day = 5
    days = 3
    """
)
TINY_MARKETS = ["sg", "id"]
OUTPUT_FILES = {"daily.parquet", "creators.parquet", "sanctions.parquet", "events.parquet", "scenario.toml", "summary.json",
                "daily.png"}


def _call(argv: list[str]) -> tuple[int, str, str]:
    """Run ``main(argv)`` in-process, returning (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.fixture(scope="module")
def tiny_toml(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny scenario file."""
    path = tmp_path_factory.mktemp("scenario") / "tiny.toml"
    path.write_text(TINY_TOML, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def default_run(tiny_toml: Path, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """One plotted run of the tiny scenario with default seed and replication."""
    out = tmp_path_factory.mktemp("default") / "out"
    status, stdout, stderr = _call(["run", str(tiny_toml), "--out", str(out), "--quiet"])
    return {"status": status, "stdout": stdout, "stderr": stderr, "out": out}


def _run_daily(tiny_toml: Path, out: Path, *extra: str) -> pd.DataFrame:
    status, _, stderr = _call(["run", str(tiny_toml), "--out", str(out), "--quiet", "--no-plot", *extra])
    assert status == 0, stderr
    return pd.read_parquet(out / "daily.parquet")


# ---------------------------------------------------------------------------------------
# validate
# ---------------------------------------------------------------------------------------


def test_validate_baseline_prints_resolved_scenario(capsys: pytest.CaptureFixture[str]) -> None:
    """`validate` on the baseline returns 0 and prints the fully resolved scenario as JSON."""
    status = main(["validate", str(BASELINE)])
    out, err = capsys.readouterr()
    assert status == 0
    assert err == ""
    head, body = out.split("\n", 1)
    assert "valid scenario 'baseline'" in head
    assert '"n_buyers"' in body
    doc = json.loads(body)
    assert doc["world"]["n_buyers"] == 120_000
    assert doc["days"] == 180
    # Resolved: defaults the file does not write are printed too.
    assert "buyers" in doc["world"] and "recommender" in doc["policy"]


def test_validate_applies_set_and_days(capsys: pytest.CaptureFixture[str]) -> None:
    """`validate --set policy.referral_fee=0.08 --days 5` prints the overridden values."""
    status = main(["validate", str(BASELINE), "--set", "policy.referral_fee=0.08", "--days", "5",
                   "--set", "world.markets.id.price_level=0.5"])
    out, _ = capsys.readouterr()
    assert status == 0
    doc = json.loads(out.split("\n", 1)[1])
    assert doc["policy"]["referral_fee"] == 0.08
    assert doc["days"] == 5
    assert {m["name"]: m["price_level"] for m in doc["world"]["markets"]} == {"sg": 1.0, "id": 0.5}


# ---------------------------------------------------------------------------------------
# Bad inputs: status 2, one line on stderr naming file and field, no traceback
# ---------------------------------------------------------------------------------------


def _bad_text(kind: str) -> str:
    edits = {
        "syntax": TINY_TOML + "broken = \n",
        "unknown-key": TINY_TOML.replace("n_creators = 120\n", "n_creators = 120\ntypo = 1\n"),
        "wrong-type": TINY_TOML.replace("n_buyers = 3000", 'n_buyers = "many"'),
        "out-of-range": TINY_TOML.replace("referral_fee = 0.06", "referral_fee = 0.9"),
    }
    text = edits.get(kind, TINY_TOML)
    assert kind not in edits or text != TINY_TOML, "test setup: edit did not apply"
    return text


# (kind, extra argv, substrings the message must contain besides "livesim: error:").
# "{path}" stands for the scenario file.
BAD_INPUTS = [
    pytest.param("missing", [], ["{path}", "no such scenario file"], id="missing-file"),
    pytest.param("syntax", [], ["{path}", "TOML", "line"], id="toml-syntax"),
    pytest.param("unknown-key", [], ["{path}", "world.typo", "allowed keys", "n_buyers"], id="unknown-key"),
    pytest.param("wrong-type", [], ["{path}", "world.n_buyers", "'many'"], id="wrong-type"),
    pytest.param("out-of-range", [], ["{path}", "policy.referral_fee", "0.9"], id="out-of-range"),
    pytest.param("ok", ["--set", "policy.referral_fee"], ["--set", "policy.referral_fee", "PATH=VALUE"],
                 id="set-without-equals"),
    pytest.param("ok", ["--set", "policy.typo=1"], ["{path}", "policy.typo", "referral_fee"], id="set-unknown-path"),
    pytest.param("ok", ["--set", "world.markets.xx.price_level=1"], ["{path}", "world.markets.xx", "sg, id"],
                 id="set-unknown-market"),
    pytest.param("ok", ["--set", "policy.referral_fee=0.9"], ["{path}", "policy.referral_fee", "0.9"],
                 id="set-out-of-range"),
    pytest.param("ok", ["--days", "0"], ["{path}", "days", "got 0"], id="days-out-of-range"),
]


def _bad_scenario(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / "bad.toml"
    if kind != "missing":
        path.write_text(_bad_text(kind), encoding="utf-8")
    return path


@pytest.mark.parametrize("command", ["validate", "run"])
@pytest.mark.parametrize(("kind", "extra", "expected"), BAD_INPUTS)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: str, kind: str, extra: list[str],
    expected: list[str],
) -> None:
    """Bad input returns status 2 and prints one `livesim: error:` line naming file and field, writing no output."""
    path = _bad_scenario(tmp_path, kind)
    out_dir = tmp_path / "out"
    argv = [command, str(path), *extra]
    if command == "run":
        argv += ["--out", str(out_dir), "--quiet"]
    status = main(argv)
    out, err = capsys.readouterr()
    assert status == 2
    assert out == ""
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("livesim: error: ")
    for s in expected:
        assert s.format(path=path) in err, (s, err)
    assert "Traceback" not in err
    assert not out_dir.exists()


@pytest.mark.parametrize(
    ("kind", "extra", "expected"),
    [
        pytest.param("unknown-key", [], ["{path}", "world.typo"], id="unknown-key"),
    ],
)
def test_subprocess_bad_input_exit_status(tmp_path: Path, kind: str, extra: list[str], expected: list[str]) -> None:
    """`python -m sim.cli` exits with status 2 on bad input, one line on stderr, no traceback."""
    path = _bad_scenario(tmp_path, kind)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "validate", str(path), *extra],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
    )
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stdout == ""
    assert proc.stderr.count("\n") == 1, proc.stderr
    for s in expected:
        assert s.format(path=path) in proc.stderr


# ---------------------------------------------------------------------------------------
# run: outputs
# ---------------------------------------------------------------------------------------


def test_run_writes_all_outputs(default_run: dict) -> None:
    """`run --out` returns 0 and writes exactly the data files, scenario.toml, summary.json and daily.png."""
    assert default_run["status"] == 0, default_run["stderr"]
    out: Path = default_run["out"]
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES
    assert all((out / f).stat().st_size > 0 for f in OUTPUT_FILES)
    assert (out / "daily.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert _hidden(out.parent) == []


def test_run_daily_parquet_shape(default_run: dict) -> None:
    """daily.parquet has day, market and every metric, one row per day 1..20 for "all" and each market."""
    daily = pd.read_parquet(default_run["out"] / "daily.parquet")
    assert list(daily.columns) == ["day", "market", "warmup", *METRICS]
    assert len(daily) == 20 * (1 + len(TINY_MARKETS))
    expected = {(d, m) for d in range(1, 21) for m in ["all", *TINY_MARKETS]}
    assert set(zip(daily["day"], daily["market"], strict=True)) == expected


def test_run_daily_all_is_platform_total(default_run: dict) -> None:
    """In daily.parquet the "all" rows' GMV and orders are the sums over the markets."""
    daily = pd.read_parquet(default_run["out"] / "daily.parquet")
    per_day = daily[daily["market"] != "all"].groupby("day")[["gmv", "orders"]].sum()
    platform = daily[daily["market"] == "all"].set_index("day")[["gmv", "orders"]]
    assert platform["gmv"].sum() > 0
    assert_frame_equal(platform.sort_index(), per_day.sort_index(), check_dtype=False, check_index_type=False, check_names=False)


def test_run_summary_json(default_run: dict) -> None:
    """summary.json names the scenario, seed, replication and days, with every metric platform-wide and per market."""
    doc = json.loads((default_run["out"] / "summary.json").read_text())
    assert doc["scenario"] == "tiny"
    assert doc["days"] == 20
    assert doc["replication"] == 0
    assert set(doc["metrics"]) == set(METRICS)
    assert set(doc["by_market"]) == set(TINY_MARKETS)
    assert all(set(v) == set(METRICS) for v in doc["by_market"].values())
    assert doc["metrics"]["gmv"] > 0
    assert [c["name"] for c in doc["campaigns"]] == ["sale"]


def test_run_creators_parquet(default_run: dict) -> None:
    """creators.parquet has one row per creator account with its market among the scenario's markets."""
    creators = pd.read_parquet(default_run["out"] / "creators.parquet")
    assert len(creators) >= 120
    assert creators["creator_id"].is_unique
    assert set(creators["market"].astype(str)) <= set(TINY_MARKETS)


def test_run_prints_table(default_run: dict) -> None:
    """`run` prints a summary table with a row for each metric (including prevalence) and the files written."""
    stdout = default_run["stdout"]
    assert "prevalence" in stdout
    rows = {line.split()[0] for line in stdout.splitlines() if line.split()}
    assert set(METRICS) <= rows
    assert "daily.png" in stdout


def test_run_no_plot_writes_no_png(tiny_toml: Path, tmp_path: Path) -> None:
    """`run --no-plot` writes the data files but no PNG."""
    out = tmp_path / "out"
    status, stdout, _ = _call(["run", str(tiny_toml), "--out", str(out), "--quiet", "--no-plot"])
    assert status == 0
    assert {p.name for p in out.iterdir()} == OUTPUT_FILES - {"daily.png"}
    assert "daily.png" not in stdout


def test_output_folder_respects_umask(tiny_toml: Path, tmp_path: Path) -> None:
    """The output folder gets the permissions of an ordinary new folder (umask 022: rwxr-xr-x)."""
    import os
    import stat

    old = os.umask(0o022)
    try:
        _run_daily(tiny_toml, tmp_path / "out", "--days", "2")
        (tmp_path / "plain").mkdir()
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "out").stat().st_mode)
    assert mode == stat.S_IMODE((tmp_path / "plain").stat().st_mode) == 0o755, oct(mode)


def test_run_default_out_is_results_name(tiny_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Without --out, `run` writes to results/<scenario name>/ under the current directory."""
    monkeypatch.chdir(tmp_path)
    status, _, _ = _call(["run", str(tiny_toml), "--quiet", "--no-plot", "--days", "2"])
    assert status == 0
    assert (tmp_path / "results" / "tiny" / "summary.json").is_file()


def test_failed_write_leaves_no_output(tiny_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """If writing fails (plotting raises), there is no output folder and no temporary folder beside it."""
    import analysis.plots

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(analysis.plots, "daily_overview", boom)
    monkeypatch.setenv("LIVESIM_DEBUG", "1")  # the failure propagates instead of one "internal error" line
    parent = tmp_path / "results"
    out = parent / "out"
    with pytest.raises(RuntimeError, match="plotting failed"):
        main(["run", str(tiny_toml), "--out", str(out), "--quiet", "--days", "3"])
    assert not out.exists()
    assert list(parent.iterdir()) == []


def test_failed_write_keeps_previous_output(tiny_toml: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A failed rerun into an existing --out leaves the previous run's files untouched."""
    import analysis.plots

    out = tmp_path / "out"
    _run_daily(tiny_toml, out, "--days", "4")
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def boom(*args, **kwargs):
        raise RuntimeError("plotting failed")

    monkeypatch.setattr(analysis.plots, "daily_overview", boom)
    monkeypatch.setenv("LIVESIM_DEBUG", "1")  # the failure propagates instead of one "internal error" line
    with pytest.raises(RuntimeError):
        main(["run", str(tiny_toml), "--out", str(out), "--quiet", "--days", "3"])
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before
    assert _hidden(tmp_path) == []


def test_rerun_replaces_output_cleanly(tiny_toml: Path, tmp_path: Path) -> None:
    """A second run into the same --out replaces livesim's files (a user's file stays), no hidden folders are left."""
    out = tmp_path / "out"
    _run_daily(tiny_toml, out, "--days", "3")
    (out / "notes.txt").write_text("from before")
    daily = _run_daily(tiny_toml, out, "--days", "4", "--seed", "5")
    assert {p.name for p in out.iterdir()} == (OUTPUT_FILES - {"daily.png"}) | {"notes.txt"}
    assert (out / "notes.txt").read_text() == "from before"
    doc = json.loads((out / "summary.json").read_text())
    assert (doc["days"], doc["seed"]) == (4, 5)
    assert daily["day"].max() == 4
    assert _hidden(tmp_path) == []
    assert [p.name for p in tmp_path.iterdir()] == ["out"]


# ---------------------------------------------------------------------------------------
# run: overrides and reproducibility
# ---------------------------------------------------------------------------------------


def test_run_days_override(tiny_toml: Path, tmp_path: Path) -> None:
    """`run --days 5` simulates 5 days: daily.parquet ends at day 5 and summary.json says 5."""
    daily = _run_daily(tiny_toml, tmp_path / "out", "--days", "5")
    assert daily["day"].min() == 1
    assert daily["day"].max() == 5
    assert len(daily) == 5 * (1 + len(TINY_MARKETS))
    assert json.loads((tmp_path / "out" / "summary.json").read_text())["days"] == 5


def test_run_set_referral_fee_raises_platform_fees(tiny_toml: Path, tmp_path: Path, default_run: dict) -> None:
    """`run --set policy.referral_fee=0.08` is applied: platform fees rise above the 6 % default run's."""
    _run_daily(tiny_toml, tmp_path / "out", "--set", "policy.referral_fee=0.08")
    fees = json.loads((tmp_path / "out" / "summary.json").read_text())["ledger"]["platform_fees"]
    base = json.loads((default_run["out"] / "summary.json").read_text())["ledger"]["platform_fees"]
    assert base > 0
    assert fees > base * 1.1


def test_same_arguments_give_identical_results(tiny_toml: Path, tmp_path: Path, default_run: dict) -> None:
    """The same scenario and arguments twice give identical daily.parquet contents."""
    again = _run_daily(tiny_toml, tmp_path / "again")
    first = pd.read_parquet(default_run["out"] / "daily.parquet")
    assert_frame_equal(again, first, check_exact=True)
    seeded_a = _run_daily(tiny_toml, tmp_path / "a", "--seed", "7", "--replication", "2")
    seeded_b = _run_daily(tiny_toml, tmp_path / "b", "--seed", "7", "--replication", "2")
    assert_frame_equal(seeded_a, seeded_b, check_exact=True)


@pytest.mark.parametrize("extra", [["--seed", "7"], ["--replication", "1"]], ids=["seed", "replication"])
def test_seed_and_replication_change_results(tiny_toml: Path, tmp_path: Path, default_run: dict, extra: list[str]) -> None:
    """`--seed` and `--replication` each give a different world from the default run, recorded in summary.json."""
    daily = _run_daily(tiny_toml, tmp_path / "out", *extra)
    first = pd.read_parquet(default_run["out"] / "daily.parquet")
    assert daily.shape == first.shape
    assert not daily["gmv"].equals(first["gmv"])
    doc = json.loads((tmp_path / "out" / "summary.json").read_text())
    key = extra[0].lstrip("-")
    assert doc[key] == int(extra[1])


def test_closed_pipe_is_not_a_traceback(tmp_path: Path) -> None:
    """A reader that has gone (`| true`, like `| head` done reading) ends livesim quietly: no
    traceback, its results intact."""
    import shlex

    out = tmp_path / "run"
    cmd = (f"{shlex.quote(sys.executable)} -m sim.cli run {shlex.quote(str(BASELINE))} "
           f"--days 2 --set world.n_buyers=2000 --set world.n_creators=60 --no-plot --quiet "
           f"--out {shlex.quote(str(out))} | true")
    proc = subprocess.run(["bash", "-c", cmd], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert "Traceback" not in proc.stderr and "BrokenPipeError" not in proc.stderr, proc.stderr
    assert (out / "summary.json").is_file()
