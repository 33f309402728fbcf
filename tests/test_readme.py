"""The README is a tested contract: every TOML block in it validates, every command and Python
example it shows runs (on a scaled-down copy of the bundled scenarios), and its tables match
what livesim writes."""

from __future__ import annotations

import json
import re
import shlex
import shutil
import textwrap
import tomllib
from pathlib import Path

import pytest

from sim.cli import main
from sim.config import scenario_from_dict
from sim.metrics import METRICS
from sim.sweep import load_sweep

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")

# Commands the README shows for installing and testing livesim itself (CI runs these).
INSTALL_COMMANDS = ("python3 -m venv .venv", ".venv/bin/pip install", ".venv/bin/python -m pytest", "python -m pytest")
# Scaled-down sizes, so that the README's commands run within a test's time.
SMALL = {"n_buyers": 3_000, "n_creators": 80, "replications": 2, "sample_n": 3, "budget": 4}
# Explore files (scenarios/explore/) scale further: their worlds are many runs each. A Saltelli
# design needs n a power of 2 (and n/2 for its convergence check); one replication, as bundled;
# fewer days (still past the baseline's 60 warm-up days); one Morris trajectory; a red team of two.
SMALL_EXPLORE = {"n": 4, "days": 90, "morris": 1, "budget": 2}


def fenced(langs: str) -> list[tuple[str, str]]:
    """(language, code) of the fenced blocks whose language matches ``langs``, in order; blocks
    indented inside a list are dedented."""
    pattern = rf"^( *)```({langs})\n(.*?)^\1```"
    return [(m[2], textwrap.dedent(m[3])) for m in re.finditer(pattern, README, flags=re.S | re.M)]


def blocks(lang: str) -> list[str]:
    """The fenced code blocks of one language, in order."""
    return [code for _, code in fenced(lang)]


def command_lines(block: str) -> list[list[str]]:
    """A bash block's commands: continuations and quoted newlines joined, ``&&`` chains split,
    comments dropped."""
    out, pending = [], ""
    for line in re.sub(r"\\\n\s*", " ", block).splitlines():
        pending = f"{pending}\n{line}" if pending else line
        try:
            shlex.split(pending, comments=True)
        except ValueError:  # an open quote: the command goes on on the next line
            continue
        for part in re.split(r"\s&&\s", pending):
            argv = shlex.split(part, comments=True)
            if argv:
                out.append(argv)
        pending = ""
    assert not pending, f"unterminated command in README: {pending[:80]}"
    return out


def livesim_args(argv: list[str]) -> list[str] | None:
    """The arguments of a livesim command (scaled down and quiet), or None for another command."""
    if not argv or not argv[0].endswith("livesim"):
        return None
    args = list(argv[1:])
    for i, a in enumerate(args[:-1]):
        if a == "--replications":
            args[i + 1] = str(SMALL["replications"])
        if a == "--budget":
            args[i + 1] = str(SMALL["budget"])
    if args[0] in ("run", "sweep", "compare", "calibrate", "explore"):
        args.append("--quiet")
    return args


def _kind(doc: dict) -> str:
    if isinstance(doc.get("uncertainties"), list):
        return "explore"
    if "fit" in doc:
        return "observed"
    if "scenario" in doc:
        return "sweep"
    if set(doc) == {"targets"}:
        return "targets"
    return "scenario"


def test_readme_has_the_blocks_it_promises() -> None:
    """The README shows a scenario, a sweep, targets, commands and Python examples."""
    kinds = [_kind(tomllib.loads(b)) for b in blocks("toml")]
    assert {"scenario", "sweep", "targets"} <= set(kinds)
    assert blocks("bash") and blocks("python")


