"""Will a run fit in memory? An estimate from the world's size, checked before the world is built.

The schema allows worlds (up to 50 million buyers and a million creators) that need more memory
than a laptop has; without a check such a run dies with a MemoryError, or is killed, after
building most of the world. :func:`check_memory` refuses it up front with the estimate.

The estimate is a linear fit of the peak resident memory (``ru_maxrss``) of single runs of the
baseline scenario (``scenarios/baseline.toml``, its policy and adversary mix) with
``world.n_buyers``, ``world.n_creators`` and ``days`` overridden, each in a fresh Python
process (livesim 0.1.0, Python 3.12, numpy 2, Linux x86-64; the simulation only, measured
with ``resource.getrusage`` after ``sim.runner.run`` returned). Peak memory (MiB):

    ==========  ==========  ====  ========
      n_buyers  n_creators  days  peak MiB
    ==========  ==========  ====  ========
       120,000       2,500    10      184
       500,000       2,500    10      234
     2,000,000       2,500    10      471
     4,000,000       2,500    10      782
     8,000,000       2,500    10     1337
       120,000      10,000    10      204
       120,000      25,000    10      242
       120,000     100,000    10      440
       120,000     200,000    10      702
     2,000,000      50,000    10      535
       120,000       2,500   180      193
     1,000,000      25,000    60      412
       120,000      50,000    60      320
     2,000,000       2,500    60      540
    ==========  ==========  ====  ========

Least squares over these 14 runs of ``peak = base + b*n_buyers + c*n_creators +
bd*n_buyers*days + cd*n_creators*days`` gives about 166 MB for the interpreter and libraries,
146 bytes per buyer (185 since, see below), 2.7 kB per creator, 0.83 bytes per buyer-day and 3.6 bytes per
creator-day (the logs and ledgers that grow with the run); it is within 9 % of every run above
(at most 4 % under). A fit without the day terms is off by up to 13 %. It extrapolates far
beyond the largest measured world (8 million buyers); it is a guard against worlds that
certainly do not fit, not a precise prediction. Buyers later gained an appetite column and its
daily work arrays: 300,000 and 1,000,000 buyers with 3,000 creators over 5 days peaked at 224 MB
and 352 MB (about 183 bytes per extra buyer), so the per-buyer term is now 185 bytes.

**The interpreter's share is measured, not fitted.** What the interpreter and the engine's
libraries (numpy, pandas, pyarrow, numba and LLVM, mesa) take is the part that differs between
machines and installs; the world's arrays do not. So the estimate takes it from the machine: the
resident memory of this process once the engine's libraries are imported (measured once per
process, :func:`interpreter_bytes`; at least :data:`INTERPRETER_FLOOR_BYTES`). A run in a fresh
worker process needs about as much; a process that already holds other data overstates it, on
the safe side. To that come :data:`COMPILE_BYTES` for compiling the kernels in the process when
no compiled copy is cached (measured: +36 MiB) and the world's own terms above times
:data:`MARGIN` (writing the parquet files and the plot, allocator slack, other policies and
adversary mixes). On the 300,000-buyer, 3,000-creator, 5-day world the engine imported takes
212 MiB here, the run peaks at 314 MiB (350 MiB when it compiles the kernels), and the estimate
is 395 MiB (the world's terms 65 MB, times the margin 104 MB, for a measured growth of 102 MB).

A peak must be read as the process's own high-water mark (``VmHWM`` in ``/proc/self/status``).
``getrusage``'s ``ru_maxrss`` starts a child at its parent's peak, kept across fork and exec: a
child of a 600 MB process reports at least 600 MB even if it holds 12 MB. Runs measured that way
under a grown pytest worker (568, 624 and 780 MiB for the world above) once raised the base term
to 400 MB; they measured the test runner, not the run.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from sim.errors import ScenarioError

__all__ = ["SKIP_ENV", "available_memory_bytes", "check_memory", "estimate_memory_bytes", "interpreter_bytes"]

# The interpreter's share is measured on the machine (interpreter_bytes); never taken as less
# than this (the engine imported on a developer's machine: 212 MiB, about 222 MB).
INTERPRETER_FLOOR_BYTES = 250e6
# Compiling the kernels in the process when no compiled copy is cached (measured: +36 MiB).
COMPILE_BYTES = 60e6
# The world's own terms: a fit of peak RSS in bytes (see the module docstring).
PER_BUYER_BYTES = 185.0
PER_CREATOR_BYTES = 2680.0
PER_BUYER_DAY_BYTES = 0.83
PER_CREATOR_DAY_BYTES = 3.6
# On the world's terms: the parquet files and plot, allocator slack, other policies and mixes.
MARGIN = 1.6

# Set to 1 to run a world the estimate says will not fit (it may still be killed).
SKIP_ENV = "LIVESIM_SKIP_MEMORY_CHECK"


def _resident_bytes() -> int | None:
    """This process's resident memory now (Linux ``/proc/self/statm``), or None where unreadable."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError, AttributeError):
        return None


