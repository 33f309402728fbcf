"""The speed benchmark (benchmarks/speed.py) runs and reports every row; its arithmetic is right.

Not timing tests: the numbers depend on the machine. The smoke test runs the script at its
--quick sizes; the rest check the table's verdicts, the profile aggregation and the Mesa model
on exact inputs.
"""

from __future__ import annotations

import importlib.util
import json
import math
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "benchmarks" / "speed.py"


def _load_speed():
    spec = importlib.util.spec_from_file_location("livesim_bench_speed", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


speed = _load_speed()

# (target number, measure) of every row the table prints.
ROWS = [
    ("1", "model time (build + run)"),
    ("1", "peak memory (max RSS)"),
    ("1", "throughput (run)"),
    ("2", "baseline model time (build + run)"),
    ("2", "baseline peak memory (max RSS)"),
    ("3", "fixed overhead per day"),
    ("4", "model time (build + run)"),
    ("4", "peak memory (max RSS)"),
    ("5", "Mesa canonical step (Boltzmann wealth)"),
    ("5", "livesim buyer-days/s / Mesa agent-steps/s"),
    ("6", "RNG floor (PCG64 draws)"),
    ("6", "livesim run time / RNG floor"),
    ("6", "baseline RNG floor (PCG64 draws)"),
    ("6", "baseline livesim run time / RNG floor"),
]


def _run(*args: str, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=timeout, check=False)


def _row(rows: list[dict], target: str, what: str, size_days: int | None = None) -> dict:
    found = [r for r in rows if r["target"] == target and r["what"] == what
             and (size_days is None or r["size"].endswith(f" {size_days} d"))]
    assert found, f"no row {target} {what!r}"
    return found[0]


def test_quick_run_prints_every_row_with_positive_mesa_and_floor_ratios(tmp_path: Path) -> None:
    """--quick --big --profile runs, prints every target's rows with a value, and the Mesa and
    RNG-floor ratios are positive finite numbers consistent with the measurements."""
    out = tmp_path / "speed.json"
    proc = _run("--quick", "--big", "--profile", "--profiler", "cprofile", "--json", str(out))
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    for target, what in ROWS:
        assert any(line.startswith(f"{target}  {what} ") for line in lines), f"row {target} {what!r} missing"
    assert "skipped" not in proc.stdout  # --big measured rows 4
    assert "Profile of the step loop" in proc.stdout and "check (no single function above 15% of a step)" in proc.stdout

    report = json.loads(out.read_text())
    assert report["benchmark"] == speed.MARKER and report["scaled"] is True
    rows = report["rows"]
    assert len(rows) == len(ROWS) + 3  # the big size adds a Mesa ratio and its floor rows
    assert {r["verdict"] for r in rows} <= {"scaled", "info"}  # scaled sizes never claim a target
    runs = report["runs"]
    large = runs["large"]
    assert [large["n_buyers"], large["n_creators"], large["days"]] == list(speed.QUICK.large)
    assert large["buyer_days_per_s"] == pytest.approx(large["n_buyers"] * large["days"] / large["run_s"], rel=1e-12)
    mesa_ratio = _row(rows, "5", "livesim buyer-days/s / Mesa agent-steps/s", speed.QUICK.large[2])["value"]
    assert math.isfinite(mesa_ratio) and mesa_ratio > 0
    assert mesa_ratio == pytest.approx(large["buyer_days_per_s"] / large["mesa_agent_steps_per_s"], rel=1e-12)
    for key in ("large", "baseline", "big"):
        m = runs[key]
        assert m["sessions"] > 0 and 0 < m["orders"] <= m["sessions"]
        assert m["floor_s"] > 0 and math.isfinite(m["run_s"] / m["floor_s"])
    floor_ratio = _row(rows, "6", "livesim run time / RNG floor", speed.QUICK.large[2])["value"]
    assert floor_ratio == pytest.approx(large["run_s"] / large["floor_s"], rel=1e-12) and floor_ratio > 0
    overhead = runs["overhead"]
    short, long = speed.QUICK.overhead_days
    assert overhead["ms_per_day"] == pytest.approx(
        (overhead["model_s"][str(long)] - overhead["model_s"][str(short)]) / (long - short) * 1000, rel=1e-12)
    shares = [r["share"] for r in report["profile"]["by_line"]]
    assert shares and all(0 < s <= 1 for s in shares) and sum(shares) <= 1 + 1e-9


def test_json_refuses_a_file_it_did_not_write_before_measuring(tmp_path: Path) -> None:
    """--json onto someone else's file exits with a one-line error naming it, before any run,
    and leaves the file as it was."""
    theirs = tmp_path / "notes.json"
    theirs.write_text('{"mine": true}\n')
    proc = _run("--quick", "--json", str(theirs), timeout=120)
    assert proc.returncode != 0
    assert proc.stderr.strip().splitlines() == [
        f"speed.py: --json {theirs}: exists and was not written by this benchmark; choose a new file name"]
    assert theirs.read_text() == '{"mine": true}\n'


def _measure(model_s: float, peak_mib: float, buyer_days_per_s: float = 700_000.0, n: tuple[int, int, int] = (1, 1, 1)):
    b, c, d = n
    return {"n_buyers": b, "n_creators": c, "days": d, "build_s": 0.5, "run_s": model_s - 0.5, "model_s": model_s,
            "model_cpu_s": model_s, "peak_mib": peak_mib, "imported_mib": 150.0, "buyer_days_per_s": buyer_days_per_s,
            "floor_s": 1.0, "sessions": 10.0, "orders": 1.0, "mesa_agent_steps_per_s": 20_000.0}


def test_verdicts_follow_the_targets_exactly() -> None:
    """At the target sizes a value on the limit meets it, one just past it does not, for both
    senses (<= times and memory, >= the Mesa ratio), and an unmeasured big run is 'skipped'."""
    large = _measure(8.0, 500.0001, n=speed.FULL.large)  # 700,000 / 20,000 = 35 buyer-days per agent-step
    baseline = _measure(0.8000001, 100.0, n=(120_000, 2_500, 180))
    overhead = {"ms_per_day": 0.5, "model_s": {}, "note": ""}
    rows = speed.build_rows(speed.FULL, large, baseline, overhead, None)
    verdict = {(r.target, r.what): r.verdict for r in rows}
    assert verdict["1", "model time (build + run)"] == "ok"
    assert verdict["1", "peak memory (max RSS)"] == "OVER"
    assert verdict["2", "baseline model time (build + run)"] == "OVER"
    assert verdict["3", "fixed overhead per day"] == "ok"
    assert verdict["4", "model time (build + run)"] == verdict["4", "peak memory (max RSS)"] == "skipped"
    mesa = next(r for r in rows if r.target == "5" and r.limit is not None)
    assert mesa.value == 35.0 and mesa.verdict == "ok"
    large["buyer_days_per_s"] = 698_000.0
    mesa = next(r for r in speed.build_rows(speed.FULL, large, baseline, overhead, None)
                if r.target == "5" and r.limit is not None)
    assert mesa.verdict == "UNDER" and mesa.ratio == pytest.approx(34.9 / 35)


def test_profile_aggregation_keeps_the_step_loop_and_charges_numpy_to_the_calling_line() -> None:
    """Samples outside _run_days are dropped; a numpy frame's samples go to the deepest livesim
    line above it (by_line) and to the numpy frame itself (by_leaf); shares are exact."""
    raw = "\n".join([
        "<module> (speed.py:1);_find_and_load (<frozen importlib._bootstrap>:1360) 50",  # import: dropped
        "main (speed.py:9);_run_days (speed.py:20);step (sim/model.py:186);recommend (sim/platform/recommender.py:81);"
        "assign_sessions (sim/platform/recommender.py:136);_wrapfunc (numpy/_core/fromnumeric.py:54) 6",
        "main (speed.py:9);_run_days (speed.py:20);step (sim/model.py:186);recommend (sim/platform/recommender.py:81) 3",
        "main (speed.py:9);_run_days (speed.py:20);_wrapped_step (mesa/model.py:90) 1",
    ])
    agg = speed.aggregate_raw_stacks(raw)
    assert agg["samples"] == 10
    assert agg["by_line"] == [
        {"where": "assign_sessions (sim/platform/recommender.py:136)", "share": 0.6},
        {"where": "recommend (sim/platform/recommender.py:81)", "share": 0.3},
        {"where": "_wrapped_step (mesa/model.py:90)", "share": 0.1},
    ]
    assert agg["by_leaf"][0] == {"where": "_wrapfunc (numpy/_core/fromnumeric.py:54)", "share": 0.6}


def test_mesa_model_conserves_wealth_and_moves_it() -> None:
    """Mesa's Boltzmann model, as benchmarked, keeps total wealth and makes it unequal: the agents
    really exchange, and every agent steps once per model step."""
    model = speed.MoneyModel(200, rng=3)
    for _ in range(20):
        model.step()
    wealth = [a.wealth for a in model.agent_list]
    assert sum(wealth) == 200 and min(wealth) >= 0 and max(wealth) > 1
    assert speed.mesa_agent_steps_per_s(50, 2) > 0
    with pytest.raises(ValueError, match="n_agents must be >= 2"):
        speed.mesa_agent_steps_per_s(1, 2)


def test_rng_floor_needs_one_count_per_day_for_sessions_and_orders() -> None:
    """The floor is a positive time for matching day lists and a ValueError for mismatched ones."""
    assert speed.rng_floor_s(1_000, [300.0, 310.0], [20.0, 25.0]) > 0
    with pytest.raises(ValueError, match="2 days of sessions but 1 of orders"):
        speed.rng_floor_s(1_000, [300.0, 310.0], [20.0])


@pytest.mark.skipif(speed.find_py_spy() is None, reason="py-spy not installed (pip install py-spy)")
def test_py_spy_profile_samples_the_step_loop_by_line() -> None:
    """With py-spy installed, the profile samples a real run and attributes shares to file:line frames."""
    prof = speed.profile_py_spy(speed.find_py_spy(), speed.DEFAULT_SCENARIO, (5_000, 100, 15), rate=500)
    assert prof["tool"] == "py-spy" and prof["samples"] > 0
    assert all(r["where"].endswith(")") and ":" in r["where"] for r in prof["by_line"])
    assert 0 < sum(r["share"] for r in prof["by_line"]) <= 1 + 1e-9
