"""Plots of result tables. Each function takes a DataFrame and returns a matplotlib Figure."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")  # files, not windows: runs headless in CI and on clusters

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import PercentFormatter

__all__ = ["OVERVIEW_PANELS", "daily_overview"]

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


def daily_overview(
    daily: pd.DataFrame,
    *,
    market: str = "all",
    campaigns: Sequence[dict[str, Any]] = (),
    title: str = "",
) -> Figure:
    """A 2x4 grid of the main daily metrics for one market (default: the whole platform).

    Campaign periods are shaded so their spikes are not mistaken for policy effects.
    """
    df = daily[daily["market"] == market] if "market" in daily.columns else daily
    fig, axes = plt.subplots(2, 4, figsize=(17, 6.5), sharex=True)
    fig.subplots_adjust(left=0.05, right=0.985, top=0.9, bottom=0.08, hspace=0.28, wspace=0.25)
    for ax, (panel, series, pct) in zip(axes.flat, OVERVIEW_PANELS, strict=False):
        for metric, label in series:
            if metric in df.columns:
                ax.plot(df["day"], df[metric], label=label, linewidth=1.2)
        for camp in campaigns:
            if market == "all" or market in camp.get("markets", []):
                ax.axvspan(camp["first_day"] - 0.5, camp["last_day"] + 0.5, color="tab:orange", alpha=0.15, lw=0)
        ax.set_title(panel, fontsize=10)
        if pct:
            ax.yaxis.set_major_formatter(PercentFormatter(1.0))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, loc="upper right")  # a fixed corner: "best" costs seconds
    for ax in axes[-1]:
        ax.set_xlabel("day")
    suffix = "" if market == "all" else f" — market {market}"
    fig.suptitle(f"{title}{suffix}" + ("  (shaded: campaigns)" if campaigns else ""), fontsize=11)
    return fig
