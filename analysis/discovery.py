"""Scenario discovery: in which worlds does a policy miss its targets?

**PRIM** (the Patient Rule Induction Method, Friedman & Fisher 1999, "Bump hunting in
high-dimensional data", Statistics and Computing 9:123-143) describes the worlds of interest
(here: the worlds where the policy misses at least one target) by a box in the space of
uncertainties. It starts from the box holding every world and **peels**: each step considers,
for every input, cutting off the ``peel_alpha`` share of the box's worlds at its lower or its
upper end (a numeric input: the box's ``peel_alpha`` and ``1 - peel_alpha`` quantiles; an
integer input: the next integer values in; a categorical input: one of its categories), and
takes the cut that raises the share of worlds of interest most per world removed (Friedman &
Fisher's patient objective: the gain in mean over the loss in mass; among equal gains, the box
restricting fewer inputs, then the first input). Peeling stops when no cut raises that share or
the box would hold fewer than ``mass_min`` of the worlds. Then it **pastes**: it widens the box
by ``paste_alpha`` of the worlds just outside one of its limits while that raises the share.

Each box on this trajectory has a **coverage** (the share of all worlds of interest that lie in
it), a **density** (the share of worlds in it that are of interest) and a **mass** (the share of
all worlds in it). The box reported is the one of highest coverage among those whose density is
at least ``min_density`` (or, when none reaches it, the densest). Its limits are in the inputs'
own units, and only the inputs it restricts describe the failure ("learning rate above 0.41 and
report rate below 0.02").

This is the algorithm as EMA Workbench's ``prim.Prim`` runs it with its defaults (the lenient
objective, its quantile rule and its tie-breaking), written here in numpy so that ``livesim
explore`` needs no optional package and gives the same box on every install; the test suite
checks it against EMA Workbench's on planted boxes. Unlike EMA Workbench 3.0, categories are
tried in sorted order (a set's order changes between processes), pasting also widens integer
and categorical limits when no real-valued input is restricted, and a pasted integer limit is
rounded inwards to an integer (the same worlds; EMA Workbench 3.0 fails there under pandas 2).

**Feature scoring** ranks every input by how much it tells the worlds of interest from the
others: the impurity importance of a seeded extra-trees classifier (scikit-learn's
``ExtraTreesClassifier`` with the settings EMA Workbench's ``get_ex_feature_scores`` uses,
after Jaxa-Rozen & Kwakkel 2018): a second view that does not depend on the box's shape.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["Discovery", "describe_box", "discover", "feature_scores", "prim"]


@dataclass
class Discovery:
    """A PRIM box and the feature scores of one policy's failures."""

    box: pd.DataFrame  # input, low, high, restricted, range_low, range_high (the chosen box and the whole range)
    trajectory: pd.DataFrame  # coverage, density, mass, res_dim per peeling (then pasting) step
    chosen: int  # the chosen step of the trajectory
    coverage: float
    density: float
    mass: float
    cases: int  # failing worlds
    worlds: int
    scores: pd.DataFrame  # input, score (largest first)


@dataclass
class PrimResult:
    """PRIM's trajectory: one row of statistics and one set of limits per box, the first box holding
    every world. A numeric input's limits are ``(low, high)``, a categorical one's the tuple of the
    categories kept, sorted."""

    trajectory: pd.DataFrame  # coverage, density, mass, res_dim
    limits: list[list[Any]]  # per step, per input of ``inputs``
    inputs: list[str]
    categorical: list[bool]  # per input: limits are the categories kept


# ---------------------------------------------------------------------------------------
# PRIM
# ---------------------------------------------------------------------------------------


def _quantile(values: np.ndarray, q: float) -> float:
    """The quantile PRIM peels and pastes at (EMA Workbench's and sdtoolkit's rule): the midpoint
    between the order statistics around ``(n - 1) q``, moved outwards past ties so that a cut
    never falls inside a run of equal values."""
    data = np.sort(values)
    i = (len(data) - 1) * q
    lo, hi = math.floor(i), math.ceil(i)
    if q > 0.5:
        while data[lo] == data[hi] and lo > 0:
            lo -= 1
    else:
        while data[lo] == data[hi] and hi < len(data) - 1:
            hi += 1
    return (data[lo] + data[hi]) / 2


def _gain(y_old: np.ndarray, y_new: np.ndarray) -> float:
    """Friedman & Fisher's patient objective: the change of the mean per world removed (or added)."""
    mean_old = np.mean(y_old)
    mean_new = np.mean(y_new) if len(y_new) else 0.0
    if mean_old == mean_new:
        return 0.0
    return float((mean_new - mean_old) / abs(len(y_old) - len(y_new)))