@functools.cache
def interpreter_bytes() -> int:
    """The interpreter and the engine's libraries on this machine, in bytes (measured once per process).

    This process's resident memory once the modules a run loads are imported (importing them
    here, when the caller has not yet), but never less than :data:`INTERPRETER_FLOOR_BYTES`.
    """
    import sim.runner  # noqa: F401  (the libraries a run loads: numpy, pandas, pyarrow, numba, mesa)

    measured = _resident_bytes()
    return int(max(INTERPRETER_FLOOR_BYTES, measured or 0))


def world_bytes(scenario: Any) -> int:
    """The memory ``scenario``'s world adds to a run (a fit over measured runs), before the margin."""
    b = scenario.world.n_buyers
    c = scenario.world.n_creators
    days = scenario.days
    return int(PER_BUYER_BYTES * b + PER_CREATOR_BYTES * c
               + PER_BUYER_DAY_BYTES * b * days + PER_CREATOR_DAY_BYTES * c * days)


def estimate_memory_bytes(scenario: Any) -> int:
    """Estimated peak memory of one run of ``scenario`` (a Scenario), in bytes, on the generous side.

    The interpreter's share measured on this machine, the kernels' compilation, and the world's
    own terms times :data:`MARGIN`.
    """
    return int(interpreter_bytes() + COMPILE_BYTES + MARGIN * world_bytes(scenario))


def _meminfo_available(text: str) -> int | None:
    """MemAvailable (bytes) from the text of /proc/meminfo."""
    for line in text.splitlines():
        if line.startswith("MemAvailable:"):
            parts = line.split()
            return int(parts[1]) * 1024 if len(parts) >= 2 and parts[1].isdigit() else None
    return None


def _read_int(path: Path) -> int | None:
    try:
        raw = path.read_text().strip()
    except OSError:
        return None
    return int(raw) if raw.isdigit() else None


def _cgroup_room(root: Path = Path("/sys/fs/cgroup"), proc_cgroup: Path = Path("/proc/self/cgroup")) -> int | None:
    """Memory left under this process's cgroup limit (v2 ``memory.max`` or v1 ``memory.limit_in_bytes``), if any."""
    try:
        lines = proc_cgroup.read_text().splitlines()
    except OSError:
        lines = []
    candidates: list[tuple[Path, str, str]] = []
    for line in lines:
        parts = line.split(":", 2)
        if len(parts) != 3:
            continue
        _, controllers, path = parts
        rel = path.lstrip("/")
        if controllers == "":  # cgroup v2
            for base in (root / rel, root):
                candidates.append((base, "memory.max", "memory.current"))
        elif "memory" in controllers.split(","):
            for base in (root / "memory" / rel, root / "memory"):
                candidates.append((base, "memory.limit_in_bytes", "memory.usage_in_bytes"))
    rooms = []
    for base, limit_name, usage_name in candidates:
        limit = _read_int(base / limit_name)  # "max" (no limit) is not a number
        if limit is None or limit >= 1 << 60:
            continue
        usage = _read_int(base / usage_name) or 0
        rooms.append(max(limit - usage, 0))
    return min(rooms) if rooms else None


def available_memory_bytes() -> int | None:
    """Memory a new run can use, in bytes: MemAvailable, or the room under a cgroup limit if lower.

    None when neither can be read (not Linux and no ``os.sysconf`` figure): then no run is refused.
    """
    figures = []
    try:
        figures.append(_meminfo_available(Path("/proc/meminfo").read_text()))
    except OSError:
        try:
            figures.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (ValueError, OSError, AttributeError):
            pass
    figures.append(_cgroup_room())
    known = [f for f in figures if f is not None]
    return min(known) if known else None


def _gb(n: float) -> str:
    return f"{n / 1e9:.1f} GB"


def check_memory(scenario: Any, source: str, workers: int = 1) -> None:
    """Raise ScenarioError (naming ``source`` and the world size) if ``workers`` runs of ``scenario`` will not fit.

    Skipped when the environment variable ``LIVESIM_SKIP_MEMORY_CHECK`` is 1, or when the
    memory available cannot be read.
    """
    if os.environ.get(SKIP_ENV, "") == "1":
        return
    need = estimate_memory_bytes(scenario) * max(workers, 1)
    have = available_memory_bytes()
    if have is None or need <= have:
        return
    b, c = scenario.world.n_buyers, scenario.world.n_creators
    runs = f"{workers} parallel runs of " if workers > 1 else ""
    raise ScenarioError(
        source, "world.n_buyers, world.n_creators", None,
        f"{runs}{b:,} buyers and {c:,} creators need about {_gb(need)} of memory (estimate), more than the "
        f"{_gb(have)} available; use a smaller world (or set {SKIP_ENV}=1 to try anyway)",
    )
