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
from tests.conftest import ROOT

TINY_SCENARIO = """
[scenario]
name = "tiny"
days = {days}
seed = 7
[scenario.world]
n_buyers = {buyers}
n_creators = 60
"""


def _sweep_file(tmp_path: Path, body: str = "replications = 2\n", days: int = 3, name: str = "t",
                buyers: int = 1500) -> Path:
    path = tmp_path / f"{name}.toml"
    path.write_text(f'name = "{name}"\n' + body + TINY_SCENARIO.format(days=days, buyers=buyers))
    return path


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
