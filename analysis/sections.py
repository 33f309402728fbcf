"""The tables behind the report's sections, and how their numbers are written.

Each function takes tidy frames (one row per run and market, with the ``policy`` and ``world``
columns of :func:`analysis.design.design_of`) and returns a frame or text; the report only lays
them out. Nothing here draws or writes files.
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.metrics import METRICS

__all__ = ["EXTRA_METRICS", "HEADLINE", "MECHANISM", "THEMES", "MetricInfo", "absent_mechanisms",
           "add_honest_columns", "ambition", "fmt_change", "fmt_relative", "fmt_value", "funnel_table",
           "info", "policy_levers", "target_levels_table", "theme_of"]


@dataclass(frozen=True)
class MetricInfo:
    unit: str
    description: str
    higher_is_better: bool | None


# Per-run counts the report derives from the sanctions table (after the warm-up).
EXTRA_METRICS: dict[str, MetricInfo] = {
    "honest_sanctions": MetricInfo("decisions", "enforcement decisions against honest creators", False),
    "honest_wrong_sanctions": MetricInfo("decisions", "decisions against honest creators on streams that did not "
                                         "violate (wrongly sanctioned)", False),
    "honest_wrong_bans": MetricInfo("bans", "bans of honest creators triggered by a decision on a stream that did "
                                    "not violate (wrongly banned)", False),
    "honest_appeals": MetricInfo("appeals", "appeals filed by honest creators", None),
    "honest_appeals_won": MetricInfo("appeals", "appeals by honest creators that overturned the decision", None),
}


def info(metric: str) -> MetricInfo:
    """Unit, description and better direction of a registered or report-derived metric."""
    if metric in METRICS:
        m = METRICS[metric]
        return MetricInfo(m.unit, m.description, m.higher_is_better)
    return EXTRA_METRICS.get(metric, MetricInfo("", "", None))


# The scorecard's rows, grouped as a governance review reads them.
THEMES: dict[str, tuple[str, ...]] = {
    "Buyers": ("buyer_harm", "prevalence", "harmful_gmv_share", "refund_rate", "buyer_trust", "buyer_retention"),
    "Honest creators": ("honest_creator_income", "honest_creator_retention", "honest_sanctioned_per_10k",
                        "honest_wrong_sanctions", "honest_wrong_bans", "honest_appeals_won"),
    "Adversaries": ("adversary_share", "adversary_profit", "ban_evasions"),
    "Enforcement": ("enforcement_precision", "enforcement_recall", "proactive_rate", "actions", "bans",
                    "wrongful_bans", "appeal_overturn_rate"),
    "Operations": ("time_to_action_p50_h", "time_to_action_p90_h", "review_utilisation", "pending_items",
                   "expired_items", "moderation_cost"),
    "Money": ("gmv", "net_gmv", "incentive_spend", "incentive_roi"),
}

# What the executive summary leads with, in this order of importance.
HEADLINE = ("buyer_harm", "prevalence", "honest_creator_income", "honest_wrong_sanctions", "buyer_trust",
            "adversary_profit", "gmv", "net_gmv", "enforcement_recall", "enforcement_precision",
            "time_to_action_p50_h", "moderation_cost", "wrongful_bans", "honest_creator_retention")

# A metric that means nothing when its mechanism never acts: no bans, no wrongful bans to count.
MECHANISM: dict[str, tuple[str, str]] = {
    "wrongful_bans": ("bans", "no bans"),
    "honest_wrong_bans": ("bans", "no bans"),
    "honest_wrongful_bans": ("bans", "no bans"),
    "ban_evasions": ("bans", "no bans"),
    "appeal_overturn_rate": ("appeals", "no appeals"),
    "honest_appeals_won": ("appeals", "no appeals"),
    "enforcement_precision": ("actions", "no decisions"),
    "time_to_action_p50_h": ("actions", "no decisions"),
    "time_to_action_p90_h": ("actions", "no decisions"),
    "incentive_roi": ("incentive_spend", "no incentive paid"),
    "incentive_fraud_share": ("incentive_spend", "no incentive paid"),
}


def theme_of(metric: str) -> str:
    for theme, names in THEMES.items():
        if metric in names:
            return theme
    return "Other"


# ---------------------------------------------------------------------------------------
# Numbers in words
# ---------------------------------------------------------------------------------------


def _is_share(metric: str) -> bool:
    return info(metric).unit == "share"


def fmt_value(metric: str, value: Any) -> str:
    """A metric's value as a reader wants it: shares in %, thousands separated, 3 significant digits."""
    if value is None or not isinstance(value, int | float | np.number) or value != value:
        return "n/a"
    value = float(value)
    if _is_share(metric):
        return f"{value:.2%}"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if value == int(value):
        return f"{int(value)}"
    return f"{value:.3g}"


