"""Creator case files (analysis/cases.py, livesim case): finding creators and telling their story in order."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import numpy as np
import pytest

from analysis.cases import OUTCOMES, case_file, creator_index, find_creators, format_case, load_events
from sim.cli import main
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.runner import run, write_run
from tests.conftest import harsh_dict


@pytest.fixture(scope="module")
def harsh(tmp_path_factory):
    """The harsh world's run and its folder (with events.parquet)."""
    result = run(scenario_from_dict(harsh_dict()), events=True)
    out = tmp_path_factory.mktemp("case") / "harsh"
    write_run(result, out, plot=False)
    return result, out


def _cli(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = main(list(argv))
    return status, out.getvalue(), err.getvalue()


def test_index_outcomes_match_the_sanctions_table(harsh) -> None:
    """Creators found as banned, wrongly banned, wrongly sanctioned, appealed or overturned are the sanctions table's."""
    result, out = harsh
    events = load_events(out)
    s = result.sanctions
    expected = {
        "sanctioned": set(s["creator_id"]),
        "banned": set(s.loc[s["ban"], "creator_id"]),
        "wrongly_sanctioned": set(s.loc[~s["real"], "creator_id"]),
        "wrongly_banned": set(s.loc[s["ban"] & ~s["real"], "creator_id"]),
        "appealed": set(s.loc[s["appeal"].isin(["pending", "upheld", "overturned"]), "creator_id"]),
        "overturned": set(s.loc[s["overturned"], "creator_id"]),
    }
    for outcome in OUTCOMES:
        found = set(find_creators(events, outcome=outcome)["creator_id"])
        assert found == expected[outcome] and found, outcome


def test_filters_combine(harsh) -> None:
    """Type, market and outcome filters select exactly the creators that meet all of them."""
    result, out = harsh
    events = load_events(out)
    found = find_creators(events, creator_type="honest", market="bb", outcome="wrongly_banned")
    s = result.sanctions
    want = set(s.loc[s["ban"] & ~s["real"] & (s["creator_type"] == "honest") & (s["market"] == "bb"), "creator_id"])
    assert set(found["creator_id"]) == want and want
    index = creator_index(events)
    assert len(index) == len(result.creators)
    assert find_creators(events, creator_id=int(index["creator_id"].iloc[0]))["creator_id"].tolist() == [
        int(index["creator_id"].iloc[0])]


def test_case_of_a_wrongly_banned_honest_creator_is_in_order(harsh) -> None:
    """The case file lists the creator's decisions in the order of the sanctions table, each after the
    stream it judged, with the ban, the appeal and its outcome."""
    result, out = harsh
    events = load_events(out)
    s = result.sanctions
    wrong = s[s["ban"] & ~s["real"] & (s["creator_type"] == "honest") & s["overturned"]]
    cid = int(wrong["creator_id"].iloc[0])
    case = case_file(events, cid, weeks=False)
    days = case["day"].to_numpy()
    assert (np.diff(days) >= 0).all()
    decisions = case[case["kind"] == "decision"]
    mine = s[s["creator_id"] == cid].sort_values(["day", "decision_hour"])
    assert decisions["day"].tolist() == mine["day"].tolist()
    assert decisions["sanction"].astype(str).tolist() == mine["sanction"].astype(str).tolist()
    text = format_case(events, cid)
    lines = text.splitlines()
    assert lines[0].startswith(f"creator {cid}: honest")
    line_days = [int(m.group(1)) for m in (re.match(r"day\s+(\d+)", ln) for ln in lines[2:]) if m]
    assert line_days == sorted(line_days) and len(line_days) == len(case)
    ban_line = next(i for i, ln in enumerate(lines) if "sanction ban" in ln)
    appeal_line = next(i for i, ln in enumerate(lines) if "overturned" in ln and "APPEAL" in ln)
    stream_line = next(i for i, ln in enumerate(lines) if "stream [truly none]" in ln)
    assert stream_line < ban_line < appeal_line


def test_cli_prints_a_case_and_lists_matches(harsh) -> None:
    """`livesim case DIR --creator ID` prints the case file; filters print a table of matches."""
    result, out = harsh
    s = result.sanctions
    cid = int(s.loc[s["ban"] & ~s["real"], "creator_id"].iloc[0])
    status, text, err = _cli("case", str(out), "--creator", str(cid))
    assert status == 0, err
    assert text.startswith(f"creator {cid}:") and "DECISION" in text
    status, text, err = _cli("case", str(out), "--outcome", "wrongly_banned", "--limit", "2")
    assert status == 0, err
    assert text.splitlines()[0].split()[:3] == ["creator_id", "market", "creator_type"]
    assert len(text.splitlines()) == 4  # header, two creators, "... more"


def test_cli_refuses_bad_requests_in_one_line(harsh, tmp_path: Path) -> None:
    """An unknown outcome, an unknown creator and a folder without events each exit 2 with one line."""
    _, out = harsh
    for argv, needle in ((["--outcome", "naughty"], "--outcome"), (["--creator", "999999"], "--creator")):
        status, _, err = _cli("case", str(out), *argv)
        assert status == 2 and needle in err and len(err.strip().splitlines()) == 1
    bare = tmp_path / "bare"
    write_run(run(scenario_from_dict(harsh_dict(days=5))), bare, plot=False)  # no event log kept
    status, _, err = _cli("case", str(bare), "--creator", "1")
    assert status == 2 and "no event log" in err and "--no-events" in err


def test_a_sweep_needs_a_run_when_several_have_events(tmp_path: Path) -> None:
    """A sweep stored with --events has one log per run: without --run the error lists them."""
    sweep = tmp_path / "s.toml"
    base = tmp_path / "harsh.toml"
    import tomli_w

    base.write_text(tomli_w.dumps(harsh_dict(days=8)))
    sweep.write_text(f'name = "s"\nscenario = "{base}"\nreplications = 2\n[variants.base]\n')
    status, _, err = _cli("sweep", str(sweep), "--out", str(tmp_path / "res"), "--workers", "1", "--events", "--quiet")
    assert status == 0, err
    with pytest.raises(ScenarioError, match="choose one"):
        load_events(tmp_path / "res")
    runs = sorted(p.stem for p in (tmp_path / "res" / "events").glob("*.parquet"))
    assert runs == sorted(json.loads((tmp_path / "res" / "manifest.json").read_text())["runs"])
    events = load_events(tmp_path / "res", runs[1])
    assert set(events["run_id"]) == {runs[1]} and (events["kind"] == "decision").any()
