"""livesim's speed against its targets, next to Mesa's canonical model and the random-number floor.

Prints one table row per target: what was measured, the target and measured / target. Each
livesim size runs in a fresh child process (so its peak memory, max RSS, is that run's alone);
Mesa's Boltzmann wealth model is timed inside the child of the 1M-buyer run, after that run,
so both throughputs come from the same process on the same machine state. Run it on a quiet
machine: on a shared one the numbers are upper bounds on time.

    python benchmarks/speed.py                  # targets 1, 2, 3, 5, 6 (about 2 minutes on 2 cores)
    python benchmarks/speed.py --big            # also 10M buyers x 100k creators x 365 days (minutes)
    python benchmarks/speed.py --profile        # also a per-line profile of 1M x 10k x 60 days
    python benchmarks/speed.py --quick          # small sizes only: checks the script, not the targets
    python benchmarks/speed.py --json speed.json

Targets: 1M x 10k x 365 in <= 8 s model time (build + run) and <= 500 MiB; the bundled
baseline in <= 0.8 s; <= 0.5 ms fixed overhead per simulated day; 10M x 100k x 365 in <= 120 s and
<= 4 GiB; livesim's buyer-days per second at least 35 x Mesa's agent-steps per second.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import mesa
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SCENARIO = str(ROOT / "scenarios" / "baseline.toml")
MARKER = "livesim speed benchmark"  # in every JSON file this script writes; others are never replaced
LINE_LIMIT = 0.15  # the speed check: no single line (numpy call) takes more than 15 % of a step

Size = tuple[int, int, int]  # buyers, creators, days


@dataclass(frozen=True)
class Plan:
    """The sizes one invocation measures; the full plan is the one the targets are stated for."""

    large: Size = (1_000_000, 10_000, 365)
    baseline: Size | None = None  # None: the scenario exactly as bundled
    overhead_world: tuple[int, int] = (2_000, 100)
    overhead_days: tuple[int, int] = (200, 400)
    overhead_repeats: int = 3
    big: Size = (10_000_000, 100_000, 365)
    profile: Size = (1_000_000, 10_000, 60)
    mesa_agents: int = 100_000
    mesa_steps: int = 10
    scaled: bool = False  # True: not the target sizes, so no verdict


FULL = Plan()
QUICK = Plan(large=(20_000, 500, 30), baseline=(10_000, 250, 20), overhead_world=(2_000, 100),
             overhead_days=(10, 20), overhead_repeats=1, big=(40_000, 1_000, 20), profile=(10_000, 250, 10),
             mesa_agents=5_000, mesa_steps=3, scaled=True)


# ---------------------------------------------------------------------------------------
# Mesa's canonical model
# ---------------------------------------------------------------------------------------


class MoneyAgent(mesa.Agent):
    """The Boltzmann wealth agent of Mesa's introductory tutorial: starts with one unit of wealth
    and, while it has any, gives one unit to a randomly chosen agent each step."""

    def __init__(self, model: MoneyModel) -> None:
        super().__init__(model)
        self.wealth = 1

    def step(self) -> None:
        if self.wealth > 0:
            other = self.random.choice(self.model.agent_list)
            other.wealth += 1
            self.wealth -= 1


class TutorialMoneyAgent(MoneyAgent):
    """The same agent choosing from ``self.model.agents``, exactly as the tutorial writes it.

    In Mesa 3.5 indexing an AgentSet copies it to a list first, so each choice is O(N): the
    tutorial idiom's speed depends on the population, which is why the comparison uses the
    cached list above (the faster Mesa baseline, so livesim's ratio is not flattered)."""

    def step(self) -> None:
        if self.wealth > 0:
            other = self.random.choice(self.model.agents)
            other.wealth += 1
            self.wealth -= 1


class MoneyModel(mesa.Model):
    """Mesa's Boltzmann wealth model without space: every step each agent acts once, in random
    order (``shuffle_do``), each a per-agent Python call — Mesa's canonical per-agent step."""

    def __init__(self, n: int, rng: int = 0, agent_class: type[MoneyAgent] = MoneyAgent) -> None:
        super().__init__(rng=rng)
        agent_class.create_agents(model=self, n=n)
        self.agent_list = list(self.agents)

    def step(self) -> None:
        self.agents.shuffle_do("step")


def mesa_agent_steps_per_s(n_agents: int, steps: int, agent_class: type[MoneyAgent] = MoneyAgent) -> float:
    """Agent-steps per second of Mesa's canonical model: ``n_agents`` divided by the median time
    of one step over ``steps`` steps (the median keeps a noisy neighbour's burst out)."""
    if n_agents < 2 or steps < 1:
        raise ValueError(f"Mesa model: n_agents must be >= 2 and steps >= 1, got {n_agents} and {steps}")
    model = MoneyModel(n_agents, agent_class=agent_class)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        model.step()
        times.append(time.perf_counter() - t0)
    if sum(a.wealth for a in model.agent_list) != n_agents:  # wealth is conserved: the model really ran
        raise RuntimeError("Mesa model lost wealth: the benchmark model is broken")
    return n_agents / statistics.median(times)


# ---------------------------------------------------------------------------------------
# The random-number floor
# ---------------------------------------------------------------------------------------


def rng_floor_s(n_buyers: int, sessions_per_day: list[float], orders_per_day: list[float], seed: int = 0) -> float:
    """Seconds numpy's PCG64 Generator needs to draw the random numbers a run of this size must
    draw, day by day as the model does: one exponential per buyer-day, three uniforms per session
    and six per order (an order's draws are a mix; uniforms are the cheapest, so this is a floor).

    No model of this size can run faster than this; livesim time / floor says how far above
    the bare draws the model's own work is."""
    if len(sessions_per_day) != len(orders_per_day):
        raise ValueError(f"RNG floor: {len(sessions_per_day)} days of sessions but {len(orders_per_day)} of orders")
    rng = np.random.Generator(np.random.PCG64(seed))
    t0 = time.perf_counter()
    for sessions, orders in zip(sessions_per_day, orders_per_day, strict=True):
        rng.standard_exponential(n_buyers)
        rng.random(3 * round(sessions))
        rng.random(6 * round(orders))
    return time.perf_counter() - t0


# ---------------------------------------------------------------------------------------
# Child processes: one livesim size each
# ---------------------------------------------------------------------------------------


def _peak_mib() -> float:
    """This process's own peak resident memory so far, in MiB.

    Linux: ``VmHWM`` of /proc/self/status (``ru_maxrss`` would start at the parent's peak, kept
    across fork and exec); elsewhere ``ru_maxrss`` (bytes on macOS).
    """
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 1024


def _run_days(model: Any) -> None:
    """Step the model to its last day (the profile keeps only samples inside this function)."""
    while model.running:
        model.step()


def _overrides(size: Size | None) -> dict[str, int]:
    if size is None:
        return {}
    b, c, d = size
    return {"n_buyers": b, "n_creators": c, "days": d}


def measure_model(scenario: str, size: Size | None, *, repeats: int = 1, floor: bool = True,
                  mesa_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """Build and run one livesim size in this process; with ``repeats`` > 1 the fastest of that
    many fresh models. Returns the model time split into build and run (wall clock, and the
    process's CPU time, which a busy shared machine inflates less), peak memory, buyer-days per
    second, the run's session and order counts, and optionally the RNG floor for those counts
    and Mesa's agent-steps per second measured here after the run."""
    import warnings

    from sim.model import LiveShopModel

    imported_mib = _peak_mib()
    best: dict[str, Any] | None = None
    for _ in range(repeats):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a shortened run's notes about campaigns it cuts off
            t0, c0 = time.perf_counter(), time.process_time()
            model = LiveShopModel(scenario=scenario, **_overrides(size))
            t1 = time.perf_counter()
            _run_days(model)
            t2, c2 = time.perf_counter(), time.process_time()
        if best is None or t2 - t0 < best["model_s"]:
            best = {"build_s": t1 - t0, "run_s": t2 - t1, "model_s": t2 - t0, "model_cpu_s": c2 - c0, "model": model}
    assert best is not None
    model = best.pop("model")
    n_buyers, n_creators, days = model.config.world.n_buyers, model.config.world.n_creators, model.config.days
    out: dict[str, Any] = {"n_buyers": n_buyers, "n_creators": n_creators, "days": days, **best,
                           "peak_mib": _peak_mib(), "imported_mib": imported_mib, "buyer_days_per_s": n_buyers * days / best["run_s"]}
    views = [float(day["all"]["views"]) for day in model.history]
    orders = [float(day["all"]["orders"]) for day in model.history]
    if len(views) != days:
        raise RuntimeError(f"model.history has {len(views)} days, expected {days}")
    # Sessions are a day counter, not a metric: scale each day's views by the run's sessions / views
    # (every session that reaches a stream is a view); without the counter, sessions = views.
    totals = getattr(model, "run_totals", {})
    total_views = sum(views)
    if "sessions" in totals and total_views > 0:
        per_view = float(np.sum(totals["sessions"])) / total_views
        out["sessions_source"] = "run_totals['sessions'] (views scaled per day)"
    else:
        per_view = 1.0
        out["sessions_source"] = "views (no sessions counter)"
    sessions = [v * per_view for v in views]
    out.update(sessions=sum(sessions), views=total_views, orders=sum(orders))
    del model
    gc.collect()
    if floor:
        out["floor_s"] = rng_floor_s(n_buyers, sessions, orders)
    if mesa_size is not None:
        out["mesa_agent_steps_per_s"] = mesa_agent_steps_per_s(*mesa_size)
    return out


def _child(argv: list[str], timeout: float | None = None) -> dict[str, Any]:
    """Run this script as a child with ``argv`` and return the JSON it prints last."""
    cmd = [sys.executable, str(Path(__file__).resolve()), *argv]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=timeout, check=False)
    if proc.returncode != 0:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        raise SystemExit(f"speed.py: child {' '.join(argv)} failed (exit {proc.returncode}):\n{tail}")
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _size_args(size: Size | None) -> list[str]:
    return [] if size is None else ["--size", *map(str, size)]


def run_size(scenario: str, size: Size | None, *, repeats: int = 1, floor: bool = True,
             mesa_size: tuple[int, int] | None = None) -> dict[str, Any]:
    """One livesim size measured in a fresh child process (see ``measure_model``)."""
    argv = ["--child", "model", "--scenario", scenario, *_size_args(size), "--repeats", str(repeats)]
    if not floor:
        argv.append("--no-floor")
    if mesa_size is not None:
        argv += ["--mesa-size", *map(str, mesa_size)]
    return _child(argv)


# ---------------------------------------------------------------------------------------
# The per-line profile
# ---------------------------------------------------------------------------------------


def find_py_spy() -> str | None:
    """The py-spy executable beside this Python (a virtual environment's) or on PATH, if any."""
    beside = Path(sys.executable).parent / "py-spy"
    return str(beside) if beside.exists() else shutil.which("py-spy")


def _frame_file(frame: str) -> str:
    """``'func (sim/x.py:12)'`` -> ``'sim/x.py'``."""
    inner = frame.rsplit(" (", 1)[-1].rstrip(")")
    return inner.rsplit(":", 1)[0]


def _is_livesim(path: str) -> bool:
    p = path.replace("\\", "/")
    return p.startswith("sim/") or "/sim/" in p


def aggregate_raw_stacks(text: str, *, root_function: str = "_run_days") -> dict[str, Any]:
    """Shares of step time from py-spy's raw (collapsed) output, one ``stack count`` per line.

    Keeps only samples taken inside ``root_function`` (the step loop, not imports or the build).
    ``by_line``: each sample goes to the deepest frame in livesim's own code (``sim/``), so a line
    that calls numpy carries that numpy call's time: the check "no single numpy call above
    15 % of a step" is a check on this table. ``by_leaf``: the frame actually executing (numpy's
    and Mesa's Python code included)."""
    by_line: Counter[str] = Counter()
    by_leaf: Counter[str] = Counter()
    total = 0
    for raw in text.splitlines():
        stack, _, count = raw.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        try:
            start = next(i for i, f in enumerate(frames) if f.startswith(f"{root_function} ("))
        except StopIteration:
            continue
        inside = frames[start + 1:] or frames[start:]
        n = int(count)
        total += n
        by_leaf[inside[-1]] += n
        own = [f for f in inside if _is_livesim(_frame_file(f))]
        by_line[own[-1] if own else inside[-1]] += n
    return {"samples": total, "by_line": _shares(by_line, total), "by_leaf": _shares(by_leaf, total)}


def _shares(counts: Counter[str], total: int, top: int = 15) -> list[dict[str, Any]]:
    return [{"where": k, "share": n / total} for k, n in counts.most_common(top)] if total else []


def profile_py_spy(exe: str, scenario: str, size: Size, rate: int) -> dict[str, Any]:
    """Sample a child running ``size`` with py-spy (raw format) and aggregate by line."""
    with tempfile.TemporaryDirectory(prefix="livesim-speed-") as tmp:
        raw = Path(tmp) / "stacks.txt"
        cmd = [exe, "record", "-f", "raw", "-r", str(rate), "-o", str(raw), "--",
               sys.executable, str(Path(__file__).resolve()), "--child", "profile", "--scenario", scenario,
               *_size_args(size)]
        proc = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=False)
        if proc.returncode != 0 or not raw.exists():
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise RuntimeError(f"py-spy failed (exit {proc.returncode}): {tail}")
        out = aggregate_raw_stacks(raw.read_text())
    out.update(tool="py-spy", unit="line", rate_hz=rate)
    return out


