"""The dashboard (livesim dashboard): served on a free local port and driven in headless Chromium.

Playwright drives Debian's chromium (no browser download); the tests are skipped where either is
missing. Screenshots are kept in pytest's temporary folder (``dashboard-shots``), and the
README's image is docs/dashboard_screenshot.png.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from analysis.cases import format_case, load_events
from sim.config import scenario_from_dict
from sim.runner import run, write_run
from tests.conftest import harsh_dict

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
playwright = pytest.importorskip("playwright.sync_api")
pytest.importorskip("solara")
pytestmark = [pytest.mark.slow, pytest.mark.skipif(CHROMIUM is None, reason="no chromium on this machine")]

START_TIMEOUT_S = 120.0  # a loaded 2-core machine takes its time to import Solara
WAIT_MS = 60_000


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _listing(folder: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.rglob("*")}


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    """The harsh world's run folder, with its event log, one monitoring signal and an escalation
    controller keyed to it (so the alerts view has alerts and actions)."""
    out = tmp_path_factory.mktemp("dash") / "harsh"
    world = harsh_dict()
    world["signals"] = [{"name": "complaints_z", "group_by": ["market"],
                         "observable": {"kind": "complaint_rate", "window_days": 3},
                         "detector": {"kind": "zscore", "window_days": 7, "z": 1.5}}]
    world["controllers"] = [{"kind": "escalation", "name": "esc", "signal": "complaints_z", "days": 5,
                             "set": {"detection.threshold": 1.2}}]
    write_run(run(scenario_from_dict(world), events=True), out, plot=False)
    return out


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    """Where the screenshots go (kept as test artefacts)."""
    return tmp_path_factory.mktemp("dashboard-shots")


@pytest.fixture(scope="module")
def server(run_dir: Path):
    """`livesim dashboard RUN_DIR --port P` on a free port of 127.0.0.1; stopped (its process group) after."""
    port = _free_port()
    argv = [sys.executable, "-c", "import sys; from sim.cli import main; sys.exit(main(sys.argv[1:]))",
            "dashboard", str(run_dir), "--port", str(port)]
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/"
    deadline = time.monotonic() + START_TIMEOUT_S
    try:
        while True:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
                break
            if proc.poll() is not None or time.monotonic() > deadline:
                out = proc.stdout.read().decode(errors="replace") if proc.stdout else ""
                pytest.fail(f"the dashboard did not start: {out[-2000:]}")
            time.sleep(0.5)
        yield url
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def browser():
    with playwright.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    """A fresh page (its own dashboard session) that records console errors and uncaught exceptions."""
    pg = browser.new_page(viewport={"width": 1400, "height": 1000})
    pg.errors = []
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    pg.close()


def _tab(pg, name: str) -> None:
    pg.get_by_role("tab", name=name).click()


def _value(pg, market: str, metric: str) -> str:
    return pg.locator(f'table.latest-values td[data-row="{market}"][data-col="{metric}"]').inner_text()


def _step_to(pg, day: int) -> None:
    for _ in range(day - int(pg.locator(".live-day").inner_text())):
        before = pg.locator(".live-day").inner_text()
        pg.get_by_role("button", name="Step", exact=True).click()
        pg.wait_for_function(f"document.querySelector('.live-day') && document.querySelector('.live-day')"
                             f".innerText != '{before}'", timeout=WAIT_MS)
    # the values table is a widget of its own: wait until the one for this day has arrived
    pg.locator(f"table.latest-values.day-{day}").wait_for(timeout=WAIT_MS)


def _reset(pg) -> None:
    pg.get_by_role("button", name="Reset", exact=True).click()
    pg.wait_for_function("document.querySelector('.live-day').innerText == '0'", timeout=WAIT_MS)


def test_every_view_loads_without_console_errors(server, page, shots: Path) -> None:
    """The results explorer, the live run and the cases view render, with no console error on the way."""
    page.goto(server)
    page.get_by_text("variants harsh").wait_for(timeout=WAIT_MS)
    page.locator("img").first.wait_for(timeout=WAIT_MS)  # the daily band plots
    page.screenshot(path=str(shots / "results.png"), full_page=True)
    _tab(page, "Live run")
    page.locator(".live-status").wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(shots / "live.png"), full_page=True)
    _tab(page, "Cases")
    page.get_by_text("creators match").wait_for(timeout=WAIT_MS)
    page.screenshot(path=str(shots / "cases.png"), full_page=True)
    _tab(page, "Alerts")
    page.locator("table.controller-actions").wait_for(timeout=WAIT_MS)
    page.locator("img").first.wait_for(timeout=WAIT_MS)  # the signal's timeline
    page.screenshot(path=str(shots / "alerts.png"), full_page=True)
    assert page.errors == []


def test_alerts_view_lists_every_controller_action_of_the_run(server, run_dir: Path, page) -> None:
    """The alerts view shows the run's controller actions, each one, in the event log's order."""
    import pandas as pd

    events = pd.read_parquet(run_dir / "events.parquet")
    actions = events[events["kind"].astype(str) == "controller"]
    assert len(actions) > 0
    page.goto(server)
    _tab(page, "Alerts")
    table = page.locator("table.controller-actions")
    table.wait_for(timeout=WAIT_MS)
    shown = [page.locator(f'table.controller-actions td[data-row="{i}"][data-col="day"]').inner_text()
             for i in range(len(actions))]
    assert shown == [str(int(d)) for d in actions["day"]]
    assert page.locator('table.controller-actions td[data-col="day"]').count() == len(actions)
    assert page.errors == []


def test_threshold_slider_and_steps_change_the_plotted_values(server, page, shots: Path) -> None:
    """Stepping moves the day and the values; the same seed gives the same values after Reset; a higher
    detection threshold in market aa gives other values (fewer flags) over the same days."""
    page.goto(server)
    _tab(page, "Live run")
    page.locator(".live-status").wait_for(timeout=WAIT_MS)
    _step_to(page, 4)
    flags = _value(page, "aa", "flags")
    gmv = _value(page, "aa", "gmv")
    plot = page.locator("img").first.get_attribute("src")
    _reset(page)
    _step_to(page, 4)
    assert (_value(page, "aa", "flags"), _value(page, "aa", "gmv")) == (flags, gmv)  # same seed, same days
    track = page.locator(".v-input", has_text="Detection threshold aa").locator(".v-slider")
    box = track.bounding_box()
    track.click(position={"x": box["width"] - 1, "y": box["height"] / 2})  # near the maximum, 5: few flags
    page.get_by_text(re.compile(r"Detection threshold aa: (4\.[5-9]|5)$")).wait_for(timeout=WAIT_MS)
    _reset(page)
    _step_to(page, 4)
    assert _value(page, "aa", "flags") != flags
    assert float(_value(page, "aa", "flags").replace(",", "")) < float(flags.replace(",", ""))
    # the plot is another widget: it must change (not only the table) within the wait
    page.wait_for_function("p => document.querySelector('img').getAttribute('src') != p", arg=plot,
                           timeout=WAIT_MS)
    page.screenshot(path=str(shots / "live_after_threshold.png"), full_page=True)
    assert page.errors == []


def test_case_view_of_a_wrongly_banned_creator_shows_its_decisions_in_order(server, run_dir: Path, page,
                                                                           shots: Path) -> None:
    """The cases view lists wrongly banned creators; one honest creator's case file is the text
    `livesim case` prints, its decisions in the sanctions table's order, the ban before the appeal."""
    import pandas as pd

    sanctions = pd.read_parquet(run_dir / "sanctions.parquet")
    wrong = sanctions[sanctions["ban"] & ~sanctions["real"] & (sanctions["creator_type"] == "honest")]
    cid = int(wrong.loc[wrong["overturned"], "creator_id"].iloc[0])
    before = _listing(run_dir)
    page.goto(server)
    _tab(page, "Cases")
    page.get_by_text("creators match").wait_for(timeout=WAIT_MS)
    listed = page.locator("table.creators").inner_text()
    assert str(cid) in listed
    box = page.get_by_label("Creator id")
    box.fill(str(cid))
    box.press("Enter")
    page.locator("pre.case-file").wait_for(timeout=WAIT_MS)
    shown = page.locator("pre.case-file").inner_text()
    assert shown.strip() == format_case(load_events(run_dir), cid).strip()
    lines = shown.splitlines()
    decision_days = [int(ln.split()[1]) for ln in lines if "DECISION" in ln]
    mine = sanctions[sanctions["creator_id"] == cid].sort_values(["day", "decision_hour"])
    assert decision_days == mine["day"].tolist()
    ban = next(i for i, ln in enumerate(lines) if "sanction ban" in ln)
    assert ban < next(i for i, ln in enumerate(lines) if "APPEAL" in ln and "overturned" in ln)
    page.screenshot(path=str(shots / "case.png"), full_page=True)
    assert page.errors == []
    assert _listing(run_dir) == before  # the results folder was only read
