"""Sweep safety: results folders are livesim's own, one sweep at a time, no orphans, provenance."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import ROOT, sweep_file


def _sweep_file(tmp_path: Path, body: str = "replications = 2\n", days: int = 3, name: str = "t",
                buyers: int = 1500) -> Path:
    return sweep_file(tmp_path, body, days=days, name=name, buyers=buyers)


# ---------------------------------------------------------------------------------------
# 5. No process outlives a killed sweep
# ---------------------------------------------------------------------------------------


def _session_members(sid: int) -> dict[int, str]:
    """Live (non-zombie) processes of session ``sid``, with their command lines."""
    out = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
            cmd = Path(f"/proc/{entry}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        state, session = fields[0], int(fields[3])
        if session == sid and state != "Z":
            out[int(entry)] = cmd
    return out


def _children(pid: int) -> list[int]:
    kids = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == pid:
                kids.append(int(entry))
    return kids


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")
@pytest.mark.parametrize("moment", ["0.2s", "1s", "3s", "worker-startup"])
def test_a_killed_sweep_leaves_no_process_behind(tmp_path, moment):
    """After SIGKILL of the sweep process at any moment, its pool workers and resource tracker exit too."""
    path = _sweep_file(tmp_path, "replications = 40\n", days=6, buyers=2500)
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "2",
           "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        if moment == "worker-startup":  # as soon as the first worker exists, before it has imported anything much
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline and not any(
                    "spawn_main" in _session_members(proc.pid).get(k, "") for k in _children(proc.pid)):
                time.sleep(0.005)
        else:
            time.sleep(float(moment.rstrip("s")))
        assert proc.poll() is None, "the sweep must still be running when killed"
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and _session_members(proc.pid):
            time.sleep(0.1)
        left = _session_members(proc.pid)
        assert not left, f"processes survived the sweep: {left}"
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        proc.wait()


# ---------------------------------------------------------------------------------------
# 2. --overwrite removes only what the sweep wrote
# ---------------------------------------------------------------------------------------


def _one_line_error(capsys, *names: str) -> str:
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert err.startswith("livesim: error: ")
    for name in names:
        assert name in err
    return err


def _sweep(path: Path, out: Path, *extra: str) -> int:
    return main(["sweep", str(path), "--out", str(out), "--workers", "1", "--quiet", *extra])


def test_overwrite_keeps_reports_and_other_files_and_says_what_it_did(tmp_path, capsys):
    """--overwrite deletes the manifest, shards and resolved scenarios, keeps reports, notes and stray files, and says so."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    mine = {"notes.txt": "my notes", "report.md": "# edited by hand", "report.html": "<p>mine</p>",
            "report_gmv.png": "png", "summary/readme.txt": "mine too"}
    for name, text in mine.items():
        (out / name).write_text(text)
    capsys.readouterr()
    assert _sweep(path, out, "--overwrite") == 0
    for name, text in mine.items():
        assert (out / name).read_text() == text
    said = capsys.readouterr().out
    line = next(ln for ln in said.splitlines() if "removed" in ln)
    assert "2 shards" not in line and "6 shards" in line  # 2 runs x summary, daily, sanctions
    assert "kept 5 files" in line and "report.md" in line and "notes.txt" in line
    assert len(list((out / "summary").glob("*.parquet"))) == 2


@pytest.mark.parametrize("content", ['[{"runs": {}}]', '{"name": "x", "rows": 3}', '{"name": "t", "config_h',
                                     '{"format": "someone-else/1", "runs": {}}'])