def profile_cprofile_here(scenario: str, size: Size) -> dict[str, Any]:
    """Profile the step loop of ``size`` with cProfile in this process: shares of step time per
    function (self time), so a numpy routine appears as one row summed over its call sites."""
    import cProfile
    import pstats
    import warnings

    from sim.model import LiveShopModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LiveShopModel(scenario=scenario, **_overrides(size))
        prof = cProfile.Profile()
        prof.enable()
        _run_days(model)
        prof.disable()
    stats = pstats.Stats(prof).stats  # {(file, line, func): (cc, nc, tottime, cumtime, callers)}
    self_time: Counter[str] = Counter()
    for (path, line, func), (_, _, tottime, _, _) in stats.items():
        where = func if path == "~" else f"{func} ({_short(path)}:{line})"
        self_time[where] += tottime
    total = sum(self_time.values())
    rows = [{"where": k, "share": t / total} for k, t in self_time.most_common(15)] if total else []
    return {"tool": "cProfile", "unit": "function", "samples": sum(s[1] for s in stats.values()),
            "by_line": rows, "by_leaf": []}


def _short(path: str) -> str:
    p = Path(path)
    for base in (ROOT, *map(Path, sys.path)):
        try:
            return str(p.relative_to(base))
        except ValueError:
            continue
    return path


