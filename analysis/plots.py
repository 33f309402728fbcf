"""Plots of result tables. Each function takes a DataFrame and returns a matplotlib Figure.

Count axes carry thousands separators and share axes read as percentages (or percentage points
for changes). A metric that never changes is not worth a figure: :func:`is_flat` and
:func:`flat_series_note` let a report print one line instead.

Names in the tables come from files (sweeps, manifests, shards), so every text in a figure is
made plain before it is returned: bidi and other control characters stripped, ``$`` escaped so
nothing is read as mathtext, TeX off (see :func:`plain_text_figure`).
"""

from __future__ import annotations

import functools
import textwrap
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs headless in CI and on clusters

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.collections import LineCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle
from matplotlib.text import Text
from matplotlib.ticker import FixedFormatter, Formatter, FuncFormatter, MaxNLocator, PercentFormatter

from analysis.text import mpl_text
from sim.metrics import METRICS, gini

# Within a figure function, and while a report draws and saves its figures.
PLAIN_TEXT_RC = {"text.usetex": False, "text.parse_math": True}

__all__ = [
    "FUNNEL_FALSE",
    "FUNNEL_STAGES",
    "FUNNEL_TRUE",
    "OVERVIEW_PANELS",
    "campaign_span",
    "daily_overview",
    "enforcement_funnel",
    "flat_series_note",
    "grid_heatmap",
    "is_flat",
    "lorenz",
    "paired_tradeoff",
    "pareto_front",
    "plain_text_figure",
    "signal_timeline",
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


# ---------------------------------------------------------------- numbers on axes and flat series

class _NumberFormatter(Formatter):
    """Tick labels with thousands separators and as many decimals as the ticks need to differ.

    ``scale`` multiplies values first (100 for a share shown in percent or percentage points),
    ``signed`` puts a ``+`` on positive values (changes), ``suffix`` follows the number.
    """

    def __init__(self, *, scale: float = 1.0, signed: bool = False, suffix: str = "") -> None:
        self.scale, self.signed, self.suffix = scale, signed, suffix
        self._ticks = np.empty(0)

    def set_locs(self, locs: Sequence[float]) -> None:
        """Remember the tick positions the axis is about to label (called before labelling)."""
        super().set_locs(locs)
        self._ticks = np.asarray(locs, dtype=float)

    def _decimals(self) -> int:
        locs = self._ticks * self.scale
        locs = np.sort(locs[np.isfinite(locs)])
        steps = np.diff(locs)
        steps = steps[steps > 0]
        if steps.size:
            step = float(steps.min())
        elif self.axis is not None:
            lo, hi = self.axis.get_view_interval()
            step = abs(hi - lo) * self.scale / 5
        else:
            step = 1.0
        return _decimals_for(locs, step)

    def __call__(self, x: float, pos: int | None = None) -> str:
        return _number_text(x * self.scale, self._decimals(), signed=self.signed, suffix=self.suffix)


def _decimals_for(values: np.ndarray, step: float) -> int:
    """Fewest decimals (0-6) that write every value exactly, or that resolve ``step`` if none are given."""
    if not np.isfinite(step) or step <= 0:
        return 0
    tol = step * 1e-6
    for d in range(7):
        if (values.size and np.all(np.abs(values - np.round(values, d)) <= tol)) or \
                (not values.size and 10.0 ** -d <= step * (1 + 1e-9)):
            return d
    return 6


def _number_text(value: float, decimals: int, *, signed: bool = False, suffix: str = "") -> str:
    """``value`` with thousands separators, ``decimals`` decimals, a typographic minus and ``suffix``."""
    if not np.isfinite(value):
        return "—"
    value = round(float(value), decimals)
    if value == 0:
        text = "0" if signed else f"{0:.{decimals}f}"
    else:
        text = f"{value:{'+' if signed else ''},.{decimals}f}"
    return Formatter.fix_minus(text) + suffix


def _count_axis(axis: Any) -> None:
    """Thousands separators (and only the decimals the ticks need) on a count or money axis."""
    axis.set_major_formatter(_NumberFormatter())


def _value_axis(axis: Any, metric: str) -> None:
    """Percentages on a share axis, thousands separators on any other."""
    if _is_share(metric):
        axis.set_major_formatter(PercentFormatter(1.0))
    else:
        _count_axis(axis)


def _as_values(values: Any) -> np.ndarray:
    """One flat float array of a series, an array, a frame, or a sequence of series of any lengths."""
    try:
        if isinstance(values, pd.DataFrame):
            return values.to_numpy(dtype=float).ravel()
        if isinstance(values, list | tuple) and any(np.ndim(v) > 0 for v in values):
            parts = [np.asarray(v, dtype=float).ravel() for v in values]
            return np.concatenate(parts) if parts else np.empty(0)
        return np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"is_flat: values must be numbers (got {type(values).__name__}: {exc})") from None


