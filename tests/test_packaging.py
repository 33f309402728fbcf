"""livesim as an installed package: the wheel carries the bundled scenarios, presets and sweeps."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from sim.bundled import bundled_root, preset_names, resolve_scenario, scenario_names, sweep_names, targets_names
from sim.errors import ScenarioError

pytestmark = pytest.mark.slow  # builds a wheel

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
                          capture_output=True, text=True, timeout=600)
    if proc.returncode != 0:
        pytest.fail(f"pip wheel failed: {proc.stderr[-2000:]}")
    (path,) = out.glob("livesim-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The wheel installed into a folder of its own, away from the repository."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)],
                   check=True, capture_output=True, timeout=300)
    return target


def _livesim(installed: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(installed)}
    return subprocess.run([sys.executable, "-m", "sim.cli", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_wheel_holds_every_bundled_file(wheel: Path) -> None:
    """Every scenario, preset and sweep TOML of the repository, and the report's templates, are inside the wheel,
    with the LICENSE."""
    names = set(zipfile.ZipFile(wheel).namelist())
    expected = {f"livesim_scenarios/{p.relative_to(ROOT / 'scenarios')}" for p in (ROOT / "scenarios").rglob("*.toml")}
    assert expected and expected <= names
    templates = {f"analysis/templates/{p.name}" for p in (ROOT / "analysis" / "templates").glob("*.j2")}
    assert templates and templates <= names  # the report's HTML templates
    assert any(n.endswith("licenses/LICENSE") or n.endswith("/LICENSE") for n in names)


def test_installed_wheel_runs_a_bundled_scenario_from_anywhere(installed: Path, tmp_path: Path) -> None:
    """Outside the repository, `livesim run baseline` finds the bundled scenario and its preset."""
    proc = _livesim(installed, tmp_path, "run", "baseline", "--days", "2", "--set", "world.n_buyers=2000",
                    "--set", "world.n_creators=60", "--no-plot", "--quiet", "--out", str(tmp_path / "out"))
    assert proc.returncode == 0, proc.stderr
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["scenario"] == "baseline"
    probe = subprocess.run([sys.executable, "-c", "import sim, sim.bundled as b; print(sim.__file__); "
                            "print(b.bundled_root()); print(','.join(b.preset_names()))"],
                           cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(installed)}, capture_output=True,
                           text=True, check=True)
    module, root, presets = probe.stdout.split("\n")[:3]
    assert Path(module).is_relative_to(installed) and Path(root).is_relative_to(installed)
    assert set(presets.split(",")) == set(preset_names())


def test_installed_wheel_lists_bundled_files(installed: Path, tmp_path: Path) -> None:
    """`livesim scenarios` names every bundled scenario, preset, sweep and facts file."""
    proc = _livesim(installed, tmp_path, "scenarios")
    assert proc.returncode == 0, proc.stderr
    listed = {line.split()[0] for line in proc.stdout.splitlines() if line.startswith("  ")}
    assert listed == set(scenario_names()) | set(preset_names()) | set(sweep_names()) | set(targets_names())


def test_bundled_names_cover_the_repository() -> None:
    """The bundled listing is the repository's scenarios/ folder, read through importlib.resources."""
    assert bundled_root().resolve() == (ROOT / "scenarios").resolve()
    assert set(scenario_names()) == {p.stem for p in (ROOT / "scenarios").glob("*.toml")}
    assert set(preset_names()) == {p.stem for p in (ROOT / "scenarios" / "policies").glob("*.toml")}
    assert set(sweep_names()) == {p.stem for p in (ROOT / "scenarios" / "sweeps").glob("*.toml")}
    assert set(targets_names()) == {p.stem for p in (ROOT / "scenarios" / "targets").glob("*.toml")}


def test_a_local_file_wins_over_a_bundled_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A path that exists is used as given, even when a bundled scenario has the same name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "baseline").write_text('name = "mine"\n')
    assert resolve_scenario("baseline") == Path("baseline")
    with pytest.raises(ScenarioError, match=r"bundled scenarios: .*baseline"):
        resolve_scenario("no_such_scenario")
    with pytest.raises(ScenarioError):
        resolve_scenario("../scenarios/baseline")  # names are plain names, never paths


OLD_PYTHON = shutil.which("python3.11")


@pytest.mark.skipif(OLD_PYTHON is None, reason="no python3.11 on this machine")
def test_old_python_is_refused_plainly(wheel: Path, tmp_path: Path) -> None:
    """On Python 3.11 pip refuses the wheel naming the requirement, and importing livesim says why."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYENV_VERSION")}
    pip = subprocess.run([OLD_PYTHON, "-m", "pip", "install", "--no-deps", "--target", str(tmp_path / "t"), str(wheel)],
                         capture_output=True, text=True, timeout=300, env=env)
    assert pip.returncode != 0
    assert ">=3.12" in pip.stderr and "requires a different Python" in pip.stderr
    imp = subprocess.run([OLD_PYTHON, "-c", "import sim"], cwd=ROOT, capture_output=True, text=True, timeout=60,
                         env=env)
    assert imp.returncode != 0
    assert "livesim needs Python 3.12 or newer; this is Python 3.11" in imp.stderr.strip().splitlines()[-1]