def run_profile(args: argparse.Namespace, plan: Plan) -> dict[str, Any]:
    """The profile section: py-spy per line when available (and asked for or ``auto``), else
    cProfile per function, with every row above 15 % of a step flagged."""
    exe = find_py_spy()
    note = ""
    result: dict[str, Any] | None = None
    if args.profiler in ("auto", "py-spy"):
        if exe is None:
            note = "py-spy not found (install it with: pip install py-spy); cProfile per function instead"
            if args.profiler == "py-spy":
                raise SystemExit(f"speed.py: --profiler py-spy: {note.split(';')[0]}")
        else:
            try:
                result = profile_py_spy(exe, args.scenario, plan.profile, args.profile_rate)
            except RuntimeError as err:
                if args.profiler == "py-spy":
                    raise SystemExit(f"speed.py: {err}") from None
                note = f"{err}; cProfile per function instead"
    if result is None:
        result = _child(["--child", "cprofile", "--scenario", args.scenario, *_size_args(plan.profile)])
    result["size"] = list(plan.profile)
    result["note"] = note
    result["over_limit"] = [r for r in result["by_line"] if r["share"] > LINE_LIMIT]
    return result


# ---------------------------------------------------------------------------------------
# The table
# ---------------------------------------------------------------------------------------


@dataclass
class Row:
    """One line of the table; ``sense`` is ``<=`` or ``>=`` for a target, None for information."""

    target: str
    what: str
    size: str
    value: float | None
    unit: str
    limit: float | None = None
    sense: str | None = None
    note: str = ""
    verdict: str = field(default="", init=False)

    def judge(self, scaled: bool) -> None:
        if self.value is None:
            self.verdict = "skipped"
        elif self.limit is None:
            self.verdict = "info"
        elif scaled:
            self.verdict = "scaled"  # not the size the target is stated for
        elif self.sense == "<=":
            self.verdict = "ok" if self.value <= self.limit else "OVER"
        else:
            self.verdict = "ok" if self.value >= self.limit else "UNDER"

    @property
    def ratio(self) -> float | None:
        """Measured / target (<= 1 meets a ``<=`` target, >= 1 meets a ``>=`` one)."""
        return None if self.value is None or not self.limit else self.value / self.limit


