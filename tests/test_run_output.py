"""`livesim run --out`: which folders it writes into, what it replaces, what it keeps and records."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

import sim.runner
from sim.cli import main
from sim.config import load_scenario
from sim.provenance import RUN_FORMAT, scenario_hash

TINY = textwrap.dedent(
    """\
    name = "tiny"
    days = 3
    seed = 7

    [world]
    n_buyers = 2000
    n_creators = 80
    """
)
RUN_FILES = {"daily.parquet", "creators.parquet", "sanctions.parquet", "events.parquet", "scenario.toml", "summary.json"}


def _call(argv: list[str]) -> tuple[int, str, str]:
    """Run ``main(argv)`` in-process, returning (status, stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(argv)
    return status, out.getvalue(), err.getvalue()


def _tree(root: Path) -> dict[str, bytes | None]:
    """Every path under ``root`` with its bytes (None for folders)."""
    return {str(p.relative_to(root)): (None if p.is_dir() else p.read_bytes()) for p in sorted(root.rglob("*"))}


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    path = tmp_path / "scn" / "tiny.toml"
    path.parent.mkdir()
    path.write_text(TINY, encoding="utf-8")
    return path


def _run(scenario: Path, out: Path | str, *extra: str, cwd: Path | None = None) -> tuple[int, str, str]:
    argv = ["run", str(scenario), "--out", str(out), "--quiet", "--no-plot", *extra]
    if cwd is None:
        return _call(argv)
    old = Path.cwd()
    os.chdir(cwd)
    try:
        return _call(argv)
    finally:
        os.chdir(old)


# ---------------------------------------------------------------------------------------
# Refusals: exit 2, one line, checked before the run, nothing touched
# ---------------------------------------------------------------------------------------


def _case(kind: str, work: Path) -> tuple[str, Path, dict[str, str]]:
    """(--out as given, the cwd to run in, extra environment) for each refused kind of --out."""
    env: dict[str, str] = {}
    if kind == "foreign_folder":
        (work / "p" / "sub").mkdir(parents=True)
        (work / "p" / "thesis.txt").write_text("x")
        return "p", work, env
    if kind == "dot":
        (work / "thesis.txt").write_text("x")
        return ".", work, env
    if kind == "parent_of_cwd":
        (work / "inner").mkdir()
        (work / "thesis.txt").write_text("x")
        return "..", work / "inner", env
    if kind == "file":
        (work / "thesis.txt").write_text("x")
        return "thesis.txt", work, env
    if kind == "under_file":
        (work / "thesis.txt").write_text("x")
        return "thesis.txt/sub", work, env
    if kind == "home":
        (work / "home").mkdir()  # empty: only being the home directory makes it refused
        env["HOME"] = str(work / "home")
        return str(work / "home"), work, env
    if kind == "unwritable":
        locked = work / "locked"
        locked.mkdir()
        locked.chmod(0o500)
        if os.access(locked, os.W_OK):
            locked.chmod(0o700)
            pytest.skip("running as a user (root) whom chmod 0o500 does not stop from writing")
        return "locked/out", work, env
    if kind == "unwritable_for_root":
        # /proc/sys takes no new entries, even from root (who ignores chmod).
        if not Path("/proc/sys").is_dir() or os.access("/proc/sys", os.W_OK):
            pytest.skip("no folder here that even root cannot write in")
        return "/proc/sys/livesim-out", work, env
    if kind == "pseudo_filesystem":
        # /proc looks writable to root by its permission bits, yet takes no new folder.
        if not Path("/proc").is_dir() or not os.access("/proc", os.W_OK):
            pytest.skip("no /proc that passes the permission check")
        return "/proc/livesim-out", work, env
    raise AssertionError(kind)


REFUSED = ["foreign_folder", "dot", "parent_of_cwd", "file", "under_file", "home", "unwritable",
           "unwritable_for_root", "pseudo_filesystem"]


@pytest.mark.parametrize("kind", REFUSED)
def test_refused_out_exits_2_with_one_line(kind: str, scenario: Path, tmp_path: Path) -> None:
    """A refused --out exits 2 with one stderr line naming it, no traceback, and leaves every file as it was."""
    work = tmp_path / "work"
    work.mkdir()
    out, cwd, env = _case(kind, work)
    before = _tree(work)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "sim.cli", "run", str(scenario), "--days", "3", "--out", out, "--no-plot"],
            capture_output=True, text=True, cwd=cwd, env={**os.environ, **env}, timeout=120,
        )
    finally:
        if kind == "unwritable":
            (work / "locked").chmod(0o700)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert proc.stderr.startswith("livesim: error: ")
    assert repr(out) in proc.stderr
    assert proc.stdout == ""
    assert _tree(work) == before