class _Prim:
    """One PRIM box search over prepared columns (numbers as arrays, categories as codes)."""

    def __init__(self, x: pd.DataFrame, y: np.ndarray, peel_alpha: float, paste_alpha: float,
                 mass_min: float) -> None:
        self.inputs = [str(c) for c in x.columns]
        self.y = y
        self.n = len(y)
        self.peel_alpha, self.paste_alpha, self.mass_min = peel_alpha, paste_alpha, mass_min
        self.kind: list[str] = []
        self.col: list[np.ndarray] = []
        self.init: list[Any] = []
        for c in x.columns:
            s = x[c]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                self.kind.append("cat")
                self.col.append(s.to_numpy(dtype=object))
                self.init.append(frozenset(s.tolist()))
            else:
                self.kind.append("int" if pd.api.types.is_integer_dtype(s) else "float")
                self.col.append(s.to_numpy())
                self.init.append((s.min(), s.max()))
        # Candidates are tried real-valued inputs first, then integers, then categories (EMA's order).
        self.order = ([j for j, k in enumerate(self.kind) if k == "float"]
                      + [j for j, k in enumerate(self.kind) if k == "int"]
                      + [j for j, k in enumerate(self.kind) if k == "cat"])

    def _restricted(self, lims: list[Any]) -> int:
        return sum(lim != init for lim, init in zip(lims, self.init, strict=True))

    def _inside(self, lims: list[Any]) -> np.ndarray:
        mask = np.ones(self.n, dtype=bool)
        for j, lim in enumerate(lims):
            if lim == self.init[j]:
                continue
            if self.kind[j] == "cat":
                mask &= np.isin(self.col[j], list(lim))
            else:
                mask &= (self.col[j] >= lim[0]) & (self.col[j] <= lim[1])
        return mask

    def _best(self, idx: np.ndarray, candidates: list[tuple[np.ndarray, list[Any]]]) -> tuple[float, np.ndarray, list]:
        """The candidate of largest gain, then fewest restricted inputs, then first in order."""
        best: tuple[float, int] | None = None
        chosen: tuple[np.ndarray, list[Any]] = candidates[0]
        for new, lims in candidates:
            key = (_gain(self.y[idx], self.y[new]), len(self.inputs) - self._restricted(lims))
            if best is None or key > best:
                best, chosen = key, (new, lims)
        assert best is not None
        return best[0], chosen[0], chosen[1]

    def _peels(self, idx: np.ndarray, lims: list[Any]) -> list[tuple[np.ndarray, list[Any]]]:
        out = []
        a = self.peel_alpha
        for j in self.order:
            xj = self.col[j][idx]
            if self.kind[j] == "float":
                q = _quantile(xj, 1 - a)
                out.append((idx[xj <= q], _with(lims, j, (lims[j][0], q))))
                q = _quantile(xj, a)
                out.append((idx[xj >= q], _with(lims, j, (q, lims[j][1]))))
            elif self.kind[j] == "int":
                lo, hi = lims[j]
                q = int(_quantile(xj, 1 - a))
                keep = ((xj < hi) if q == hi else (xj <= q)) & (xj >= lo)
                new_hi = np.max(xj[keep]) if keep.any() else np.max(xj)
                out.append((idx[keep], _with(lims, j, (lo, new_hi))))
                q = int(_quantile(xj, a))
                keep = ((xj > lo) if q == lo else (xj >= q)) & (xj <= hi)
                new_lo = np.min(xj[keep]) if keep.any() else np.min(xj)
                out.append((idx[keep], _with(lims, j, (new_lo, hi))))
            elif len(lims[j]) > 1:
                for c in sorted(lims[j], key=repr):
                    out.append((idx[xj != c], _with(lims, j, lims[j] - {c})))
        return out

    def _pastes(self, lims: list[Any]) -> list[tuple[np.ndarray, list[Any]]]:
        out = []
        a = self.paste_alpha
        for j in self.order:
            if lims[j] == self.init[j]:
                continue
            if self.kind[j] == "cat":
                for c in sorted(self.init[j] - lims[j], key=repr):
                    wider = _with(lims, j, lims[j] | {c})
                    out.append((np.flatnonzero(self._inside(wider)), wider))
                continue
            lo0, hi0 = self.init[j]
            lo, hi = lims[j]
            # An integer input's pasted limit is rounded inwards: the same worlds, an integer limit.
            whole = self.kind[j] == "int"
            data = self.col[j][self._inside(_with(lims, j, (lo0, lo)))]
            new_lo = _quantile(data, 1 - a) if data.size else lo0
            wider = _with(lims, j, (math.ceil(new_lo) if whole else new_lo, hi))
            out.append((np.flatnonzero(self._inside(wider)), wider))
            data = self.col[j][self._inside(_with(lims, j, (hi, hi0)))]
            new_hi = _quantile(data, a) if data.size else hi0
            wider = _with(lims, j, (lo, math.floor(new_hi) if whole else new_hi))
            out.append((np.flatnonzero(self._inside(wider)), wider))
        return out

    def run(self) -> PrimResult:
        idx = np.arange(self.n)
        lims = list(self.init)
        steps = [(idx, lims)]
        while True:  # peel
            candidates = self._peels(idx, lims)
            if not candidates:
                break
            gain, new, new_lims = self._best(idx, candidates)
            if not (len(new) / self.n >= self.mass_min and len(new) < len(idx) and gain > 0):
                break
            idx, lims = new, new_lims
            steps.append((idx, lims))
        while True:  # paste
            candidates = self._pastes(lims)
            if not candidates:
                break
            gain, new, new_lims = self._best(idx, candidates)
            if not (len(new) / self.n >= self.mass_min and len(new) > len(idx) and gain > 0
                    and np.mean(self.y[new]) > np.mean(self.y[idx])):
                break
            idx, lims = new, new_lims
            steps.append((idx, lims))
        total = max(int(self.y.sum()), 1)
        rows = [{"coverage": self.y[i].sum() / total, "density": self.y[i].sum() / len(i), "mass": len(i) / self.n,
                 "res_dim": self._restricted(lim)} for i, lim in steps]
        limits = [[tuple(sorted(v, key=repr)) if self.kind[j] == "cat" else v for j, v in enumerate(lim)]
                  for _, lim in steps]
        return PrimResult(pd.DataFrame(rows, columns=["coverage", "density", "mass", "res_dim"]), limits, self.inputs,
                          [k == "cat" for k in self.kind])


