"""The report a policy review decides from: one self-contained HTML file, its PNGs and Markdown.

What it compares (see :mod:`analysis.design`): every policy of a sweep (a variant, or a variant
at a lever grid or sample point) against one reference (the base scenario's own policy unless
``--baseline`` names another), world by world: paired differences on the worlds every policy
met, with their intervals, their relative size, how many worlds moved each way, and p-values
corrected across each section's tested comparisons (Holm or Benjamini-Hochberg; metrics that are
identical in every run are not tested). A single run's folder is described, not compared.

The page, top to bottom: an executive summary in words (the winner on buyer harm and its cost to
honest creators, each policy's largest significant effects with intervals, guardrails and
targets); per market, a scorecard with metrics as rows grouped by theme and policies as columns
(in tables that fit 1,400 px), guardrails (non-inferiority), the significant effects and every
comparison; the enforcement funnel (true and false branches); honest creators; the resolved
levers each policy changes; targets and next quarter's candidate targets; sign checks; figures
(daily series without flat ones, paired trade-offs, grid heatmaps, the Lorenz curve, the
funnel); the configuration. A metric whose mechanism never acted under a policy (wrongful bans
under a ladder that never bans) reads "n/a", never "good".

Everything read from files is escaped before it reaches the HTML (jinja2 with autoescape), the
Markdown or a figure (see :mod:`analysis.text`). The report says how many runs it covers and
which code made them, and warns when the sweep is incomplete or its runs come from different code.
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

from analysis.design import Design, design_of
from analysis.guardrails import DEFAULT_GUARDRAILS, Guardrail
from analysis.load import Results, load
from analysis.sections import (
    EXTRA_METRICS,
    HEADLINE,
    THEMES,
    absent_mechanisms,
    add_honest_columns,
    fmt_change,
    fmt_relative,
    fmt_value,
    funnel_table,
    info,
    policy_levers,
    target_levels_table,
    theme_of,
)
from analysis.text import markdown_text
from sim.config import Target
from sim.errors import ScenarioError
from sim.metrics import METRICS

__all__ = ["SCORECARD_METRICS", "Coverage", "Report", "build_report", "coverage", "load_targets", "observed_sign",
           "sign_checks", "sign_result", "target_attainment", "target_table"]

# The scorecard's metrics, theme by theme (see analysis.sections.THEMES).
SCORECARD_METRICS: tuple[str, ...] = tuple(m for names in THEMES.values() for m in names)
SERIES_METRICS = ("buyer_harm", "prevalence", "gmv", "buyer_trust", "honest_creator_income", "adversary_share",
                  "pending_items")


@dataclass
class Report:
    """Where the report went, and the tables it was made from (the platform's, unless noted)."""

    html: Path
    markdown: Path
    pngs: list[Path]
    means: pd.DataFrame
    differences: pd.DataFrame
    targets: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    coverage: Coverage | None = None  # runs covered and the code that made them
    signs: pd.DataFrame = field(default_factory=pd.DataFrame)  # sign checks, when the sweep declares them
    design: Design | None = None  # policies, worlds and the reference
    markets: dict[str, pd.DataFrame] = field(default_factory=dict)  # market -> its comparisons
    summary_lines: list[str] = field(default_factory=list)  # the executive summary
    levels: pd.DataFrame = field(default_factory=pd.DataFrame)  # next targets


# ---------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------


def load_targets(path: str | Path, required: bool = True) -> list[Target]:
    """``[[targets]]`` from a TOML file (a report file, or any scenario); with ``required=False`` a
    file without them (holding only ``[[guardrails]]``) gives none."""
    from sim.config import read_toml, validate_tables

    data = read_toml(path, "targets")
    items = data.get("targets")
    if items is None and not required:
        return []
    if not isinstance(items, list) or not items:
        raise ScenarioError(str(path), "targets", None, "expected one or more [[targets]] tables")
    return validate_tables(items, Target, path, "targets")


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
        return head.startswith(_MD_MARK.encode()) or head.startswith(b"# livesim report")
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
    baseline: str | None = None,
    targets: Sequence[Target] | None = None,
    method: str = "t",
    metrics: Sequence[str] | None = None,
    targets_source: str = "targets",
    markets: Sequence[str] | None = None,
    correction: str = "holm",
    guardrails: Sequence[Guardrail] | None = None,
    level: float = 0.95,
    calibration: str | Path | None = None,
) -> Report:
    """Write the report of a sweep's or a run's results: ``OUT.html`` (self-contained), its PNGs
    and ``OUT.md``.

    ``baseline``: the reference policy (default: the base scenario's own; see
    :mod:`analysis.design`). ``markets``: the markets that get a section (default: the platform
    and every market). ``correction``: ``holm`` (family-wise error) or ``bh`` (false discovery
    rate, Benjamini-Hochberg) across each market section's tested comparisons; metrics constant in
    every run are not tested. ``guardrails``: non-inferiority conditions (default:
    :data:`analysis.guardrails.DEFAULT_GUARDRAILS`). ``calibration``: a finished calibration
    folder (``livesim calibrate --out``), whose fit of the world to observed numbers becomes a
    section of the report."""
    from analysis import plots
    from analysis.stats import compare_policies, non_inferiority, variant_table

    if method not in ("t", "bootstrap"):
        raise ScenarioError("--method", None, method, "allowed: t, bootstrap")
    cal_section = _calibration_section(calibration) if calibration is not None else None
    if correction not in ("holm", "bh"):
        raise ScenarioError("--correction", None, correction, "allowed: holm, bh")
    res: Results = load(results)
    summary = res.summary
    if summary.empty:
        raise ValueError(f"{results}: no finished runs to report on")
    is_run = res.manifest.get("kind") == "run"
    markets_seen = list(dict.fromkeys(["all", *sorted(set(summary["market"].astype(str)) - {"all"})]))
    for i, t in enumerate(targets or []):
        if t.market not in markets_seen:
            raise ScenarioError(targets_source, f"targets[{i}].market", t.market,
                                f"not a market of these results; markets: {', '.join(markets_seen)}")
    chosen_guardrails = list(guardrails) if guardrails else list(DEFAULT_GUARDRAILS)
    for g in chosen_guardrails:
        if g.market not in markets_seen:
            raise ScenarioError(targets_source, "guardrails.market", g.market,
                                f"not a market of these results; markets: {', '.join(markets_seen)}")
    for m in markets or []:
        if m not in markets_seen:
            raise ScenarioError("--market", None, m, f"not a market of these results; markets: "
                                f"{', '.join(markets_seen)}")
    config = res.manifest.get("config", {})
    if not isinstance(config, dict) or not isinstance(config.get("points", []), list) \
            or not isinstance(config.get("base_scenario", {}), dict):
        raise ScenarioError(str(Path(results) / "manifest.json"), "config", None,
                            "is damaged (expected a table with points and base_scenario, as livesim writes it); "
                            "rerun the sweep into a new --out")
    out_html = Path(out) if out is not None else Path(results) / "report.html"
    if out is not None and not str(out).strip():
        raise ScenarioError("--out", None, str(out), "is empty; name the report's .html file")
    base_scen = config.get("base_scenario", {})
    warmup = int(base_scen.get("warmup_days", 0) or 0)
    frame = add_honest_columns(summary, res.sanctions, warmup)
    design, frame = design_of(frame, res.manifest, baseline)
    check_report_target(out_html)
    out_dir = out_html.parent
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_html.stem

    wanted = list(metrics) if metrics else [m for names in THEMES.values() for m in names]
    shown = [m for m in dict.fromkeys(wanted) if m in frame.columns]
    honest_metrics = [m for m in (*EXTRA_METRICS, "honest_creator_income", "honest_creator_retention",
                                  "honest_sanctioned_per_10k") if m in frame.columns]
    compared = list(dict.fromkeys([*shown, *honest_metrics]))
    frame["label"] = frame["policy"].map(design.labels)
    cover = coverage(res.manifest, list(dict.fromkeys(summary["run_id"].astype(str))))
    warnings: list[str] = cover.warnings() + [f"reference: {n}" for n in design.notes]
    section_markets = list(markets) if markets else markets_seen if len(markets_seen) > 2 else ["all"]

    # ---- per market: means, comparisons, guardrails
    sections: list[dict[str, Any]] = []
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    for market in section_markets:
        sub = frame[frame["market"] == market]
        masked, reasons = absent_mechanisms(sub, compared)
        means = variant_table(masked, compared, market=market, by=("policy",))
        if design.others:
            diffs = compare_policies(masked, compared, reference=design.reference, method=method, level=level,
                                     correction=correction)
        else:
            diffs = pd.DataFrame(columns=["policy", "metric", "tested", "significant"])
        rails = []
        for g in chosen_guardrails:
            if g.market != market or g.metric not in frame.columns or not design.others:
                continue
            ni = non_inferiority(masked, g.metric, margin=g.max_worsening, relative=g.relative,
                                 higher_is_better=bool(info(g.metric).higher_is_better), reference=design.reference,
                                 level=level)
            for r in ni.itertuples(index=False):
                rails.append({"guardrail": g, "row": r})
        tables[market] = {"means": means, "diffs": diffs}
        sections.append(_market_section(market, design, means, diffs, reasons, rails, shown, masked, correction))

    # ---- targets, next targets, sign checks
    all_targets = list(targets or [])
    for t in base_scen.get("targets", []) or []:
        all_targets.append(Target.model_validate(t))
    world = base_scen.get("world", {})
    n_creators = int(world.get("n_creators", 0) or 0)
    mk = world.get("markets", [])
    total_share = sum(m.get("creator_share", 0.0) for m in mk) or 1.0
    shares = {m["name"]: m.get("creator_share", 0.0) / total_share for m in mk if "name" in m}
    target_rows = (target_table(frame, all_targets, n_creators, groups=("label",), creator_share=shares)
                   if all_targets else pd.DataFrame())
    levels = (target_levels_table(frame, all_targets, design.policies, design.labels, n_creators, shares)
              if all_targets else pd.DataFrame())
    expectations = config.get("expectations") or {}
    sign_rows = pd.DataFrame()
    if isinstance(expectations, dict) and expectations and "baseline" in set(summary["variant"]):
        sign_rows = sign_checks(summary, {str(k): dict(v) for k, v in expectations.items() if isinstance(v, dict)},
                                baseline="baseline", method=method)
        if not sign_rows.empty:
            label_of = frame.drop_duplicates(["variant", "point"]).set_index(["variant", "point"])["label"]
            sign_rows["label"] = [label_of.get((v, p), v) for v, p in zip(sign_rows["variant"], sign_rows["point"],
                                                                         strict=True)]

    # ---- honest creators, policies, summary
    platform = tables.get("all") or tables[section_markets[0]]
    honest = _honest_table(design, platform["means"], platform["diffs"], honest_metrics)
    ref_variant = design.reference.split("@", 1)[0]
    lever_rows = policy_levers(Path(results), list(dict.fromkeys(summary["variant"].astype(str))), ref_variant,
                               design.levers, design.policies, (config.get("reference") or {}).get("levers") or {},
                               config.get("variants"))
    variant_rows = [{"label": design.labels[p], "path": path, "reference": _show(a), "value": _show(b)}
                    for p in design.others for path, a, b in lever_rows.get(p, [])]
    rails_all = [r for s in sections for r in s["guardrails"]]
    summary_lines = _executive_summary(design, platform["diffs"], rails_all, target_rows, is_run)

    # ---- figures
    pngs: list[Path] = []
    figures: list[dict[str, str]] = []
    figure_notes: list[str] = []

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
        figures.append({"title": title, "caption": caption, "b64": base64.b64encode(data).decode("ascii")})

    campaigns = [
        {"name": e.get("name", ""), "first_day": e["start_day"], "last_day": e["start_day"] + e["days"] - 1,
         "markets": e.get("markets", [])}
        for e in base_scen.get("timeline", []) if e.get("kind") == "campaign"
        and e["start_day"] + e["days"] - 1 > warmup  # the series leave out the warm-up
    ]
    daily = res.daily
    if not daily.empty and "run_id" in daily.columns:
        runs = frame.drop_duplicates("run_id").set_index("run_id")
        daily = daily.assign(policy=daily["run_id"].astype(str).map(runs["label"]),
                             world=daily["run_id"].astype(str).map(runs["world"]))
        if "warmup" in daily.columns:
            daily = daily[~daily["warmup"].astype(bool)]
    for metric in SERIES_METRICS:
        if metric not in daily.columns:
            continue
        note = plots.flat_series_note(daily, metric)
        if note:
            figure_notes.append(note)
            continue
        add(f"series_{metric}", f"Daily {metric}",
            "Mean over runs per policy with a 95 % interval band over replications; campaign days shaded; the "
            "warm-up is left out.",
            lambda metric=metric: plots.variant_series(daily, metric, campaigns=campaigns, title=metric,
                                                       group="policy"))
    diffs_all = platform["diffs"]
    if design.others and not diffs_all.empty:
        for x, y in TRADEOFFS:
            if x in compared and y in compared:
                wide = _wide_diffs(diffs_all, design, x, y)
                if not wide.empty:
                    add(f"tradeoff_{x}_{y}", f"Trade-off: change in {y} against change in {x}",
                        "Paired changes against the reference (at the origin) with their 95 % intervals, every "
                        "policy on the same worlds; the line marks the Pareto front.",
                        lambda wide=wide, x=x, y=y: plots.paired_tradeoff(wide, x, y, title=f"{y} vs {x}"))
    lever_paths = design.lever_paths
    scalar = all(summary[p].map(lambda v: isinstance(v, int | float | str)).all() for p in lever_paths)
    if len(lever_paths) == 2 and config.get("design") == "grid" and scalar and not design.world_paths:
        added = set((config.get("reference") or {}).get("points") or []) \
            if (config.get("reference") or {}).get("added") else set()
        grid_rows = summary[~summary["point"].isin(added)]
        for metric in ("buyer_harm", "prevalence", "honest_creator_income", "moderation_cost"):
            if metric in grid_rows.columns:
                for v in dict.fromkeys(grid_rows["variant"].astype(str)):
                    add(f"heatmap_{metric}_{v}", f"{metric} over the grid ({v})", "Mean over replications per grid cell.",
                        lambda metric=metric, v=v: plots.grid_heatmap(grid_rows, metric, lever_paths[0],
                                                                      lever_paths[1], variant=v,
                                                                      title=f"{metric} — {v}"))
    if not res.creators.empty and "gmv" in res.creators.columns and "run_id" in res.creators.columns:
        run_label = frame.drop_duplicates("run_id").set_index("run_id")["label"]
        creators = res.creators.assign(policy=res.creators["run_id"].astype(str).map(run_label))
        add("lorenz", "Lorenz curve of creator GMV", "Pooled over runs; the legend gives each policy's Gini.",
            lambda: plots.lorenz(creators, value="gmv", by="policy", title="Creator GMV"))
    if {"violations", "flags", "actions"} <= set(frame.columns):
        add("funnel", "Enforcement funnel", "Mean per run: the true branch (violations, true flags, actioned) and "
            "the false branch (false flags, wrongly actioned), with expired and pending items; the reference and "
            "up to seven policies.",
            lambda: plots.enforcement_funnel(frame, group="label",
                                             variants=[design.labels[p] for p in design.policies][:8],
                                             title="Enforcement funnel"))

    from analysis.explore_report import explore_section

    explore = explore_section(results, add)  # None unless the folder is an exploration's
    title = f"livesim report — {config.get('name', Path(results).name)}"
    resumed = f" · resumed {cover.resumes} time{'s' if cover.resumes != 1 else ''}" if cover.resumes else ""
    method_text = ("paired t-intervals and t-tests" if method == "t" else
                   "paired BCa bootstrap intervals and sign-flip tests")
    context = {
        "title": title, "description": config.get("description", ""), "runs_text": cover.runs_text,
        "replications": design.replications, "n_uncertainty_points": design.n_uncertainty_points,
        "reference_label": design.labels[design.reference], "method_text": method_text,
        "config_hash": res.manifest.get("config_hash", ""), "provenance": cover.provenance, "resumed": resumed,
        "warnings": warnings, "design_text": design.describe(), "summary_lines": summary_lines,
        "markets": sections, "correction": correction, "correction_text": _correction_text(correction),
        "honest": honest, "variant_rows": variant_rows,
        "targets": _target_rows(target_rows), "attainment": list(target_attainment(target_rows).itertuples(index=False))
        if not target_rows.empty else [], "levels": _level_rows(levels),
        "levels_basis": "replications x sampled worlds" if design.n_uncertainty_points > 1 else "replications",
        "signs": _sign_rows(sign_rows), "signs_passed": int((sign_rows["result"] == "pass").sum())
        if not sign_rows.empty else 0, "signs_failed": int((sign_rows["result"] == "fail").sum())
        if not sign_rows.empty else 0,
        "figures": figures, "figure_notes": figure_notes, "calibration": cal_section, "explore": explore,
        "config_json": json.dumps({k: v for k, v in config.items() if k != "base_scenario"}, indent=1, default=str),
    }
    out_html.write_text(_environment().get_template("report.html.j2").render(**context), encoding="utf-8")
    md = out_dir / f"{stem}.md"
    md.write_text(_markdown(context), encoding="utf-8")
    return Report(out_html, md, pngs, platform["means"], platform["diffs"], target_rows, warnings, cover, sign_rows,
                  design=design, markets={m: t["diffs"] for m, t in tables.items()}, summary_lines=summary_lines,
                  levels=levels)


