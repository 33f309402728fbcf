"""The decision report on every kind of result: a lever grid, a sample of worlds, a run folder.

Each test is a claim a policy analyst relies on: what was compared with what and on how many
pairs, per market; changes as absolute and relative, shares in percentage points; a scorecard
that fits the screen; a family of tests without constant metrics; guardrails; no "good" colour for
a mechanism that never acted; honest creators counted from the sanctions table; an executive
summary in words; next targets from the simulated distribution.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.load import load
from analysis.report import build_report
from analysis.stats import target_levels
from sim.cli import main
from sim.config import Target

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

TINY = """
[scenario]
name = "tiny"
days = {days}
seed = 5
warmup_days = 4
[scenario.world]
n_buyers = 2500
n_creators = 150
"""


def _run_sweep(folder: Path, body: str, days: int = 24) -> Path:
    from sim.experiment import execute
    from sim.sweep import load_sweep

    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sweep.toml"
    path.write_text(body + TINY.format(days=days), encoding="utf-8")
    out = folder / "results"
    execute(load_sweep(path), out, workers=2)
    return out


@pytest.fixture(scope="module")
def grid(tmp_path_factory) -> Path:
    """A 2 x 2 lever grid without the base's own values (threshold 2.5, capacity 75): the sweep adds them."""
    return _run_sweep(tmp_path_factory.mktemp("grid"), 'name = "grid"\nreplications = 3\n[levers.grid]\n'
                      '"policy.detection.threshold" = [2.0, 3.0]\n"policy.review.capacity_per_day" = [20, 200]\n')


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    """Three ladders on 6 sampled worlds, one replication each (the case that used to say "None")."""
    body = ('name = "ladders_lhs"\nreplications = 1\n[variants.baseline]\n'
            '[variants.tiers]\npolicy_preset = "shopee_tiers"\n[variants.health]\npolicy_preset = "tiktok_health_score"\n'
            '[uncertainties.sample]\nmethod = "lhs"\nn = 6\nseed = 3\n'
            'ranges = { "world.adaptation.learning_rate" = [0.1, 0.5] }\n')
    return _run_sweep(tmp_path_factory.mktemp("sample"), body)


@pytest.fixture(scope="module")
def grid_report(grid, tmp_path_factory):
    targets = [Target(metric="prevalence", max=0.05), Target(metric="enforcement_recall", min=0.5)]
    return build_report(grid, tmp_path_factory.mktemp("grid_report") / "report.html", targets=targets)


@pytest.fixture(scope="module")
def sample_report(sample, tmp_path_factory):
    return build_report(sample, tmp_path_factory.mktemp("sample_report") / "report.html")


# ---------------------------------------------------------------------------------------
# 1. Every sweep kind is compared, against a named reference, paired by world
# ---------------------------------------------------------------------------------------


def test_grid_points_are_compared_with_the_base_scenarios_own_setting(grid_report):
    """The reference is the base's own lever values (run as an added point); the four grid points are
    compared with it on the same 3 replications."""
    d = grid_report.design
    assert d.reference == "baseline@4" and d.labels[d.reference].endswith("(current)")
    assert "threshold=2.5" in d.labels[d.reference] and "capacity_per_day=150" in d.labels[d.reference]  # the defaults
    diffs = grid_report.differences
    assert set(diffs["policy"]) == {"baseline@0", "baseline@1", "baseline@2", "baseline@3"}
    assert (diffs.loc[diffs["tested"], "n"] == 3).all()
    page = grid_report.html.read_text()
    assert "Each of 4 policies is compared with the reference" in page and "3 worlds (replications)" in page


