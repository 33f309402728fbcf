"""The comparison report a policy review decides from: one self-contained HTML file.

For each variant (and grid or sample point): the mean of every scorecard metric with its 95 %
interval over replications; the paired difference to the baseline (common random numbers)
with its interval and a Holm-corrected p-value, coloured good or bad by the metric's
direction; targets met (and the share of replications meeting each); time series with
interval bands and campaign periods shaded; trade-offs with the Pareto front; heatmaps for
2-D grids; the Lorenz curve of creator GMV; the enforcement funnel.

Everything read from files is escaped before it reaches the HTML, the Markdown or a figure
(see :mod:`analysis.text`). The report says how many of the sweep's runs it covers and which
code made them, and warns when the sweep is incomplete or its runs come from different code.
"""

from __future__ import annotations

import base64
import glob
import io
import json
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from analysis.load import Results, load
from analysis.text import html_text, markdown_text
from sim.config import Target
from sim.errors import ScenarioError
from sim.metrics import METRICS

__all__ = ["SCORECARD_METRICS", "Coverage", "Report", "build_report", "coverage", "load_targets", "observed_sign",
           "sign_checks", "sign_result", "target_attainment", "target_table"]

SCORECARD_METRICS: tuple[str, ...] = (
    "gmv", "net_gmv", "prevalence", "harmful_gmv_share", "buyer_harm", "buyer_trust", "buyer_retention",
    "honest_creator_income", "honest_creator_retention", "adversary_share", "adversary_profit",
    "enforcement_precision", "enforcement_recall", "wrongful_bans", "proactive_rate", "time_to_action",
    "queue_backlog", "appeal_overturn_rate", "ban_evasions", "moderation_cost", "incentive_spend", "incentive_roi",
)
SERIES_METRICS = ("prevalence", "gmv", "buyer_trust", "honest_creator_income", "queue_backlog", "adversary_share")
GOOD, BAD, PLAIN = "#d9f2d9", "#f8d7d7", "#ffffff"


@dataclass
class Report:
    """Where the report went, and the tables it was made from."""

    html: Path
    markdown: Path
    pngs: list[Path]
    means: pd.DataFrame
    differences: pd.DataFrame
    targets: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    coverage: Coverage | None = None  # runs covered and the code that made them
    signs: pd.DataFrame = field(default_factory=pd.DataFrame)  # sign checks, when the sweep declares them


# ---------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------


def load_targets(path: str | Path) -> list[Target]:
    """``[[targets]]`` from a TOML file (a report file, or any scenario)."""
    from pydantic import ValidationError

    from sim.config import read_toml
    from sim.errors import ScenarioError, format_validation_error

    data = read_toml(path, "targets")
    items = data.get("targets")
    if not isinstance(items, list) or not items:
        raise ScenarioError(str(path), "targets", None, "expected one or more [[targets]] tables")
    out = []
    for i, t in enumerate(items):
        try:
            out.append(Target.model_validate(t))
        except ValidationError as exc:
            err = format_validation_error(exc, str(path), Target)
            field = f"targets[{i}]" if err.field in (None, "(top level)") else f"targets[{i}].{err.field}"
            raise ScenarioError(str(path), field, err.value, err.allowed) from None
    return out


def target_table(summary: pd.DataFrame, targets: Sequence[Target], n_creators: int,
                 groups: Sequence[str] = ("label",), creator_share: dict[str, float] | None = None) -> pd.DataFrame:
    """Per group and target: the mean (scaled), whether the mean meets it, and the share of
    replications that meet it (as a quarterly target review would count them).

    ``per_10k_creators`` divides by the scenario's initial creators, or by that market's share
    of them for a market target (``creator_share``: market -> share of creators)."""
    rows = []
    for t in targets:
        sub = summary[summary["market"] == t.market]
        if sub.empty or t.metric not in sub.columns:
            continue
        share = 1.0 if t.market == "all" else (creator_share or {}).get(t.market, 1.0)
        base = n_creators * share
        scale = 10_000.0 / base if t.per_10k_creators and base else 1.0
        for key, g in sub.groupby(list(groups), sort=False):
            values = g[t.metric].to_numpy(dtype=float) * scale
            mean = float(np.nanmean(values)) if np.isfinite(values).any() else float("nan")
            rows.append({
                **dict(zip(groups, key if isinstance(key, tuple) else (key,), strict=True)),
                "target": t.describe(),
                "band": t.band_text(),
                "confidence": t.confidence,
                "source": t.source,
                "mean": mean,
                "met": t.met(mean),
                "share_met": float(np.mean([t.met(v) for v in values])) if len(values) else float("nan"),
                "n": len(values),
            })
    return pd.DataFrame(rows)