TRADEOFFS = (("buyer_harm", "honest_creator_income"), ("prevalence", "gmv"),
             ("enforcement_recall", "honest_wrong_sanctions"))


def _environment():
    import jinja2

    from analysis.text import strip_controls

    # Every value is stripped of bidi and control characters, then escaped (autoescape).
    return jinja2.Environment(loader=jinja2.PackageLoader("analysis", "templates"),
                              autoescape=jinja2.select_autoescape(["html", "j2"], default=True),
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              finalize=lambda x: strip_controls(x) if isinstance(x, str) else x)


def _show(v: Any) -> str:
    if v is None:
        return "(not set)"
    if isinstance(v, float):
        return f"{v:.6g}"
    return json.dumps(v) if isinstance(v, list | dict) else str(v)


def _correction_text(correction: str) -> str:
    return ("Holm-corrected across the section's tested comparisons" if correction == "holm" else
            "Benjamini-Hochberg false-discovery-rate correction across the section's tested comparisons")


def _cell_class(metric: str, diff: float, significant: bool) -> str:
    from analysis.stats import effect_direction

    if not significant:
        return ""
    hib = info(metric).higher_is_better
    if hib is None or diff != diff or diff == 0:
        return ""
    if metric in METRICS:
        return {"good": "good", "bad": "bad"}.get(effect_direction(metric, diff), "")
    return "good" if (diff > 0) == hib else "bad"