def is_flat(values: Any, *, rel_tol: float = 1e-9) -> bool:
    """True when every value is the same: nothing for a figure to show.

    ``values`` is one series, an array, a frame, or a sequence of series (all the lines of one
    figure, judged together). NaNs are ignored and no values at all count as flat. Values within
    ``rel_tol`` of each other (relative to the larger magnitude) count as equal, so float noise
    in a constant does not make a chart. For an analyst: a flat metric (e.g. a review backlog
    that is 0 every day) is a finding to state in a sentence, not a line to squint at.
    """
    if not rel_tol >= 0:
        raise ValueError(f"is_flat: rel_tol must be >= 0, got {rel_tol!r}")
    arr = _as_values(values)
    arr = arr[~np.isnan(arr)]
    if arr.size == 0:
        return True
    lo, hi = float(arr.min()), float(arr.max())
    if lo == hi:
        return True
    spread = hi - lo
    return bool(np.isfinite(spread) and spread <= rel_tol * max(abs(lo), abs(hi)))


def _value_text(metric: str, value: float) -> str:
    if _is_share(metric):
        return f"{value:.1%}"
    return f"{value:,.6g}"


def flat_series_note(daily: pd.DataFrame, metric: str, market: str = "all") -> str | None:
    """None when ``metric`` varies in ``market``; else a one-line note saying it is constant.

    The note (e.g. ``"queue_backlog is 0 on every day of every run (market all): not plotted"``)
    is what a report prints instead of a flat chart, so readers learn the value without a chart
    whose autoscaled axis would make nothing look like something. Every day of every run in the
    frame counts (warm-up included), as :func:`variant_series` draws them.
    """
    _require(daily, [metric], "flat_series_note")
    df = _in_market(daily, market)
    if "market" in daily.columns and df.empty:
        raise ValueError(f"flat_series_note: market {market!r} not in the frame; markets: "
                         f"{', '.join(map(str, pd.unique(daily['market'])))}")
    values = df[metric]
    if not is_flat(values):
        return None
    finite = values.dropna()
    if finite.empty:
        return f"{metric} has no value on any day of any run (market {market}): not plotted"
    return f"{metric} is {_value_text(metric, float(finite.median()))} on every day of every run " \
           f"(market {market}): not plotted"


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
    actions: pd.DataFrame | None = None,
) -> Figure:
    """A 2x4 grid of the main daily metrics for one market (default: the whole platform).

    Campaign periods are shaded so their spikes are not mistaken for policy effects, and the
    warm-up (days marked ``warmup``, left out of the run summaries) is shaded grey. Controller
    actions (``actions``: day, controller, market, change, reason) are drawn as dotted purple
    lines on the days they were taken (the market's own, or every market's for the platform).
    """
    df = daily[daily["market"] == market] if "market" in daily.columns else daily
    warm = df.loc[df["warmup"].astype(bool), "day"] if "warmup" in df.columns else df["day"].iloc[:0]
    warm_last = int(warm.max()) if len(warm) else 0
    action_days: list[int] = []
    if actions is not None and len(actions):
        mine = actions if market == "all" else actions[actions["market"] == market]
        action_days = sorted({int(d) for d in mine["day"]})
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
        for day in action_days:
            ax.axvline(day, color="tab:purple", linestyle=":", linewidth=0.8, alpha=0.7)
        ax.set_title(panel, fontsize=10)
        if pct:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        else:
            _count_axis(ax.yaxis)
        drawn = [df[metric] for metric, _ in series if metric in df.columns]
        finite = pd.concat(drawn).dropna() if drawn else pd.Series(dtype=float)
        if len(finite) and is_flat(finite):  # one tick at the value, not an autoscaled axis around nothing
            value = float(finite.median())
            ax.set_yticks([value])
            shown = f"{value:.1%}" if pct else f"{value:,.6g}"
            ax.text(0.5, 0.5, f"constant: {shown} on every day", transform=ax.transAxes, ha="center",
                    va="bottom", fontsize=9, color="0.3")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")  # a fixed corner: "best" costs seconds
    for ax in axes[-1]:
        ax.set_xlabel("day")
    suffix = "" if market == "all" else f" — market {market}"
    shaded = [*(["grey: warm-up, not in the summaries"] if warm_last else []),
              *(["orange: campaigns"] if campaigns else [])]
    if action_days:
        shaded.append(f"purple dotted: {len(action_days)} days of controller actions")
    fig.suptitle(f"{title}{suffix}" + (f"  (shaded {'; '.join(shaded)})" if shaded else ""), fontsize=11)
    return fig


