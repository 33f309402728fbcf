"""A sweep on a real dask cluster gives the local pool's results bit for bit.

The cluster is the one a team that outgrows one machine runs: a scheduler and two workers,
each a separate process started with the ``dask`` command line, here all on 127.0.0.1. The
sweep goes through livesim's own entry point (``livesim sweep --backend dask --scheduler``),
as a user would type it. Every process is stopped in a ``finally`` block, within a bounded
time; the scheduler also stops itself when idle and the workers when their scheduler is gone,
so not even a killed test leaves them running for long.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from analysis.load import load
from tests.conftest import ROOT, sweep_file

pytest.importorskip("dask.distributed")

START_TIMEOUT_S = 90.0  # the scheduler's address and both workers, on a busy 2-core machine
SWEEP_TIMEOUT_S = 300.0  # one small sweep, its imports included
STOP_TIMEOUT_S = 10.0  # per process after SIGTERM, before SIGKILL
HOST = "127.0.0.1"

# (table, columns that identify a row): every table of a sweep's results, in a fixed order
TABLES = {
    "summary": ["run_id", "market"],
    "daily": ["run_id", "day", "market"],
    "sanctions": None,  # no key: every column, in order
}


def _dask_cli() -> list[str]:
    """The ``dask`` command of this environment (its console script, or ``python -m dask``)."""
    script = Path(sys.executable).with_name("dask")
    return [str(script)] if script.is_file() else [sys.executable, "-m", "dask"]


def _livesim(*args: str) -> subprocess.CompletedProcess[str]:
    """``livesim ARGS`` in a fresh process (this environment's interpreter), bounded in time."""
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=SWEEP_TIMEOUT_S, check=False)


def _start(argv: list[str], log: Path) -> subprocess.Popen[bytes]:
    """A process in its own session (so its children stop with it), its output in ``log`` and its
    scratch files beside it."""
    env = {**os.environ, "TMPDIR": str(log.parent)}
    with open(log, "wb") as fh:
        return subprocess.Popen(argv, stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, cwd=log.parent, env=env)


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the process's group, SIGKILL after STOP_TIMEOUT_S; always reaped."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, sig)
        try:
            proc.wait(timeout=STOP_TIMEOUT_S)
            break
        except subprocess.TimeoutExpired:
            continue
    with contextlib.suppress(ProcessLookupError):  # the nanny's worker process, if it outlived the nanny
        os.killpg(proc.pid, signal.SIGKILL)


def _logs(paths: list[Path]) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2000:]}" for p in paths if p.exists())


def _scheduler_address(file: Path, proc: subprocess.Popen[bytes], deadline: float) -> str:
    """The address the scheduler wrote to its ``--scheduler-file`` once listening."""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the scheduler exited with {proc.returncode}")
        with contextlib.suppress(FileNotFoundError, json.JSONDecodeError, KeyError):
            return json.loads(file.read_text())["address"]
        time.sleep(0.1)
    raise AssertionError(f"no scheduler address within {START_TIMEOUT_S:g} s")


def _wait_for_workers(address: str, n: int, deadline: float) -> None:
    from dask.distributed import Client

    with Client(address, timeout=max(1.0, deadline - time.monotonic())) as client:
        client.wait_for_workers(n, timeout=max(1.0, deadline - time.monotonic()))
        workers = client.scheduler_info(n_workers=-1)["workers"]
    assert len(workers) == n and all(w["nthreads"] == 1 for w in workers.values()), workers


def _tasks_run(address: str) -> list[int]:
    """How many tasks each worker of the cluster has run."""
    from dask.distributed import Client

    with Client(address, timeout=30) as client:
        return sorted(client.run(lambda dask_worker: dask_worker.state.executed_count).values())


def _table(out: Path, name: str) -> pd.DataFrame:
    frame = getattr(load(out), name)
    keys = TABLES[name] or list(frame.columns)
    return frame.sort_values(keys).reset_index(drop=True)


@pytest.mark.slow
def test_a_sweep_on_a_real_cluster_matches_the_local_pool(tmp_path):
    """A scheduler and two single-threaded workers started with `dask scheduler` and `dask worker` on
    127.0.0.1 run a sweep given with --scheduler; every table equals the local pool's exactly."""
    path = sweep_file(tmp_path, 'replications = 2\n[variants.lenient]\npolicy_preset = "lenient"\n',
                      days=12, buyers=2500, creators=100)
    pool = _livesim("sweep", str(path), "--out", str(tmp_path / "pool"), "--workers", "2", "--quiet")
    assert pool.returncode == 0, pool.stderr

    scheduler_file = tmp_path / "scheduler.json"
    logs = [tmp_path / "scheduler.log", tmp_path / "w0" / "worker.log", tmp_path / "w1" / "worker.log"]
    procs: list[subprocess.Popen[bytes]] = []
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        procs.append(_start([*_dask_cli(), "scheduler", "--host", HOST, "--port", "0", "--no-dashboard",
                             "--dashboard-address", f"{HOST}:0", "--scheduler-file", str(scheduler_file),
                             "--idle-timeout", "600"], logs[0]))
        address = _scheduler_address(scheduler_file, procs[0], deadline)
        assert address.startswith(f"tcp://{HOST}:"), address
        for i, log in enumerate(logs[1:]):
            log.parent.mkdir()
            procs.append(_start([*_dask_cli(), "worker", address, "--nthreads", "1", "--host", HOST,
                                 "--no-dashboard", "--dashboard-address", f"{HOST}:0", "--name", f"w{i}",
                                 "--local-directory", str(log.parent), "--death-timeout", "60"], log))
        _wait_for_workers(address, 2, deadline)

        cluster = _livesim("sweep", str(path), "--out", str(tmp_path / "cluster"), "--backend", "dask",
                           "--scheduler", address, "--quiet")
        assert cluster.returncode == 0, cluster.stderr + _logs(logs)
        assert f"the workers of {address}" in cluster.stdout
        tasks = _tasks_run(address)
        assert sum(tasks) == 4 and min(tasks) >= 1, tasks  # every run ran once, on both workers
    finally:
        for proc in reversed(procs):  # workers first, then the scheduler
            _stop(proc)
    assert all(p.returncode is not None for p in procs)

    runs = load(tmp_path / "cluster").runs
    assert len(runs) == 4 and set(runs["status"]) == {"done"}
    for name in TABLES:
        expected, got = _table(tmp_path / "pool", name), _table(tmp_path / "cluster", name)
        assert len(expected) > 0, name
        pd.testing.assert_frame_equal(got, expected, check_exact=True, obj=name)
