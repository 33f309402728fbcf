"""The report with hostile names, and what it says about incomplete or mixed-version sweeps."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shutil
from pathlib import Path

import matplotlib
import pandas as pd
import pytest
from matplotlib import cbook
from matplotlib.text import Text

from analysis import plots
from analysis.report import build_report, coverage
from analysis.text import BIDI_CONTROLS
from sim.cli import main
from sim.config import Target

HOSTILE = "$\\alpha$ $x^{2$ \u202eevil\u202c | <script>alert(1)</script> *b* [l](http://x) `c` &#x202E;"


@pytest.fixture
def results(sweep_results, tmp_path) -> Path:
    """A private copy of the stored sweep to edit."""
    copy = tmp_path / "results"
    shutil.copytree(sweep_results, copy)
    return copy


def _edit_manifest(results: Path, change) -> dict:
    path = results / "manifest.json"
    doc = json.loads(path.read_text())
    change(doc)
    path.write_text(json.dumps(doc))
    return doc


def _drop_run(results: Path, run_id: str) -> None:
    for kind in ("summary", "daily", "sanctions", "creators"):
        (results / kind / f"{run_id}.parquet").unlink(missing_ok=True)


# ----------------------------------------------------------------------------- hostile names


@pytest.fixture(scope="module")
def hostile_report(sweep_results, tmp_path_factory):
    """The report of the sweep with a variant, a grid value, a target label, the sweep's name and
    its description all hostile."""
    results = tmp_path_factory.mktemp("hostile") / "results"
    shutil.copytree(sweep_results, results)
    for kind in ("summary", "daily", "creators"):
        for shard in (results / kind).glob("*.parquet"):
            frame = pd.read_parquet(shard)
            frame["variant"] = frame["variant"].replace({"strict": "strict " + HOSTILE})
            if "policy.review.capacity_per_day" in frame:
                frame["policy.review.capacity_per_day"] = frame["policy.review.capacity_per_day"].map(
                    lambda v: f"{v}$x^{{2$\u202e|<b>")
            frame.to_parquet(shard, index=False)

    def change(doc: dict) -> None:
        doc["config"]["name"] = "sweep " + HOSTILE
        doc["config"]["description"] = HOSTILE

    _edit_manifest(results, change)
    targets = [Target(metric="prevalence", max=0.05, label="prev " + HOSTILE)]
    return build_report(results, tmp_path_factory.mktemp("hostile_report") / "r.html", targets=targets)


def test_hostile_names_build_every_figure(hostile_report):
    """Mathtext, an unbalanced '$x^{2$', bidi overrides and markup in names never cost a figure."""
    assert not [w for w in hostile_report.warnings if "left out" in w], hostile_report.warnings
    assert len(hostile_report.pngs) >= 8


def test_hostile_names_leave_no_controls_or_markup(hostile_report):
    """HTML and Markdown hold no bidi control character, no live <script>, and Markdown escapes
    every '|', '$', '*', '[', '<' and backtick that came from a name."""
    page = hostile_report.html.read_text(encoding="utf-8")
    md = hostile_report.markdown.read_text(encoding="utf-8")
    for text in (page, md):
        assert not any(c in text for c in BIDI_CONTROLS)
        assert "<script>" not in text and "<i>" not in text
    assert "&amp;#x202E;" in page  # an entity in a name stays text
    named = [line for line in md.splitlines() if "alert(1)" in line]
    assert len(named) >= 10  # title, targets and the strict rows
    for line in named:  # every '$', '*', '<', '[', backtick and '&' from a name is escaped
        assert not re.search(r"(?<!\\)[$*<\[`&]", line), line
    lines = md.splitlines()
    card = lines[lines.index("## Platform (all markets)"):]
    card = card[: next(i for i, line in enumerate(card) if line.startswith("## ") and i > 0)]
    header = next(line for line in card if line.startswith("| metric |"))
    assert header.count("alert(1)") >= 1  # strict policies are columns of the first table
    checked = 0
    for line in card:  # one cell per column of its own table: names' pipes are escaped
        if line.startswith("| metric |"):
            header = line
        elif line.startswith(("| prevalence", "| buyer\\_harm", "| gmv")):
            assert len(re.findall(r"(?<!\\)\|", line)) == len(re.findall(r"(?<!\\)\|", header))
            checked += 1
    assert checked >= 3


def test_plots_render_hostile_text_as_plain_text():
    """A '$...$' label renders as itself (no mathtext), '$x^{2$' does not fail, bidi controls are gone."""
    labels = ["$\\alpha$", "cost $x^{2$", "ab\u202ecd", "a|b", "<script>"]
    diffs = pd.DataFrame({"policy": labels, "gmv_diff": [1.0, -2, 3, 4, 5], "gmv_ci_low": [0.0] * 5,
                          "gmv_ci_high": [6.0] * 5, "prevalence_diff": [0.01, 0.02, -0.01, 0.0, 0.03],
                          "prevalence_ci_low": [-0.02] * 5, "prevalence_ci_high": [0.04] * 5})
    points = pd.DataFrame({"variant": labels, "gmv": [1, 2, 3, 4, 5], "prevalence": [0.1, 0.2, 0.3, 0.4, 0.5]})
    grid = pd.DataFrame({"variant": "v", "market": "all", "a": ["$a$", "$b$", "$a$", "$b$"],
                         "b": ["c\u202e", "c\u202e", "$x^{2$", "$x^{2$"], "prevalence": [0.1, 0.2, 0.3, 0.4]})
    figures = [plots.paired_tradeoff(diffs, "prevalence", "gmv", title="$x^{2$"), plots.tradeoff(points, "prevalence", "gmv"),
               plots.grid_heatmap(grid, "prevalence", "a", "b", title="$\\gamma$")]
    for fig in figures:
        fig.canvas.draw()  # lays out every text, tick labels included, as saving does
        texts = list(fig.findobj(Text))
        for ax in fig.axes:
            texts += [c.get_text() for t in ax.tables for c in t.get_celld().values()]
            texts += ax.get_xticklabels() + ax.get_yticklabels()
        for t in texts:
            s = t.get_text()
            assert not any(c in s for c in BIDI_CONTROLS), s
            assert not (t.get_parse_math() and cbook.is_math_text(s)), s
        matplotlib.pyplot.close(fig)


# ----------------------------------------------------------------------------- runs and provenance


@pytest.fixture(scope="module")
def plain_report(sweep_results, tmp_path_factory):
    """The report of the stored sweep as written."""
    return build_report(sweep_results, tmp_path_factory.mktemp("plain") / "r.html")


def test_complete_sweep_says_n_of_m_runs(plain_report):
    """A finished sweep reports '30 of 30 runs', the code its results come from, and no
    incomplete-sweep or mixed-versions warning."""
    for text in (plain_report.html.read_text(), plain_report.markdown.read_text()):
        assert "30 of 30 runs" in text
        assert "results from" in text and plain_report.coverage.provenance in text
    assert plain_report.coverage.provenance.startswith("livesim ")
    assert not [w for w in plain_report.warnings if w.startswith(("incomplete sweep", "mixed versions"))]


def test_older_manifest_without_code_blocks_is_reported(sweep_results):
    """A manifest from before format tags and per-run code identities: counted all the same, no
    mixed-versions guess, and the provenance says the commit was not recorded."""
    doc = json.loads((sweep_results / "manifest.json").read_text())
    for key in ("format", "provenance", "resumes"):
        doc.pop(key, None)
    for entry in doc["runs"].values():
        entry.pop("code", None)
    doc["versions"] = {"livesim": "0.0.9", "python": "3.12"}
    cover = coverage(doc, list(doc["runs"]))
    assert cover.runs_text == "30 of 30 runs" and cover.warnings() == []
    assert cover.provenance == "livesim 0.0.9 (commit not recorded)"


def _with_code(doc: dict, commits: list[str], dirty: list[bool]) -> None:
    """The keys a current manifest carries: format, provenance, resumes, and a code block per run
    (the first 12 runs by the first commit, the rest by the last)."""
    doc["format"] = "livesim-sweep/1"
    doc["provenance"] = {"livesim": "9.9.9", "commit": commits[0], "dirty": dirty[0], "diff": None,
                         "versions": {"python": "3.12"}}
    doc["resumes"] = [{"at": "2026-01-01T00:00:00"}] if len(set(commits)) > 1 else []
    for i, r in enumerate(sorted(doc["runs"])):
        j = 0 if i < 12 else len(commits) - 1
        doc["runs"][r]["code"] = {"livesim": "9.9.9", "commit": commits[j], "dirty": dirty[j],
                                  "diff": "d1ff" if dirty[j] else None}


@pytest.fixture(scope="module")
def incomplete_mixed(sweep_results, tmp_path_factory):
    """``livesim report`` on the sweep with 3 runs pending, 1 failed, and the finished runs from
    two commits (one of them dirty): (stderr, html, markdown)."""
    results = tmp_path_factory.mktemp("incomplete") / "results"
    shutil.copytree(sweep_results, results)
    ids = sorted(json.loads((results / "manifest.json").read_text())["runs"])

    def change(doc: dict) -> None:
        _with_code(doc, ["a" * 40, "b" * 40], [False, True])
        for r in ids[:3]:
            doc["runs"][r]["status"] = "pending"
        doc["runs"][ids[3]]["status"] = "failed"
        doc["runs"][ids[3]]["error"] = "RuntimeError: boom"

    _edit_manifest(results, change)
    for r in ids[:4]:
        _drop_run(results, r)
    out = results / "report.html"
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        assert main(["report", str(results), "--out", str(out)]) == 0
    return err.getvalue(), out.read_text(), out.with_suffix(".md").read_text()


def test_incomplete_sweep_is_counted_and_warned(incomplete_mixed):
    """3 pending and 1 failed of 30: the header, report.md and stderr say '26 of 30 runs (3 pending, 1 failed)'."""
    err, page, md = incomplete_mixed
    assert "warning: incomplete sweep: 26 of 30 runs (3 pending, 1 failed)" in err
    for text in (page, md):
        assert "26 of 30 runs (3 pending, 1 failed)" in text and "incomplete sweep" in text


def test_mixed_versions_are_warned(incomplete_mixed):
    """Finished runs from two commits: a 'mixed versions' warning naming both, on stderr and in the report."""
    err, page, md = incomplete_mixed
    assert "warning: mixed versions:" in err and "aaaaaaaaaa" in err and "bbbbbbbbbb" in err
    for text in (page, md):
        assert "mixed versions" in text and "8 runs by livesim 9.9.9, commit aaaaaaaaaa, clean" in text
        assert "18 runs by livesim 9.9.9, commit bbbbbbbbbb, dirty" in text
        assert "resumed 1 time" in text


def test_single_version_shows_its_provenance(sweep_results):
    """Runs from one code identity: no warning, and the provenance names version, commit and clean state."""
    doc = json.loads((sweep_results / "manifest.json").read_text())
    _with_code(doc, ["c" * 40], [False])
    cover = coverage(doc, list(doc["runs"]))
    assert cover.provenance == "livesim 9.9.9, commit cccccccccc, clean"
    assert cover.runs_text == "30 of 30 runs" and cover.warnings() == []
    doc["runs"][sorted(doc["runs"])[0]]["code"]["dirty"] = True  # one run from an edited tree
    assert [w for w in coverage(doc, list(doc["runs"])).warnings() if w.startswith("mixed versions")]


def test_shards_decide_what_finished_when_the_manifest_lags(sweep_results):
    """A run with shards that the manifest still calls pending counts as finished (shards are written first)."""
    doc = json.loads((sweep_results / "manifest.json").read_text())
    first = sorted(doc["runs"])[0]
    doc["runs"][first]["status"] = "pending"
    assert coverage(doc, list(doc["runs"])).runs_text == "30 of 30 runs"
    assert coverage(doc, sorted(doc["runs"])[1:]).runs_text == "29 of 30 runs (1 pending)"