def target_attainment(targets: pd.DataFrame) -> pd.DataFrame:
    """Per group of a :func:`target_table`: targets met (by the mean) out of targets checked."""
    if targets.empty:
        return pd.DataFrame(columns=["label", "met", "n"])
    out = targets.groupby("label", sort=False)["met"].agg(met="sum", n="size").reset_index()
    out["met"] = out["met"].astype(int)
    return out


# ---------------------------------------------------------------------------------------
# Sign checks: does each lever move the metrics the way the sweep file expects?
# ---------------------------------------------------------------------------------------


def observed_sign(diff: float, low: float, high: float) -> str:
    """``up`` or ``down`` when the interval of the paired difference excludes 0, ``flat`` when
    every pair is equal (interval [0, 0]), ``unclear`` otherwise (or without an interval)."""
    if low != low or high != high:
        return "unclear"
    if low > 0:
        return "up"
    if high < 0:
        return "down"
    if low == 0 == high and diff == 0:
        return "flat"
    return "unclear"


def sign_result(expected: str, observed: str) -> str:
    """``pass`` when the observed sign is the expected one (``flat`` expected: an interval that
    holds 0 passes); ``fail`` when it is another definite sign; ``inconclusive`` otherwise."""
    if expected == "flat":
        return "pass" if observed in ("flat", "unclear") else "fail"
    if observed == expected:
        return "pass"
    return "fail" if observed in ("up", "down", "flat") else "inconclusive"


def sign_checks(summary: pd.DataFrame, expectations: dict[str, dict[str, str]], baseline: str = "baseline",
                method: str = "t", level: float = 0.95) -> pd.DataFrame:
    """Per variant, point and expected metric: the paired difference to the baseline with its
    interval (not Holm-corrected: each sign is its own claim), the expected and observed sign
    and the result (see :func:`observed_sign`, :func:`sign_result`)."""
    from analysis.stats import paired_differences

    cols = ["variant", "point", "metric", "expected", "observed", "result", "diff", "ci_low", "ci_high", "n"]
    metrics = sorted({m for e in expectations.values() for m in e if m in summary.columns})
    if not metrics or not expectations:
        return pd.DataFrame(columns=cols)
    diffs = paired_differences(summary, metrics, baseline=baseline, method=method, level=level)
    rows = []
    for r in diffs.itertuples(index=False):
        expected = expectations.get(str(r.variant), {}).get(r.metric)
        if expected is None:
            continue
        observed = observed_sign(float(r.diff), float(r.ci_low), float(r.ci_high))
        rows.append({"variant": r.variant, "point": r.point, "metric": r.metric, "expected": expected,
                     "observed": observed, "result": sign_result(expected, observed), "diff": float(r.diff),
                     "ci_low": float(r.ci_low), "ci_high": float(r.ci_high), "n": int(r.n)})
    missing = sorted({m for e in expectations.values() for m in e} - set(summary.columns))
    for v, e in expectations.items():  # a metric these results lack (older code) cannot pass
        for m in e:
            if m in missing:
                rows.append({"variant": v, "point": 0, "metric": m, "expected": e[m], "observed": "n/a",
                             "result": "inconclusive", "diff": float("nan"), "ci_low": float("nan"),
                             "ci_high": float("nan"), "n": 0})
    return pd.DataFrame(rows, columns=cols)


# ---------------------------------------------------------------------------------------
# Which runs the report covers, and which code made them
# ---------------------------------------------------------------------------------------


@dataclass
class Coverage:
    """How many of a sweep's runs have results, and the code identities of those that do."""

    total: int
    finished: int
    pending: int
    failed: int
    orphans: int  # shards of runs the manifest does not list
    identities: dict[str, int]  # "livesim 0.1.0, commit abc1234, clean" -> finished runs
    provenance: str  # the code the results come from, for the header
    resumes: int

    @property
    def runs_text(self) -> str:
        """``12 of 16 runs (3 pending, 1 failed)``."""
        rest = ", ".join(f"{n} {what}" for n, what in ((self.pending, "pending"), (self.failed, "failed")) if n)
        return f"{self.finished} of {self.total} runs" + (f" ({rest})" if rest else "")

    def warnings(self) -> list[str]:
        """Incomplete sweep, mixed code versions, shards the manifest does not know."""
        out = []
        if self.pending or self.failed:
            out.append(f"incomplete sweep: {self.runs_text} have results; the comparisons use the finished runs "
                       "only (failed runs' errors are in manifest.json; finish the sweep with livesim sweep --resume)")
        if len(self.identities) > 1:
            parts = "; ".join(f"{n} run{'s' if n != 1 else ''} by {who}" for who, n in self.identities.items())
            out.append(f"mixed versions: the finished runs come from {len(self.identities)} code versions "
                       f"({parts}); differences between runs may come from the code, not the policy")
        if self.orphans:
            out.append(f"{self.orphans} shard{'s' if self.orphans != 1 else ''} belong to no run in manifest.json "
                       "and are included as they are")
        return out