def _change_text(metric: str, r: Any) -> str:
    return f"{fmt_change(metric, r.diff, r.ci_low, r.ci_high)} · {fmt_relative(r.rel_diff)}"


def _market_section(market: str, design: Any, means: pd.DataFrame, diffs: pd.DataFrame,
                    reasons: dict[tuple[str, str], str], rails: list[dict[str, Any]], shown: Sequence[str],
                    frame: pd.DataFrame, correction: str) -> dict[str, Any]:
    """The scorecard (metrics as rows by theme, policies as columns in chunks that fit 1,400 px),
    the comparison tables and guardrails of one market."""
    mean_of = {(r.policy, r.metric): r for r in means.itertuples(index=False)}
    diff_of = {(r.policy, r.metric): r for r in diffs.itertuples(index=False)} if "diff" in diffs else {}
    themes: dict[str, list[str]] = {}
    for m in shown:
        themes.setdefault(theme_of(m), []).append(m)
    chunks = []
    others = design.others
    per_table = 5
    groups = [others[i:i + per_table] for i in range(0, len(others), per_table)] or [[]]
    for group in groups:
        cols = [design.reference, *group]
        chunk_themes = []
        for theme, names in themes.items():
            rows = []
            for m in names:
                spec = info(m)
                cells = []
                for p in cols:
                    if (p, m) in reasons:
                        cells.append({"value": f"n/a ({reasons[(p, m)]})", "na": True, "cls": "", "ci": "",
                                      "change": ""})
                        continue
                    mr = mean_of.get((p, m))
                    value = fmt_value(m, mr.mean) if mr is not None else "n/a"
                    ci = (f"[{fmt_value(m, mr.ci_low)}, {fmt_value(m, mr.ci_high)}]"
                          if mr is not None and mr.ci_low == mr.ci_low and mr.n > 1 else "")
                    d = diff_of.get((p, m))
                    change, cls = "", ""
                    if d is not None and p != design.reference and d.n > 0:
                        change = _change_text(m, d)
                        if not d.tested:
                            change += " · not tested"
                        cls = _cell_class(m, d.diff, bool(d.significant))
                    cells.append({"value": value, "na": value == "n/a", "cls": cls, "ci": ci, "change": change})
                arrow = {True: "↑", False: "↓", None: ""}[spec.higher_is_better]
                rows.append({"metric": m, "arrow": arrow, "unit": spec.unit, "description": spec.description,
                             "cells": cells})
            chunk_themes.append({"name": theme, "rows": rows})
        chunks.append({"columns": [{"id": p, "label": design.labels[p], "reference": p == design.reference}
                                   for p in cols], "themes": chunk_themes})

    rows_sig, rows_all = [], []
    tested = 0
    if "diff" in diffs:
        for r in diffs.itertuples(index=False):
            if (r.policy, r.metric) in reasons:
                continue
            cls = _cell_class(r.metric, r.diff, bool(r.significant))
            row = {"label": design.labels[r.policy], "metric": r.metric,
                   "reference": fmt_value(r.metric, r.reference_mean), "value": fmt_value(r.metric, r.policy_mean),
                   "change": fmt_change(r.metric, r.diff, r.ci_low, r.ci_high),
                   "relative": fmt_relative(r.rel_diff, r.rel_ci_low, r.rel_ci_high),
                   "worlds": f"{r.up} / {r.down} / {r.same}", "cls": cls,
                   "p": "not tested" if not r.tested else f"{r.p_adjusted:.3g}",
                   "p_raw": "" if r.p_value != r.p_value else f"{r.p_value:.3g}"}
            rows_all.append(row)
            tested += bool(r.tested)
            if r.significant:
                rows_sig.append(row)
    n_pairs = int(diffs["n"].max()) if "n" in diffs and len(diffs) else 0
    guardrail_rows = []
    for item in rails:
        g, r = item["guardrail"], item["row"]
        guardrail_rows.append({
            "policy": r.policy, "label": design.labels[r.policy], "text": g.describe(), "metric": g.metric,
            "change": f"{fmt_change(g.metric, r.diff)}", "bound": fmt_change(g.metric, r.bound).lstrip("+")
            if r.bound == r.bound else "n/a (too few pairs)",
            "margin": fmt_change(g.metric, r.margin_abs).lstrip("+"), "passed": bool(r.passed)})
    comparison = ""
    if design.others:
        constant = sorted({r.metric for r in diffs.itertuples(index=False) if not r.tested and r.n >= 2})
        comparison = (f"{tested} comparisons tested ({len(design.others)} policies x metrics) on up to {n_pairs} "
                      f"paired worlds, {_correction_text(correction)}.")
        if constant:
            comparison += (f" Not tested (identical in every run, so no test can find a difference): "
                           f"{', '.join(constant)}.")
    heading = "Platform (all markets)" if market == "all" else f"Market {market}"
    return {"market": market, "anchor": re.sub(r"[^A-Za-z0-9_-]+", "_", market), "heading": heading,
            "scorecard": chunks, "significant": rows_sig, "all_rows": rows_all, "tested": tested,
            "pairs": f"{n_pairs} paired worlds", "comparison_text": comparison, "guardrails": guardrail_rows,
            "funnel": _funnel_rows(frame, design)}