def test_sample_sweeps_compare_policies_world_by_world(sample_report, sample):
    """With one replication per sampled world, each policy is compared on the 6 worlds, and the
    paired differences are exactly the per-world differences."""
    diffs = sample_report.differences
    assert set(diffs["policy"]) == {"tiers", "health"}
    tested = diffs[diffs["tested"]]
    assert len(tested) > 0 and (tested["n"] == 6).all()
    s = load(sample).summary
    s = s[s["market"] == "all"]
    key = ["point", "replication"]
    ref = s[s["variant"] == "baseline"].set_index(key)["prevalence"]
    tiers = s[s["variant"] == "tiers"].set_index(key)["prevalence"]
    d = (tiers - ref.reindex(tiers.index)).to_numpy()
    row = diffs[(diffs["policy"] == "tiers") & (diffs["metric"] == "prevalence")].iloc[0]
    assert row["diff"] == pytest.approx(d.mean(), rel=1e-12)
    assert (row["up"], row["down"], row["same"]) == (int((d > 0).sum()), int((d < 0).sum()), int((d == 0).sum()))
    md = sample_report.markdown.read_text()
    assert "None at the 95" not in md and "6 worlds (6 sampled or gridded worlds x 1 replications)" in md


def test_a_report_never_claims_no_effect_without_a_test(tmp_path):
    """One policy on its own: the report says nothing was compared instead of "none significant"."""
    out = _run_sweep(tmp_path, 'name = "one"\nreplications = 2\n', days=8)
    rep = build_report(out, tmp_path / "r.html")
    md = rep.markdown.read_text()
    assert "No comparison was made" in md and "significant at the 95" not in md
    assert "nothing is compared" in rep.html.read_text()