def _fmt_size(size: Size | list[int]) -> str:
    b, c, d = size
    return f"{_si(b)} x {_si(c)} x {d} d"


def _si(n: float) -> str:
    for div, suffix in ((1e6, "M"), (1e3, "k")):
        if n >= div:
            v = n / div
            return f"{v:.0f}{suffix}" if v == int(v) else f"{v:.1f}{suffix}"
    return f"{n:.0f}"


def _fmt(value: float | None, unit: str) -> str:
    if value is None:
        return "-"
    if unit == "s":
        return f"{value:,.0f} s" if value >= 100 else f"{value:.2f} s" if value >= 1 else f"{value:.3f} s"
    if unit == "ms/day":
        return f"{value:.3f} ms/day"
    if unit == "MiB":
        return f"{value:,.0f} MiB"
    if unit == "x":
        return f"{value:,.1f} x"
    return f"{value:,.0f} {unit}"


def build_rows(plan: Plan, large: dict, baseline: dict, overhead: dict, big: dict | None) -> list[Row]:
    """The table's rows from the measurements (``big`` None: not run)."""
    lsize = _fmt_size(plan.large)
    bsize = _fmt_size([baseline["n_buyers"], baseline["n_creators"], baseline["days"]])
    mesa_rate = large["mesa_agent_steps_per_s"]
    rows = [
        Row("1", "model time (build + run)", lsize, large["model_s"], "s", 8.0, "<=", _split(large)),
        Row("1", "peak memory (max RSS)", lsize, large["peak_mib"], "MiB", 500.0, "<=",
            f"{large['imported_mib']:,.0f} MiB of it after imports, before the build"),
        Row("1", "throughput (run)", lsize, large["buyer_days_per_s"], "buyer-days/s"),
        Row("2", "baseline model time (build + run)", bsize, baseline["model_s"], "s", 0.8, "<=", _split(baseline)),
        Row("2", "baseline peak memory (max RSS)", bsize, baseline["peak_mib"], "MiB"),
        Row("3", "fixed overhead per day", f"{_si(plan.overhead_world[0])} x {_si(plan.overhead_world[1])}",
            overhead["ms_per_day"], "ms/day", 0.5, "<=", overhead["note"]),
    ]
    if big is None:
        rows += [Row("4", "model time (build + run)", _fmt_size(plan.big), None, "s", 120.0, "<=", "needs --big"),
                 Row("4", "peak memory (max RSS)", _fmt_size(plan.big), None, "MiB", 4096.0, "<=", "needs --big")]
    else:
        gsize = _fmt_size(plan.big)
        rows += [Row("4", "model time (build + run)", gsize, big["model_s"], "s", 120.0, "<=", _split(big)),
                 Row("4", "peak memory (max RSS)", gsize, big["peak_mib"], "MiB", 4096.0, "<=")]
    rows += [
        Row("5", "Mesa canonical step (Boltzmann wealth)", f"{_si(plan.mesa_agents)} agents",
            mesa_rate, "agent-steps/s", note="same process as the run above, after it"),
        Row("5", "livesim buyer-days/s / Mesa agent-steps/s", lsize, large["buyer_days_per_s"] / mesa_rate, "x",
            35.0, ">="),
    ]
    if big is not None:
        rows.append(Row("5", "livesim buyer-days/s / Mesa agent-steps/s", _fmt_size(plan.big),
                        big["buyer_days_per_s"] / mesa_rate, "x"))
    for label, size, m in (("", lsize, large), ("baseline ", bsize, baseline), ("", _fmt_size(plan.big), big)):
        if m is None:
            continue
        rows.append(Row("6", f"{label}RNG floor (PCG64 draws)", size, m["floor_s"], "s",
                        note=f"{m['sessions']:,.0f} sessions, {m['orders']:,.0f} orders"))
        rows.append(Row("6", f"{label}livesim run time / RNG floor", size, m["run_s"] / m["floor_s"], "x"))
    for row in rows:
        row.judge(plan.scaled)
    return rows