def _funnel_rows(frame: pd.DataFrame, design: Any) -> dict[str, Any] | None:
    table = funnel_table(frame, design.policies)
    if table.empty:
        return None
    return {"columns": [design.labels[p] for p in design.policies],
            "rows": [{"stage": stage, "cells": [fmt_value("flags", v) for v in row]}
                     for stage, row in table.iterrows()]}


def _honest_table(design: Any, means: pd.DataFrame, diffs: pd.DataFrame, metrics: Sequence[str]) -> dict[str, Any]:
    mean_of = {(r.policy, r.metric): r for r in means.itertuples(index=False)}
    diff_of = {(r.policy, r.metric): r for r in diffs.itertuples(index=False)} if "diff" in diffs else {}
    rows = []
    for m in metrics:
        cells = []
        for p in design.policies:
            mr = mean_of.get((p, m))
            d = diff_of.get((p, m))
            change = _change_text(m, d) if d is not None and p != design.reference and d.n > 0 else ""
            cls = _cell_class(m, d.diff, bool(d.significant)) if d is not None else ""
            cells.append({"value": fmt_value(m, mr.mean) if mr is not None else "n/a", "change": change, "cls": cls})
        rows.append({"metric": m, "description": info(m).description, "cells": cells})
    return {"columns": [design.labels[p] for p in design.policies], "rows": rows}


