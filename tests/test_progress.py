"""Progress output: a bar on a terminal, and no carriage-return frames in logs and pipes."""

from __future__ import annotations

import contextlib
import io
import subprocess
import sys
from pathlib import Path

from sim.cli import _Progress, _SweepProgress

SWEEP = """\
name = "p"
replications = 2
[scenario]
name = "tiny"
days = 3
seed = 7
[scenario.world]
n_buyers = 1500
n_creators = 60
"""


def test_run_progress_writes_no_frames_when_stderr_is_not_a_terminal() -> None:
    """With stderr not a terminal, the run progress writes no carriage return and at most one final line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        progress = _Progress("tiny rep 0", after_s=0.0)
        for day in range(1, 31):
            progress(day, 30)
        progress.close()
    text = err.getvalue()
    assert "\r" not in text
    assert text.count("\n") <= 1
    assert "30/30" in text


def test_sweep_progress_writes_no_frames_when_stderr_is_not_a_terminal() -> None:
    """With stderr not a terminal, the sweep progress writes no carriage return and at most one final line."""
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        progress = _SweepProgress("p.toml")
        progress(0, 0, 8, 8, 0.0)
        for i in range(1, 9):
            progress(i, 0, 8, 8 - i, float(i))
        progress.close()
        progress.close()  # cmd_sweep may close twice
    text = err.getvalue()
    assert "\r" not in text
    assert text.count("\n") <= 1
    assert "8/8 done" in text


def test_sweep_via_subprocess_has_no_carriage_returns(tmp_path: Path) -> None:
    """`livesim sweep` with stderr captured (not a terminal) writes no carriage-return progress frames."""
    path = tmp_path / "p.toml"
    path.write_text(SWEEP)
    proc = subprocess.run(
        [sys.executable, "-m", "sim.cli", "sweep", str(path), "--out", str(tmp_path / "out"), "--workers", "1"],
        capture_output=True, text=True, cwd=tmp_path, timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert "\r" not in proc.stderr
    assert proc.stderr.count("\n") <= 1, proc.stderr


def _run_with_instant_progress(scenario: Path, out: Path, stderr) -> subprocess.CompletedProcess:
    """`livesim run` in a fresh process, its progress shown from the start (not after 2 s)."""
    code = (
        "import sys, sim.cli as c\n"
        "c._Progress.__init__.__defaults__ = (0.0, True)\n"
        f"sys.exit(c.main(['run', {str(scenario)!r}, '--out', {str(out)!r}, '--no-plot']))\n"
    )
    return subprocess.run([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=stderr, timeout=300)


def _tiny(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.toml"
    path.write_text(SWEEP.split("[scenario]\n", 1)[1].replace("[scenario.world]", "[world]"))
    return path


def test_run_via_subprocess_has_no_carriage_returns(tmp_path: Path) -> None:
    """`livesim run` with stderr captured (not a terminal) writes no carriage-return frames, even when shown."""
    proc = _run_with_instant_progress(_tiny(tmp_path), tmp_path / "out", subprocess.PIPE)
    assert proc.returncode == 0, proc.stderr
    stderr = proc.stderr.decode()
    assert "\r" not in stderr
    assert stderr.count("\n") == 1 and "3/3" in stderr


def test_run_on_a_terminal_shows_a_progress_bar(tmp_path: Path) -> None:
    """On a terminal, `livesim run` draws a tqdm bar (days per second, the total) on stderr."""
    import fcntl
    import os
    import pty
    import struct
    import termios

    leader, follower = pty.openpty()
    fcntl.ioctl(follower, termios.TIOCSWINSZ, struct.pack("HHHH", 30, 100, 0, 0))  # 100 columns
    try:
        proc = _run_with_instant_progress(_tiny(tmp_path), tmp_path / "out", follower)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                data = os.read(leader, 4096)
            except OSError:  # the terminal is closed once the child is gone
                break
            if not data:
                break
            chunks.append(data)
    finally:
        if follower >= 0:
            os.close(follower)
        os.close(leader)
    assert proc.returncode == 0
    text = b"".join(chunks).decode(errors="replace")
    assert "3/3" in text
    assert "day/s" in text or "s/day" in text