def test_baseline_names_a_variant_or_a_lever_point(grid, tmp_path, capsys):
    """--baseline @K compares every other policy with lever point K; an unknown name exits 2 naming policies."""
    rep = build_report(grid, tmp_path / "a.html", baseline="@0")
    assert rep.design.reference == "baseline@0" and "baseline@4" in set(rep.differences["policy"])
    assert main(["report", str(grid), "--baseline", "nope", "--out", str(tmp_path / "b.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "nope" in err[0] and "baseline@0" in err[0]


# ---------------------------------------------------------------------------------------
# 2, 3, 4. Per market; absolute and relative changes; the levers each policy changes
# ---------------------------------------------------------------------------------------


def test_every_market_gets_a_section_and_market_selects_one(grid, grid_report, tmp_path, capsys):
    """Multi-market results report the platform and each market; --market picks sections; a wrong
    name exits 2 in one line."""
    assert set(grid_report.markets) == {"all", "sg", "id"}
    page = grid_report.html.read_text()
    assert "id=\"market-sg\"" in page and "id=\"market-id\"" in page
    only = build_report(grid, tmp_path / "id.html", markets=["id"])
    assert set(only.markets) == {"id"}
    sub = load(grid).summary
    sub = sub[sub["market"] == "id"]
    ref = sub[sub["point"] == 4].set_index("replication")["gmv"]
    pol = sub[sub["point"] == 0].set_index("replication")["gmv"]
    row = only.markets["id"].query("policy == 'baseline@0' and metric == 'gmv'").iloc[0]
    assert row["diff"] == pytest.approx((pol - ref).mean(), rel=1e-12)
    assert main(["report", str(grid), "--market", "xx", "--out", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "xx" in err[0] and "--market" in err[0]


def test_changes_are_absolute_and_relative_with_shares_in_percentage_points(grid_report):
    diffs = grid_report.differences
    row = diffs[(diffs["metric"] == "prevalence") & (diffs["n"] > 0)].iloc[0]
    assert row["rel_diff"] == pytest.approx(row["diff"] / abs(row["reference_mean"]))
    page = grid_report.html.read_text()
    assert re.search(r"[+-]?\d+(\.\d+)? pp \[", page), "share changes are written in percentage points"
    assert re.search(r"[+-]\d+(\.\d)?% \[", page), "relative changes with their interval"


def test_policy_table_lists_resolved_levers_that_differ(sample_report, grid_report):
    """A preset variant lists the dotted paths its preset changes; a grid point lists its lever values."""
    page = sample_report.html.read_text()
    table = page[page.index('id="variants"'):]
    table = table[: table.index("</table>")]
    assert "policy_preset" in table and "shopee_tiers" in table and "policy.enforcement.kind" in table
    assert "policy.enforcement.milestones.0.at" in table  # unnamed tables flattened by position
    grid_page = grid_report.html.read_text()
    gtable = grid_page[grid_page.index('id="variants"'):]
    gtable = gtable[: gtable.index("</table>")]
    assert "policy.detection.threshold" in gtable and "policy.review.capacity_per_day" in gtable


# ---------------------------------------------------------------------------------------
# 5, 6, 7. Scorecard layout; multiple comparisons; guardrails; n/a for absent mechanisms
# ---------------------------------------------------------------------------------------


class _Cells(HTMLParser):
    """Rows of the first table with a given id: the text of each cell and its class."""

    def __init__(self, table_id: str) -> None:
        super().__init__()
        self.table_id, self.depth, self.rows, self.cell = table_id, 0, [], None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table" and (self.depth or a.get("id") == self.table_id):
            self.depth += 1
        elif self.depth and tag == "tr":
            self.rows.append([])
        elif self.depth and tag in ("td", "th"):
            self.cell = [a.get("class") or "", ""]

    def handle_endtag(self, tag):
        if tag == "table" and self.depth:
            self.depth -= 1
        elif self.depth and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(tuple(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell[1] += data


def _table(page: str, table_id: str) -> list[list[tuple[str, str]]]:
    p = _Cells(table_id)
    p.feed(page)
    return p.rows


def test_scorecard_has_metrics_as_rows_grouped_by_theme_and_no_image(grid_report):
    rows = _table(grid_report.html.read_text(), "scorecard")
    header = [text for _, text in rows[0]]
    assert header[0] == "metric" and any("(current)" in h for h in header[1:])
    themes = [r[0][1] for r in rows if r and r[0][0] == "theme"]
    assert themes[:6] == ["Buyers", "Honest creators", "Adversaries", "Enforcement", "Operations", "Money"]
    names = [r[0][1].split()[0] for r in rows[1:] if r and r[0][0] == "name"]
    assert "honest_creator_income" in names and "adversary_profit" in names and "buyer_harm" in names
    assert not any("scorecard" in p.name for p in grid_report.pngs)


def test_constant_metrics_leave_the_family_and_bh_is_available(grid, grid_report, tmp_path):
    diffs = grid_report.differences
    s = load(grid).summary
    s = s[s["market"] == "all"]
    for metric, rows in diffs.groupby("metric"):
        values = pd.to_numeric(s[metric], errors="coerce").dropna() if metric in s else pd.Series(dtype=float)
        if len(values) and (values == values.iloc[0]).all():
            assert not rows["tested"].any(), metric
    tested = diffs[diffs["tested"]]
    assert tested["p_adjusted"].notna().all() and diffs.loc[~diffs["tested"], "p_adjusted"].isna().all()
    bh = build_report(grid, tmp_path / "bh.html", correction="bh").differences
    merged = tested.merge(bh[bh["tested"]], on=["policy", "metric"], suffixes=("_holm", "_bh"))
    assert len(merged) == len(tested)
    assert (merged["p_adjusted_bh"] <= merged["p_adjusted_holm"] + 1e-12).all()
    assert "Benjamini-Hochberg" in (tmp_path / "bh.html").read_text()


def test_guardrails_are_non_inferiority_tests(grid, tmp_path, capsys):
    """--guardrail METRIC=2% gives pass or fail per policy with its bound; pass exactly when the bound is
    below the margin."""
    assert main(["report", str(grid), "--guardrail", "honest_creator_income=2%", "--guardrail",
                 "moderation_cost=1000000", "--out", str(tmp_path / "g.html")]) == 0
    rows = _table((tmp_path / "g.html").read_text(), "guardrails")[1:]
    assert len(rows) == 2 * 4  # two guardrails x four policies
    costs = [r for r in rows if "moderation_cost" in r[1][1]]
    assert all(r[5] == ("pass", "pass") for r in costs), "a margin far above any cost passes"
    assert main(["report", str(grid), "--guardrail", "buyer_trust", "--out", str(tmp_path / "h.html")]) == 2
    assert "--guardrail" in capsys.readouterr().err


def test_a_mechanism_that_never_acts_reads_na_not_good(sample_report):
    """Tiers never ban: its wrongful bans and ban evasions read n/a, are not coloured, and are not tested."""
    rows = _table(sample_report.html.read_text(), "scorecard")
    header = [text for _, text in rows[0]]
    col = next(i for i, h in enumerate(header) if h.startswith("tiers"))
    for metric in ("wrongful_bans", "ban_evasions"):
        row = next(r for r in rows if r and r[0][1].split()[0] == metric)
        cls, text = row[col]
        assert "n/a" in text and "no bans" in text and cls in ("", None)
    diffs = sample_report.differences
    assert not diffs[(diffs["policy"] == "tiers") & diffs["metric"].isin(["wrongful_bans", "ban_evasions"])][
        "significant"].any()


# ---------------------------------------------------------------------------------------
# 8-12. Trade-offs, funnel, flat plots, honest creators, executive summary
# ---------------------------------------------------------------------------------------


def test_tradeoffs_are_paired_and_flat_series_are_skipped(sample_report, sample):
    names = {p.name for p in sample_report.pngs}
    assert "report_tradeoff_buyer_harm_honest_creator_income.png" in names
    from analysis.plots import flat_series_note

    daily = load(sample).daily
    daily = daily[~daily["warmup"].astype(bool)]
    page = sample_report.html.read_text()
    for metric in ("pending_items", "buyer_trust", "gmv"):
        note = flat_series_note(daily, metric)
        plotted = f"report_series_{metric}.png" in names
        assert plotted == (note is None), metric
        if note:
            assert note.split(":")[0] in page


def test_honest_creator_section_counts_the_sanctions_table(sample_report, sample):
    """Wrongly sanctioned honest creators per run equal a direct count of the sanctions table."""
    res = load(sample)
    s = res.sanctions
    s = s[(s["creator_type"] == "honest") & (s["day"] > 4) & ~s["real"].astype(bool)]
    per_run = s.groupby("run_id").size()
    runs = res.summary[(res.summary["market"] == "all") & (res.summary["variant"] == "baseline")]["run_id"]
    expected = float(per_run.reindex(runs).fillna(0).mean())
    means = sample_report.means
    got = means[(means["policy"] == "baseline") & (means["metric"] == "honest_wrong_sanctions")]["mean"].iloc[0]
    assert got == pytest.approx(expected, rel=1e-12)
    assert 'id="honest"' in sample_report.html.read_text()


def test_executive_summary_names_the_winner_on_buyer_harm_and_its_honest_cost(sample_report):
    lines = sample_report.summary_lines
    first = lines[0]
    assert first.startswith(("Best on buyer harm", "No policy lowers buyer harm"))
    # A winner other than the reference is named with its cost to honest creators.
    assert "honest creators" in first or "No policy" in first or first.startswith("Best on buyer harm: the reference")
    for label in ("tiers", "health"):
        line = next(x for x in lines if x.startswith(label))
        assert "honest creators: income" in line and "guardrails: honest_creator_income" in line
    html_text = sample_report.html.read_text()
    assert html_text.index("Executive summary") < html_text.index('id="scorecard"')


# ---------------------------------------------------------------------------------------
# 13, 14. A run folder; next targets
# ---------------------------------------------------------------------------------------


def test_report_and_query_work_on_a_run_folder(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", "baseline", "--days", "10", "--set", "world.n_buyers=2000", "--set", "world.n_creators=80",
                 "--set", "warmup_days=2", "--no-plot", "--quiet", "--out", str(out)]) == 0
    capsys.readouterr()
    assert main(["report", str(out), "--out", str(tmp_path / "r.html")]) == 0
    capsys.readouterr()
    page = (tmp_path / "r.html").read_text()
    assert "One run" in page and 'id="scorecard"' in page
    assert main(["query", str(out), "SELECT count(*) AS n FROM summary WHERE market = 'all'", "--csv"]) == 0
    assert capsys.readouterr().out.split() == ["n", "1"]


def test_target_levels_are_order_statistics_of_the_runs(grid_report, grid):
    levels = grid_report.levels
    assert not levels.empty and set(levels["target"]) == {"prevalence <= 0.05", "enforcement_recall >= 0.5"}
    s = load(grid).summary
    s = s[(s["market"] == "all") & (s["point"] == 4) & (s["variant"] == "baseline")]
    row = levels[(levels["policy"] == "baseline@4") & (levels["metric"] == "prevalence")].iloc[0]
    values = s["prevalence"].to_numpy()
    expected = target_levels(values, higher_is_better=False)
    assert (row["p50"], row["p80"], row["p95"]) == (expected[0.5], expected[0.8], expected[0.95])
    assert row["p95"] == values.max() and row["p50"] in values
    assert 'id="levels"' in grid_report.html.read_text()


# ---------------------------------------------------------------------------------------
# In the browser: no horizontal scroll at 1,400 px, no console error
# ---------------------------------------------------------------------------------------

_PROBE = ("<script>window.addEventListener('load',function(){var d=document.documentElement;"
          "var t=[].slice.call(document.querySelectorAll('table.scorecard'));"
          "document.body.setAttribute('data-probe',JSON.stringify({sw:d.scrollWidth,cw:d.clientWidth,"
          "tables:t.map(function(x){return [x.scrollWidth,x.clientWidth,Math.round(x.getBoundingClientRect().right)]})"
          "}));});</script>")
_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
          "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed (apt-get install chromium); .ci/run installs it")
@pytest.mark.parametrize("which", ["grid_report", "sample_report"])
def test_scorecard_fits_1400_px_without_horizontal_scroll(which, request, tmp_path):
    """Measured in the page by headless Chromium at 1,400 px: the document and every scorecard table
    are no wider than the window, and the page logs no console error; the screenshot is kept."""
    rep = request.getfixturevalue(which)
    probe = tmp_path / "probe.html"
    probe.write_text(rep.html.read_text().replace("</body>", _PROBE + "</body>"), encoding="utf-8")
    flags = [*_FLAGS, f"--user-data-dir={tmp_path / 'profile'}", "--window-size=1400,900"]
    dom = subprocess.run([CHROMIUM, *flags, "--virtual-time-budget=3000", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=180)
    m = re.search(r'data-probe="([^"]+)"', dom.stdout)
    assert m, dom.stderr[-2000:]
    probe_data = json.loads(m.group(1).replace("&quot;", '"'))
    assert probe_data["sw"] <= probe_data["cw"], probe_data
    assert probe_data["tables"] and all(sw <= cw and right <= 1400 for sw, cw, right in probe_data["tables"])
    shot = tmp_path / f"{which}.png"
    proc = subprocess.run([CHROMIUM, *flags, "--enable-logging=stderr", "--v=0", f"--screenshot={shot}",
                           rep.html.resolve().as_uri()], capture_output=True, text=True, timeout=180)
    assert shot.is_file() and shot.stat().st_size > 20_000
    console = [line for line in proc.stderr.splitlines() if "CONSOLE" in line or "Uncaught" in line]
    assert not console, console
    keep = Path(rep.html.parent / f"screenshot_{which}.png")
    shutil.copy(shot, keep)
    assert np.frombuffer(keep.read_bytes()[:8], dtype=np.uint8).tolist() == [137, 80, 78, 71, 13, 10, 26, 10]