@pytest.mark.parametrize("index", range(len(blocks("toml"))))
def test_every_toml_block_validates(index: int, tmp_path: Path) -> None:
    """Each TOML block copied from the README is a valid scenario, sweep or targets file."""
    text = blocks("toml")[index]
    doc = tomllib.loads(text)
    kind = _kind(doc)
    if kind == "scenario":
        scenario_from_dict(doc, source=f"README toml block {index}", base_dir=ROOT / "scenarios")
    elif kind == "observed":
        from analysis.observed import load_observed
        from sim.config import load_scenario

        path = tmp_path / "observed.toml"
        path.write_text(text)
        assert load_observed(path, load_scenario("baseline")).fit
    elif kind == "explore":  # named relative to scenarios/explore/, as the bundled one is
        from analysis.explore import explore_from_dict

        assert explore_from_dict(doc, source=f"README toml block {index}", base_dir=ROOT / "scenarios" / "explore").n_runs
    elif kind == "sweep":  # named relative to scenarios/sweeps/, as the bundled sweeps are
        shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
        path = tmp_path / "scenarios" / "sweeps" / "readme_block.toml"
        path.write_text(text)
        assert load_sweep(path).runs()
    else:
        from analysis.report import load_targets

        path = tmp_path / "targets.toml"
        path.write_text(text)
        assert load_targets(path)


def test_every_command_is_known() -> None:
    """Every command in a bash block is a livesim command (run below) or an install/test step."""
    for block in blocks("bash"):
        for argv in command_lines(block):
            line = " ".join(argv)
            assert livesim_args(argv) is not None or line.startswith(INSTALL_COMMANDS), line


def test_glossary_lists_every_metric() -> None:
    """The metric glossary has exactly one row per metric livesim records."""
    rows = re.findall(r"^\| `([a-z0-9_]+)` \| [^|]+ \| [^|]+ \| [^|]+ \| [^|]+ \|$", README, flags=re.M)
    assert sorted(rows) == sorted(METRICS)


@pytest.fixture
def small_project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A working folder with a scaled-down copy of ``scenarios/`` (same timelines, fewer agents,
    replications and sample points), as a user's checkout would have it."""
    shutil.copytree(ROOT / "scenarios", tmp_path / "scenarios")
    world = ((r"^n_buyers = [\d_]+", f"n_buyers = {SMALL['n_buyers']}"),
             (r"^n_creators = [\d_]+", f"n_creators = {SMALL['n_creators']}"),
             (r'^"world.n_buyers" = [\d_]+', f'"world.n_buyers" = {SMALL["n_buyers"]}'),  # an explore file's [set]
             (r'^"world.n_creators" = [\d_]+', f'"world.n_creators" = {SMALL["n_creators"]}'))
    for path in (tmp_path / "scenarios").rglob("*.toml"):
        text = path.read_text()
        if path.parent.name == "explore":  # its design, days and red team; one replication, as bundled
            sizes = tuple((rf"^{key} = \d+", f"{key} = {value}") for key, value in SMALL_EXPLORE.items())
        else:
            sizes = ((r"^replications = \d+", f"replications = {SMALL['replications']}"),
                     (r"^n = \d+", f"n = {SMALL['sample_n']}"))
        for pattern, value in world + sizes:
            text = re.sub(pattern, value, text, flags=re.M)
        path.write_text(text)
    monkeypatch.chdir(tmp_path)
    return tmp_path


@pytest.mark.slow
def test_every_command_and_example_runs(small_project: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Each livesim command and Python example of the README, in document order, succeeds on the
    scaled-down scenarios (later examples read what earlier commands wrote, as a reader's would)."""
    ran = examples = 0
    for lang, block in fenced("bash|python"):
        if lang == "python":
            code = block.replace("n_buyers=20_000", f"n_buyers={SMALL['n_buyers']}")
            code = code.replace('"n_buyers": 20_000', f'"n_buyers": {SMALL["n_buyers"]}')
            exec(compile(code, f"README.md python block {examples}", "exec"), {"__name__": "readme"})
            examples += 1
            continue
        for argv in command_lines(block):
            args = livesim_args(argv)
            if args is None:
                continue
            code = main(args)
            err = capsys.readouterr().err
            assert code == 0, f"livesim {' '.join(args)} exited {code}: {err.strip()[-800:]}"
            ran += 1
    assert ran >= 5 and examples >= 2
    # The quick start's run wrote exactly the files the README's table lists.
    listed = re.findall(r"^\| `([a-z_]+\.[a-z]+)` \|", README.split("## Commands")[0], flags=re.M)
    written = sorted(p.name for p in (small_project / "results" / "baseline").iterdir())
    assert sorted(listed) == written
    assert json.loads((small_project / "results" / "baseline" / "summary.json").read_text())["scenario"] == "baseline"