def _wide_diffs(diffs: pd.DataFrame, design: Any, x: str, y: str) -> pd.DataFrame:
    """One row per policy with the paired change in ``x`` and ``y`` and their intervals; only
    policies paired with the reference on every world it has (an incomplete sweep can leave some
    on fewer), so that the Pareto front compares policies on the same worlds."""
    rows = []
    for p in design.others:
        row: dict[str, Any] = {"policy": design.labels[p]}
        for m in (x, y):
            d = diffs[(diffs["policy"] == p) & (diffs["metric"] == m)]
            if d.empty or d["n"].iloc[0] != design.n_worlds:
                break
            row[f"{m}_diff"] = float(d["diff"].iloc[0])
            row[f"{m}_ci_low"] = float(d["ci_low"].iloc[0])
            row[f"{m}_ci_high"] = float(d["ci_high"].iloc[0])
        else:
            rows.append(row)
    return pd.DataFrame(rows)


def _effect_words(r: Any) -> str:
    """``prevalence +2.2 pp [1.4, 3.0]`` for a share, ``buyer_harm +66% [40%, 92%]`` otherwise."""
    if info(r.metric).unit == "share":
        return f"{r.metric} {fmt_change(r.metric, r.diff, r.ci_low, r.ci_high)}"
    if r.rel_diff == r.rel_diff:
        return f"{r.metric} {fmt_relative(r.rel_diff, r.rel_ci_low, r.rel_ci_high)}"
    return f"{r.metric} {fmt_change(r.metric, r.diff, r.ci_low, r.ci_high)}"