def _split(m: dict[str, Any]) -> str:
    return f"build {m['build_s']:.2f} s + run {m['run_s']:.2f} s; CPU {m['model_cpu_s']:.2f} s"


def render(rows: list[Row], header: str) -> str:
    """The rows as a fixed-width text table."""
    cols = ["#", "measure", "size", "measured", "target", "ratio", "verdict", "note"]
    body = [[r.target, r.what, r.size, _fmt(r.value, r.unit),
             "-" if r.limit is None else f"{r.sense} {r.limit:,g} {r.unit}",
             "-" if r.ratio is None else f"{r.ratio:.2f}", r.verdict, r.note] for r in rows]
    widths = [max(len(c), *(len(b[i]) for b in body)) for i, c in enumerate(cols)]
    line = "  ".join(c.ljust(w) for c, w in zip(cols, widths, strict=True)).rstrip()
    lines = [header, line, "-" * len(line)]
    lines += ["  ".join(v.ljust(w) for v, w in zip(b, widths, strict=True)).rstrip() for b in body]
    return "\n".join(lines)


def render_profile(prof: dict[str, Any]) -> str:
    """The profile section: top rows by share of step time, rows over 15 % flagged."""
    unit = "line" if prof["unit"] == "line" else "function (self time)"
    lines = [f"\nProfile of the step loop, {_fmt_size(prof['size'])}: {prof['tool']}, {prof['samples']:,} "
             f"{'samples' if prof['tool'] == 'py-spy' else 'calls'}, share of step time per {unit}"]
    if prof["note"]:
        lines.append(f"  note: {prof['note']}")
    sections = [("by livesim line (numpy calls counted on the line that makes them)", prof["by_line"])]
    if prof["by_leaf"]:
        sections.append(("by leaf frame (the code executing)", prof["by_leaf"]))
    if prof["tool"] == "py-spy" and prof["samples"] < 200:
        lines.append(f"  note: only {prof['samples']} samples: shares are rough (a bigger size or --profile-rate)")
    for title, rows in sections:
        lines.append(f"  {title}:")
        for r in rows[:12]:
            flag = "  <-- over 15 % of a step" if r["share"] > LINE_LIMIT else ""
            lines.append(f"    {r['share']:6.1%}  {r['where']}{flag}")
    over = prof["over_limit"]
    lines.append(f"  check (no single {prof['unit']} above {LINE_LIMIT:.0%} of a step): "
                 + ("passed" if not over else f"FAILED, {len(over)} over: "
                    + "; ".join(f"{r['where']} {r['share']:.1%}" for r in over)))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


