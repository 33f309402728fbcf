"""Scenario discovery: in which worlds does a policy miss its targets?

PRIM (the Patient Rule Induction Method, Friedman & Fisher 1999, as EMA Workbench implements it)
peels a box in the space of uncertainties, step by step, towards the worlds of interest: here
the worlds where the policy misses at least one target. Each box on its peeling trajectory
has a **coverage** (the share of all failing worlds that lie inside it) and a **density** (the
share of worlds inside it that fail); the box reported is the one of highest coverage among
those whose density is at least ``min_density`` (or, when none reaches it, the densest).
Its limits are in the uncertainties' own units, and only the dimensions it restricts describe
the failure ("learning rate above 0.41 and report rate below 0.02").

**Feature scoring** ranks every uncertainty by how much it tells failing worlds from the others
(extra-trees importance, EMA Workbench's ``get_ex_feature_scores``, seeded): a second view that
does not depend on the box's shape.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Discovery", "describe_box", "discover", "feature_scores"]


@dataclass
class Discovery:
    """A PRIM box and the feature scores of one policy's failures."""

    box: pd.DataFrame  # input, low, high, restricted, range_low, range_high (the chosen box and the whole range)
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling step
    chosen: int  # the chosen step of the trajectory
    coverage: float
    density: float
    mass: float
    cases: int  # failing worlds
    worlds: int
    scores: pd.DataFrame  # input, score (largest first)


def _ema_quietly() -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # optional EMA parts (ipyparallel) announce themselves
        from ema_workbench.analysis import feature_scoring, prim
    return prim, feature_scoring


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Extra-trees importance of each column of ``x`` for telling ``y`` (booleans) apart, largest first."""
    _, feature_scoring = _ema_quietly()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scores, _ = feature_scoring.get_ex_feature_scores(
            x, np.asarray(y, dtype=int), mode=feature_scoring.RuleInductionType.CLASSIFICATION, random_state=seed)
    s = scores.iloc[:, 0]
    return pd.DataFrame({"input": list(s.index), "score": s.to_numpy(dtype=float)}).sort_values(
        "score", ascending=False, kind="stable").reset_index(drop=True)


def discover(x: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05, mass_min: float = 0.05,
             min_density: float = 0.8, seed: int = 0) -> Discovery:
    """The PRIM box of the worlds where ``y`` is true, and the feature scores of ``x``.

    Raises ValueError when there is nothing to describe (no failing world, or only failing ones)."""
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        raise ValueError(f"{int(y.sum())} of {len(y)} worlds fail: there is no boundary to describe")
    prim, _ = _ema_quietly()
    x = x.reset_index(drop=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        finder = prim.Prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
        box = finder.find_box()
    traj = box.peeling_trajectory[["coverage", "density", "mass", "res_dim"]].astype(float).reset_index(drop=True)
    ok = traj.index[traj["density"] >= min_density]
    chosen = int(traj.loc[ok, "coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
    lims = box.box_lims[chosen]
    initial = box.box_lims[0]
    rows = []
    for col in x.columns:
        lo, hi = lims[col].iloc[0], lims[col].iloc[1]
        lo0, hi0 = initial[col].iloc[0], initial[col].iloc[1]
        restricted = bool(lo != lo0 or hi != hi0)
        rows.append({"input": col, "low": lo, "high": hi, "restricted": restricted, "range_low": lo0,
                     "range_high": hi0})
    limits = pd.DataFrame(rows)
    row = traj.loc[chosen]
    return Discovery(limits, traj, chosen, float(row["coverage"]), float(row["density"]), float(row["mass"]),
                     int(y.sum()), len(y), feature_scores(x, y, seed))


def describe_box(box: pd.DataFrame) -> str:
    """The restricted limits in words: ``adaptation.learning_rate >= 0.41, buyers.report_rate <= 0.02``."""
    parts = []
    for r in box[box["restricted"]].itertuples(index=False):
        name = str(r.input).removeprefix("world.")
        if isinstance(r.low, float | int | np.number) and not isinstance(r.low, bool):
            if r.low != r.range_low and r.high != r.range_high:
                parts.append(f"{name} in [{r.low:.4g}, {r.high:.4g}]")
            elif r.low != r.range_low:
                parts.append(f"{name} >= {r.low:.4g}")
            else:
                parts.append(f"{name} <= {r.high:.4g}")
        else:
            parts.append(f"{name} in {r.low}")
    return ", ".join(parts) if parts else "(no restriction: the failures are spread across the worlds)"