def _executive_summary(design: Any, diffs: pd.DataFrame, rails: list[dict[str, Any]], targets: pd.DataFrame,
                       is_run: bool) -> list[str]:
    """Plain sentences: the winner on buyer harm and its cost to honest creators, then per policy its
    largest significant effects with intervals, guardrails and targets."""
    lines: list[str] = []
    if is_run or not design.others or "diff" not in diffs or diffs.empty:
        lines.append(f"Policy '{design.labels[design.reference]}': see the scorecard below; no comparison was made.")
        if not targets.empty:
            for a in target_attainment(targets).itertuples(index=False):
                lines.append(f"{a.label}: {a.met} of {a.n} targets met.")
        return lines
    harm = diffs[diffs["metric"] == "buyer_harm"]
    honest_cost = []
    if not harm.empty:
        better = harm[harm["significant"] & (harm["diff"] < 0)].sort_values("policy_mean")
        if not better.empty:
            best = better.iloc[0]
            cost = _honest_cost(diffs, best["policy"])
            lines.append(f"Best on buyer harm: {design.labels[best['policy']]}, buyer harm "
                         f"{fmt_relative(best['rel_diff'], best['rel_ci_low'], best['rel_ci_high'])} against the "
                         f"reference ({fmt_value('buyer_harm', best['reference_mean'])} -> "
                         f"{fmt_value('buyer_harm', best['policy_mean'])}); cost to honest creators: {cost}.")
            honest_cost.append(best["policy"])
        elif (harm["significant"] & (harm["diff"] > 0)).all():
            lines.append(f"Best on buyer harm: the reference, {design.labels[design.reference]}: every other policy "
                         "raises buyer harm significantly.")
        else:
            lowest = next(harm.sort_values("policy_mean").itertuples(index=False))
            if lowest.policy_mean >= lowest.reference_mean:
                others = "; ".join(
                    f"{design.labels[r.policy]} {fmt_relative(r.rel_diff, r.rel_ci_low, r.rel_ci_high)}"
                    f"{'' if r.significant else ' (n.s.)'}"
                    for r in harm.sort_values("diff").head(4).itertuples(index=False))
                lines.append(f"Best on buyer harm: the reference, {design.labels[design.reference]} (buyer harm "
                             f"{fmt_value('buyer_harm', lowest.reference_mean)}); no other policy lowers it "
                             f"({others}).")
            else:
                lines.append("No policy lowers buyer harm significantly against the reference "
                             f"{design.labels[design.reference]}; the lowest mean is "
                             f"{design.labels[lowest.policy]} ({_effect_words(lowest)}, not significant).")
    ranked = harm.sort_values("diff")["policy"].tolist() if not harm.empty else design.others
    ranked += [p for p in design.others if p not in ranked]
    shown = ranked[:8]
    order = {m: i for i, m in enumerate(HEADLINE)}
    for p in shown:
        rows = diffs[(diffs["policy"] == p) & diffs["significant"]]
        rows = rows.assign(_rank=rows["metric"].map(lambda m: order.get(m, len(order))),
                           _size=rows["rel_diff"].abs().fillna(0))
        rows = rows.sort_values(["_rank", "_size"], ascending=[True, False]).head(4)
        effects = "; ".join(_effect_words(r) for r in rows.itertuples(index=False)) or \
            "no significant difference to the reference"
        parts = [f"{design.labels[p]}: {effects}"]
        parts.append(f"honest creators: {_honest_cost(diffs, p)}")
        mine = [g for g in rails if g["policy"] == p]
        if mine:
            parts.append("guardrails: " + ", ".join(f"{g['metric']} {'pass' if g['passed'] else 'FAIL'}"
                                                    for g in mine))
        if not targets.empty:
            att = target_attainment(targets)
            row = att[att["label"] == design.labels[p]]
            if not row.empty:
                parts.append(f"targets met: {int(row['met'].iloc[0])} of {int(row['n'].iloc[0])}")
        lines.append(" — ".join(parts) + ".")
    if len(ranked) > len(shown):
        lines.append(f"... and {len(ranked) - len(shown)} more policies in the tables below (ranked here by their "
                     "change in buyer harm).")
    if not targets.empty:
        att = target_attainment(targets)
        ref = att[att["label"] == design.labels[design.reference]]
        if not ref.empty:
            lines.append(f"Reference {design.labels[design.reference]}: {int(ref['met'].iloc[0])} of "
                         f"{int(ref['n'].iloc[0])} targets met.")
    return lines