def check_json_target(path: Path) -> None:
    """Refuse (before any measuring) a ``--json`` path that holds something this script did not write."""
    if path.exists():
        try:
            ours = json.loads(path.read_text()).get("benchmark") == MARKER
        except (OSError, ValueError, AttributeError):
            ours = False
        if not ours or not path.is_file():
            raise SystemExit(f"speed.py: --json {path}: exists and was not written by this benchmark; "
                             "choose a new file name")
    if not path.parent.is_dir():
        raise SystemExit(f"speed.py: --json {path}: folder {path.parent} does not exist")


def write_json(path: Path, payload: dict[str, Any]) -> None:
    """Write ``payload`` to ``path`` (whole or not at all), replacing only a file this script wrote."""
    check_json_target(path)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as tmp:
        tmp.write(json.dumps(payload, indent=2) + "\n")
    os.replace(tmp.name, path)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a positive integer, got {text}")
    return value


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes only (checks the script, not the targets)")
    parser.add_argument("--big", action="store_true", help="also 10M buyers x 100k creators x 365 days (minutes)")
    parser.add_argument("--profile", action="store_true", help="also profile the step loop per line")
    parser.add_argument("--profiler", choices=("auto", "py-spy", "cprofile"), default="auto",
                        help="auto: py-spy if installed, else cProfile")
    parser.add_argument("--profile-rate", type=_positive, default=200, help="py-spy samples per second")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write every measurement as JSON")
    parser.add_argument("--scenario", default=DEFAULT_SCENARIO, help="scenario file (default: the bundled baseline)")
    parser.add_argument("--child", choices=("model", "profile", "cprofile"), help=argparse.SUPPRESS)
    parser.add_argument("--size", nargs=3, type=_positive, metavar=("BUYERS", "CREATORS", "DAYS"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=_positive, default=1, help=argparse.SUPPRESS)
    parser.add_argument("--no-floor", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--mesa-size", nargs=2, type=_positive, metavar=("AGENTS", "STEPS"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def child_main(args: argparse.Namespace) -> None:
    size = tuple(args.size) if args.size else None
    if args.child == "model":
        out = measure_model(args.scenario, size, repeats=args.repeats, floor=not args.no_floor,
                            mesa_size=tuple(args.mesa_size) if args.mesa_size else None)
    elif args.child == "cprofile":
        out = profile_cprofile_here(args.scenario, size)
    else:  # "profile": the run py-spy samples
        import warnings

        from sim.model import LiveShopModel

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            _run_days(LiveShopModel(scenario=args.scenario, **_overrides(size)))
        out = {}
    print(json.dumps(out))


def _say(msg: str) -> None:
    """Progress on stderr, so stdout holds only the table."""
    print(msg, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.child:
        child_main(args)
        return
    if args.json is not None:
        check_json_target(args.json)
    plan = QUICK if args.quick else FULL
    started = time.perf_counter()

    _say(f"livesim {_fmt_size(plan.large)} (+ Mesa model, {_si(plan.mesa_agents)} agents) ...")
    large = run_size(args.scenario, plan.large, mesa_size=(plan.mesa_agents, plan.mesa_steps))
    _say("bundled baseline ...")
    baseline = run_size(args.scenario, plan.baseline)
    short_days, long_days = plan.overhead_days
    _say(f"fixed overhead: {short_days} and {long_days} days ...")
    runs = {d: run_size(args.scenario, (*plan.overhead_world, d), repeats=plan.overhead_repeats, floor=False)
            for d in plan.overhead_days}
    extra_days = long_days - short_days
    ms_per_day = (runs[long_days]["model_s"] - runs[short_days]["model_s"]) / extra_days * 1000
    cpu_ms_per_day = (runs[long_days]["model_cpu_s"] - runs[short_days]["model_cpu_s"]) / extra_days * 1000
    overhead = {"ms_per_day": ms_per_day, "cpu_ms_per_day": cpu_ms_per_day,
                "model_s": {str(d): r["model_s"] for d, r in runs.items()},
                "note": f"({runs[long_days]['model_s']:.2f} s - {runs[short_days]['model_s']:.2f} s) / "
                        f"{extra_days} days, best of {plan.overhead_repeats}; CPU {cpu_ms_per_day:.3f} ms/day"}
    big = None
    if args.big:
        _say(f"livesim {_fmt_size(plan.big)} ...")
        big = run_size(args.scenario, plan.big)
    rows = build_rows(plan, large, baseline, overhead, big)
    machine = {"python": platform.python_version(), "numpy": np.__version__, "mesa": mesa.__version__,
               "cpus": os.cpu_count(), "platform": platform.platform(),
               "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None}
    load = f", load average {machine['load_average'][0]:.2f}" if machine["load_average"] else ""
    header = (f"livesim speed benchmark{' (--quick: scaled sizes, no verdicts)' if plan.scaled else ''}: "
              f"Python {machine['python']}, numpy {machine['numpy']}, Mesa {machine['mesa']}, "
              f"{machine['cpus']} CPUs{load}")
    print(render(rows, header))
    tutorial = mesa_agent_steps_per_s(min(plan.mesa_agents, 5_000), 1, TutorialMoneyAgent)
    print(f"\nMesa's tutorial idiom (self.random.choice(self.model.agents), O(N) per choice in Mesa 3.5): "
          f"{tutorial:,.0f} agent-steps/s at {min(plan.mesa_agents, 5_000):,} agents; the ratio uses a cached list.")
    prof = None
    if args.profile:
        _say(f"profile {_fmt_size(plan.profile)} ...")
        prof = run_profile(args, plan)
        print(render_profile(prof))
    print(f"\n(total {time.perf_counter() - started:.0f} s)")
    if args.json is not None:
        write_json(args.json, {
            "benchmark": MARKER, "scaled": plan.scaled, "plan": asdict(plan), "machine": machine,
            "rows": [{**asdict(r), "ratio": r.ratio} for r in rows],
            "runs": {"large": large, "baseline": baseline, "overhead": overhead, "big": big},
            "mesa_tutorial_idiom_agent_steps_per_s": tutorial, "profile": prof,
        })


if __name__ == "__main__":
    main()