def _identity(code: Any) -> str:
    """``livesim 0.1.0, commit abc1234, clean`` (or ``dirty, diff …``); ``unknown code`` when not recorded."""
    if not isinstance(code, dict):
        return "unknown code (not recorded)"
    commit = code.get("commit")
    parts = [f"livesim {code.get('livesim') or '?'}", f"commit {str(commit)[:10]}" if commit else "no git commit"]
    dirty = code.get("dirty")
    if dirty is True:
        parts.append(f"dirty (uncommitted changes{', diff ' + str(code['diff']) if code.get('diff') else ''})")
    elif dirty is False:
        parts.append("clean")
    return ", ".join(parts)


def coverage(manifest: dict[str, Any], finished_ids: Sequence[str]) -> Coverage:
    """Count the runs with results (``finished_ids``: the run ids found in the shards) against
    the manifest, and group them by the code that made them.

    The shards are the record of what finished (the manifest may lag by a moment), so a run
    with shards counts as finished whatever its status; the others are failed or pending as
    the manifest says. Manifests written before runs carried a ``code`` block give no per-run
    identity: the sweep's provenance (or its versions) is reported instead.
    """
    runs: dict[str, Any] = manifest.get("runs", {})
    have = set(map(str, finished_ids))
    finished = [r for r in runs if r in have]
    failed = sum(1 for r, e in runs.items() if r not in have and e.get("status") == "failed")
    pending = len(runs) - len(finished) - failed
    identities: dict[str, int] = {}
    for r in finished:
        who = _identity(runs[r].get("code"))
        identities[who] = identities.get(who, 0) + 1
    if not any("code" in runs[r] for r in finished):
        identities = {}  # an older manifest: no per-run identities to compare
    if len(identities) == 1:
        prov = next(iter(identities))
    elif identities:
        prov = f"{len(identities)} code versions (see the warning)"
    elif isinstance(manifest.get("provenance"), dict):
        prov = _identity(manifest["provenance"]) + " (when the sweep started)"
    else:
        versions = manifest.get("versions") if isinstance(manifest.get("versions"), dict) else {}
        prov = f"livesim {versions.get('livesim', '?')} (commit not recorded)"
    resumes = manifest.get("resumes")
    return Coverage(total=len(runs), finished=len(finished), pending=pending, failed=failed,
                    orphans=len(have - set(runs)), identities=identities, provenance=prov,
                    resumes=len(resumes) if isinstance(resumes, list) else 0)


# ---------------------------------------------------------------------------------------
# Building the report
# ---------------------------------------------------------------------------------------