def test_overwrite_refuses_a_manifest_livesim_did_not_write(tmp_path, capsys, content):
    """A manifest.json that is not livesim's (a list, other keys, truncated, another format) makes --overwrite refuse, naming it."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    (out / "summary").mkdir(parents=True)
    (out / "manifest.json").write_text(content)
    (out / "summary" / "t__p0000__r000.parquet").write_text("not ours to delete")
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    assert _sweep(path, out, "--overwrite") == 2
    _one_line_error(capsys, str(out / "manifest.json"))
    assert sorted(p.relative_to(out) for p in out.rglob("*") if p.name != ".livesim.lock") == before
    assert (out / "manifest.json").read_text() == content


def test_overwrite_accepts_a_legacy_livesim_manifest(tmp_path):
    """A manifest from before format tags (name, config_hash, versions, runs with status) is still livesim's."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    doc = json.loads((out / "manifest.json").read_text())
    legacy = {k: doc[k] for k in ("name", "config_hash", "created", "versions", "config")}
    legacy["runs"] = {k: {f: v[f] for f in ("variant", "point", "replication", "seed", "params", "status")}
                      for k, v in doc["runs"].items()}
    (out / "manifest.json").write_text(json.dumps(legacy))
    assert _sweep(path, out, "--overwrite") == 0
    assert json.loads((out / "manifest.json").read_text())["format"] == "livesim-sweep/1"


# ---------------------------------------------------------------------------------------
# 3. compare does not silently replace a sweep
# ---------------------------------------------------------------------------------------


def test_compare_refuses_to_replace_a_sweep_without_overwrite(tmp_path, capsys):
    """compare --out into a folder holding a sweep exits 2 and changes nothing; --overwrite replaces it."""
    import tomli_w

    from tests.conftest import tiny_dict

    scen = tmp_path / "s.toml"
    scen.write_text(tomli_w.dumps(tiny_dict(n_buyers=1500, n_creators=60) | {"days": 3}))
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    manifest = (out / "manifest.json").read_text()
    capsys.readouterr()
    cmd = ["compare", str(scen), "--variants", "strict", "--replications", "2", "--out", str(out), "--workers", "1",
           "--quiet"]
    assert main(cmd) == 2
    _one_line_error(capsys, str(out), "--overwrite")
    assert (out / "manifest.json").read_text() == manifest
    assert main([*cmd, "--overwrite"]) == 0
    assert json.loads((out / "manifest.json").read_text())["name"].startswith("compare_")


# ---------------------------------------------------------------------------------------
# 4. One sweep at a time per folder
# ---------------------------------------------------------------------------------------


def _hold_lock(out: Path):
    """Lock the folder as another sweep would (flock on .livesim.lock, pid inside)."""
    import fcntl

    out.mkdir(parents=True, exist_ok=True)
    fd = os.open(out / ".livesim.lock", os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    os.write(fd, f"{os.getpid()}\n".encode())
    return fd


def test_a_second_sweep_into_a_locked_folder_exits_2_naming_the_holder(tmp_path, capsys):
    """While another process holds the folder, a sweep exits 2 naming the folder and that process, writing nothing."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    fd = _hold_lock(out)
    try:
        assert _sweep(path, out) == 2
        _one_line_error(capsys, str(out), str(os.getpid()))
        assert [p.name for p in out.iterdir()] == [".livesim.lock"]
    finally:
        os.close(fd)
    assert _sweep(path, out) == 0  # released: the folder is usable again


def test_the_lock_is_taken_before_overwrite_clears_anything(tmp_path, capsys):
    """--overwrite on a folder another sweep holds deletes nothing."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    fd = _hold_lock(out)
    try:
        assert _sweep(path, out, "--overwrite") == 2
        assert "in use" in capsys.readouterr().err
        assert sorted(p.relative_to(out) for p in out.rglob("*")) == before
    finally:
        os.close(fd)


def test_resume_while_the_sweep_runs_is_refused_naming_its_process(tmp_path, capsys):
    """--resume into a folder whose sweep is still running exits 2 naming that process, instead of racing it."""
    path = _sweep_file(tmp_path, "replications = 40\n", days=6, buyers=2500)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(out), "--workers", "1", "--quiet"]
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not (out / "manifest.json").exists():
            time.sleep(0.05)
        assert proc.poll() is None, "the first sweep must still be running"
        assert _sweep(path, out, "--resume") == 2
        _one_line_error(capsys, str(out), str(proc.pid))
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


# ---------------------------------------------------------------------------------------
# 13. An unreachable scheduler
# ---------------------------------------------------------------------------------------