@pytest.mark.parametrize("kind", REFUSED)
def test_refused_out_is_checked_before_the_run(kind: str, scenario: Path, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """A refused --out is reported before the simulation starts (the run is never called)."""
    work = tmp_path / "work"
    work.mkdir()
    out, cwd, env = _case(kind, work)
    for k, v in env.items():
        monkeypatch.setenv(k, v)

    def must_not_run(*args, **kwargs):
        raise AssertionError("the simulation ran although --out is refused")

    monkeypatch.setattr(sim.runner, "run", must_not_run)
    try:
        status, _, stderr = _run(scenario, out, cwd=cwd)
    finally:
        if kind == "unwritable":
            (work / "locked").chmod(0o700)
    assert status == 2
    assert stderr.count("\n") == 1, stderr


def test_out_dot_keeps_the_working_directory(scenario: Path, tmp_path: Path) -> None:
    """`--out .` refuses and leaves the working directory's files in place (it used to empty it)."""
    work = tmp_path / "work"
    work.mkdir()
    (work / "thesis.txt").write_text("three years")
    status, _, stderr = _run(scenario, ".", cwd=work)
    assert status == 2
    assert "working directory" in stderr
    assert (work / "thesis.txt").read_text() == "three years"


# ---------------------------------------------------------------------------------------
# Replacing an earlier run: only livesim's files
# ---------------------------------------------------------------------------------------


def test_rerun_keeps_user_files_and_removes_stale_run_files(scenario: Path, tmp_path: Path) -> None:
    """A rerun into a run folder keeps a user's file, drops the old daily.png under --no-plot, and says so."""
    out = tmp_path / "out"
    status, _, err = _call(["run", str(scenario), "--out", str(out), "--quiet"])
    assert status == 0, err
    assert (out / "daily.png").is_file()
    (out / "notes.md").write_text("my notes")
    status, stdout, err = _run(scenario, out, "--seed", "9")
    assert status == 0, err
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"notes.md"}
    assert (out / "notes.md").read_text() == "my notes"
    assert f"replaced the earlier run in {out} (kept 1 file not written by livesim)" in stdout
    assert json.loads((out / "summary.json").read_text())["seed"] == 9
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_existing_empty_folder_is_kept_not_swapped(scenario: Path, tmp_path: Path) -> None:
    """An existing empty --out folder is written into (the same folder, not a new one renamed over it)."""
    out = tmp_path / "out"
    out.mkdir()
    inode = out.stat().st_ino
    status, stdout, err = _run(scenario, out)
    assert status == 0, err
    assert out.stat().st_ino == inode
    assert {p.name for p in out.iterdir()} == RUN_FILES
    assert "replaced" not in stdout


def _legacy_folder(out: Path) -> None:
    """A run folder as an older livesim wrote it: summary.json without a format tag."""
    out.mkdir()
    doc = {"scenario": "tiny", "livesim_version": "0.0.9", "metrics": {"gmv": 1.0}, "days": 3}
    (out / "summary.json").write_text(json.dumps(doc))
    for name in ("daily.parquet", "creators.parquet", "sanctions.parquet", "daily.png"):
        (out / name).write_bytes(b"old")


def test_legacy_run_folder_is_replaced_keeping_other_files(scenario: Path, tmp_path: Path) -> None:
    """An untagged run folder of an older livesim is replaced: its files go, a user's file stays."""
    out = tmp_path / "out"
    _legacy_folder(out)
    (out / "notes.md").write_text("mine")
    status, stdout, err = _run(scenario, out)
    assert status == 0, err
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"notes.md"}
    assert (out / "notes.md").read_text() == "mine"
    assert json.loads((out / "summary.json").read_text())["format"] == RUN_FORMAT
    assert "replaced the earlier run" in stdout