def _labels(summary: pd.DataFrame, params: list[str]) -> pd.Series:
    """``variant`` alone, or ``variant | threshold=2, capacity_per_day=20`` on a grid or sample;
    made unique per (variant, point) so rows never merge."""
    if not params or summary["point"].nunique() <= 1:
        return summary["variant"].astype(str)
    short = {p: p.split(".")[-1] for p in params}

    def fmt(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    labels = summary.apply(
        lambda r: f"{r['variant']} | " + ", ".join(f"{short[p]}={fmt(r[p])}" for p in params if p in r), axis=1
    )
    keys = summary["variant"].astype(str) + "\x00" + summary["point"].astype(str)
    per_label = pd.DataFrame({"label": labels, "key": keys}).drop_duplicates()
    clash = per_label["label"].duplicated(keep=False)
    if clash.any():
        labels = labels.where(~labels.isin(per_label.loc[clash, "label"]),
                              labels + " #p" + summary["point"].astype(str))
    return labels


def _fmt(metric: str, value: float) -> str:
    if value is None or value != value:
        return "n/a"
    unit = METRICS[metric].unit if metric in METRICS else ""
    if unit == "share":
        return f"{value:.2%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3g}"


# Marks every file a report writes, so that livesim replaces only its own reports.
REPORT_MARK = "livesim report"
_MD_MARK = f"<!-- written by {REPORT_MARK}; rewritten each time the report is made -->"


def _is_livesim_report_file(path: Path, html_sibling: Path) -> bool:
    """Whether ``path`` is a file an earlier ``livesim report`` wrote (and may be replaced)."""
    try:
        head = path.read_bytes()[:4096]
    except OSError:
        return False
    if path.suffix == ".html":  # this version's generator tag, or an older report's title
        return b"<meta name='generator' content='livesim report'>" in head or b"<title>livesim report" in head
    if path.suffix == ".md":
        return head.startswith(_MD_MARK.encode()) or head.startswith("# livesim report".encode())
    if path.suffix == ".png":  # ours carry the mark; an older report's PNGs sit beside its HTML
        return REPORT_MARK.encode() in head or (html_sibling.is_file() and
                                                _is_livesim_report_file(html_sibling, html_sibling))
    return False


def check_report_target(out_html: Path) -> None:
    """Refuse, before any work, a report path that would replace a file livesim did not write.

    The report writes ``OUT.html``, ``OUT.md`` and ``OUT_*.png``; each that already exists must
    be an earlier livesim report's. Raises ScenarioError (one line naming the file)."""
    from sim.errors import ScenarioError
    from sim.outdir import _can_make_folder, check_path_text

    check_path_text(out_html, str(out_html))
    if out_html.is_symlink() and not out_html.exists():
        raise ScenarioError(str(out_html), "--out", None, "is a symbolic link to nothing; name the report's file")
    if out_html.suffix != ".html":
        raise ScenarioError(str(out_html), "--out", None, "the report must be an .html file (its .md and PNGs go "
                            "beside it)")
    if out_html.is_dir():
        raise ScenarioError(str(out_html), "--out", None, "is a folder; give the report's .html file")
    parent = out_html.parent
    for up in (parent, *parent.parents):
        if up.exists():
            if not up.is_dir():
                raise ScenarioError(str(out_html), "--out", None, f"{up} is a file, not a folder")
            if not os.access(up, os.W_OK | os.X_OK) or not _can_make_folder(up):
                raise ScenarioError(str(out_html), "--out", None, f"cannot write in {up}")
            break
    existing = [out_html, out_html.with_suffix(".md")]
    if parent.is_dir():
        existing += sorted(parent.glob(f"{glob.escape(out_html.stem)}_*.png"))
    for path in existing:
        if path.exists() and not _is_livesim_report_file(path, out_html):
            raise ScenarioError(str(path), "--out", None, "exists and was not written by livesim report: refusing "
                                "to replace it; choose another --out")


def _fig_png(fig) -> bytes:
    import matplotlib
    import matplotlib.pyplot as plt

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100,
                metadata={"Software": f"{REPORT_MARK} (matplotlib {matplotlib.__version__})"})
    plt.close(fig)
    return buf.getvalue()