def test_unreachable_scheduler_is_one_line_and_leaves_nothing(tmp_path, capsys, monkeypatch):
    """A --scheduler nobody answers at gives one line within the stated timeout, and no folder or manifest."""
    pytest.importorskip("dask.distributed")
    import socket

    import sim.experiment

    monkeypatch.setattr(sim.experiment, "SCHEDULER_TIMEOUT_S", 2.0, raising=False)
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    path = _sweep_file(tmp_path)
    out = tmp_path / "a" / "out"
    rc = main(["sweep", str(path), "--out", str(out), "--backend", "dask", "--scheduler", f"tcp://127.0.0.1:{port}",
               "--quiet"])
    assert rc == 2
    _one_line_error(capsys, "--scheduler", str(port))
    assert not (tmp_path / "a").exists()


def test_scheduler_timeout_is_stated_in_help(capsys):
    """sweep --help states how long --scheduler may take."""
    with pytest.raises(SystemExit):
        main(["sweep", "--help"])
    assert "10 s" in capsys.readouterr().out


# ---------------------------------------------------------------------------------------
# 14. Damaged manifests: one line naming the file
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("damage", "flag"), [("truncate", "--resume"), ("list", "--resume"), ("drop-run", "--resume"),
                                              ("truncate", "--overwrite"), ("list", "--overwrite")])
