"""The comparison report: tables, targets, escaping, files, and the HTML in a real browser."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
from pathlib import Path

import pandas as pd
import pytest

from analysis.report import build_report, load_targets, target_table
from sim.cli import main
from sim.config import Target
from sim.errors import ScenarioError

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(sweep_results, tmp_path_factory):
    """The report of the stored sweep fixture, with two targets."""
    out = tmp_path_factory.mktemp("report") / "report.html"
    targets = [Target(metric="prevalence", max=0.05), Target(metric="wrongful_bans", max=10.0, per_10k_creators=True)]
    return build_report(sweep_results, out, targets=targets)


def test_report_writes_html_pngs_and_markdown(report):
    """One self-contained HTML file (images embedded), PNGs beside it, and a Markdown summary."""
    page = report.html.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "data:image/png;base64," in page
    assert "<img" in page and "src='http" not in page and 'src="http' not in page
    assert len(report.pngs) >= 8 and all(p.is_file() and p.parent == report.html.parent for p in report.pngs)
    md = report.markdown.read_text()
    assert md.splitlines()[1].startswith("# livesim report") and "## Executive summary" in md
    assert "## Platform (all markets)" in md and "## Honest creators" in md


def test_report_has_a_column_per_policy(report, sweep_results):
    """Every variant at every lever point (4 grid points and the base's own values) is a column of the
    scorecard, five policies and the reference to a table, with its mean over 3 replications."""
    page = report.html.read_text()
    policies = report.design.policies
    assert len(policies) == 2 * 5 and report.design.reference == "baseline@4"
    for label in (report.design.labels[p] for p in policies):
        assert f">{html.escape(label)}<" in page
    means = report.means
    assert set(means["policy"]) == set(policies)
    defined = means[means["mean"].notna() & (means["metric"] != "incentive_roi")]
    assert (defined["n"] == 3).all()


def test_differences_are_paired_and_holm_corrected(report):
    """Each policy is compared with the reference on the same 3 worlds; Holm never lowers a p-value."""
    d = report.differences
    assert set(d["policy"]) == set(report.design.others) and len(report.design.others) == 9
    tested = d[d["tested"]]
    assert len(tested) and (tested["n"] == 3).all()
    assert "incentive_roi" not in set(tested["metric"])  # undefined in every run
    assert (tested["p_adjusted"] >= tested["p_value"] - 1e-12).all() and (d["correction"] == "holm").all()


def test_targets_report_attainment_and_share_of_replications(report):
    """Targets give, per variant, the mean, whether it meets the target and the share of replications that do."""
    t = report.targets
    assert set(t["target"]) == {"prevalence <= 0.05", "wrongful_bans per 10k creators <= 10"}
    assert t["share_met"].between(0, 1).all()
    page = report.html.read_text()
    assert 'id="targets"' in page


def test_target_table_counts_replications_exactly():
    """share_met is the share of replications meeting the target; met judges the mean."""
    summary = pd.DataFrame({"label": ["a"] * 4, "market": ["all"] * 4, "prevalence": [0.001, 0.002, 0.009, 0.003]})
    t = target_table(summary, [Target(metric="prevalence", max=0.005)], n_creators=100)
    assert t.loc[0, "share_met"] == 0.75
    assert t.loc[0, "mean"] == pytest.approx(0.00375) and t.loc[0, "met"]
    scaled = target_table(summary.assign(wrongful_bans=[1, 0, 0, 3]),
                          [Target(metric="wrongful_bans", max=150.0, per_10k_creators=True)], n_creators=100)
    assert scaled.loc[0, "mean"] == pytest.approx(100.0) and scaled.loc[0, "share_met"] == 0.75


def test_names_from_files_are_escaped(sweep_results, tmp_path):
    """A variant called <script> renders as text, never as markup."""
    copy = tmp_path / "results"
    shutil.copytree(sweep_results, copy)
    for shard in (copy / "summary").glob("*.parquet"):
        frame = pd.read_parquet(shard)
        frame["variant"] = frame["variant"].replace({"strict": "<script>alert(1)</script>"})
        frame.to_parquet(shard, index=False)
    manifest = json.loads((copy / "manifest.json").read_text())
    manifest["config"]["description"] = "<b>bold</b> & <img src=x onerror=alert(2)>"
    (copy / "manifest.json").write_text(json.dumps(manifest))
    page = build_report(copy, tmp_path / "r.html").html.read_text()
    assert "<script>" not in page and "<img src=x" not in page
    assert html.escape("<script>alert(1)</script>") in page


def test_missing_baseline_is_a_clear_error(sweep_results, tmp_path, capsys):
    """Naming a baseline the sweep does not have exits with status 2 and lists the variants."""
    assert main(["report", str(sweep_results), "--baseline", "nope", "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert "nope" in err and "strict" in err


def test_targets_file_is_validated(tmp_path):
    """A targets file with an unknown metric names the file, the field and the closest metric."""
    path = tmp_path / "t.toml"
    path.write_text('[[targets]]\nmetric = "prevalance"\nmax = 0.01\n')
    with pytest.raises(ScenarioError) as err:
        load_targets(path)
    assert str(path) in err.value.message and "targets[0].metric" in err.value.message
    assert "prevalence" in err.value.message


def test_compare_runs_a_sweep_and_its_report(tmp_path):
    """livesim compare runs the scenario against presets and writes the report."""
    scen = tmp_path / "s.toml"
    scen.write_text('name = "s"\ndays = 6\nseed = 3\n[world]\nn_buyers = 1500\nn_creators = 60\n'
                    '[[targets]]\nmetric = "prevalence"\nmax = 0.05\n')
    out = tmp_path / "cmp"
    assert main(["compare", str(scen), "--variants", "strict,lenient", "--replications", "2", "--workers", "1",
                 "--out", str(out), "--quiet"]) == 0
    page = (out / "report.html").read_text()
    for v in ("baseline", "strict", "lenient"):
        assert f'<th class="name" title="{v}">{v}' in page  # a scorecard column per variant
    assert "prevalence &lt;= 0.05" in page


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); .ci/run installs it")
def test_report_opens_in_headless_chromium_without_console_errors(report, tmp_path):
    """The HTML loads in headless Chromium with no console errors, and the screenshot shows the scorecard."""
    shot = tmp_path / "shot.png"
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0"]
    url = report.html.resolve().as_uri()
    proc = subprocess.run([CHROMIUM, *flags, f"--screenshot={shot}", "--window-size=1400,900", url],
                          capture_output=True, text=True, timeout=120)
    assert shot.is_file() and shot.stat().st_size > 20_000, proc.stderr[-2000:]
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
    assert "id=\"scorecard\"" in dom and "Executive summary" in dom
    # The executive summary, then the scorecard, come before any figure.
    assert dom.index("id=\"executive-summary\"") < dom.index("id=\"scorecard\"") < dom.index("<figure")
    Path(tmp_path / "keep.txt").write_text(str(shot))


def test_markdown_cells_escape_pipes(report):
    """Policy labels and cells contain characters Markdown gives a meaning: rows keep one cell per column."""
    md = report.markdown.read_text().splitlines()
    header = next(line for line in md if line.startswith("| metric |"))
    row = next(line for line in md if line.startswith("| prevalence"))
    assert row.replace("\\|", "").count("|") == header.count("|")


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("victim", ["r.html", "r.md", "r_scorecard.png"])
def test_report_never_replaces_a_users_file(sweep_results, tmp_path, capsys, victim):
    """A file at a report path that livesim did not write is refused (exit 2, one line), and nothing changes."""
    (tmp_path / victim).write_bytes(b"my own notes\n")
    before = _snapshot(tmp_path)
    assert main(["report", str(sweep_results), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and victim in err[0] and "not written by livesim" in err[0]
    assert _snapshot(tmp_path) == before


def test_report_replaces_its_own_earlier_report(report, sweep_results, tmp_path):
    """Rebuilding over an earlier livesim report replaces its files; a user's other files stay."""
    for p in (report.html, report.markdown, *report.pngs):
        shutil.copy(p, tmp_path / p.name)
    (tmp_path / "notes.txt").write_text("mine")
    again = build_report(sweep_results, tmp_path / report.html.name)
    assert again.html.read_text().startswith("<!DOCTYPE html>")
    assert (tmp_path / "notes.txt").read_text() == "mine"


@pytest.mark.parametrize("out", ["folder", "file/r.html", "r.txt"])
def test_report_bad_out_is_one_line(sweep_results, tmp_path, capsys, out):
    """--out naming a folder, a path under a file, or a non-HTML name exits 2 with one line."""
    (tmp_path / "folder").mkdir()
    (tmp_path / "file").write_text("x")
    before = _snapshot(tmp_path)
    assert main(["report", str(sweep_results), "--out", str(tmp_path / out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--out" in err[0] and "Traceback" not in err[0]
    assert _snapshot(tmp_path) == before