def build_report(
    results: str | Path,
    out: str | Path | None = None,
    *,
    baseline: str = "baseline",
    targets: Sequence[Target] | None = None,
    method: str = "t",
    metrics: Sequence[str] | None = None,
    targets_source: str = "targets",
) -> Report:
    """Write ``report.html`` (self-contained), its PNGs and ``report.md`` for a sweep's results."""
    from analysis import plots
    from analysis.stats import paired_differences, variant_table

    res: Results = load(results)
    summary = res.summary
    if summary.empty:
        raise ValueError(f"{results}: no finished runs to report on")
    variants = list(dict.fromkeys(summary["variant"]))
    if baseline not in variants:
        raise ScenarioError(str(results), "--baseline", baseline,
                            f"not a variant of these results; variants: {', '.join(variants)}")
    markets_seen = set(summary["market"].astype(str))
    for i, t in enumerate(targets or []):
        if t.market not in markets_seen:
            raise ScenarioError(targets_source, f"targets[{i}].market", t.market,
                                f"not a market of these results; markets: {', '.join(sorted(markets_seen))}")
    config = res.manifest.get("config", {})
    if not isinstance(config, dict) or not isinstance(config.get("points", []), list) \
            or not isinstance(config.get("base_scenario", {}), dict):
        raise ScenarioError(str(Path(results) / "manifest.json"), "config", None,
                            "is damaged (expected a table with points and base_scenario, as livesim writes it); "
                            "rerun the sweep into a new --out")
    out_html = Path(out) if out is not None else Path(results) / "report.html"
    if out is not None and not str(out).strip():
        raise ScenarioError("--out", None, str(out), "is empty; name the report's .html file")
    check_report_target(out_html)
    out_dir = out_html.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_html.stem

    config = res.manifest.get("config", {})
    base_scen = config.get("base_scenario", {})
    params = list((config.get("points") or [{}])[0].keys())
    shown = [m for m in (metrics or SCORECARD_METRICS) if m in summary.columns]
    summary = summary.copy()
    summary["label"] = _labels(summary, params)
    all_rows = summary[summary["market"] == "all"]
    cover = coverage(res.manifest, list(dict.fromkeys(summary["run_id"].astype(str))))
    warnings: list[str] = cover.warnings()

    means = variant_table(summary, shown, by=("variant", "point"))
    labels = all_rows.drop_duplicates(["variant", "point"]).set_index(["variant", "point"])["label"]
    means["label"] = [labels.get((v, p), v) for v, p in zip(means["variant"], means["point"], strict=True)]
    diffs = paired_differences(summary, shown, baseline=baseline, method=method)
    diffs = diffs[diffs["n"] > 0].reset_index(drop=True)  # metrics undefined in every run (e.g. no programme)
    diffs["label"] = [labels.get((v, p), v) for v, p in zip(diffs["variant"], diffs["point"], strict=True)]

    all_targets = list(targets or [])
    for t in base_scen.get("targets", []) or []:
        all_targets.append(Target.model_validate(t))
    world = base_scen.get("world", {})
    n_creators = int(world.get("n_creators", 0) or 0)
    markets = world.get("markets", [])
    total_share = sum(m.get("creator_share", 0.0) for m in markets) or 1.0
    shares = {m["name"]: m.get("creator_share", 0.0) / total_share for m in markets if "name" in m}
    target_rows = (target_table(summary, all_targets, n_creators, creator_share=shares)
                   if all_targets else pd.DataFrame())
    expectations = config.get("expectations") or {}
    sign_rows = pd.DataFrame()
    if isinstance(expectations, dict) and expectations:
        sign_rows = sign_checks(summary, {str(k): dict(v) for k, v in expectations.items() if isinstance(v, dict)},
                                baseline=baseline, method=method)
        if not sign_rows.empty:
            sign_rows["label"] = [labels.get((v, p), v) for v, p in zip(sign_rows["variant"], sign_rows["point"],
                                                                       strict=True)]

    # ---- figures
    pngs: list[Path] = []
    figures: list[tuple[str, str, bytes]] = []  # (title, caption, png)

    def add(name: str, title: str, caption: str, make) -> None:
        """Draw one figure; a figure that cannot be drawn becomes a warning, not a failed report.

        Drawn and saved with TeX off, so names from files are plain text (see analysis.plots)."""
        import matplotlib

        try:
            with matplotlib.rc_context(plots.PLAIN_TEXT_RC):
                data = _fig_png(make())
        except Exception as exc:
            warnings.append(f"figure '{title}' was left out: {type(exc).__name__}: {str(exc).splitlines()[0]}")
            return
        path = out_dir / f"{stem}_{re.sub(r'[^A-Za-z0-9_.-]+', '_', name)}.png"  # names come from files
        path.write_bytes(data)
        pngs.append(path)
        figures.append((title, caption, data))

    order = list(dict.fromkeys(all_rows["label"]))
    score, colours = _scorecard_frames(means, diffs, shown, order, baseline)
    add("scorecard", "Scorecard", "Mean over replications; green/red: a significant paired difference to the "
        "baseline that is good/bad for that metric (Holm-corrected).",
        lambda: plots.scorecard(score, title="Scorecard (mean over replications)", colors=colours))
    campaigns = [
        {"name": e.get("name", ""), "first_day": e["start_day"], "last_day": e["start_day"] + e["days"] - 1,
         "markets": e.get("markets", [])}
        for e in base_scen.get("timeline", []) if e.get("kind") == "campaign"
    ]
    for metric in SERIES_METRICS:
        if metric in res.daily.columns:
            add(f"series_{metric}", f"Daily {metric}",
                "Mean over replications with a 95 % interval band; campaign days shaded.",
                lambda metric=metric: plots.variant_series(res.daily, metric, campaigns=campaigns, title=metric))
    point_means = _point_means(means, shown)
    for x, y in (("prevalence", "gmv"), ("adversary_profit", "honest_creator_income"),
                 ("wrongful_bans", "enforcement_recall")):
        if x in shown and y in shown:
            add(f"tradeoff_{x}_{y}", f"Trade-off: {y} vs {x}",
                "One point per variant (and point); error bars: 95 % intervals; the line marks the Pareto front.",
                lambda x=x, y=y: plots.tradeoff(point_means, x, y, label="label", title=f"{y} vs {x}"))
    scalar = all(summary[p].map(lambda v: isinstance(v, int | float | str)).all() for p in params if p in summary)
    if len(params) == 2 and config.get("design", "grid") == "grid" and scalar:
        for metric in ("prevalence", "enforcement_precision", "moderation_cost", "honest_creator_income"):
            if metric in shown:
                for v in variants:
                    add(f"heatmap_{metric}_{v}", f"{metric} over the grid ({v})",
                        "Mean over replications per grid cell.",
                        lambda metric=metric, v=v: plots.grid_heatmap(summary, metric, params[0], params[1],
                                                                      variant=v, title=f"{metric} — {v}"))
    if not res.creators.empty and "gmv" in res.creators.columns:
        add("lorenz", "Lorenz curve of creator GMV", "Pooled over runs; the legend gives each variant's Gini.",
            lambda: plots.lorenz(res.creators, value="gmv", by="variant", title="Creator GMV"))
    if {"violations", "flags", "reviews", "actions", "appeals", "overturns"} <= set(summary.columns):
        add("funnel", "Enforcement funnel", "Mean per run: violations, flags, reviews, decisions, appeals, overturns.",
            lambda: plots.enforcement_funnel(summary, title="Enforcement funnel"))

    title = f"livesim report — {config.get('name', Path(results).name)}"
    page = _html(title, config, res, baseline, method, score, colours, diffs, target_rows, figures, warnings,
                 cover, sign_rows)
    out_html.write_text(page, encoding="utf-8")
    md = out_dir / f"{stem}.md"
    md.write_text(_markdown(title, baseline, method, score, diffs, target_rows, warnings, cover, sign_rows),
                  encoding="utf-8")
    return Report(out_html, md, pngs, means, diffs, target_rows, warnings, cover, sign_rows)