def signal_timeline(
    alerts: pd.DataFrame,
    signal: str,
    *,
    trends: pd.DataFrame | None = None,
    actions: pd.DataFrame | None = None,
    max_groups: int = 8,
) -> Figure:
    """One monitoring signal over a run: its observed value per group (a line each), the days it
    fired (red dots), each abuse trend's onset (dashed black; ground truth, drawn for the reader,
    never seen by the signal) and the controllers' actions (dotted purple), on one timeline.

    ``alerts`` is a run's ``alerts.parquet``; ``actions`` the ``controller`` rows of its
    ``events.parquet``. Groups beyond ``max_groups`` (those that fired most are kept) are left out
    and the title says how many.
    """
    rows = alerts[alerts["signal"].astype(str) == signal]
    if rows.empty:
        raise ValueError(f"no alerts rows for signal {signal!r}")
    fired_by_group = rows.groupby("group", observed=True)["fired"].sum().sort_values(ascending=False, kind="stable")
    groups = list(fired_by_group.index[:max_groups])
    fig, (ax_v, ax_s) = plt.subplots(2, 1, figsize=(11, 5.5), sharex=True, height_ratios=[2, 1],
                                     layout="constrained")
    for group in groups:
        g = rows[rows["group"] == group]
        (line,) = ax_v.plot(g["day"], g["value"].astype(float), linewidth=1.1, label=str(group))
        ax_s.plot(g["day"], g["score"].astype(float), linewidth=1.0, color=line.get_color())
        hit = g[g["fired"].astype(bool)]
        ax_v.scatter(hit["day"], hit["value"].astype(float), color=_FRONT_COLOR, s=14, zorder=3)
    action_days = sorted({int(d) for d in actions["day"]}) if actions is not None and len(actions) else []
    onsets = sorted({int(d) for d in trends["onset_day"]}) if trends is not None and len(trends) else []
    for ax in (ax_v, ax_s):
        for day in action_days:
            ax.axvline(day, color="tab:purple", linestyle=":", linewidth=0.8, alpha=0.7)
        for day in onsets:
            ax.axvline(day, color="black", linestyle="--", linewidth=1.0)
        ax.grid(alpha=0.3)
    ax_v.set_ylabel("observed value")
    ax_s.set_ylabel("detector score")
    ax_s.set_yscale("symlog", linthresh=1.0)  # scores near a zero-variance window spike by orders
    ax_s.set_xlabel("day")
    ax_v.legend(fontsize=8, loc="upper left", ncols=2)
    left_out = len(fired_by_group) - len(groups)
    notes = [f"{int(rows['fired'].sum())} alert days (red)",
             *([f"{len(action_days)} days of controller actions (purple)"] if action_days else []),
             *(["trend onset (dashed; ground truth)"] if onsets else []),
             *([f"{left_out} quieter groups not drawn"] if left_out > 0 else [])]
    fig.suptitle(f"signal {signal}: " + "; ".join(notes), fontsize=10)
    return fig


# ---------------------------------------------------------------- comparing variants and sweeps

_FRONT_COLOR = "tab:red"
_CAMPAIGN_COLOR = "gold"  # not in the line colour cycle: a campaign is never mistaken for a policy
_CAMPAIGN_EDGE = "darkgoldenrod"
FUNNEL_STAGES: tuple[str, ...] = ("violations", "flags", "reviews", "actions", "appeals", "overturns")
# The two branches of the enforcement funnel. "true_actions" is actions - false_actions (decisions on
# streams that really violated); every other name is a summary column.
FUNNEL_TRUE: tuple[str, ...] = ("violations", "true_flags", "true_actions")
FUNNEL_FALSE: tuple[str, ...] = ("false_flags", "false_actions")
_FUNNEL_COLUMNS: tuple[str, ...] = ("violations", "true_flags", "false_flags", "actions", "false_actions",
                                    "expired_items", "pending_items", "appeals", "overturns")
_NAME_CHARS = 40  # longest policy name in a legend before it is cut with an ellipsis


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


def _direction(metric: str) -> bool | None:
    """Which way is better for a metric: True (higher), False (lower), None (neither, or unknown)."""
    m = METRICS.get(metric)
    return None if m is None else m.higher_is_better


def _fmt(value: float, share: bool) -> str:
    if not np.isfinite(value):
        return "—"
    if share:
        return f"{value:.1%}"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"


def _ellipsis(name: str, limit: int = _NAME_CHARS) -> str:
    """``name`` cut to ``limit`` characters, the last one an ellipsis, when it is longer."""
    return name if len(name) <= limit else name[: limit - 1] + "…"