def _honest_cost(diffs: pd.DataFrame, policy: str) -> str:
    """Income change and wrongly sanctioned honest creators, with intervals and significance."""
    out = []
    for m in ("honest_creator_income", "honest_wrong_sanctions", "honest_wrong_bans"):
        d = diffs[(diffs["policy"] == policy) & (diffs["metric"] == m)]
        if d.empty or d["n"].iloc[0] == 0:
            continue
        r = d.iloc[0]
        words = {"honest_creator_income": "income", "honest_wrong_sanctions": "wrongly sanctioned per run",
                 "honest_wrong_bans": "wrongly banned per run"}[m]
        if m == "honest_creator_income":
            change = fmt_relative(r["rel_diff"], r["rel_ci_low"], r["rel_ci_high"])
        else:
            change = fmt_change(m, r["diff"], r["ci_low"], r["ci_high"])
        out.append(f"{words} {change}{'' if r['significant'] else ' (n.s.)'}")
    return "; ".join(out) or "not measured"


def _calibration_section(folder: str | Path) -> dict[str, Any]:
    """The fit of the world the runs stand on (a calibration folder): its fit table, NRMSE and
    what the observed numbers pin down."""
    from analysis.calibrate import read_calibration

    doc = read_calibration(folder)
    fit = doc["fit"]
    rows = [{"target": r.target, "observed": r.observed, "simulated": _show(r.simulated),
             "interval": f"{_show(r.low95)} to {_show(r.high95)}", "error": f"{r.normalised_error:+.3f}",
             "within": bool(r.within), "held_out": bool(r.held_out)} for r in fit.itertuples()]
    ho = doc.get("nrmse_held_out")
    return {"folder": str(folder), "scenario": doc.get("scenario", ""), "observed": doc.get("observed", ""),
            "evaluations": doc.get("evaluations", 0), "plausible": doc.get("plausible", 0),
            "nrmse": f"{doc.get('nrmse', float('nan')):.3f}", "nrmse_held_out": "" if ho is None else f"{ho:.3f}",
            "n": int(fit["n"].iloc[0]) if len(fit) else 0, "rows": rows,
            "best": [{"path": k, "value": _show(v)} for k, v in (doc.get("best_params") or {}).items()],
            "intervals": [{"path": r["path"], "interval": f"{_show(r['interval_low'])} to {_show(r['interval_high'])}"
                           if r.get("interval_low") is not None else "n/a",
                           "searched": f"{_show(r['low'])} to {_show(r['high'])}", "verdict": r["verdict"]}
                          for r in doc.get("intervals", [])]}


def _target_rows(targets: pd.DataFrame) -> list[dict[str, Any]]:
    return [{"label": r.label, "target": r.target, "mean": f"{r.mean:.4g}", "band": r.band, "met": bool(r.met),
             "share": f"{r.share_met:.0%}", "confidence": r.confidence, "source": r.source}
            for r in targets.itertuples(index=False)] if not targets.empty else []


def _level_rows(levels: pd.DataFrame) -> list[dict[str, Any]]:
    if levels.empty:
        return []
    return [{"label": r.label, "target": r.target, "p50": f"{r.direction} {fmt_value(r.metric, r.p50)}",
             "p80": f"{r.direction} {fmt_value(r.metric, r.p80)}", "p95": f"{r.direction} {fmt_value(r.metric, r.p95)}",
             "share": f"{r.share_met:.0%}", "ambition": r.ambition} for r in levels.itertuples(index=False)]


def _sign_rows(signs: pd.DataFrame) -> list[dict[str, Any]]:
    if signs.empty:
        return []
    return [{"label": r.label, "metric": r.metric, "change": fmt_change(r.metric, r.diff, r.ci_low, r.ci_high),
             "expected": r.expected, "observed": r.observed, "result": r.result, "n": r.n}
            for r in signs.itertuples(index=False)]


def _md(x: Any) -> str:
    """A Markdown table cell or line: one line, controls stripped, Markdown characters escaped."""
    return markdown_text(x)


