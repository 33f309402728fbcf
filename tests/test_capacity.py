"""Worlds too large for the memory available are refused before they are built."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import sim.capacity
import sim.runner
from sim.capacity import _cgroup_room, _meminfo_available, check_memory, estimate_memory_bytes
from sim.cli import main
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from tests.conftest import tiny_dict

HUGE = textwrap.dedent(
    """\
    name = "huge"
    days = 180

    [world]
    n_buyers = 50_000_000
    n_creators = 1_000_000
    """
)


def _tight(monkeypatch: pytest.MonkeyPatch, scenario, short_by: int = 1) -> None:
    """Make the memory available just less than the estimate for ``scenario``."""
    have = estimate_memory_bytes(scenario) - short_by
    monkeypatch.setattr(sim.capacity, "available_memory_bytes", lambda: have)
    monkeypatch.delenv(sim.capacity.SKIP_ENV, raising=False)


def test_check_memory_names_file_fields_estimate_and_available(monkeypatch: pytest.MonkeyPatch) -> None:
    """A world estimated above the memory available raises ScenarioError naming file, world size and both figures."""
    scenario = scenario_from_dict(tiny_dict())
    monkeypatch.setattr(sim.capacity, "available_memory_bytes", lambda: 10**6)
    monkeypatch.delenv(sim.capacity.SKIP_ENV, raising=False)
    with pytest.raises(ScenarioError) as info:
        check_memory(scenario, "big.toml")
    msg = info.value.message
    assert msg.startswith("big.toml: world.n_buyers, world.n_creators: ")
    assert "4,000 buyers" in msg and "150 creators" in msg
    assert f"{estimate_memory_bytes(scenario) / 1e9:.1f} GB" in msg and "0.0 GB available" in msg
    assert sim.capacity.SKIP_ENV in msg


def test_check_memory_counts_parallel_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    """Room for one run is not room for two parallel runs of the same world."""
    scenario = scenario_from_dict(tiny_dict())
    monkeypatch.setattr(sim.capacity, "available_memory_bytes", lambda: estimate_memory_bytes(scenario) + 1)
    monkeypatch.delenv(sim.capacity.SKIP_ENV, raising=False)
    check_memory(scenario, "x.toml", workers=1)
    with pytest.raises(ScenarioError, match="2 parallel runs"):
        check_memory(scenario, "x.toml", workers=2)


def test_skip_env_lets_an_expert_run_anyway(monkeypatch: pytest.MonkeyPatch) -> None:
    """LIVESIM_SKIP_MEMORY_CHECK=1 turns the refusal off."""
    scenario = scenario_from_dict(tiny_dict())
    monkeypatch.setattr(sim.capacity, "available_memory_bytes", lambda: 1)
    monkeypatch.setenv(sim.capacity.SKIP_ENV, "1")
    check_memory(scenario, "x.toml")


def test_estimate_grows_with_buyers_creators_and_days() -> None:
    """More buyers, more creators or more days never lower the estimate, and the world size dominates."""
    small = scenario_from_dict(tiny_dict())
    more_b = scenario_from_dict(tiny_dict(n_buyers=400_000))
    more_c = scenario_from_dict(tiny_dict(n_creators=15_000))
    longer = scenario_from_dict({**tiny_dict(), "days": 300})
    e = estimate_memory_bytes(small)
    assert estimate_memory_bytes(more_b) > e
    assert estimate_memory_bytes(more_c) > e
    assert estimate_memory_bytes(longer) > e


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads the peak from /proc/self/status (Linux)")
def test_estimate_is_not_below_a_measured_run(tmp_path: Path) -> None:
    """The estimate made before a run, in the process that runs it, is at least the peak memory the run used.

    Measured in a fresh process, with no compiled kernels cached (a cache folder of its own), so
    the run pays for compiling them, as the first run on a new machine does. The peak is the
    process's own high-water mark (``VmHWM``): ``getrusage``'s ``ru_maxrss`` starts a child at its
    parent's peak (kept across fork and exec), so under a pytest worker that had grown to 640 MB
    a run of 350 MB reported 636 MB.
    """
    code = textwrap.dedent(
        """
        import json, sys
        from pathlib import Path
        from sim.capacity import estimate_memory_bytes, interpreter_bytes
        from sim.config import scenario_from_dict
        from sim.runner import run
        from tests.conftest import tiny_dict
        scenario = scenario_from_dict({**tiny_dict(n_buyers=300_000, n_creators=3_000), "days": 5})
        estimate = estimate_memory_bytes(scenario)
        run(scenario)
        status = Path("/proc/self/status").read_text().splitlines()
        peak = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmHWM:"))
        print(json.dumps({"estimate": estimate, "interpreter": interpreter_bytes(), "peak": peak}))
        """
    )
    root = Path(__file__).resolve().parents[1]
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    env.pop("LIVESIM_ENGINE", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    assert got["estimate"] >= got["peak"], got
    assert got["estimate"] <= 3 * got["peak"], got  # a guard, but not one that refuses worlds that fit easily


def test_estimate_takes_the_interpreter_share_from_the_machine(monkeypatch: pytest.MonkeyPatch) -> None:
    """A machine whose interpreter takes more memory gets a larger estimate, by exactly that much; never below the floor."""
    scenario = scenario_from_dict(tiny_dict())
    world = sim.capacity.MARGIN * sim.capacity.world_bytes(scenario)
    for resident, base in ((None, sim.capacity.INTERPRETER_FLOOR_BYTES), (10_000_000, sim.capacity.INTERPRETER_FLOOR_BYTES),
                           (900_000_000, 900_000_000)):
        monkeypatch.setattr(sim.capacity, "_resident_bytes", lambda r=resident: r)
        sim.capacity.interpreter_bytes.cache_clear()
        assert estimate_memory_bytes(scenario) == int(base + sim.capacity.COMPILE_BYTES + world)
    sim.capacity.interpreter_bytes.cache_clear()


def test_cli_refuses_a_world_too_large_before_building_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """`run` on the largest world the schema allows, with less memory than its estimate, exits 2 without running."""
    path = tmp_path / "huge.toml"
    path.write_text(HUGE)
    from sim.config import load_scenario

    _tight(monkeypatch, load_scenario(path))

    def must_not_run(*args, **kwargs):
        raise AssertionError("the world was built")

    monkeypatch.setattr(sim.runner, "run", must_not_run)
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(["run", str(path), "--out", str(tmp_path / "out"), "--quiet"])
    assert status == 2
    assert err.getvalue().count("\n") == 1
    assert err.getvalue().startswith(f"livesim: error: {path}: world.n_buyers, world.n_creators: 50,000,000 buyers")
    assert not (tmp_path / "out").exists()


def test_runner_run_refuses_too(monkeypatch: pytest.MonkeyPatch) -> None:
    """`sim.runner.run` checks memory too, before building the model."""
    scenario = scenario_from_dict(tiny_dict())
    _tight(monkeypatch, scenario)

    def must_not_build(*args, **kwargs):
        raise AssertionError("the model was built")

    monkeypatch.setattr(sim.runner, "LiveShopModel", must_not_build)
    with pytest.raises(ScenarioError, match=r"world\.n_buyers"):
        sim.runner.run(scenario)


def test_meminfo_and_cgroup_limits_are_read(tmp_path: Path) -> None:
    """MemAvailable is read from /proc/meminfo text, and a cgroup v2 or v1 limit gives the room left under it."""
    assert _meminfo_available("MemTotal: 100 kB\nMemAvailable:    2048 kB\n") == 2048 * 1024
    assert _meminfo_available("MemTotal: 100 kB\n") is None
    v2 = tmp_path / "v2"
    (v2 / "job").mkdir(parents=True)
    (v2 / "job" / "memory.max").write_text("1000000\n")
    (v2 / "job" / "memory.current").write_text("300000\n")
    (tmp_path / "cg2").write_text("0::/job\n")
    assert _cgroup_room(v2, tmp_path / "cg2") == 700000
    (v2 / "job" / "memory.max").write_text("max\n")
    assert _cgroup_room(v2, tmp_path / "cg2") is None
    v1 = tmp_path / "v1"
    (v1 / "memory" / "a").mkdir(parents=True)
    (v1 / "memory" / "a" / "memory.limit_in_bytes").write_text("5000\n")
    (v1 / "memory" / "a" / "memory.usage_in_bytes").write_text("1000\n")
    (tmp_path / "cg1").write_text("4:memory:/a\n3:cpu:/\n")
    assert _cgroup_room(v1, tmp_path / "cg1") == 4000


def test_available_memory_is_the_lower_of_meminfo_and_cgroup(monkeypatch: pytest.MonkeyPatch) -> None:
    """With a cgroup limit below MemAvailable, the cgroup's room is what is available."""
    monkeypatch.setattr(sim.capacity, "_cgroup_room", lambda: 12345)
    assert sim.capacity.available_memory_bytes() == 12345
    monkeypatch.setattr(sim.capacity, "_cgroup_room", lambda: None)
    have = sim.capacity.available_memory_bytes()
    assert have is None or have > 12345