def _wrap(text: str, width_in: float, fontsize: float = 10) -> str:
    """``text`` broken into lines that fit ``width_in`` inches at ``fontsize`` (existing line breaks kept)."""
    chars = max(20, int(width_in * 72 / (fontsize * 0.6)))
    return "\n".join(textwrap.fill(line, chars) if line else line for line in text.split("\n"))


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
    """Shade and name the campaign days that apply to ``market`` (an empty market list means every market).

    Hatched, edged and named at the top of the span so the shading survives printing in grey and
    a reader knows which sale a spike belongs to; the first span carries the legend entry "campaign".
    """
    shaded = False
    for camp in campaigns:
        markets = camp.get("markets") or []
        if market == "all" or not markets or market in markets:
            first, last = campaign_span(camp)
            ax.axvspan(first - 0.5, last + 0.5, facecolor=to_rgba(_CAMPAIGN_COLOR, 0.25),
                       edgecolor=to_rgba(_CAMPAIGN_EDGE, 0.7), hatch="//", lw=0.8, zorder=0,
                       label="_nolegend_" if shaded else "campaign")
            name = str(camp.get("name") or "")
            if name:
                ax.text((first + last) / 2, 0.98, _ellipsis(name, 24), transform=ax.get_xaxis_transform(),
                        ha="center", va="top", fontsize=7, color="0.2", clip_on=True,
                        bbox={"boxstyle": "round,pad=0.15", "facecolor": "white", "edgecolor": "none",
                              "alpha": 0.75})
            shaded = True
    return shaded


def _small_range_note(metric: str, lo: float, hi: float, mean: float) -> str | None:
    """A note when the plotted values span less than 2 % of their mean: autoscaling makes such gaps look big."""
    if not (np.isfinite(lo) and np.isfinite(hi) and np.isfinite(mean)) or mean == 0 or hi <= lo:
        return None
    rel = (hi - lo) / abs(mean)
    if rel >= 0.02:
        return None
    scale, suffix = (100.0, " %") if _is_share(metric) else (1.0, "")
    lo, hi = lo * scale, hi * scale
    # Fewest decimals whose rounded ends still show the range to within 15 %.
    decimals = next((d for d in range(7) if abs((round(hi, d) - round(lo, d)) - (hi - lo)) <= 0.15 * (hi - lo)), 6)
    low, high = _number_text(lo, decimals, suffix=suffix), _number_text(hi, decimals, suffix=suffix)
    return f"y axis spans {low}–{high}: a {100 * rel:.1f} % range"


