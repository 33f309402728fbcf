"""What produced a result: code version, configuration, environment.

Every result livesim writes (a run's ``summary.json``, a sweep's ``manifest.json``) carries
the block :func:`provenance` returns, so a number can always be traced to the code, the
resolved scenario and the packages that made it. The format tags mark files as livesim's own:
livesim replaces or deletes a file only when it carries one of them.
"""

from __future__ import annotations

import functools
import hashlib
import json
import platform
import subprocess
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

__all__ = [
    "KEY_PACKAGES",
    "RUN_FORMAT",
    "SWEEP_FORMAT",
    "code_identity",
    "git_state",
    "livesim_version",
    "package_versions",
    "provenance",
    "scenario_hash",
    "scenario_toml",
]

# Written into summary.json and manifest.json: the marker of a folder livesim made.
RUN_FORMAT = "livesim-run/1"
SWEEP_FORMAT = "livesim-sweep/1"

KEY_PACKAGES = ("mesa", "numpy", "scipy", "pandas", "pydantic", "pyarrow", "duckdb", "matplotlib")


def livesim_version() -> str:
    """The installed livesim version (``unknown`` when run from an uninstalled tree)."""
    try:
        return version("livesim")
    except PackageNotFoundError:
        return "unknown"


@functools.cache
def package_versions() -> dict[str, str]:
    """Python's version and those of the packages results depend on."""
    out = {"python": platform.python_version()}
    for pkg in KEY_PACKAGES:
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            out[pkg] = "unknown"
    return out


@functools.cache
def git_state() -> dict[str, Any] | None:
    """``{"commit": sha, "dirty": bool, "diff": hash}`` from a git checkout, else None.

    ``dirty`` means tracked files differ from the commit (untracked files do not count), so a
    result made from uncommitted code says so; ``diff`` (a hash of ``git diff HEAD``, None when
    clean) tells two different sets of uncommitted changes apart.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        commit = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True,
                                timeout=5, check=True).stdout.strip()
        status = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=5, check=True).stdout
        diff = subprocess.run(["git", "-C", str(root), "diff", "HEAD"], capture_output=True, timeout=10,
                              check=True).stdout if status.strip() else b""
    except (OSError, subprocess.SubprocessError):
        return None
    dirty = bool(status.strip())
    return {"commit": commit, "dirty": dirty, "diff": hashlib.sha256(diff).hexdigest()[:12] if dirty else None}


def code_identity() -> dict[str, Any]:
    """What identifies the code: livesim's version and, from a checkout, commit and dirty flag.

    Two results with different identities may differ for reasons other than their inputs;
    ``--resume`` and reports compare these.
    """
    git = git_state()
    return {
        "livesim": livesim_version(),
        "commit": git["commit"] if git else None,
        "dirty": git["dirty"] if git else None,
        "diff": git["diff"] if git else None,
    }


def provenance() -> dict[str, Any]:
    """The code identity plus the Python and key package versions."""
    return {**code_identity(), "versions": package_versions()}


def _plain(x: Any) -> Any:
    """A JSON/TOML-ready copy: tuples become lists, None values are dropped from tables."""
    if isinstance(x, dict):
        return {str(k): _plain(v) for k, v in x.items() if v is not None}
    if isinstance(x, list | tuple):
        return [_plain(v) for v in x]
    return x


def _drop_empty_monitoring(doc: dict[str, Any]) -> None:
    """No signals and no controllers is what a scenario meant before they existed: leave the empty
    lists out, so such a scenario keeps its hash (and its sweeps stay resumable)."""
    for key in ("signals", "controllers"):
        if doc.get(key) == []:
            doc.pop(key)


def scenario_hash(scenario: Any) -> str:
    """A canonical hash of a resolved scenario: equal for equal configurations, however spelt."""
    doc = _plain(scenario.model_dump(mode="json"))
    doc.pop("policy_preset", None)  # a label only: the preset is already merged into [policy]
    _drop_empty_monitoring(doc)
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()[:16]


def scenario_toml(scenario: Any) -> str:
    """The resolved scenario as TOML: every default filled in, the preset already merged.

    Loading it gives the same scenario (the same :func:`scenario_hash`), so it reproduces the
    run on its own. Timeline entries that start after the last day (a run shortened with
    ``--days``) never fire; they are left out, and the header says so, so that the file is
    valid on its own (its hash then differs from the run's, its results do not).
    """
    import tomli_w

    doc = _plain(scenario.model_dump(mode="json"))
    preset = doc.pop("policy_preset", None)  # already merged into [policy]
    _drop_empty_monitoring(doc)
    header = f"# resolved scenario, hash {scenario_hash(scenario)}; livesim {livesim_version()}\n"
    if preset:
        header += f"# [policy] started from the preset {preset!r}; every value is written out below\n"
    days = doc.get("days")
    late = [e for e in doc.get("timeline", []) if isinstance(days, int) and e.get("start_day", 0) > days]
    if late:
        doc["timeline"] = [e for e in doc["timeline"] if e not in late]
        names = ", ".join(str(e.get("name")) for e in late)
        header += f"# left out, as they start after the last day (day {days}) and never fire: {names}\n"
    return header + tomli_w.dumps(doc)
