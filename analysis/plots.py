"""Plots of result tables. Each function takes a DataFrame and returns a matplotlib Figure.

Names in the tables come from files (sweeps, manifests, shards), so every text in a figure is
made plain before it is returned: bidi and other control characters stripped, ``$`` escaped so
nothing is read as mathtext, TeX off (see :func:`plain_text_figure`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs headless in CI and on clusters

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, FuncFormatter, MaxNLocator, PercentFormatter

from analysis.text import mpl_text
from sim.metrics import METRICS, gini

# Within a figure function, and while a report draws and saves its figures.
PLAIN_TEXT_RC = {"text.usetex": False, "text.parse_math": True}

__all__ = [
    "FUNNEL_STAGES",
    "OVERVIEW_PANELS",
    "campaign_span",
    "daily_overview",
    "enforcement_funnel",
    "grid_heatmap",
    "lorenz",
    "pareto_front",
    "plain_text_figure",
    "scorecard",
    "tradeoff",
    "variant_series",
]

def plain_text_figure(fig: Figure) -> Figure:
    """Make every text of ``fig`` plain: controls stripped, ``$`` escaped, TeX off.

    A ``$`` in a grid value or a name would otherwise start mathtext (and ``$x^{2`` would fail
    the figure at draw time); a right-to-left override would reorder a label. Fixed tick
    labels, which matplotlib turns into text only when drawing, are cleaned in their formatter.
    Each text is cleaned once, so escaping never doubles.
    """
    seen: set[int] = set()
    texts = list(fig.findobj(Text))
    for ax in fig.axes:  # table cells are not children findobj visits
        for table in ax.tables:
            texts += [cell.get_text() for cell in table.get_celld().values()]
    for text in texts:
        if id(text) in seen:
            continue
        seen.add(id(text))
        text.set_text(mpl_text(text.get_text()))
        text.set_usetex(False)
        text.set_parse_math(True)  # with '$' escaped, this renders a literal '$'
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            for formatter in (axis.get_major_formatter(), axis.get_minor_formatter()):
                if id(formatter) in seen:
                    continue
                seen.add(id(formatter))
                if isinstance(formatter, FixedFormatter):
                    formatter.seq = [mpl_text(s) for s in formatter.seq]
                elif (isinstance(formatter, FuncFormatter) and isinstance(formatter.func, functools.partial)
                      and formatter.func.args and isinstance(formatter.func.args[0], dict)):
                    # set_ticks(labels=...) keeps the labels as a {tick: label} dict in a partial
                    labels = {k: mpl_text(v) for k, v in formatter.func.args[0].items()}
                    formatter.func = functools.partial(formatter.func.func, labels, *formatter.func.args[1:],
                                                       **formatter.func.keywords)
    return fig


def _plain_text(fn: Callable[..., Figure]) -> Callable[..., Figure]:
    """Draw with TeX off, and return the figure with plain texts only."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Figure:
        with matplotlib.rc_context(PLAIN_TEXT_RC):
            return plain_text_figure(fn(*args, **kwargs))

    return wrapper


# (title, [(metric, label)], y-axis as a percentage)
OVERVIEW_PANELS: list[tuple[str, list[tuple[str, str]], bool]] = [
    ("GMV per day", [("gmv", "GMV"), ("net_gmv", "net of refunds")], False),
    ("Harm", [("prevalence", "prevalence (views)"), ("harmful_gmv_share", "harmful GMV share")], True),
    ("Buyers", [("buyer_trust", "mean trust"), ("buyer_retention", "retention")], True),
    ("Honest creators", [("honest_creator_income", "median income / 30 d")], False),
    ("Returns", [("refund_rate", "refund rate")], True),
    ("Adversaries", [("adversary_share", "share of creators")], True),
    ("Enforcement", [("enforcement_precision", "precision"), ("enforcement_recall", "recall")], True),
    ("Review queue", [("queue_backlog", "backlog (items)")], False),
]


@_plain_text
def daily_overview(
    daily: pd.DataFrame,
    *,
    market: str = "all",
    campaigns: Sequence[dict[str, Any]] = (),
    title: str = "",
) -> Figure:
    """A 2x4 grid of the main daily metrics for one market (default: the whole platform).

    Campaign periods are shaded so their spikes are not mistaken for policy effects, and the
    warm-up (days marked ``warmup``, left out of the run summaries) is shaded grey.
    """
    df = daily[daily["market"] == market] if "market" in daily.columns else daily
    warm = df.loc[df["warmup"].astype(bool), "day"] if "warmup" in df.columns else df["day"].iloc[:0]
    warm_last = int(warm.max()) if len(warm) else 0
    fig, axes = plt.subplots(2, 4, figsize=(17, 6.5), sharex=True)
    fig.subplots_adjust(left=0.05, right=0.985, top=0.9, bottom=0.08, hspace=0.28, wspace=0.25)
    for ax, (panel, series, pct) in zip(axes.flat, OVERVIEW_PANELS, strict=False):
        for metric, label in series:
            if metric in df.columns:
                ax.plot(df["day"], df[metric], label=label, linewidth=1.2)
        for camp in campaigns:
            if market == "all" or market in camp.get("markets", []):
                ax.axvspan(camp["first_day"] - 0.5, camp["last_day"] + 0.5, color="tab:orange", alpha=0.15, lw=0)
        if warm_last:
            ax.axvspan(0.5, warm_last + 0.5, color="grey", alpha=0.15, lw=0)
        ax.set_title(panel, fontsize=10)
        if pct:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")  # a fixed corner: "best" costs seconds
    for ax in axes[-1]:
        ax.set_xlabel("day")
    suffix = "" if market == "all" else f" — market {market}"
    shaded = [*(["grey: warm-up, not in the summaries"] if warm_last else []),
              *(["orange: campaigns"] if campaigns else [])]
    fig.suptitle(f"{title}{suffix}" + (f"  (shaded {'; '.join(shaded)})" if shaded else ""), fontsize=11)
    return fig


# ---------------------------------------------------------------- comparing variants and sweeps

_FRONT_COLOR = "tab:red"
_CAMPAIGN_COLOR = "tab:orange"
FUNNEL_STAGES: tuple[str, ...] = ("violations", "flags", "reviews", "actions", "appeals", "overturns")


def _is_share(metric: str) -> bool:
    """Whether a metric is a share (0-1), so axes and labels read as percentages."""
    m = METRICS.get(metric)
    return m is not None and m.unit == "share"


def _axis_label(metric: str) -> str:
    m = METRICS.get(metric)
    return metric if m is None or m.unit == "share" else f"{metric} ({m.unit})"


def _higher_is_better(metric: str) -> bool:
    """Direction used for Pareto fronts; neutral (None) and unknown metrics count as higher-is-better."""
    m = METRICS.get(metric)
    return True if m is None or m.higher_is_better is None else m.higher_is_better


def _fmt(value: float, share: bool) -> str:
    if not np.isfinite(value):
        return "—"
    if share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _require(frame: pd.DataFrame, columns: Sequence[str], where: str) -> None:
    """Fail early with the missing names and what is available, instead of a KeyError deep in pandas."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise ValueError(
            f"{where}: column(s) {', '.join(repr(c) for c in missing)} not in the frame; "
            f"available: {', '.join(map(str, frame.columns))}"
        )


def _in_market(frame: pd.DataFrame, market: str) -> pd.DataFrame:
    return frame[frame["market"] == market] if "market" in frame.columns else frame


def campaign_span(campaign: dict[str, Any]) -> tuple[int, int]:
    """(first day, last day) of a campaign given either as run output or as a scenario timeline entry."""
    if "first_day" in campaign:
        return int(campaign["first_day"]), int(campaign["last_day"])
    start = int(campaign["start_day"])
    return start, start + int(campaign["days"]) - 1


def _shade_campaigns(ax: Any, campaigns: Sequence[dict[str, Any]], market: str) -> bool:
    """Shade campaign days that apply to ``market`` (an empty market list means every market)."""
    shaded = False
    for camp in campaigns:
        markets = camp.get("markets") or []
        if market == "all" or not markets or market in markets:
            first, last = campaign_span(camp)
            ax.axvspan(first - 0.5, last + 0.5, color=_CAMPAIGN_COLOR, alpha=0.15, lw=0)
            shaded = True
    return shaded


@_plain_text
def variant_series(
    daily: pd.DataFrame,
    metric: str,
    *,
    market: str = "all",
    point: int | None = None,
    campaigns: Sequence[dict[str, Any]] = (),
    title: str = "",
) -> Figure:
    """Mean daily series of one metric per variant, with a 95 % t-interval band over replications.

    The band shows whether a gap between variants on a given day is larger than the run-to-run
    noise; campaign periods are shaded so their spikes are not read as policy effects. With
    ``point=None`` and several grid points, each replication is first averaged over the points
    (replications share seeds across points), so the band still reflects replication noise.
    Bands of share metrics are clipped to [0, 1].
    """
    from scipy import stats  # imported here: it is slow to import and daily_overview does not need it

    _require(daily, ["day", metric], "variant_series")
    df = _in_market(daily, market)
    n_points = 1
    if "point" in df.columns:
        if point is not None:
            df = df[df["point"] == point]
            if df.empty:
                raise ValueError(f"variant_series: no rows for point={point} in market {market!r}")
        n_points = int(df["point"].nunique())
    df = df.assign(
        _variant=df["variant"].astype(str) if "variant" in df.columns else "all",
        _rep=df["replication"] if "replication" in df.columns else df.get("run_id", 0),
    )
    per_rep = df.groupby(["_variant", "_rep", "day"], sort=False)[metric].mean().reset_index()
    g = per_rep.groupby(["_variant", "day"], sort=False)[metric]
    agg = pd.DataFrame({"mean": g.mean(), "sd": g.std(ddof=1), "n": g.count()}).reset_index()
    n = agg["n"].to_numpy(dtype=float)
    half = np.full(n.size, np.nan)
    ok = n >= 2
    half[ok] = stats.t.ppf(0.975, n[ok] - 1) * agg["sd"].to_numpy()[ok] / np.sqrt(n[ok])
    agg["low"] = agg["mean"] - half
    agg["high"] = agg["mean"] + half
    if _is_share(metric):  # a share cannot leave [0, 1], whatever a symmetric interval says
        agg[["low", "high"]] = agg[["low", "high"]].clip(0.0, 1.0)

    fig, ax = plt.subplots(figsize=(9, 4.5), layout="constrained")
    shaded = _shade_campaigns(ax, campaigns, market)
    for i, (variant, s) in enumerate(agg.groupby("_variant", sort=False)):
        s = s.sort_values("day")
        color = f"C{i}"
        ax.plot(s["day"], s["mean"], color=color, lw=1.6, label=str(variant))
        if s["low"].notna().any():
            ax.fill_between(s["day"], s["low"], s["high"], color=color, alpha=0.2, lw=0)
    if _is_share(metric):
        ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("day")
    ax.set_ylabel(_axis_label(metric))
    ax.grid(alpha=0.3)
    ax.legend(title="variant", fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    reps = int(per_rep.groupby("_variant")["_rep"].nunique().max()) if len(per_rep) else 0
    notes = [f"market {market}"]
    if point is not None:
        notes.append(f"point {point}")
    elif n_points > 1:
        notes.append(f"mean over {n_points} grid points")
    notes.append(f"band: 95 % t-interval over {reps} replications")
    if shaded:
        notes.append("shaded: campaigns")
    fig.suptitle(f"{title or metric}\n" + " · ".join(notes), fontsize=10)
    return fig


def pareto_front(frame: pd.DataFrame, x: str, y: str, x_better: bool, y_better: bool) -> np.ndarray:
    """Boolean mask of the rows no other row dominates (at least as good on both, better on one).

    ``x_better`` / ``y_better`` say whether higher values are better. Identical rows do not
    dominate each other; rows with a missing value are never on the front.
    """
    a = frame[x].to_numpy(dtype=float) * (1.0 if x_better else -1.0)
    b = frame[y].to_numpy(dtype=float) * (1.0 if y_better else -1.0)
    # dominated[i]: some j is >= on both and > on one (rows i, columns j).
    ge = (a[None, :] >= a[:, None]) & (b[None, :] >= b[:, None])
    gt = (a[None, :] > a[:, None]) | (b[None, :] > b[:, None])
    dominated = (ge & gt).any(axis=1)
    return ~dominated & np.isfinite(a) & np.isfinite(b)


def _ci_err(frame: pd.DataFrame, col: str) -> np.ndarray | None:
    lo, hi = f"{col}_ci_low", f"{col}_ci_high"
    if lo not in frame.columns or hi not in frame.columns:
        return None
    v = frame[col].to_numpy(dtype=float)
    return np.vstack([v - frame[lo].to_numpy(dtype=float), frame[hi].to_numpy(dtype=float) - v]).clip(min=0)


@_plain_text
def tradeoff(
    points: pd.DataFrame,
    x: str,
    y: str,
    *,
    label: str = "variant",
    x_better: bool | None = None,
    y_better: bool | None = None,
    title: str = "",
) -> Figure:
    """Scatter of policies on two metrics with the Pareto front marked, to show what each choice trades.

    One row per variant or grid point; ``{x,y}_ci_low`` / ``_ci_high`` columns, when present, are
    drawn as error bars so a front member within noise of a dominated point is not over-read.
    Directions default to ``METRICS[...].higher_is_better`` (neutral metrics: higher is better).
    Rows at identical coordinates share one annotation listing their labels.
    """
    _require(points, [x, y, label], "tradeoff")
    xb = _higher_is_better(x) if x_better is None else x_better
    yb = _higher_is_better(y) if y_better is None else y_better
    df = points.reset_index(drop=True)
    front = pareto_front(df, x, y, xb, yb)
    xs, ys = df[x].to_numpy(dtype=float), df[y].to_numpy(dtype=float)

    fig, ax = plt.subplots(figsize=(7.5, 5.5), layout="constrained")
    xerr, yerr = _ci_err(df, x), _ci_err(df, y)
    if xerr is not None or yerr is not None:
        ax.errorbar(xs, ys, xerr=xerr, yerr=yerr, fmt="none", ecolor="0.6", elinewidth=1, capsize=2, zorder=1)
    ax.scatter(xs[~front], ys[~front], s=36, color="0.45", zorder=2, label="dominated")
    order = np.argsort(xs[front], kind="stable")
    ax.plot(xs[front][order], ys[front][order], color=_FRONT_COLOR, lw=1.2, alpha=0.7, zorder=2)
    ax.scatter(xs[front], ys[front], s=60, color=_FRONT_COLOR, edgecolor="black", zorder=3, label="Pareto front")
    # Rows at the same place (e.g. a lever with no effect) share one annotation, not overprinted ones.
    labels = pd.DataFrame({"x": xs, "y": ys, "text": df[label].astype(str)})
    for (xi, yi), g in labels.groupby(["x", "y"], sort=False):
        ax.annotate(", ".join(g["text"]), (xi, yi), xytext=(4, 4), textcoords="offset points", fontsize=8)
    for axis, metric in ((ax.xaxis, x), (ax.yaxis, y)):
        if _is_share(metric):
            axis.set_major_formatter(PercentFormatter(1.0))
    arrow = {True: "higher is better", False: "lower is better"}
    ax.set_xlabel(f"{_axis_label(x)} — {arrow[xb]}")
    ax.set_ylabel(f"{_axis_label(y)} — {arrow[yb]}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title or f"{y} vs {x}", fontsize=10)
    return fig


@_plain_text
def grid_heatmap(
    summary: pd.DataFrame,
    metric: str,
    x: str,
    y: str,
    *,
    variant: str | None = None,
    market: str = "all",
    title: str = "",
) -> Figure:
    """Mean of a metric over replications for each cell of a 2-D parameter grid, annotated.

    Shows where in the grid a metric changes and whether the two parameters interact. With
    ``variant=None`` each variant gets its own panel on a shared colour scale; the colour map runs
    red (bad) to green (good) for metrics with a direction. Other swept parameters that vary
    within a cell are averaged over, and the subtitle says so.
    """
    _require(summary, [x, y, metric], "grid_heatmap")
    df = _in_market(summary, market)
    if variant is not None:
        df = df[df["variant"] == variant]
    if df.empty:
        raise ValueError(f"grid_heatmap: no rows for variant={variant!r}, market={market!r}")
    groups = list(df.groupby("variant", sort=False)) if "variant" in df.columns else [("all", df)]
    xs = np.sort(df[x].unique())
    ys = np.sort(df[y].unique())
    tables = [
        (str(name), g.groupby([y, x])[metric].mean().unstack(x).reindex(index=ys, columns=xs))
        for name, g in groups
    ]
    values = np.concatenate([t.to_numpy(dtype=float).ravel() for _, t in tables])
    vmin, vmax = (np.nanmin(values), np.nanmax(values)) if np.isfinite(values).any() else (0.0, 1.0)
    better = METRICS[metric].higher_is_better if metric in METRICS else None
    cmap = {True: "RdYlGn", False: "RdYlGn_r", None: "viridis"}[better]
    share = _is_share(metric)

    fig, axes = plt.subplots(
        1, len(tables), figsize=(1.2 + 0.9 * len(xs) * len(tables) + 1.6 * len(tables), 1.8 + 0.6 * len(ys)),
        layout="constrained", squeeze=False, sharey=True,
    )
    image = None
    for ax, (name, table) in zip(axes[0], tables, strict=True):
        arr = table.to_numpy(dtype=float)
        image = ax.imshow(arr, origin="lower", aspect="auto", cmap=cmap, vmin=vmin, vmax=vmax)
        for (i, j), v in np.ndenumerate(arr):
            if np.isfinite(v):
                r, g, b, _ = image.cmap(image.norm(v))
                ink = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
                ax.text(j, i, _fmt(v, share), ha="center", va="center", fontsize=8, color=ink)
        ax.set_xticks(range(len(xs)), [f"{v:g}" if isinstance(v, float) else str(v) for v in xs])
        ax.set_yticks(range(len(ys)), [f"{v:g}" if isinstance(v, float) else str(v) for v in ys])
        ax.set_xlabel(x)
        ax.set_title(name, fontsize=10)
    axes[0, 0].set_ylabel(y)
    cbar = fig.colorbar(image, ax=list(axes[0]), shrink=0.9)
    cbar.set_label(_axis_label(metric))
    if share:
        cbar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    others = [c for c in df.columns if "." in str(c) and c not in (x, y) and df[c].nunique() > 1]
    note = f"mean over replications · market {market}"
    if others:
        note += f" · averaged over {', '.join(others)}"
    fig.suptitle(f"{title or metric}\n{note}", fontsize=10)
    return fig


@_plain_text
def lorenz(creators: pd.DataFrame, *, value: str = "gmv", by: str = "variant", title: str = "") -> Figure:
    """Lorenz curve of creator ``value`` per group, pooled over runs, with each group's Gini.

    Shows whether a policy concentrates income in fewer creators, which a mean cannot. Negative
    values are clipped to zero, as ``sim.metrics.gini`` does, so curve and Gini agree.
    """
    _require(creators, [value, by], "lorenz")
    fig, ax = plt.subplots(figsize=(6, 5.5), layout="constrained")
    ax.plot([0, 1], [0, 1], color="0.5", ls="--", lw=1, label="equality")
    for i, (name, g) in enumerate(creators.groupby(by, sort=False)):
        v = np.sort(np.clip(g[value].to_numpy(dtype=float), 0.0, None))
        v = v[np.isfinite(v)]
        total = v.sum()
        if v.size == 0 or total <= 0:
            continue
        share = np.concatenate([[0.0], np.cumsum(v) / total])
        pop = np.linspace(0.0, 1.0, share.size)
        # Thin very long curves: the shape is exact at the kept points, and drawing stays fast.
        keep = np.unique(np.linspace(0, share.size - 1, min(share.size, 2001)).round().astype(int))
        label = f"{name} (Gini {gini(v):.3f}, n={v.size:,})"
        ax.plot(pop[keep], share[keep], color=f"C{i}", lw=1.6, label=label)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0))
    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_aspect("equal")
    ax.set_xlabel("share of creators (poorest first)")
    ax.set_ylabel(f"share of {value}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left")
    ax.set_title(title or f"Concentration of creator {value} by {by}", fontsize=10)
    return fig


@_plain_text
def enforcement_funnel(
    summary: pd.DataFrame,
    *,
    market: str = "all",
    variants: Sequence[str] | None = None,
    title: str = "",
) -> Figure:
    """Mean per run of each enforcement stage, violations to overturns, one funnel per variant.

    Shows where cases drop out (never flagged, never reviewed, not confirmed, not appealed).
    Violations are ground truth and flags include false reports, so flags can exceed violations;
    from flags on each stage is a subset of the one before, and its share of it is annotated.
    """
    _require(summary, [*FUNNEL_STAGES, "variant"], "enforcement_funnel")
    df = _in_market(summary, market)
    names = list(pd.unique(df["variant"].astype(str))) if variants is None else list(variants)
    unknown = sorted(set(names) - set(df["variant"].astype(str)))
    if unknown:
        raise ValueError(f"enforcement_funnel: variant(s) {unknown} not in the frame (market {market!r})")
    means = df.groupby(df["variant"].astype(str))[list(FUNNEL_STAGES)].mean().reindex(names)
    top = float(np.nanmax(means.to_numpy())) if means.size else 1.0

    fig, axes = plt.subplots(
        1, len(names), figsize=(1.5 + 3.6 * len(names), 3.4), layout="constrained", squeeze=False, sharey=True,
    )
    ypos = np.arange(len(FUNNEL_STAGES))
    for ax, name in zip(axes[0], names, strict=True):
        vals = means.loc[name].to_numpy(dtype=float)
        colors = ["0.6", *[f"C{i}" for i in range(len(FUNNEL_STAGES) - 1)]]
        bars = ax.barh(ypos, vals, color=colors, height=0.7)
        labels = [_fmt(vals[0], False), _fmt(vals[1], False)]
        for prev, v in pairwise(vals[1:]):
            labels.append(f"{_fmt(v, False)} ({v / prev:.0%})" if prev > 0 else _fmt(v, False))
        ax.bar_label(bars, labels=labels, padding=3, fontsize=8)
        ax.set_xlim(0, top * 1.45 if top > 0 else 1)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("mean per run")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(ypos, list(FUNNEL_STAGES))
    axes[0, 0].invert_yaxis()
    fig.suptitle(
        f"{title or 'Enforcement funnel'}\nmarket {market} · (%) share of the stage above · violations are ground truth",
        fontsize=10,
    )
    return fig


@_plain_text
def scorecard(table: pd.DataFrame, *, title: str = "", colors: pd.DataFrame | None = None) -> Figure:
    """A DataFrame (rows = variants, columns = metrics) drawn as a table, for slides and reports.

    Cells may be preformatted strings or numbers (shown with 3 significant digits). ``colors``,
    of the same shape, gives each cell's background (e.g. green for better, red for worse) so a
    reader sees the direction of each effect without reading every number. The figure is sized
    from the text lengths, so a wide or long table stays legible.
    """
    if colors is not None and colors.shape != table.shape:
        raise ValueError(f"scorecard: colors has shape {colors.shape}, the table has shape {table.shape}")
    if colors is not None and set(colors.index) == set(table.index) and set(colors.columns) == set(table.columns):
        colors = colors.reindex(index=table.index, columns=table.columns)

    def cell(v: Any) -> str:
        if isinstance(v, str):
            return v
        if v is None or (isinstance(v, float) and not np.isfinite(v)):
            return "—"
        return f"{v:,.3g}" if isinstance(v, float) else str(v)

    header = [str(table.index.name or ""), *map(str, table.columns)]
    body = [[str(idx), *map(cell, row)] for idx, row in zip(table.index, table.itertuples(index=False), strict=True)]
    chars = [max(len(r[j]) for r in [header, *body]) for j in range(len(header))]
    col_in = [0.3 + 0.085 * c for c in chars]  # inches per column at fontsize 9
    row_in, title_in = 0.32, 0.55 if title else 0.1
    width, height = sum(col_in), row_in * (len(body) + 1)
    fig = plt.figure(figsize=(width + 0.2, height + title_in + 0.1))
    ax = fig.add_axes((0.1 / (width + 0.2), 0.05 / (height + title_in + 0.1), width / (width + 0.2),
                       height / (height + title_in + 0.1)))
    ax.axis("off")
    cell_colours = [["#eeeeee", *(["white"] * table.shape[1])] for _ in body]
    if colors is not None:
        for i, row in enumerate(colors.itertuples(index=False)):
            cell_colours[i][1:] = [c if isinstance(c, str) and c else "white" for c in row]
    tab = ax.table(
        cellText=body, colLabels=header, cellColours=cell_colours, colColours=["#dddddd"] * len(header),
        colWidths=[w / width for w in col_in], cellLoc="center", bbox=(0, 0, 1, 1),
    )
    tab.auto_set_font_size(False)
    tab.set_fontsize(9)
    for (r, c), cell_ in tab.get_celld().items():
        if r == 0 or c == 0:
            cell_.get_text().set_fontweight("bold")
    if title:
        fig.suptitle(title, fontsize=11, y=1 - 0.1 / (height + title_in + 0.1), va="top")
    return fig
