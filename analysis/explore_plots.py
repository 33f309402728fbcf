"""Figures of an exploration: each takes the analysis's table and returns a matplotlib Figure."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

__all__ = ["discovery_figure", "morris_figure", "red_team_figure", "robustness_figure", "sobol_figure"]


def _grid(n: int, width: float = 4.2, height: float = 3.2) -> tuple[Figure, list]:
    cols = min(3, max(1, n))
    rows = math.ceil(n / cols)
    fig = Figure(figsize=(width * cols, height * rows), layout="constrained")
    axes = [fig.add_subplot(rows, cols, i + 1) for i in range(n)]
    return fig, axes


def _short(name: str) -> str:
    return name.removeprefix("world.").removeprefix("policy.")


def robustness_figure(stats: pd.DataFrame) -> Figure:
    """Per outcome: each policy's mean across worlds with its 10th-90th percentile range."""
    outcomes = list(dict.fromkeys(stats["outcome"]))
    fig, axes = _grid(len(outcomes))
    for ax, outcome in zip(axes, outcomes, strict=True):
        s = stats[stats["outcome"] == outcome]
        y = np.arange(len(s))
        ax.errorbar(s["mean"], y, xerr=[s["mean"] - s["p10"], s["p90"] - s["mean"]], fmt="o", capsize=4)
        ax.set_yticks(y, s["policy"])
        ax.invert_yaxis()
        ax.set_title(outcome)
        ax.set_xlabel("mean across worlds (bar: 10th-90th percentile)")
    return fig


def sobol_figure(sobol: pd.DataFrame) -> Figure:
    """Per target: first-order and total Sobol' indices per uncertainty, with 95 % bootstrap intervals."""
    targets = list(dict.fromkeys(sobol["target"]))
    fig, axes = _grid(len(targets), width=4.6)
    for ax, target in zip(axes, targets, strict=True):
        s = sobol[sobol["target"] == target]
        y = np.arange(len(s))
        ax.barh(y - 0.2, s["S1"], height=0.4, xerr=s["S1_conf"], capsize=3, label="first order S1")
        ax.barh(y + 0.2, s["ST"], height=0.4, xerr=s["ST_conf"], capsize=3, label="total ST")
        ax.set_yticks(y, [_short(i) for i in s["input"]])
        ax.invert_yaxis()
        ax.set_xlim(left=min(0.0, float(np.nanmin(np.r_[s["S1"] - s["S1_conf"], 0.0]))))
        ax.set_title(target, fontsize=9)
    if axes:
        axes[0].legend(fontsize=8, loc="lower right")
    return fig


def morris_figure(morris: pd.DataFrame) -> Figure:
    """Per target: Morris mu* per uncertainty with its 95 % bootstrap interval."""
    targets = list(dict.fromkeys(morris["target"]))
    fig, axes = _grid(len(targets), width=4.6)
    for ax, target in zip(axes, targets, strict=True):
        s = morris[morris["target"] == target]
        y = np.arange(len(s))
        ax.barh(y, s["mu_star"], xerr=s["mu_star_conf"], capsize=3, color="tab:green")
        ax.set_yticks(y, [_short(i) for i in s["input"]])
        ax.invert_yaxis()
        ax.set_title(target, fontsize=9)
        ax.set_xlabel("mu* (per unit of quantile)")
    return fig


def discovery_figure(trajectory: pd.DataFrame, scores: pd.DataFrame, chosen: int | None) -> Figure:
    """PRIM's peeling trajectory (coverage against density, the chosen box marked) and the
    feature scores of the uncertainties."""
    fig = Figure(figsize=(10, 3.8), layout="constrained")
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    if len(trajectory):
        sc = ax1.scatter(trajectory["coverage"], trajectory["density"], c=trajectory["res_dim"], cmap="viridis")
        fig.colorbar(sc, ax=ax1, label="restricted dimensions")
        if chosen is not None and chosen in trajectory.index:
            row = trajectory.loc[chosen]
            ax1.scatter([row["coverage"]], [row["density"]], s=160, facecolors="none", edgecolors="red",
                        label="chosen box")
            ax1.legend(fontsize=8)
    ax1.set_xlabel("coverage")
    ax1.set_ylabel("density")
    ax1.set_title("PRIM peeling trajectory")
    if len(scores):
        y = np.arange(len(scores))
        ax2.barh(y, scores["score"], color="tab:purple")
        ax2.set_yticks(y, [_short(i) for i in scores["input"]])
        ax2.invert_yaxis()
    ax2.set_title("feature scores (extra trees)")
    return fig


def red_team_figure(trials: pd.DataFrame, objective: str) -> Figure:
    """Per policy: the objective of each red-team trial and the worst case found so far."""
    fig = Figure(figsize=(6.5, 3.8), layout="constrained")
    ax = fig.add_subplot(1, 1, 1)
    for policy, t in trials.groupby("policy", sort=False):
        t = t.sort_values("trial")
        line = ax.plot(t["trial"], t["value"], "o", alpha=0.4)[0]
        ax.plot(t["trial"], t["value"].cummax(), "-", color=line.get_color(), label=f"{policy} (worst so far)")
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title(f"red team: the search for the worst {objective}")
    ax.legend(fontsize=8)
    return fig
