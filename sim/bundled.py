"""The scenarios, policy presets and sweeps that ship with livesim.

They (and the facts files of ``scenarios/targets/``) live in the repository's ``scenarios/`` folder, which is installed as the package data of
``livesim_scenarios`` and read through :mod:`importlib.resources`, so ``livesim run baseline``
works from any directory, in a checkout and after ``pip install livesim`` alike.

A command-line argument names a scenario (or sweep) by path or by bundled name: an existing
path always wins, so a local ``baseline.toml`` is never shadowed by the bundled one.
"""

from __future__ import annotations

import functools
import importlib.resources
import re
from pathlib import Path

from sim.errors import ScenarioError

__all__ = [
    "bundled_root",
    "preset_names",
    "preset_path",
    "resolve_scenario",
    "resolve_sweep",
    "resolve_targets",
    "scenario_names",
    "sweep_names",
    "targets_names",
]

_NAME = re.compile(r"^[a-z][a-z0-9_]*$")


@functools.cache
def bundled_root() -> Path:
    """The folder holding the bundled scenarios (``policies/`` and ``sweeps/`` inside it)."""
    try:
        return Path(str(importlib.resources.files("livesim_scenarios")))
    except ModuleNotFoundError:  # an uninstalled checkout on sys.path
        return Path(__file__).resolve().parent.parent / "scenarios"


def _names(folder: Path) -> list[str]:
    return sorted(p.stem for p in folder.glob("*.toml") if _NAME.match(p.stem))


def scenario_names() -> list[str]:
    """Names of the bundled scenarios (``livesim run NAME``)."""
    return _names(bundled_root())


def preset_names() -> list[str]:
    """Names of the bundled policy presets (``policy_preset = "NAME"``)."""
    return _names(bundled_root() / "policies")


def sweep_names() -> list[str]:
    """Names of the bundled sweeps (``livesim sweep NAME``)."""
    return _names(bundled_root() / "sweeps")


def targets_names() -> list[str]:
    """Names of the bundled facts and targets files (``livesim check-facts --facts NAME``)."""
    return _names(bundled_root() / "targets")


def preset_path(name: str) -> Path | None:
    """The bundled preset file called ``name``, or None; ``name`` must be a plain name, never a
    path, so a preset can only ever come from the presets folder."""
    if not _NAME.match(name):
        return None
    path = bundled_root() / "policies" / f"{name}.toml"
    return path if path.is_file() else None


def _resolve(arg: str | Path, folder: Path, names: list[str], what: str) -> Path:
    path = Path(arg)
    if path.exists():
        return path
    name = str(arg)
    if _NAME.match(name) and (folder / f"{name}.toml").is_file():
        return folder / f"{name}.toml"
    listed = ", ".join(names) or "none"
    raise ScenarioError(str(arg), None, None, f"no such {what} file, nor a bundled {what}; bundled {what}s: {listed}")


def resolve_scenario(arg: str | Path) -> Path:
    """A scenario argument as a path: an existing file, else a bundled scenario's name."""
    return _resolve(arg, bundled_root(), scenario_names(), "scenario")


def resolve_sweep(arg: str | Path) -> Path:
    """A sweep argument as a path: an existing file, else a bundled sweep's name."""
    return _resolve(arg, bundled_root() / "sweeps", sweep_names(), "sweep")


def resolve_targets(arg: str | Path) -> Path:
    """A targets (facts) argument as a path: an existing file, else a bundled targets file's name."""
    path = Path(arg)
    if path.exists():
        return path
    folder = bundled_root() / "targets"
    if _NAME.match(str(arg)) and (folder / f"{arg}.toml").is_file():
        return folder / f"{arg}.toml"
    listed = ", ".join(targets_names()) or "none"
    raise ScenarioError(str(arg), None, None, f"no such targets file, nor a bundled facts file; bundled: {listed}")