def _signed(metric: str, value: float, sign: bool = True) -> str:
    if value != value:
        return "n/a"
    plus = "+" if sign and value > 0 else ""
    if _is_share(metric):
        return f"{plus}{value * 100:.2g} pp" if abs(value) < 0.001 else f"{plus}{value * 100:.1f} pp"
    if abs(value) >= 1000:
        return f"{plus}{value:,.0f}"
    return f"{plus}{value:.3g}"


def fmt_change(metric: str, diff: float, low: float = math.nan, high: float = math.nan) -> str:
    """``+2.2 pp [1.4, 3.0]`` for a share (percentage points), ``-1,234 [-2,000, -400]`` otherwise."""
    text = _signed(metric, diff)
    if low == low and high == high:
        unitless = _signed(metric, low, sign=False).replace(" pp", ""), _signed(metric, high, sign=False)
        text += f" [{unitless[0]}, {unitless[1].replace(' pp', '')}]"
    return text


def fmt_relative(rel: float, low: float = math.nan, high: float = math.nan) -> str:
    """``+66% [40%, 92%]``: the change relative to the reference's mean."""
    if rel != rel:
        return "n/a"

    def pct(x: float) -> str:
        if x != 0 and abs(x) < 0.001:
            return f"{x * 100:+.2g}%"
        return f"{x * 100:+.1f}%" if abs(x) < 0.1 else f"{x * 100:+.0f}%"

    text = pct(rel)
    if low == low and high == high:
        text += f" [{pct(low)}, {pct(high)}]"
    return text


# ---------------------------------------------------------------------------------------
# Honest creators, from the sanctions table
# ---------------------------------------------------------------------------------------


def add_honest_columns(frame: pd.DataFrame, sanctions: pd.DataFrame, warmup_days: int) -> pd.DataFrame:
    """``frame`` (one row per run and market) with per-run counts of decisions on honest creators
    after the warm-up: sanctioned, wrongly sanctioned (no violation), wrongly banned, appeals
    filed and won. Runs without such decisions get 0; the platform row ("all") sums the markets."""
    out = frame.copy()
    for name in EXTRA_METRICS:
        out[name] = 0.0
    if sanctions.empty or "creator_type" not in sanctions.columns or "run_id" not in sanctions.columns:
        return out
    s = sanctions[(sanctions["creator_type"].astype(str) == "honest") & (sanctions["day"] > warmup_days)]
    if s.empty:
        return out
    real = s["real"].astype(bool)
    counts = pd.DataFrame({
        "run_id": s["run_id"].astype(str),
        "market": s["market"].astype(str),
        "honest_sanctions": 1.0,
        "honest_wrong_sanctions": (~real).astype(float),
        "honest_wrong_bans": ((~real) & s["ban"].astype(bool)).astype(float),
        "honest_appeals": s["appeal"].astype(bool).astype(float),
        "honest_appeals_won": s["overturned"].astype(bool).astype(float),
    })
    per_market = counts.groupby(["run_id", "market"]).sum()
    platform = counts.drop(columns="market").groupby("run_id").sum()
    platform["market"] = "all"
    both = pd.concat([per_market.reset_index(), platform.reset_index()], ignore_index=True)
    keyed = out[["run_id", "market"]].astype(str).merge(both, on=["run_id", "market"], how="left")
    for name in EXTRA_METRICS:
        out[name] = keyed[name].fillna(0.0).to_numpy()
    return out