def _point_means(means: pd.DataFrame, shown: Sequence[str]) -> pd.DataFrame:
    """One row per variant/point with each metric's mean and interval as columns."""
    rows: dict[Any, dict[str, Any]] = {}
    for r in means.itertuples(index=False):
        row = rows.setdefault((r.variant, r.point), {"variant": r.variant, "point": r.point, "label": r.label})
        row[r.metric] = r.mean
        row[f"{r.metric}_ci_low"] = r.ci_low
        row[f"{r.metric}_ci_high"] = r.ci_high
    return pd.DataFrame(list(rows.values()))


def _scorecard_frames(means: pd.DataFrame, diffs: pd.DataFrame, shown: Sequence[str], order: Sequence[str],
                      baseline: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells ``mean [low, high]`` per label x metric, and their colours from the paired differences."""
    cells = pd.DataFrame(index=list(order), columns=list(shown), dtype=object)
    colours = pd.DataFrame(PLAIN, index=list(order), columns=list(shown))
    for r in means.itertuples(index=False):
        if r.label in cells.index:
            ci = "" if r.ci_low != r.ci_low else f" [{_fmt(r.metric, r.ci_low)}, {_fmt(r.metric, r.ci_high)}]"
            cells.loc[r.label, r.metric] = _fmt(r.metric, r.mean) + ci
    from analysis.stats import effect_direction

    for r in diffs.itertuples(index=False):
        if r.significant and r.label in colours.index:
            direction = effect_direction(r.metric, r.diff)
            colours.loc[r.label, r.metric] = GOOD if direction == "good" else BAD if direction == "bad" else PLAIN
    return cells.fillna("n/a"), colours


# ---------------------------------------------------------------------------------------
# HTML and Markdown
# ---------------------------------------------------------------------------------------

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1500px}
h1{font-size:22px;margin-bottom:4px} h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd}
.meta{color:#555;font-size:13px} table{border-collapse:collapse;font-size:12px;margin:8px 0}
th,td{border:1px solid #ccc;padding:3px 6px;text-align:right;white-space:nowrap}
th{background:#f3f3f3} td.name,th.name{text-align:left} .good{background:#d9f2d9} .bad{background:#f8d7d7}
.warn{background:#fff4d6;border:1px solid #e5c96b;padding:8px;margin:8px 0}
figure{margin:12px 0} figure img{max-width:100%;border:1px solid #eee} figcaption{font-size:12px;color:#555}
.scroll{overflow-x:auto}
"""


def _e(x: Any) -> str:
    return html_text(x)


def _html(title: str, config: dict, res: Results, baseline: str, method: str, score: pd.DataFrame,
          colours: pd.DataFrame, diffs: pd.DataFrame, targets: pd.DataFrame,
          figures: list[tuple[str, str, bytes]], warnings: list[str], cover: Coverage,
          signs: pd.DataFrame | None = None) -> str:
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
             f"<meta name='generator' content='{REPORT_MARK}'><title>{_e(title)}</title>"
             f"<style>{CSS}</style></head><body>"]
    parts.append(f"<h1>{_e(title)}</h1>")
    desc = config.get("description", "")
    resumed = f" · resumed {cover.resumes} time{'s' if cover.resumes != 1 else ''}" if cover.resumes else ""
    parts.append(
        f"<p class='meta'>{_e(desc)}<br><span id='runs'>{_e(cover.runs_text)}</span> · "
        f"{_e(config.get('replications', '?'))} replications per "
        f"variant and point · baseline <b>{_e(baseline)}</b> · paired differences by "
        f"{'paired t-interval and t-test' if method == 't' else 'bootstrap (percentile interval, sign-flip p)'}, "
        f"p-values Holm-corrected across all comparisons shown · config hash {_e(res.manifest.get('config_hash', ''))}"
        f"<br>results from <span id='provenance'>{_e(cover.provenance)}</span>{resumed}</p>"
    )
    for w in warnings:
        parts.append(f"<div class='warn'>{_e(w)}</div>")

    # Scorecard (first thing on the page).
    parts.append("<h2 id='scorecard-title'>Scorecard</h2><div class='scroll'><table id='scorecard'><tr>"
                 "<th class='name'>variant</th>")
    for m in score.columns:
        arrow = {True: " ↑", False: " ↓", None: ""}[METRICS[m].higher_is_better] if m in METRICS else ""
        unit = METRICS[m].unit if m in METRICS else ""
        parts.append(f"<th title='{_e(METRICS[m].description if m in METRICS else '')}'>{_e(m)}{arrow}"
                     f"<br><small>{_e(unit)}</small></th>")
    parts.append("</tr>")
    for label, row in score.iterrows():
        parts.append(f"<tr><td class='name'>{_e(label)}</td>")
        for m in score.columns:
            cls = {GOOD: "good", BAD: "bad"}.get(colours.loc[label, m], "")
            parts.append(f"<td class='{cls}'>{_e(row[m])}</td>")
        parts.append("</tr>")
    parts.append("</table></div><p class='meta'>Mean [95 % interval] over replications. ↑/↓: higher/lower is "
                 "better. Green/red: significantly better/worse than the baseline (paired, Holm-corrected).</p>")

    if not targets.empty:
        parts.append("<h2>Targets</h2><p class='meta' id='attainment'>"
                     + " · ".join(f"{_e(a.label)}: <b>{a.met} of {a.n}</b> targets met"
                                  for a in target_attainment(targets).itertuples(index=False)) + "</p>")
        parts.append("<table id='targets'><tr><th class='name'>variant</th><th class='name'>target"
                     "</th><th>observed (mean)</th><th>band</th><th>met</th><th>share of replications meeting it</th>"
                     "<th>confidence</th><th class='name'>source</th></tr>")
        for r in targets.itertuples(index=False):
            cls = "good" if r.met else "bad"
            parts.append(f"<tr><td class='name'>{_e(r.label)}</td><td class='name'>{_e(r.target)}</td>"
                         f"<td>{r.mean:.4g}</td><td>{_e(r.band)}</td><td class='{cls}'>{'yes' if r.met else 'no'}"
                         f"</td><td>{r.share_met:.0%}</td><td>{_e(r.confidence)}</td>"
                         f"<td class='name'>{_e(r.source)}</td></tr>")
        parts.append("</table>")

    if signs is not None and not signs.empty:
        passed = int((signs["result"] == "pass").sum())
        failed = int((signs["result"] == "fail").sum())
        parts.append(f"<h2>Sign checks</h2><p class='meta' id='sign-summary'><b>{passed} of {len(signs)}</b> "
                     f"sign checks pass, {failed} fail, {len(signs) - passed - failed} inconclusive. Expected sign "
                     "(from the sweep file) against the observed sign of the paired difference to the baseline: up "
                     "or down when its 95 % interval excludes 0 (not Holm-corrected), flat when every pair is "
                     "equal.</p><div class='scroll'><table id='signs'><tr><th class='name'>variant</th>"
                     "<th class='name'>metric</th><th>difference [95 % interval]</th><th>expected</th>"
                     "<th>observed</th><th>result</th><th>pairs</th></tr>")
        for r in signs.itertuples(index=False):
            cls = {"pass": "good", "fail": "bad"}.get(r.result, "")
            ci = f"[{_fmt(r.metric, r.ci_low)}, {_fmt(r.metric, r.ci_high)}]"
            parts.append(f"<tr><td class='name'>{_e(r.label)}</td><td class='name'>{_e(r.metric)}</td>"
                         f"<td>{_e(_fmt(r.metric, r.diff))} {_e(ci)}</td><td>{_e(r.expected)}</td>"
                         f"<td>{_e(r.observed)}</td><td class='{cls}'>{_e(r.result)}</td><td>{r.n}</td></tr>")
        parts.append("</table></div>")

    parts.append("<h2>Differences to the baseline</h2><div class='scroll'><table id='differences'><tr>"
                 "<th class='name'>variant</th><th class='name'>metric</th><th>baseline</th><th>variant</th>"
                 "<th>difference [95 % interval]</th><th>p</th><th>p (Holm)</th><th>pairs</th></tr>")
    from analysis.stats import effect_direction

    for r in diffs.itertuples(index=False):
        direction = effect_direction(r.metric, r.diff) if r.significant else "neutral"
        cls = {"good": "good", "bad": "bad"}.get(direction, "")
        ci = f"[{_fmt(r.metric, r.ci_low)}, {_fmt(r.metric, r.ci_high)}]"
        parts.append(
            f"<tr><td class='name'>{_e(r.label)}</td><td class='name'>{_e(r.metric)}</td>"
            f"<td>{_e(_fmt(r.metric, r.baseline_mean))}</td><td>{_e(_fmt(r.metric, r.variant_mean))}</td>"
            f"<td class='{cls}'>{_e(_fmt(r.metric, r.diff))} {_e(ci)}</td><td>{r.p_value:.3g}</td>"
            f"<td>{r.p_holm:.3g}</td><td>{r.n}</td></tr>"
        )
    parts.append("</table></div>")

    parts.append("<h2>Figures</h2>")
    for fig_title, caption, data in figures:
        b64 = base64.b64encode(data).decode("ascii")
        parts.append(f"<figure><img alt='{_e(fig_title)}' src='data:image/png;base64,{b64}'>"
                     f"<figcaption>{_e(fig_title)}: {_e(caption)}</figcaption></figure>")
    parts.append("<h2>Configuration</h2><pre style='font-size:11px;white-space:pre-wrap'>"
                 f"{_e(json.dumps({k: v for k, v in config.items() if k != 'base_scenario'}, indent=1))}</pre>")
    parts.append("</body></html>")
    return "".join(parts)