@_plain_text
def variant_series(
    daily: pd.DataFrame,
    metric: str,
    *,
    market: str = "all",
    point: int | None = None,
    group: str = "variant",
    campaigns: Sequence[dict[str, Any]] = (),
    title: str = "",
) -> Figure:
    """Mean daily series of one metric per group (variant, or e.g. ``policy``), with a 95 % t-interval band.

    Returns a figure with one line per value of the ``group`` column. The band shows whether a gap
    between lines on a given day is larger than the run-to-run noise; campaign periods are shaded,
    hatched and named so their spikes are not read as policy effects. With ``point=None`` and
    several grid points in a group, each replication is first averaged over the points
    (replications share seeds across points), so the band still reflects replication noise. With
    a ``world`` column (uncertainty point and replication), runs are matched and counted by world
    instead, so the band spans the worlds, not replication numbers pooled across them. Bands
    of share metrics are clipped to [0, 1]. When everything plotted spans less than 2 % of its
    mean, a note says so: the autoscaled axis would otherwise make a small gap look dramatic.
    A flat metric raises ValueError: check :func:`is_flat` / :func:`flat_series_note` first.
    """
    from scipy import stats  # imported here: it is slow to import and daily_overview does not need it

    _require(daily, ["day", metric], "variant_series")
    if group != "variant":
        _require(daily, [group], "variant_series")
    df = _in_market(daily, market)
    n_points = 1
    if "point" in df.columns:
        if point is not None:
            df = df[df["point"] == point]
            if df.empty:
                raise ValueError(f"variant_series: no rows for point={point} in market {market!r}")
    if df.empty:
        raise ValueError(f"variant_series: no rows in market {market!r}")
    if is_flat(df[metric]):
        raise ValueError(f"variant_series: {metric} is constant in market {market!r}; "
                         f"nothing to plot (see flat_series_note)")
    rep_key = next((c for c in ("world", "replication", "run_id") if c in df.columns), None)
    df = df.assign(
        _group=df[group].astype(str) if group in df.columns else "all",
        _rep=df[rep_key] if rep_key else 0,
    )
    if "point" in df.columns and point is None:
        n_points = int(df.groupby("_group")["point"].nunique().max())
    per_rep = df.groupby(["_group", "_rep", "day"], sort=False)[metric].mean().reset_index()
    g = per_rep.groupby(["_group", "day"], sort=False)[metric]
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
    for i, (name, s) in enumerate(agg.groupby("_group", sort=False)):
        s = s.sort_values("day")
        color = f"C{i}"
        ax.plot(s["day"], s["mean"], color=color, lw=1.6, label=str(name))
        if s["low"].notna().any():
            ax.fill_between(s["day"], s["low"], s["high"], color=color, alpha=0.2, lw=0)
    _value_axis(ax.yaxis, metric)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("day")
    ax.set_ylabel(_axis_label(metric))
    ax.grid(alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()  # long names cut, so the legend cannot squeeze the axes
    ax.legend(handles, [_ellipsis(t) for t in labels], title=group, fontsize=8, loc="upper left",
              bbox_to_anchor=(1.01, 1.0))
    drawn = agg[["mean", "low", "high"]].to_numpy(dtype=float)
    drawn = drawn[np.isfinite(drawn)]
    note = _small_range_note(metric, float(drawn.min()), float(drawn.max()), float(agg["mean"].mean()))
    if note:
        ax.set_title(note, loc="left", fontsize=8, color="firebrick")
    reps = int(per_rep.groupby("_group")["_rep"].nunique().max()) if len(per_rep) else 0
    notes = [f"market {market}"]
    if point is not None:
        notes.append(f"point {point}")
    elif n_points > 1:
        notes.append(f"mean over {n_points} grid points")
    notes.append(f"band: 95 % t-interval over {reps} {'worlds' if rep_key == 'world' else 'replications'}")
    if shaded:
        notes.append("hatched: campaigns")
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
    These are each policy's own (unpaired) intervals: two that overlap can still differ clearly
    world by world, so to compare policies prefer :func:`paired_tradeoff`.
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
        _value_axis(axis, metric)
    arrow = {True: "higher is better", False: "lower is better"}
    ax.set_xlabel(f"{_axis_label(x)} — {arrow[xb]}")
    ax.set_ylabel(f"{_axis_label(y)} — {arrow[yb]}")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    ax.set_title(title or f"{y} vs {x}", fontsize=10)
    return fig


def _change_label(metric: str) -> str:
    """Axis label of a paired change: percentage points for shares, the metric's unit otherwise."""
    m = METRICS.get(metric)
    unit = "pp" if _is_share(metric) else (m.unit if m is not None else "")
    return f"change in {metric} vs reference" + (f" ({unit})" if unit else "")


def _better_arrow(ax: Any, metric: str, axis: str) -> None:
    """An arrow inside the axes, along ``axis`` ('x' or 'y'), pointing the way that is better for ``metric``."""
    better = _direction(metric)
    if better is None:
        return
    style = {"arrowstyle": "-|>", "color": "darkgreen", "lw": 1.4}
    if axis == "x":
        tail, head = ((0.80, 0.03), (0.97, 0.03)) if better else ((0.20, 0.03), (0.03, 0.03))
        ax.annotate("", xy=head, xytext=tail, xycoords="axes fraction", arrowprops=style, gid="better x")
        ax.text((tail[0] + head[0]) / 2, 0.045, "better", transform=ax.transAxes, ha="center", va="bottom",
                fontsize=8, color="darkgreen")
    else:
        tail, head = ((0.02, 0.80), (0.02, 0.97)) if better else ((0.02, 0.20), (0.02, 0.03))
        ax.annotate("", xy=head, xytext=tail, xycoords="axes fraction", arrowprops=style, gid="better y")
        ax.text(0.035, (tail[1] + head[1]) / 2, "better", transform=ax.transAxes, ha="left", va="center",
                fontsize=8, color="darkgreen", rotation=90)


@_plain_text
def paired_tradeoff(diffs: pd.DataFrame, x: str, y: str, *, title: str = "") -> Figure:
    """Each policy's paired change against a reference policy on two metrics, with the Pareto front.

    Returns a figure with the reference at the origin (a star labelled "reference") and one
    numbered marker per policy at its mean paired difference, with the paired confidence interval
    of each difference as its error bars. Paired intervals are what the significance tests use,
    so a bar that does not cross zero is a change the runs support; unpaired intervals of the two
    policies' levels could overlap even then. Shares are in percentage points (0.022 is
    "+2.2 pp"). Arrows (and, when both metrics have a direction, green/red quadrants) show which
    way is better; the line joins the Pareto front among the policies and the reference.

    ``diffs`` has one row per policy other than the reference, with columns ``policy``,
    ``{m}_diff``, ``{m}_ci_low`` and ``{m}_ci_high`` for ``m`` in (x, y). The caller passes only
    policies evaluated on the same worlds as the reference: a front across different worlds
    would compare luck, not policies. Markers are numbered 1..k in row order; the legend on the
    right maps numbers to names (cut at 40 characters), and the axes keep their size whatever the names.
    """
    if x == y:
        raise ValueError(f"paired_tradeoff: x and y are both {x!r}; pick two metrics")
    cols = {m: (f"{m}_diff", f"{m}_ci_low", f"{m}_ci_high") for m in (x, y)}
    _require(diffs, ["policy", *cols[x], *cols[y]], "paired_tradeoff")
    if diffs.empty:
        raise ValueError("paired_tradeoff: no policies to compare with the reference (the frame is empty)")
    names = diffs["policy"].astype(str)
    dup = sorted(set(names[names.duplicated()]))
    if dup:
        raise ValueError(f"paired_tradeoff: policy {dup[0]!r} has more than one row; pass one row per policy")
    df = diffs.reset_index(drop=True)
    xs, xlo, xhi = (df[c].to_numpy(dtype=float) for c in cols[x])
    ys, ylo, yhi = (df[c].to_numpy(dtype=float) for c in cols[y])
    k = len(df)

    # Front among the policies and the reference (row k, at the origin).
    both = pd.DataFrame({"x": np.append(xs, 0.0), "y": np.append(ys, 0.0)})
    xb, yb = _higher_is_better(x), _higher_is_better(y)
    front = pareto_front(both, "x", "y", xb, yb)
    shown = np.isfinite(xs) & np.isfinite(ys)

    # Fixed axes rectangle: the legend lives to its right and long names cannot squeeze it.
    height = max(5.5, 1.4 + 0.19 * (k + 4))
    fig = plt.figure(figsize=(11.0, height))
    ax = fig.add_axes((0.1, 0.9 / height, 0.58, 1.0 - 1.8 / height))
    ax.axhline(0.0, color="0.5", lw=0.8, ls="--", zorder=1)
    ax.axvline(0.0, color="0.5", lw=0.8, ls="--", zorder=1)

    x_int = [((lo, yi), (hi, yi)) for lo, hi, yi in zip(xlo, xhi, ys, strict=True)
             if np.isfinite(lo) and np.isfinite(hi) and np.isfinite(yi)]
    y_int = [((xi, lo), (xi, hi)) for lo, hi, xi in zip(ylo, yhi, xs, strict=True)
             if np.isfinite(lo) and np.isfinite(hi) and np.isfinite(xi)]
    for segments, gid in ((x_int, f"{x} interval"), (y_int, f"{y} interval")):
        ax.add_collection(LineCollection(segments, colors="0.55", linewidths=1.1, zorder=2, gid=gid,
                                         label="_nolegend_"))

    on, off = front[:k] & shown, ~front[:k] & shown
    ax.scatter(xs[off], ys[off], s=190, color="0.7", edgecolor="0.3", zorder=3, label="_dominated")
    ax.scatter(xs[on], ys[on], s=190, color="#f4a6a6", edgecolor=_FRONT_COLOR, lw=1.2, zorder=3,
               label="_on the front")
    for i in np.flatnonzero(shown):
        ax.text(xs[i], ys[i], str(i + 1), ha="center", va="center", fontsize=7, zorder=4, color="black")
    ax.scatter([0.0], [0.0], s=260, marker="*", color="black", zorder=5, label="reference")
    ax.annotate("reference", (0.0, 0.0), xytext=(7, -11), textcoords="offset points", fontsize=8)
    fx, fy = both["x"].to_numpy()[front], both["y"].to_numpy()[front]
    order = np.lexsort((fy, fx))
    ax.plot(fx[order], fy[order], color=_FRONT_COLOR, lw=1.3, alpha=0.8, zorder=2, label="Pareto front")

    # Limits from everything drawn (points, intervals, origin), padded, so the quadrants can be fixed.
    lims = []
    for vals, metric in (((xs, xlo, xhi), x), ((ys, ylo, yhi), y)):
        v = np.concatenate([*vals, [0.0]])
        v = v[np.isfinite(v)]
        lo, hi = float(v.min()), float(v.max())
        pad = (hi - lo) * 0.08 if hi > lo else 0.01 if _is_share(metric) else max(abs(hi), 1.0) * 0.1
        lims.append((lo - pad, hi + pad))
    ax.set_xlim(*lims[0])
    ax.set_ylim(*lims[1])
    bx, by = _direction(x), _direction(y)
    if bx is not None and by is not None:  # shade "better on both" green and "worse on both" red
        (x0, x1), (y0, y1) = lims
        good_x, bad_x = ((0.0, x1), (x0, 0.0)) if bx else ((x0, 0.0), (0.0, x1))
        good_y, bad_y = ((0.0, y1), (y0, 0.0)) if by else ((y0, 0.0), (0.0, y1))
        for (ax0, ax1), (ay0, ay1), color, gid in ((good_x, good_y, "tab:green", "better on both"),
                                                    (bad_x, bad_y, "tab:red", "worse on both")):
            ax.add_patch(Rectangle((ax0, ay0), ax1 - ax0, ay1 - ay0, facecolor=to_rgba(color, 0.07),
                                   edgecolor="none", zorder=0, gid=gid))
    _better_arrow(ax, x, "x")
    _better_arrow(ax, y, "y")

    for axis, metric in ((ax.xaxis, x), (ax.yaxis, y)):
        if _is_share(metric):
            axis.set_major_formatter(_NumberFormatter(scale=100.0, signed=True, suffix=" pp"))
        else:
            axis.set_major_formatter(_NumberFormatter(signed=True))
    ax.set_xlabel(_change_label(x))
    ylabel = _change_label(y)
    if len(ylabel) > (height - 1.8) * 72 / 6:  # longer than the axis at 10 pt: two lines, then wrap
        ylabel = _wrap(ylabel.replace(" vs reference", "\nvs reference"), height - 1.8)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)

    handles: list[Any] = [
        Line2D([], [], ls="none", marker="*", markersize=12, color="black", label="reference (at 0, 0)"),
        Line2D([], [], color=_FRONT_COLOR, lw=1.3, label="Pareto front"),
    ]
    for i, name in enumerate(names):
        face = "#f4a6a6" if front[i] else "0.7"
        text = _ellipsis(name) + ("" if shown[i] else " (no value)")
        handles.append(Line2D([], [], ls="none", marker=f"${i + 1}$", markersize=9 if i < 9 else 12,
                              color="black", markerfacecolor=face, label=text))
    ax.legend(handles=handles, fontsize=8, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
              title="policies", title_fontsize=8, frameon=False)
    neutral = [m for m in (x, y) if _direction(m) is None]
    sub = "paired differences to the reference on the same worlds; bars: paired confidence intervals"
    if neutral:
        sub += f"; front takes higher as better for {', '.join(neutral)} (no preferred direction)"
    fig.suptitle(_wrap(f"{title or f'{y} vs {x}'}\n{sub}", 0.7 * 11.0), fontsize=10, x=0.1 + 0.29,
                 y=1.0 - 0.08 / height, va="top")
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

    def tick(v: Any) -> str:
        if isinstance(v, bool | np.bool_):
            return str(v)
        if isinstance(v, int | np.integer):
            return f"{v:,}"
        return f"{v:,g}" if isinstance(v, float | np.floating) else str(v)

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
        ax.set_xticks(range(len(xs)), [tick(v) for v in xs])
        ax.set_yticks(range(len(ys)), [tick(v) for v in ys])
        ax.set_xlabel(x)
        ax.set_title(name, fontsize=10)
    axes[0, 0].set_ylabel(y)
    cbar = fig.colorbar(image, ax=list(axes[0]), shrink=0.9)
    cbar.set_label(_axis_label(metric))
    _value_axis(cbar.ax.yaxis, metric)
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