def _with(lims: list[Any], j: int, value: Any) -> list[Any]:
    out = list(lims)
    out[j] = frozenset(value) if isinstance(value, set | frozenset) else value
    return out


def prim(x: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05, paste_alpha: float = 0.05,
         mass_min: float = 0.05) -> PrimResult:
    """PRIM's peeling and pasting trajectory for the worlds where ``y`` is true (module docstring).

    ``x``: one row per world; real, integer, boolean or categorical columns. Pure: the same
    inputs give the same trajectory."""
    y = np.asarray(y, dtype=bool)
    if len(y) != len(x):
        raise ValueError(f"x has {len(x)} rows and y {len(y)} values")
    if not 0 < peel_alpha < 0.5 or not 0 < paste_alpha < 0.5 or not 0 <= mass_min < 1:
        raise ValueError("peel_alpha and paste_alpha are in (0, 0.5) and mass_min in [0, 1)")
    return _Prim(x.reset_index(drop=True), y, peel_alpha, paste_alpha, mass_min).run()


# ---------------------------------------------------------------------------------------
# Feature scoring and the report's box
# ---------------------------------------------------------------------------------------


def feature_scores(x: pd.DataFrame, y: np.ndarray, seed: int = 0) -> pd.DataFrame:
    """Extra-trees importance of each column of ``x`` for telling ``y`` (booleans) apart, largest first.

    Settings as EMA Workbench's ``get_ex_feature_scores``: 100 trees, a third of the inputs tried
    per split, bootstrap samples, leaves of at least ``sqrt(n / 1000)`` worlds; categories as codes."""
    from sklearn.ensemble import ExtraTreesClassifier

    cols = {}
    for c in x.columns:
        s = x[c]
        numeric = pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s)
        cols[c] = s.to_numpy(dtype=float) if numeric else s.astype("category").cat.codes.to_numpy(dtype=float)
    data = np.column_stack(list(cols.values()))
    trees = ExtraTreesClassifier(n_estimators=100, criterion="gini", max_features=max(1, round(data.shape[1] / 3)),
                                 min_samples_leaf=max(1, round(math.sqrt(data.shape[0]) / math.sqrt(1000))),
                                 bootstrap=True, random_state=seed)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        trees.fit(data, np.asarray(y, dtype=int))
    return pd.DataFrame({"input": [str(c) for c in cols], "score": trees.feature_importances_.astype(float)}).sort_values(
        "score", ascending=False, kind="stable").reset_index(drop=True)


def discover(x: pd.DataFrame, y: np.ndarray, *, peel_alpha: float = 0.05, mass_min: float = 0.05,
             min_density: float = 0.8, seed: int = 0) -> Discovery:
    """The PRIM box of the worlds where ``y`` is true, and the feature scores of ``x``.

    Raises ValueError when there is nothing to describe (no failing world, or only failing ones)."""
    y = np.asarray(y, dtype=bool)
    if not y.any() or y.all():
        raise ValueError(f"{int(y.sum())} of {len(y)} worlds fail: there is no boundary to describe")
    x = x.reset_index(drop=True)
    found = prim(x, y, peel_alpha=peel_alpha, mass_min=mass_min)
    traj = found.trajectory
    ok = traj.index[traj["density"] >= min_density]
    chosen = int(traj.loc[ok, "coverage"].idxmax()) if len(ok) else int(traj["density"].idxmax())
    rows = []
    for j, col in enumerate(found.inputs):
        lim, lim0 = found.limits[chosen][j], found.limits[0][j]
        if found.categorical[j]:
            lo, hi, lo0, hi0 = list(lim), list(lim), list(lim0), list(lim0)  # the categories kept
        else:
            (lo, hi), (lo0, hi0) = lim, lim0
        rows.append({"input": col, "low": lo, "high": hi, "restricted": lim != lim0, "range_low": lo0,
                     "range_high": hi0})
    row = traj.loc[chosen]
    return Discovery(pd.DataFrame(rows), traj, chosen, float(row["coverage"]), float(row["density"]),
                     float(row["mass"]), int(y.sum()), len(y), feature_scores(x, y, seed))


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
            parts.append(f"{name} in {{{', '.join(str(v) for v in r.low)}}}")
    return ", ".join(parts) if parts else "(no restriction: the failures are spread across the worlds)"