def absent_mechanisms(frame: pd.DataFrame, metrics: Sequence[str]) -> tuple[pd.DataFrame, dict[tuple[str, str], str]]:
    """``frame`` with each metric set to NaN for a policy whose mechanism never acted in it (for
    example wrongful bans under a ladder that never bans), and the reasons by (policy, metric).

    Such a zero is not an improvement: it reads "n/a (no bans)", is not coloured, and is not
    tested. Decided per market: ``frame`` holds one market's rows."""
    out = frame.copy()
    reasons: dict[tuple[str, str], str] = {}
    for metric in metrics:
        if metric not in MECHANISM or metric not in out.columns:
            continue
        driver, words = MECHANISM[metric]
        if driver not in out.columns:
            continue
        acted = out.groupby("policy")[driver].apply(lambda x: bool((pd.to_numeric(x, errors="coerce") > 0).any()))
        for policy, yes in acted.items():
            if not yes:
                out.loc[out["policy"] == policy, metric] = np.nan
                reasons[(str(policy), metric)] = words
    return out, reasons


# ---------------------------------------------------------------------------------------
# The variant table: resolved levers that differ from the reference
# ---------------------------------------------------------------------------------------


def _flatten(tree: Any, prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if isinstance(tree, dict):
        for k, v in tree.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
    elif isinstance(tree, list) and tree and all(isinstance(x, dict) and "name" in x for x in tree):
        for x in tree:
            out.update(_flatten({k: v for k, v in x.items() if k != "name"}, f"{prefix}.{x['name']}"))
    elif isinstance(tree, list) and tree and all(isinstance(x, dict) for x in tree):
        for i, x in enumerate(tree):  # milestones and other unnamed tables: by position
            out.update(_flatten(x, f"{prefix}.{i}"))
    else:
        out[prefix] = tree
    return out


def _resolved_levers(path: Path) -> dict[str, Any] | None:
    """The lever paths (policy, per-market overrides, preset, timeline) of a resolved scenario file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError):
        return None
    keep = {k: data[k] for k in ("policy_preset", "policy", "policy_overrides", "timeline") if k in data}
    return _flatten(keep)


def policy_levers(results: Path, variants: Sequence[str], reference_variant: str,
                  lever_changes: dict[str, dict[str, Any]], policies: Sequence[str],
                  reference_levers: dict[str, Any],
                  variant_overrides: dict[str, Any] | None = None) -> dict[str, list[tuple[str, Any, Any]]]:
    """Per policy: (dotted path, reference value, policy value) for every resolved lever that
    differs from the reference's, from the sweep's resolved scenarios (``scenarios/<variant>.toml``)
    and the policy's grid or sample point; a variant's ``policy_preset`` (from the sweep file)
    comes first. A run folder has one policy: nothing differs."""
    folder = results / "scenarios"
    resolved = {v: _resolved_levers(folder / f"{v}.toml") for v in variants} if folder.is_dir() else {}
    overrides = variant_overrides if isinstance(variant_overrides, dict) else {}

    def preset(variant: str) -> Any:
        own = overrides.get(variant)
        return own.get("policy_preset", "(the base scenario's)") if isinstance(own, dict) else None

    ref = resolved.get(reference_variant) or {}
    out: dict[str, list[tuple[str, Any, Any]]] = {}
    for pid in policies:
        variant = pid.split("@", 1)[0]
        own = resolved.get(variant) or {}
        rows = [(k, ref.get(k), own.get(k)) for k in sorted(set(ref) | set(own)) if ref.get(k) != own.get(k)]
        if preset(variant) != preset(reference_variant) and preset(variant) is not None:
            rows.insert(0, ("policy_preset", preset(reference_variant), preset(variant)))
        for k, v in (lever_changes.get(pid) or {}).items():
            rows = [r for r in rows if r[0] != k]
            rows.append((k, reference_levers.get(k), v))
        out[pid] = rows
    return out


# ---------------------------------------------------------------------------------------
# The enforcement funnel
# ---------------------------------------------------------------------------------------

FUNNEL_ROWS = (
    ("violations", "violating streams (ground truth)"),
    ("true_flags", "true flags (on real violations)"),
    ("actioned_true", "actioned violations (decisions on real violations)"),
    ("false_flags", "false flags (no violation)"),
    ("false_actions", "wrongly actioned (decisions on streams that did not violate)"),
    ("expired_items", "expired unreviewed (past the review SLA)"),
    ("pending_items", "pending at the end of the run"),
    ("appeals", "appeals filed"),
    ("overturns", "decisions overturned on appeal"),
)


def funnel_table(frame: pd.DataFrame, policies: Sequence[str]) -> pd.DataFrame:
    """Mean per run of each funnel stage per policy (rows: stages, columns: policies); the true
    branch (violations -> true flags -> actioned) and the false branch (false flags -> wrongly
    actioned) apart. Stages the results lack are left out."""
    df = frame.copy()
    if {"actions", "false_actions"} <= set(df.columns):
        df["actioned_true"] = df["actions"] - df["false_actions"]
    rows = [(k, words) for k, words in FUNNEL_ROWS if k in df.columns]
    means = df.groupby("policy")[[k for k, _ in rows]].mean()
    table = pd.DataFrame({p: [means.loc[p, k] if p in means.index else np.nan for k, _ in rows] for p in policies},
                         index=[words for _, words in rows])
    return table


# ---------------------------------------------------------------------------------------
# Target iteration: what next quarter's targets could be
# ---------------------------------------------------------------------------------------


def ambition(share_met: float) -> str:
    """How ambitious a target is, from the share of runs (or worlds) that meet it."""
    if share_met != share_met:
        return "n/a"
    if share_met >= 0.95:
        return "safe (met in at least 95 % of runs)"
    if share_met >= 0.8:
        return "achievable (80-95 %)"
    if share_met >= 0.5:
        return "ambitious (50-80 %)"
    return "stretch (met in under half of runs)"


def target_levels_table(frame: pd.DataFrame, targets: Sequence[Any], policies: Sequence[str],
                        labels: dict[str, str], n_creators: int, creator_share: dict[str, float]) -> pd.DataFrame:
    """Per policy and target metric: the value met in 50 %, 80 % and 95 % of runs (of replications
    and sampled worlds), the current band, the share of runs meeting it and how ambitious it is."""
    from analysis.stats import target_levels

    rows = []
    for t in targets:
        hib = info(t.metric).higher_is_better
        if hib is None:
            hib = t.min is not None and t.max is None
        share = 1.0 if t.market == "all" else creator_share.get(t.market, 1.0)
        base = n_creators * share
        scale = 10_000.0 / base if t.per_10k_creators and base else 1.0
        sub = frame[frame["market"] == t.market]
        for p in policies:
            values = pd.to_numeric(sub.loc[sub["policy"] == p, t.metric], errors="coerce").to_numpy(dtype=float)
            values = values[~np.isnan(values)] * scale
            if values.size == 0:
                continue
            levels = target_levels(values, higher_is_better=bool(hib))
            met = float(np.mean([t.met(v) for v in values]))
            rows.append({"policy": p, "label": labels.get(p, p), "target": t.describe(), "metric": t.metric,
                         "band": t.band_text(), "p50": levels[0.5], "p80": levels[0.8], "p95": levels[0.95],
                         "share_met": met, "ambition": ambition(met), "n": int(values.size),
                         "direction": "at least" if hib else "at most"})
    return pd.DataFrame(rows)