# (key, tick label, parent key for the share annotation, colour); None as key: a gap between branches.
_FUNNEL_ROWS: tuple[tuple[str | None, str, str | None, str], ...] = (
    ("violations", "violations (ground truth)", None, "0.35"),
    ("true_flags", "→ true flags", "violations", "#2c7fb8"),
    ("true_actions", "→ actioned (true)", "true_flags", "#7fcdbb"),
    (None, "", None, ""),
    ("false_flags", "false flags", "flags", "#de2d26"),
    ("false_actions", "→ wrongly actioned", "false_flags", "#fc9272"),
    (None, "", None, ""),
    ("expired_items", "expired unreviewed", "flags", "0.6"),
    ("pending_items", "pending at the end", "flags", "0.75"),
    (None, "", None, ""),
    ("appeals", "appeals", "actions", "#756bb1"),
    ("overturns", "→ overturned", "appeals", "#bcbddc"),
)
_PARENT_NAMES = {"violations": "violations", "true_flags": "true flags", "flags": "flags",
                 "false_flags": "false flags", "actions": "actions", "appeals": "appeals"}


def _funnel_means(df: pd.DataFrame, group: str, names: Sequence[str]) -> pd.DataFrame:
    """Mean per run of each stage of the two-branch funnel (and of all flags), one row per group."""
    rows = df.assign(true_actions=df["actions"] - df["false_actions"],
                     flags=df["true_flags"] + df["false_flags"])
    keys = [k for k, *_ in _FUNNEL_ROWS if k is not None]
    return rows.groupby(rows[group].astype(str))[[*keys, "flags", "actions"]].mean().reindex(names)


