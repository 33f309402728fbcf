"""The sweep benchmark (benchmarks/sweep.py) runs every setting it is given and prints its table and ratios.

Not a timing test: the numbers depend on the machine; only the table's shape is checked.
"""

from __future__ import annotations

import argparse
import importlib.util
import subprocess
import sys

import pytest

from tests.conftest import ROOT

SCRIPT = ROOT / "benchmarks" / "sweep.py"


def _load():
    spec = importlib.util.spec_from_file_location("livesim_bench_sweep", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_settings_name_a_backend_and_a_worker_count():
    """`local:2` and `dask:1` parse; an unknown backend, a missing or zero worker count are refused."""
    bench = _load()
    assert bench.parse_setting("local:2") == ("local", 2)
    assert bench.parse_setting("dask:1") == ("dask", 1)
    for bad in ("pool:2", "local", "local:0", "dask:x"):
        with pytest.raises(argparse.ArgumentTypeError):
            bench.parse_setting(bad)


@pytest.mark.slow
def test_the_benchmark_times_each_backend_and_prints_both_ratios():
    """Two short runs per sweep on 1 and 2 local workers and a 2-worker LocalCluster: one row per
    setting and the two ratios the targets are stated for."""
    pytest.importorskip("dask.distributed")
    proc = subprocess.run([sys.executable, str(SCRIPT), "--runs", "2", "--days", "2", "--repeat", "1", "--no-warmup"],
                          capture_output=True, text=True, cwd=ROOT, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = [line.split()[0] for line in proc.stdout.splitlines() if line.startswith(("local:", "dask:"))]
    assert rows == ["local:1", "local:2", "dask:2"]
    assert "2 workers / 1 worker:" in proc.stdout
    assert "dask LocalCluster / local pool (2 workers):" in proc.stdout
