"""Time livesim at growing sizes: buyer-days per second and peak memory.

Each size runs in a fresh process so peak memory (max RSS) is that run's alone.

    python benchmarks/scale.py                 # the default ladder, up to 1M buyers x 10k creators x 365 days
    python benchmarks/scale.py --quick         # small sizes only
    python benchmarks/scale.py --size 1000000 10000 365
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LADDER = [
    (120_000, 2_500, 180),  # the bundled baseline
    (250_000, 5_000, 365),
    (1_000_000, 10_000, 365),
]
QUICK = [(20_000, 500, 60), (120_000, 2_500, 180)]


def one(n_buyers: int, n_creators: int, days: int, scenario: str) -> dict[str, float]:
    """Run one size in this process and report wall time and peak memory."""
    t0 = time.perf_counter()
    from sim.model import LiveShopModel

    t1 = time.perf_counter()
    model = LiveShopModel(scenario=scenario, n_buyers=n_buyers, n_creators=n_creators, days=days)
    t2 = time.perf_counter()
    while model.running:
        model.step()
    t3 = time.perf_counter()
    # the process's own peak (VmHWM); ru_maxrss would start at the parent's peak
    proc = Path("/proc/self/status")
    status = [line for line in proc.read_text().splitlines() if line.startswith("VmHWM:")] if proc.exists() else []
    peak_mib = int(status[0].split()[1]) / 1024 if status else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "n_buyers": n_buyers,
        "n_creators": n_creators,
        "days": days,
        "import_s": round(t1 - t0, 2),
        "build_s": round(t2 - t1, 2),
        "run_s": round(t3 - t2, 2),
        "total_s": round(t3 - t0, 2),
        "buyer_days_per_s": round(n_buyers * days / (t3 - t2)),
        "peak_mib": round(peak_mib),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--size", nargs=3, type=int, metavar=("BUYERS", "CREATORS", "DAYS"), action="append")
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [tuple(s) for s in args.size] if args.size else (QUICK if args.quick else LADDER)
    if args.child:
        (b, c, d), = sizes
        print(json.dumps(one(b, c, d, args.scenario)))
        return
    header = f"{'buyers':>10} {'creators':>9} {'days':>5} {'run s':>7} {'total s':>8} {'buyer-days/s':>13} {'peak MiB':>9}"
    print(header)
    for b, c, d in sizes:
        cmd = [sys.executable, __file__, "--child", "--scenario", args.scenario, "--size", str(b), str(c), str(d)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True, cwd=ROOT)
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{b:>10,} {c:>9,} {d:>5} {r['run_s']:>7.2f} {r['total_s']:>8.2f} {r['buyer_days_per_s']:>13,} {r['peak_mib']:>9,}")


if __name__ == "__main__":
    main()