def _check_funnel_rows(df: pd.DataFrame) -> None:
    """Refuse a table whose flags do not add up or with more wrong decisions than decisions."""
    if "flags" in df.columns:
        total = df["true_flags"] + df["false_flags"]
        bad = ~np.isclose(total, df["flags"], rtol=1e-9, atol=1e-9) & df["flags"].notna() & total.notna()
        if bad.any():
            i = bad.to_numpy().nonzero()[0][0]
            raise ValueError(f"enforcement_funnel: true_flags + false_flags != flags in {int(bad.sum())} of "
                             f"{len(df)} rows (first: {total.iloc[i]:g} vs {df['flags'].iloc[i]:g}); "
                             "the table mixes metric definitions")
    over = df["false_actions"] > df["actions"]
    if over.any():
        raise ValueError(f"enforcement_funnel: false_actions > actions in {int(over.sum())} of {len(df)} rows")


@_plain_text
def enforcement_funnel(
    summary: pd.DataFrame,
    *,
    market: str = "all",
    variants: Sequence[str] | None = None,
    group: str = "variant",
    title: str = "",
) -> Figure:
    """Mean per run of each enforcement stage, true and false flags apart, one panel per group.

    Returns a figure with one panel per value of ``group`` (a variant by default; ``variants``
    picks and orders them), four panels to a row. Two branches show where cases go: "violations ->
    true flags -> actioned (true)" and "false flags -> wrongly actioned", then flags that expired
    unreviewed or are still pending, then appeals and overturns. Each bar is annotated with its mean
    and its share of the stage it comes from, so an analyst sees recall losses (violations never
    flagged or never actioned) apart from the cost to honest creators (false flags actioned).
    A violating stream can be flagged more than once, so true flags can exceed violations.

    Needs the summary columns violations, true_flags, false_flags, actions, false_actions,
    expired_items, pending_items, appeals and overturns (actioned (true) = actions - false_actions;
    with a ``flags`` column, true + false flags must equal it). Results without them get the older
    single-branch funnel of :data:`FUNNEL_STAGES`, and the title says so.
    """
    _require(summary, [group], "enforcement_funnel")
    missing = [c for c in _FUNNEL_COLUMNS if c not in summary.columns]
    old = bool(missing)
    if old:
        _require(summary, list(FUNNEL_STAGES), "enforcement_funnel (no true/false flag columns, older funnel)")
    df = _in_market(summary, market)
    labels = df[group].astype(str)
    names = list(pd.unique(labels)) if variants is None else [str(v) for v in variants]
    unknown = sorted(set(names) - set(labels))
    if unknown:
        raise ValueError(f"enforcement_funnel: {group}(s) {unknown} not in the frame (market {market!r})")
    if not names:
        raise ValueError(f"enforcement_funnel: no rows in market {market!r}")
    df = df[labels.isin(names)]

    if old:
        rows = [(k, k, None, "") for k in FUNNEL_STAGES]
        means = df.groupby(df[group].astype(str))[list(FUNNEL_STAGES)].mean().reindex(names)
        colors = ["0.6", *[f"C{i}" for i in range(len(FUNNEL_STAGES) - 1)]]
    else:
        _check_funnel_rows(df)
        rows = list(_FUNNEL_ROWS)
        means = _funnel_means(df, group, names)
        colors = [c for k, _, _, c in rows if k is not None]
    keys = [k for k, *_ in rows if k is not None]
    ypos = np.array([i for i, (k, *_) in enumerate(rows) if k is not None], dtype=float)
    top = float(np.nanmax(means[keys].to_numpy())) if means.size and np.isfinite(means[keys].to_numpy()).any() \
        else 1.0

    ncols = min(4, len(names))
    nrows = -(-len(names) // ncols)
    fig, axes = plt.subplots(
        nrows, ncols, figsize=(2.2 + 4.0 * ncols, 0.9 + (0.36 * len(rows) + 0.9) * nrows),
        layout="constrained", squeeze=False, sharey=True,
    )
    for extra in axes.flat[len(names):]:
        fig.delaxes(extra)
    for ax, name in zip(axes.flat, names, strict=False):
        vals = means.loc[name, keys].to_numpy(dtype=float)
        bars = ax.barh(ypos, vals, color=colors, height=0.7)
        for bar, key in zip(bars, keys, strict=True):
            bar.set_gid(key)
        if old:
            texts = [_fmt(vals[0], False), _fmt(vals[1], False)]
            for prev, v in pairwise(vals[1:]):
                texts.append(f"{_fmt(v, False)} ({v / prev:.0%})" if prev > 0 else _fmt(v, False))
        else:
            texts = []
            for (_key, _, parent, _), v in zip([r for r in rows if r[0] is not None], vals, strict=True):
                base = float(means.loc[name, parent]) if parent else np.nan
                share = f" ({v / base:.0%} of {_PARENT_NAMES[parent]})" if parent and base > 0 else ""
                texts.append(_fmt(v, False) + share)
        ax.bar_label(bars, labels=texts, padding=3, fontsize=7.5)
        ax.set_xlim(0, top * (1.45 if old else 1.9) if top > 0 else 1)
        ax.xaxis.set_major_locator(MaxNLocator(4))  # thousands-separated ticks need room in a narrow panel
        _count_axis(ax.xaxis)
        ax.set_title(name, fontsize=10)
        ax.set_xlabel("mean per run")
        ax.grid(axis="x", alpha=0.3)
    axes[0, 0].set_yticks(ypos, [label for k, label, *_ in rows if k is not None])
    axes[0, 0].invert_yaxis()
    if old:
        note = (f"market {market} · (%) share of the stage above · violations are ground truth · older funnel: "
                f"true and false flags not separated (no {', '.join(missing)} in these results)")
    else:
        note = (f"market {market} · mean per run · (%) share of the stage it comes from · "
                "violations are ground truth; a stream can draw several flags")
    fig.suptitle(_wrap(f"{title or 'Enforcement funnel'}\n{note}", fig.get_figwidth() - 0.4), fontsize=10)
    return fig