def test_a_damaged_manifest_is_one_line_naming_it(tmp_path, capsys, damage, flag):
    """A truncated manifest, a JSON list, or (on --resume) one missing runs: exit 2, one line naming manifest.json."""
    path = _sweep_file(tmp_path)
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    mpath = out / "manifest.json"
    text = mpath.read_text()
    if damage == "truncate":
        mpath.write_text(text[: len(text) // 2])
    elif damage == "list":
        mpath.write_text(json.dumps(list(json.loads(text)["runs"].values())))
    else:
        doc = json.loads(text)
        doc["runs"].pop(next(iter(doc["runs"])))
        mpath.write_text(json.dumps(doc))
    damaged = mpath.read_text()
    capsys.readouterr()
    assert _sweep(path, out, flag) == 2
    _one_line_error(capsys, str(mpath))
    assert mpath.read_text() == damaged


# ---------------------------------------------------------------------------------------
# 16. Provenance in the manifest; --resume and different code
# ---------------------------------------------------------------------------------------


def test_manifest_records_provenance_scenarios_and_the_code_of_each_run(tmp_path):
    """The manifest has the format tag, provenance, versions, resumes, each variant's scenario hash and TOML, per-run code."""
    from sim.config import load_scenario
    from sim.provenance import SWEEP_FORMAT, code_identity, provenance, scenario_hash
    from sim.sweep import load_sweep

    path = _sweep_file(tmp_path, 'replications = 2\n[variants.strict]\npolicy_preset = "strict"\n')
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    doc = json.loads((out / "manifest.json").read_text())
    assert doc["format"] == SWEEP_FORMAT
    assert doc["provenance"] == json.loads(json.dumps(provenance()))
    assert doc["versions"]["python"] and doc["versions"]["livesim"]
    assert doc["resumes"] == []
    sweep = load_sweep(path)
    for name, scen in sweep.variants.items():
        entry = doc["scenarios"]["variants"][name]
        assert entry["scenario_hash"] == scenario_hash(scen)
        assert scenario_hash(load_scenario(out / entry["toml"])) == scenario_hash(scen)
    assert scenario_hash(load_scenario(out / doc["scenarios"]["base"]["toml"])) == scenario_hash(sweep.base)
    assert all(r["code"] == code_identity() for r in doc["runs"].values())


def test_resume_refuses_different_code_unless_forced(tmp_path, capsys, monkeypatch):
    """--resume with another commit refuses naming the manifest; --force resumes and records which code did."""
    import sim.provenance

    path = _sweep_file(tmp_path, "replications = 3\n")
    out = tmp_path / "out"
    assert _sweep(path, out) == 0
    (out / "daily" / "baseline__p0000__r002.parquet").unlink()
    real = sim.provenance.code_identity()
    other = {**real, "commit": "0" * 40, "dirty": False, "diff": None}
    monkeypatch.setattr(sim.provenance, "code_identity", lambda: dict(other))
    capsys.readouterr()
    assert _sweep(path, out, "--resume") == 2
    _one_line_error(capsys, str(out / "manifest.json"), "--force")
    assert not (out / "daily" / "baseline__p0000__r002.parquet").exists()
    assert _sweep(path, out, "--resume", "--force") == 0
    doc = json.loads((out / "manifest.json").read_text())
    assert [r["code"] for r in doc["resumes"]] == [other]
    assert doc["runs"]["baseline__p0000__r002"]["code"] == other
    assert doc["runs"]["baseline__p0000__r000"]["code"] == real
    assert doc["provenance"]["commit"] == real["commit"]


# ---------------------------------------------------------------------------------------
# 12. Size and workers
# ---------------------------------------------------------------------------------------


def test_a_sweep_above_100000_runs_needs_yes(tmp_path, capsys):
    """A sweep of more than 100,000 runs exits 2 without --yes, before writing anything."""
    path = _sweep_file(tmp_path, 'replications = 50001\n[variants.b]\n"policy.referral_fee" = 0.07\n')
    out = tmp_path / "out"
    assert _sweep(path, out) == 2
    _one_line_error(capsys, str(path), "--yes", "100002")
    assert not out.exists()


def test_yes_lets_a_large_sweep_run(tmp_path, monkeypatch):
    """With --yes the size check passes (the limit lowered so the test stays small)."""
    import sim.cli

    monkeypatch.setattr(sim.cli, "MAX_RUNS_WITHOUT_YES", 1, raising=False)
    path = _sweep_file(tmp_path)
    assert _sweep(path, tmp_path / "a") == 2
    assert _sweep(path, tmp_path / "b", "--yes") == 0


def test_workers_above_the_core_count_are_capped_with_a_note(tmp_path, capsys):
    """--workers above the cores available runs with the core count and says so in one stderr line."""
    from sim.experiment import default_workers

    path = _sweep_file(tmp_path, "replications = 1\n")
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--workers", "999", "--quiet"]) == 0
    captured = capsys.readouterr()
    assert f"{default_workers()} workers" in captured.out
    notes = [ln for ln in captured.err.splitlines() if "999" in ln]
    assert len(notes) == 1 and str(default_workers()) in notes[0]


def test_scheduler_without_dask_backend_is_an_error(tmp_path, capsys):
    """--scheduler with the local backend would be ignored silently: it is an error instead."""
    path = _sweep_file(tmp_path)
    assert main(["sweep", str(path), "--out", str(tmp_path / "o"), "--scheduler", "tcp://x:1"]) == 2
    _one_line_error(capsys, "--scheduler", "--backend dask")
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("out", ["a_file", "a_file/sub", "/proc/livesim-sweep"])
@pytest.mark.parametrize("command", ["sweep", "compare"])
def test_unusable_results_folder_is_one_line_before_any_run(tmp_path: Path, capsys, monkeypatch, command: str,
                                                          out: str) -> None:
    """A results folder that is a file, lies under a file, or cannot be made exits 2 in one line, writing nothing."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "a_file").write_text("mine")
    if out.startswith("/proc") and not Path("/proc").is_dir():
        pytest.skip("no /proc")
    sweep = _sweep_file(tmp_path)
    before = sorted(p.name for p in tmp_path.iterdir())
    if command == "sweep":
        argv = ["sweep", str(sweep), "--out", out, "--quiet"]
    else:
        scen = tmp_path / "s.toml"
        scen.write_text('name = "s"\ndays = 3\n[world]\nn_buyers = 1500\nn_creators = 60\n')
        before = sorted(p.name for p in tmp_path.iterdir())
        argv = ["compare", str(scen), "--variants", "strict", "--replications", "1", "--out", out, "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livesim: error: --out:") and repr(out) in err[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / "a_file").read_text() == "mine"