def test_user_file_with_a_run_file_name_is_not_overwritten(scenario: Path, tmp_path: Path) -> None:
    """A user's scenario.toml in an older run folder (which livesim did not write) is refused, not overwritten."""
    out = tmp_path / "out"
    _legacy_folder(out)
    (out / "scenario.toml").write_text("# my own scenario")
    status, _, stderr = _run(scenario, out)
    assert status == 2
    assert "scenario.toml" in stderr and stderr.count("\n") == 1
    assert (out / "scenario.toml").read_text() == "# my own scenario"


def test_summary_json_of_something_else_is_not_a_run_folder(scenario: Path, tmp_path: Path) -> None:
    """A folder whose summary.json is not livesim's (another format tag) is refused and left as it was."""
    out = tmp_path / "out"
    out.mkdir()
    (out / "summary.json").write_text(json.dumps({"format": "other-tool/3", "metrics": {}}))
    (out / "data.csv").write_text("a,b\n")
    before = _tree(out)
    status, _, stderr = _run(scenario, out)
    assert status == 2, stderr
    assert _tree(out) == before


def test_interrupted_replacement_stays_recognisable(scenario: Path, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """Dying while moving files in leaves a folder marked incomplete but livesim's; the next run completes it."""
    import sim.outdir

    out = tmp_path / "out"
    assert _run(scenario, out)[0] == 0
    (out / "notes.md").write_text("mine")
    real_replace = os.replace
    calls = {"n": 0}

    def dies_midway(src, dst):
        calls["n"] += 1
        if calls["n"] == 3:  # the stub and one data file are in
            raise KeyboardInterrupt
        return real_replace(src, dst)

    monkeypatch.setattr(sim.outdir.os, "replace", dies_midway)
    status, _, _ = _run(scenario, out, "--seed", "3")
    assert status == 130
    doc = json.loads((out / "summary.json").read_text())
    assert doc["format"] == RUN_FORMAT and doc["status"] == "incomplete"
    assert (out / "notes.md").read_text() == "mine"
    monkeypatch.setattr(sim.outdir.os, "replace", real_replace)
    status, _, err = _run(scenario, out, "--seed", "3")
    assert status == 0, err
    assert {p.name for p in out.iterdir()} == RUN_FILES | {"notes.md"}
    assert json.loads((out / "summary.json").read_text())["seed"] == 3
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_out_on_another_filesystem_is_filled_by_copying(scenario: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """When a rename into --out crosses filesystems (a mount point), files are copied in and nothing is left over."""
    import errno

    import sim.outdir

    out = tmp_path / "out"
    out.mkdir()
    real_replace = os.replace

    def cross_device(src, dst):
        if Path(src).parent != Path(dst).parent:
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        return real_replace(src, dst)

    monkeypatch.setattr(sim.outdir.os, "replace", cross_device)
    status, _, err = _run(scenario, out)
    assert status == 0, err
    assert sorted(p.name for p in out.iterdir()) == sorted(RUN_FILES)
    assert json.loads((out / "summary.json").read_text())["format"] == RUN_FORMAT
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# ---------------------------------------------------------------------------------------
# Temporary folders of killed runs
# ---------------------------------------------------------------------------------------


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_stale_temporary_folders_of_dead_runs_are_removed(scenario: Path, tmp_path: Path) -> None:
    """The next run removes temporary folders of dead livesim processes, and only those, and only their files."""
    dead = _dead_pid()
    stale = tmp_path / f".out.livesim-tmp-{dead}-abc123"
    stale.mkdir()
    (stale / "daily.parquet").write_bytes(b"partial")
    (stale / "summary.json").write_text("{}")
    (stale / ".stub.json").write_text("{}")  # killed just before the incomplete-folder marker moved in
    alive = tmp_path / f".out.livesim-tmp-{os.getppid()}-def456"  # our parent process: running
    alive.mkdir()
    (alive / "daily.parquet").write_bytes(b"being written")
    foreign = tmp_path / f".other.livesim-tmp-{dead}-ghi789"
    foreign.mkdir()
    (foreign / "daily.parquet").write_bytes(b"partial")
    (foreign / "notes.md").write_text("not livesim's")
    lookalike = tmp_path / ".out.x1y2z3"  # not livesim's pattern
    lookalike.mkdir()
    status, _, err = _run(scenario, tmp_path / "out")
    assert status == 0, err
    assert not stale.exists()
    assert (alive / "daily.parquet").read_bytes() == b"being written"
    assert [p.name for p in foreign.iterdir()] == ["notes.md"]
    assert lookalike.is_dir()


def test_killed_run_leaves_a_folder_the_next_run_cleans(scenario: Path, tmp_path: Path) -> None:
    """A run killed while writing leaves a temporary folder named with its pid; the next run removes it."""
    code = textwrap.dedent(
        f"""
        import os, signal, sim.runner
        real = sim.runner.make_staging
        def staging_then_die(out):
            tmp = real(out)
            (tmp / "daily.parquet").write_bytes(b"partial")
            os.kill(os.getpid(), signal.SIGKILL)
        sim.runner.make_staging = staging_then_die
        from sim.cli import main
        main(["run", {str(scenario)!r}, "--out", {str(tmp_path / "out")!r}, "--quiet", "--no-plot"])
        """
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == -9, proc.stderr
    left = [p.name for p in tmp_path.iterdir() if p.name.startswith(".out.livesim-tmp-")]
    assert len(left) == 1
    status, _, err = _run(scenario, tmp_path / "out")
    assert status == 0, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "scn"]


# ---------------------------------------------------------------------------------------
# Provenance
# ---------------------------------------------------------------------------------------


def test_summary_records_provenance_and_overrides(scenario: Path, tmp_path: Path) -> None:
    """summary.json has the format tag, code identity, package versions, scenario hash and the overrides given."""
    out = tmp_path / "out"
    status, _, err = _run(scenario, out, "--days", "2", "--seed", "5", "--set", "policy.referral_fee=0.08")
    assert status == 0, err
    doc = json.loads((out / "summary.json").read_text())
    assert doc["format"] == RUN_FORMAT
    assert doc["overrides"] == {"days": 2, "seed": 5, "policy.referral_fee": 0.08}
    assert doc["scenario_hash"] == scenario_hash(load_scenario(out / "scenario.toml"))
    prov = doc["provenance"]
    assert {"livesim", "commit", "dirty", "versions"} <= set(prov)
    assert {"python", "numpy", "pandas", "mesa"} <= set(prov["versions"])
    assert sorted(doc["files"]) == sorted(RUN_FILES)


def test_written_scenario_toml_reproduces_the_run(scenario: Path, tmp_path: Path) -> None:
    """Running the scenario.toml a run wrote (no overrides) gives the same results as the original run."""
    first = tmp_path / "first"
    status, _, err = _run(scenario, first, "--days", "4", "--seed", "11", "--set", "policy.referral_fee=0.09")
    assert status == 0, err
    again = tmp_path / "again"
    status, _, err = _run(first / "scenario.toml", again)
    assert status == 0, err
    a = json.loads((first / "summary.json").read_text())
    b = json.loads((again / "summary.json").read_text())
    assert b["overrides"] == {}
    for key in ("scenario_hash", "metrics", "by_market", "ledger", "seed", "days"):
        assert a[key] == b[key], key
    assert_frame_equal(pd.read_parquet(first / "daily.parquet"), pd.read_parquet(again / "daily.parquet"))


def test_run_records_overrides_in_the_result(scenario: Path) -> None:
    """`run(path, overrides=...)` applies the overrides and keeps them in RunResult.overrides."""
    result = sim.runner.run(scenario, overrides={"days": 2, "world.n_buyers": 1500})
    assert result.overrides == {"days": 2, "world.n_buyers": 1500}
    assert result.scenario.days == 2 and result.scenario.world.n_buyers == 1500
