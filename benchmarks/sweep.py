"""Time a sweep of baseline-size runs with 1 and 2 workers, and the per-run overhead.

    python benchmarks/sweep.py              # 40 runs of the baseline scenario (about 5 minutes)
    python benchmarks/sweep.py --runs 10    # a quicker look

Overhead per run = (sweep wall time x workers - sum of the runs' own model time) / runs,
measured with 1 worker in this process: scheduling, pickling and writing shards and manifest.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=40)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    args = parser.parse_args()

    from sim.experiment import execute
    from sim.sweep import load_sweep

    work = Path(tempfile.mkdtemp(prefix="livesim-bench-"))
    try:
        sweep_file = work / "bench.toml"
        sweep_file.write_text(f'name = "bench"\nscenario = "{args.scenario}"\nreplications = {args.runs}\n')
        sweep = load_sweep(sweep_file)
        timings = {}
        for workers in (1, 2):
            out = work / f"w{workers}"
            t0 = time.perf_counter()
            execute(sweep, out, workers=workers)
            timings[workers] = time.perf_counter() - t0
            runs = json.loads((out / "manifest.json").read_text())["runs"].values()
            if workers == 1:
                model_time = sum(r["duration_s"] for r in runs)
        per_run = timings[1] / args.runs
        overhead = (timings[1] - model_time) / args.runs
        print(f"{args.runs} baseline runs: 1 worker {timings[1]:.1f}s, 2 workers {timings[2]:.1f}s "
              f"(ratio {timings[2] / timings[1]:.2f})")
        print(f"per run {per_run:.2f}s; scheduling and storage overhead {overhead * 1000:.0f} ms per run "
              f"({overhead / per_run:.1%} of a run)")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