def _markdown(c: dict[str, Any]) -> str:
    """The report's text in Markdown: executive summary, per-market significant effects, guardrails,
    honest creators, targets and next targets."""
    lines = [_MD_MARK, f"# {_md(c['title'])}", "",
             f"{_md(c['runs_text'])}; results from {_md(c['provenance'])}{_md(c['resumed'])}.", "",
             f"Reference: {_md(c['reference_label'])}. {_md(c['method_text'])}; {_md(c['correction_text'])}.", ""]
    lines += [f"> warning: {_md(w)}" for w in c["warnings"]]
    lines += ["", "## Executive summary", "", _md(c["design_text"]), ""]
    lines += [f"- {_md(s)}" for s in c["summary_lines"]]
    for sec in c["markets"]:
        lines += ["", f"## {_md(sec['heading'])}", ""]
        if sec["comparison_text"]:
            lines += [_md(sec["comparison_text"]), ""]
        for chunk in sec["scorecard"]:
            cols = chunk["columns"]
            lines += ["| metric | " + " | ".join(_md(col["label"]) for col in cols) + " |",
                      "|---|" + "---|" * len(cols)]
            for theme in chunk["themes"]:
                lines.append(f"| **{_md(theme['name'])}** |" + " |" * len(cols))
                for row in theme["rows"]:
                    cells = [cell["value"] + (f" ({cell['change']})" if cell["change"] else "") for cell in row["cells"]]
                    lines.append(f"| {_md(row['metric'])} {row['arrow']} | " + " | ".join(_md(x) for x in cells) + " |")
            lines.append("")
        if sec["guardrails"]:
            lines += ["Guardrails:", ""]
            lines += [f"- {_md(g['label'])}: {_md(g['text'])}: {'pass' if g['passed'] else 'fail'} (change "
                      f"{_md(g['change'])}, bound {_md(g['bound'])}, margin {_md(g['margin'])})" for g in sec["guardrails"]]
            lines.append("")
        if sec["significant"]:
            lines += ["| policy | metric | change [95 % interval] | relative | worlds up/down/same | p |",
                      "|---|---|---|---|---|---|"]
            lines += [f"| {_md(r['label'])} | {_md(r['metric'])} | {_md(r['change'])} | {_md(r['relative'])} "
                      f"| {_md(r['worlds'])} | {_md(r['p'])} |" for r in sec["significant"]]
        elif sec["tested"]:
            lines.append(f"No difference to the reference is significant at the 95 % level "
                         f"({sec['tested']} comparisons tested on {_md(sec['pairs'])}).")
        else:
            lines.append("No comparison was made.")
    h = c["honest"]
    lines += ["", "## Honest creators", "", "| measure | " + " | ".join(_md(x) for x in h["columns"]) + " |",
              "|---|" + "---|" * len(h["columns"])]
    for row in h["rows"]:
        cells = [cell["value"] + (f" ({cell['change']})" if cell["change"] else "") for cell in row["cells"]]
        lines.append(f"| {_md(row['metric'])} | " + " | ".join(_md(x) for x in cells) + " |")
    cal = c.get("calibration")
    if cal:
        lines += ["", "## Calibration of the world", "",
                  f"{_md(cal['scenario'])} fitted to {_md(cal['observed'])}: NRMSE {cal['nrmse']} over the fitted "
                  f"targets" + (f", {cal['nrmse_held_out']} over the held-out ones" if cal["nrmse_held_out"] else "")
                  + f" ({cal['n']} fresh replications of the best world; {cal['plausible']} plausible worlds of "
                  f"{cal['evaluations']} evaluated).", "",
                  "| target | observed | simulated | 95 % interval | normalised error | within | held out |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {_md(r['target'])} | {_md(r['observed'])} | {_md(r['simulated'])} | {_md(r['interval'])} "
                  f"| {_md(r['error'])} | {'yes' if r['within'] else 'no'} | {'yes' if r['held_out'] else ''} |"
                  for r in cal["rows"]]
        lines += ["", "| parameter | best | interval | searched | verdict |", "|---|---|---|---|---|"]
        best = {b["path"]: b["value"] for b in cal["best"]}
        lines += [f"| {_md(r['path'])} | {_md(best.get(r['path'], ''))} | {_md(r['interval'])} | {_md(r['searched'])} "
                  f"| {_md(r['verdict'])} |" for r in cal["intervals"]]
    if c.get("explore"):
        from analysis.explore_report import explore_markdown

        lines += explore_markdown(c["explore"], _md)
    if c["targets"]:
        lines += ["", "## Targets", ""]
        lines += [f"{_md(a.label)}: {a.met} of {a.n} targets met." for a in c["attainment"]]
        lines += ["", "| policy | target | observed | band | met | share met | confidence |",
                  "|---|---|---|---|---|---|---|"]
        lines += [f"| {_md(r['label'])} | {_md(r['target'])} | {_md(r['mean'])} | {_md(r['band'])} "
                  f"| {'yes' if r['met'] else 'no'} | {_md(r['share'])} | {_md(r['confidence'])} |" for r in c["targets"]]
    if c["levels"]:
        lines += ["", "## Next targets", "", "| policy | target | met in 50 % | 80 % | 95 % | current target |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {_md(r['label'])} | {_md(r['target'])} | {_md(r['p50'])} | {_md(r['p80'])} | {_md(r['p95'])} "
                  f"| {_md(r['ambition'])} |" for r in c["levels"]]
    if c["signs"]:
        lines += ["", "## Sign checks", "",
                  f"{c['signs_passed']} of {len(c['signs'])} sign checks pass, {c['signs_failed']} fail.", "",
                  "| variant | metric | difference [95 % interval] | expected | observed | result |",
                  "|---|---|---|---|---|---|"]
        lines += [f"| {_md(r['label'])} | {_md(r['metric'])} | {_md(r['change'])} | {_md(r['expected'])} "
                  f"| {_md(r['observed'])} | {_md(r['result'])} |" for r in c["signs"]]
    return "\n".join(lines) + "\n"
