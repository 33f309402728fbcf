"""The shape of the core: a short conductor, and phase code that names no tactic or ladder kind."""

from __future__ import annotations

import io
import re
import tokenize
from pathlib import Path

import pytest

from sim.platform.ladders import BUILTIN as LADDER_KINDS
from sim.tactics import BUILTIN as TACTICS

ROOT = Path(__file__).resolve().parents[1]
SIM = ROOT / "sim"
# Where the phases and the components they call live (registrations excluded: sim/tactics/,
# sim/platform/ladders/ hold one file per tactic or kind by design).
PHASE_CODE = sorted(
    [SIM / "model.py", SIM / "day.py", *(SIM / "agents").glob("*.py"), *(SIM / "platform").glob("*.py"),
     *(SIM / "platform").glob("*/*.py")]
)
PHASE_CODE = [p for p in PHASE_CODE if p.parent.name != "ladders"]


def _code_tokens(path: Path) -> list[tokenize.TokenInfo]:
    """The file's tokens without comments and docstrings (strings standing alone as statements)."""
    toks = list(tokenize.generate_tokens(io.StringIO(path.read_text(encoding="utf-8")).readline))
    out, prev = [], tokenize.NEWLINE
    for t in toks:
        if t.type == tokenize.COMMENT:
            continue
        if t.type == tokenize.STRING and prev in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT, tokenize.NL):
            prev = t.type
            continue
        if t.type not in (tokenize.NL,):
            prev = t.type
        out.append(t)
    return out


def test_the_model_is_a_conductor_of_at_most_250_lines() -> None:
    """sim/model.py names the phases and holds no mechanic: at most 250 lines."""
    assert len((SIM / "model.py").read_text(encoding="utf-8").splitlines()) <= 250


@pytest.mark.parametrize("path", PHASE_CODE, ids=lambda p: str(p.relative_to(SIM)))
def test_phase_code_names_no_tactic(path: Path) -> None:
    """No phase names a built-in tactic (as a name, attribute or string) or the Tactic enum: tactics act through their hooks."""
    named = [(t.start[0], t.string) for t in _code_tokens(path)
             if (t.type == tokenize.NAME and (t.string in TACTICS or t.string == "Tactic"))
             or (t.type == tokenize.STRING and t.string.strip("'\"") in TACTICS)]
    assert named == [], f"{path.relative_to(ROOT)} names tactics at (line, token) {named}"


@pytest.mark.parametrize("path", PHASE_CODE, ids=lambda p: str(p.relative_to(SIM)))
def test_phase_code_has_no_branch_on_a_ladder_kind(path: Path) -> None:
    """No phase compares a ladder kind or names a built-in kind: kinds act through their strategy."""
    code = "".join(t.string + " " for t in _code_tokens(path))
    names = "|".join(LADDER_KINDS)
    compared = re.search(rf"kind\s*(==|!=)\s*[\"']({names})[\"']|kind\s+(not\s+)?in\s*[(\[{{][^)\]}}]*[\"']({names})", code)
    assert not compared, f"{path.relative_to(ROOT)} branches on a ladder kind: {compared.group(0)}"
    # "points" is also the decision log's column of points: only the other names are checked.
    kinds = set(LADDER_KINDS) - {"points"}
    named = [t.string for t in _code_tokens(path) if t.type == tokenize.STRING and t.string.strip("'\"") in kinds]
    assert named == [], f"{path.relative_to(ROOT)} names ladder kinds {named}"


def test_every_package_of_the_source_tree_is_installed() -> None:
    """Every folder of sim/ and analysis/ with an __init__.py is listed in pyproject's packages, so a
    new plug-in folder (a trend kind, a signal, a ladder) is in the wheel, not only in the checkout."""
    import tomllib

    root = Path(__file__).resolve().parent.parent
    listed = set(tomllib.loads((root / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {str(p.parent.relative_to(root)).replace("/", ".")
             for top in ("sim", "analysis") for p in (root / top).rglob("__init__.py")}
    assert found <= listed, f"not in [tool.setuptools] packages: {sorted(found - listed)}"
