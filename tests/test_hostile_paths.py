"""Hostile paths and values found by trying to break livesim: each is refused in one line (exit 2),
changes no file livesim did not write, and leaves nothing behind."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from sim.cli import main
from tests.conftest import BASELINE

SMALL = 'name = "small"\ndays = 3\nseed = 1\n[world]\nn_buyers = 1500\nn_creators = 60\n'
SWEEP = 'name = "s"\nscenario = "small.toml"\nreplications = 1\n'


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "small.toml").write_text(SMALL)
    (tmp_path / "sw.toml").write_text(SWEEP)
    return tmp_path


def _tree(folder: Path) -> dict[str, bytes | str]:
    out: dict[str, bytes | str] = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        out[key] = f"-> {os.readlink(p)}" if p.is_symlink() else p.read_bytes() if p.is_file() else "dir"
    return out


def _refused(argv: list[str], capsys: pytest.CaptureFixture[str], *needles: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("livesim: error: "), err
    for needle in needles:
        assert needle in err[0], err[0]
    return err[0]


def test_a_linked_lock_file_is_refused_and_its_target_untouched(work: Path, capsys) -> None:
    """A .livesim.lock that links to a user's file is refused; the file keeps its contents."""
    (work / "precious.txt").write_text("precious")
    (work / "o").mkdir()
    (work / "o" / ".livesim.lock").symlink_to("../precious.txt")
    before = _tree(work)
    _refused(["sweep", "sw.toml", "--out", "o", "--quiet"], capsys, ".livesim.lock")
    assert _tree(work) == before


@pytest.mark.parametrize("name", ["summary", "scenarios"])
def test_a_file_where_the_sweep_keeps_a_folder_is_refused_first(work: Path, capsys, name: str) -> None:
    """A user's file named like a folder of the sweep layout is refused before anything is created."""
    (work / "o").mkdir()
    (work / "o" / name).write_text("mine")
    before = _tree(work)
    _refused(["sweep", "sw.toml", "--out", "o", "--quiet"], capsys, name)
    assert _tree(work) == before


@pytest.mark.parametrize("command", ["run", "sweep", "report"])
@pytest.mark.parametrize("out", ["", "x" * 250, "o\udcff"], ids=["empty", "too_long", "not_utf8"])
def test_unusable_out_names_are_one_line(work: Path, capsys, sweep_results: Path, command: str, out: str) -> None:
    """An empty, over-long or non-UTF-8 --out is refused before any work, writing nothing."""
    argv = {"run": ["run", "small.toml", "--quiet", "--no-plot"], "sweep": ["sweep", "sw.toml", "--quiet"],
            "report": ["report", str(sweep_results)]}[command]
    before = _tree(work)
    _refused([*argv, "--out", out], capsys, "--out")
    assert _tree(work) == before


def test_run_into_a_link_loop_is_one_line(work: Path, capsys) -> None:
    """--out naming a symbolic-link loop is refused in one line."""
    (work / "loop").symlink_to("loop")
    _refused(["run", "small.toml", "--out", "loop", "--quiet"], capsys, "--out")


def test_report_to_a_dangling_link_is_refused(work: Path, capsys, sweep_results: Path) -> None:
    """A report path that is a link to nothing is refused before any figure is written."""
    (work / "l.html").symlink_to("nowhere/x.html")
    before = _tree(work)
    _refused(["report", str(sweep_results), "--out", "l.html"], capsys, "l.html")
    assert _tree(work) == before


@pytest.mark.parametrize("text", ["a = " + "[" * 50_000 + "]" * 50_000, 'name = "x"\nreplications = ' + "9" * 5000],
                         ids=["deeply_nested", "huge_integer"])
def test_toml_that_python_cannot_hold_is_one_line(work: Path, capsys, text: str) -> None:
    """TOML nested too deeply, or with a number of thousands of digits, is a one-line error naming the file."""
    (work / "bad.toml").write_text(text)
    _refused(["validate", "bad.toml"], capsys, "bad.toml", "not usable")


def test_set_with_a_huge_number_is_one_line(work: Path, capsys) -> None:
    """--set with an integer of thousands of digits names --set and the path."""
    _refused(["validate", "small.toml", "--set", "world.n_buyers=" + "9" * 5000], capsys, "--set", "world.n_buyers")


def test_sample_range_beyond_float_is_one_line(work: Path, capsys) -> None:
    """A sample range end too large for floating point is refused, naming the path."""
    (work / "s.toml").write_text(SWEEP + '[levers.sample]\nn = 2\nranges = { "policy.review.capacity_per_day" = '
                                 f"[1, {'9' * 400}] }}\n")
    _refused(["sweep", "s.toml", "--out", "o", "--quiet"], capsys, "policy.review.capacity_per_day", "1e15")
    assert not (work / "o").exists()


def test_local_preset_without_a_policy_table_is_one_line(work: Path, capsys) -> None:
    """A local preset file whose policy is not a table is a one-line error naming the preset file."""
    (work / "policies").mkdir()
    (work / "policies" / "mine.toml").write_text("policy = 3\n")
    (work / "p.toml").write_text('name = "p"\ndays = 3\npolicy_preset = "mine"\n')
    _refused(["validate", "p.toml"], capsys, "policy_preset", "mine.toml")


def test_sobol_size_not_a_power_of_two_warns_in_one_line(work: Path, capsys) -> None:
    """A Sobol sample of 3 points runs, with one livesim warning line instead of scipy's two."""
    (work / "s.toml").write_text(SWEEP + '[levers.sample]\nmethod = "sobol"\nn = 3\nranges = '
                                 '{ "policy.detection.threshold" = [2.0, 3.0] }\n')
    assert main(["sweep", "s.toml", "--out", "o", "--quiet", "--workers", "1"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [line for line in err if line.startswith("livesim: warning:")] and len(err) == 1
    assert "power of 2" in err[0]


def test_resolved_scenario_of_a_shortened_run_reproduces_it(work: Path) -> None:
    """scenario.toml of a run shortened with --days runs on its own and gives the same metrics."""
    common = ["--days", "3", "--set", "world.n_buyers=1500", "--set", "world.n_creators=60", "--quiet", "--no-plot"]
    assert main(["run", str(BASELINE), *common, "--out", "a"]) == 0
    assert main(["run", "a/scenario.toml", "--quiet", "--no-plot", "--out", "b"]) == 0
    first = json.loads((work / "a" / "summary.json").read_text())
    again = json.loads((work / "b" / "summary.json").read_text())
    assert first["metrics"] == again["metrics"] and first["ledger"] == again["ledger"]


def test_a_device_is_not_called_missing(work: Path, capsys) -> None:
    """A scenario path that exists but is no regular file (/dev/null) is named as such, not as missing."""
    if not Path("/dev/null").exists():
        pytest.skip("no /dev/null")
    _refused(["validate", "/dev/null"], capsys, "/dev/null", "not a regular file")


def test_a_pasted_blob_is_not_echoed_whole(work: Path, capsys) -> None:
    """A huge bad value is shown shortened, with its length, keeping the error one readable line."""
    line = _refused(["validate", "small.toml", "--set", "name=" + "a" * 5000], capsys, "name", "characters")
    assert len(line) < 400