def _md(x: Any) -> str:
    """A Markdown table cell or line: one line, controls stripped, Markdown characters escaped."""
    return markdown_text(x)


def _markdown(title: str, baseline: str, method: str, score: pd.DataFrame, diffs: pd.DataFrame,
              targets: pd.DataFrame, warnings: list[str], cover: Coverage, signs: pd.DataFrame | None = None) -> str:
    resumed = f"; resumed {cover.resumes} time{'s' if cover.resumes != 1 else ''}" if cover.resumes else ""
    lines = [_MD_MARK, f"# {_md(title)}", "",
             f"{_md(cover.runs_text)}; results from {_md(cover.provenance)}{_md(resumed)}.", "",
             f"Baseline: {_md(baseline)}. Paired differences ({_md(method)}), Holm-corrected.", ""]
    lines += [f"> warning: {_md(w)}" for w in warnings]
    if warnings:
        lines.append("")
    lines += ["## Scorecard", "", "| variant | " + " | ".join(_md(c) for c in score.columns) + " |",
              "|---|" + "---|" * len(score.columns)]
    for label, row in score.iterrows():
        lines.append(f"| {_md(label)} | " + " | ".join(_md(v) for v in row) + " |")
    if not targets.empty:
        lines += ["", "## Targets", ""]
        lines += [f"{_md(a.label)}: {a.met} of {a.n} targets met." for a in target_attainment(targets).itertuples(
            index=False)]
        lines += ["", "| variant | target | observed | band | met | share met | confidence |",
                  "|---|---|---|---|---|---|---|"]
        for r in targets.itertuples(index=False):
            lines.append(f"| {_md(r.label)} | {_md(r.target)} | {_md(f'{r.mean:.4g}')} | {_md(r.band)} "
                         f"| {'yes' if r.met else 'no'} | {_md(f'{r.share_met:.0%}')} | {_md(r.confidence)} |")
    if signs is not None and not signs.empty:
        passed = int((signs["result"] == "pass").sum())
        failed = int((signs["result"] == "fail").sum())
        lines += ["", "## Sign checks", "",
                  f"{passed} of {len(signs)} sign checks pass, {failed} fail, {len(signs) - passed - failed} "
                  "inconclusive (95 % interval of the paired difference, not Holm-corrected).", "",
                  "| variant | metric | difference [95 % interval] | expected | observed | result |",
                  "|---|---|---|---|---|---|"]
        for r in signs.itertuples(index=False):
            cell = f"{_fmt(r.metric, r.diff)} [{_fmt(r.metric, r.ci_low)}, {_fmt(r.metric, r.ci_high)}]"
            lines.append(f"| {_md(r.label)} | {_md(r.metric)} | {_md(cell)} | {_md(r.expected)} | {_md(r.observed)} "
                         f"| {_md(r.result)} |")
    sig = diffs[diffs["significant"]]
    lines += ["", "## Significant differences to the baseline", ""]
    if sig.empty:
        lines.append("None at the 95 % level after Holm correction.")
    else:
        from analysis.stats import effect_direction

        lines += ["| variant | metric | difference [95 % interval] | p (Holm) | effect |", "|---|---|---|---|---|"]
        for r in sig.itertuples(index=False):
            cell = f"{_fmt(r.metric, r.diff)} [{_fmt(r.metric, r.ci_low)}, {_fmt(r.metric, r.ci_high)}]"
            lines.append(f"| {_md(r.label)} | {_md(r.metric)} | {_md(cell)} | {_md(f'{r.p_holm:.3g}')} "
                         f"| {_md(effect_direction(r.metric, r.diff))} |")
    return "\n".join(lines) + "\n"
