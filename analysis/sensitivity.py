"""Global sensitivity: which uncertainties drive an outcome, or the difference between two policies.

Through SALib, on the exploration's own worlds (:func:`analysis.explore.make_design`):

* **Sobol' indices** from Saltelli's design (a scrambled Sobol' sequence, ``n x (groups + 2)``
  worlds): first-order ``S1`` (the share of the outcome's variance an uncertainty explains
  alone) and total ``ST`` (alone and in every interaction), each with a bootstrap confidence
  interval (``S1_conf``, ``ST_conf``: half-widths of SALib's 95 % intervals from ``bootstrap``
  resamples). The creator mix drawn as a Dirichlet is one *group*: its indices are the mix's
  as a whole.
* **Convergence**: the indices again from the first half of the design (``n/2``: the design at
  ``n/2`` is exactly the first part of the one at ``n``); an index whose value moves by more
  than :data:`CONVERGED` between ``n/2`` and ``n`` has not converged, and the table says so.
* **Morris elementary effects** from Morris trajectories (``design.morris``): ``mu_star`` (the
  mean absolute effect of moving an uncertainty across its range, in the outcome's units per
  unit of the uncertainty's quantile), its interval, and ``sigma`` (spread: interactions or
  non-linearity). It screens with far fewer runs than Sobol' indices need.

The functions take a design and a vector of outcome values in the design's world order, so the
same code computes the indices of a livesim outcome and of a test function (Ishigami).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["CONVERGED", "morris_table", "sensitivity_tables", "sobol_table"]

# An index that moves by more than this between n/2 and n has not converged (absolute).
CONVERGED = 0.1


def _problem(design: Any) -> dict[str, Any]:
    return design.problem


def sobol_table(design: Any, y: np.ndarray, *, bootstrap: int = 200, seed: int = 0, n: int | None = None
                ) -> pd.DataFrame:
    """Sobol' first-order and total indices (and their 95 % bootstrap half-widths) per uncertainty
    group, from the first ``n`` base rows of the design's Saltelli worlds (default all); ``y``
    holds one value per Saltelli world, in the design's order."""
    from SALib.analyze import sobol

    problem = _problem(design)
    n = design.n if n is None else n
    groups = design.group_names
    rows = n * (len(groups) + 2)
    values = np.asarray(y, dtype=float)[:rows]
    if len(values) < rows:
        raise ValueError(f"{rows} values needed for n = {n}, got {len(values)}")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SALib warns about sample sizes it was given on purpose
        si = sobol.analyze(problem, values, calc_second_order=False, num_resamples=bootstrap, conf_level=0.95,
                           seed=seed)
    return pd.DataFrame({"input": groups, "n": n, "S1": si["S1"], "S1_conf": si["S1_conf"], "ST": si["ST"],
                         "ST_conf": si["ST_conf"]})


def sobol_convergence(design: Any, y: np.ndarray, *, bootstrap: int = 200, seed: int = 0) -> pd.DataFrame:
    """The indices at n/2 and n side by side, and whether each moved by at most :data:`CONVERGED`."""
    full = sobol_table(design, y, bootstrap=bootstrap, seed=seed)
    half = sobol_table(design, y, bootstrap=bootstrap, seed=seed, n=design.n // 2)
    out = full.copy()
    out["S1_half"] = half["S1"].to_numpy()
    out["ST_half"] = half["ST"].to_numpy()
    change = np.maximum(np.abs(out["S1"] - out["S1_half"]), np.abs(out["ST"] - out["ST_half"]))
    out["converged"] = change <= CONVERGED
    return out


def morris_table(design: Any, x_unit: np.ndarray, y: np.ndarray, *, bootstrap: int = 200, seed: int = 0
                 ) -> pd.DataFrame:
    """Morris elementary effects per uncertainty group from the design's Morris trajectories
    (``x_unit``: their unit coordinates; ``y``: one value per Morris world, in order)."""
    from SALib.analyze import morris

    problem = _problem(design)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mi = morris.analyze(problem, np.asarray(x_unit, dtype=float), np.asarray(y, dtype=float),
                            num_resamples=bootstrap, conf_level=0.95, num_levels=4, seed=seed)
    return pd.DataFrame({"input": list(mi["names"]), "mu": mi["mu"], "mu_star": mi["mu_star"],
                         "mu_star_conf": mi["mu_star_conf"], "sigma": mi["sigma"]})


def _targets(table: pd.DataFrame, outcomes: list[str], policies: list[str], difference: list[str]
             ) -> list[tuple[str, str, str, pd.Series]]:
    """(label, outcome, policy or 'a - b', values by world) for every quantity to explain."""
    out = []
    for outcome in outcomes:
        wide = table.pivot(index="world", columns="policy", values=outcome)
        for p in policies:
            out.append((f"{outcome} | {p}", outcome, p, wide[p]))
        if difference:
            a, b = difference
            out.append((f"{outcome} | {a} - {b}", outcome, f"{a} - {b}", wide[a] - wide[b]))
    return out


def sensitivity_tables(design: Any, worlds: pd.DataFrame, table: pd.DataFrame, outcomes: list[str],
                       policies: list[str], difference: list[str], *, bootstrap: int = 200, seed: int = 0
                       ) -> tuple[pd.DataFrame, pd.DataFrame, list[str]]:
    """Sobol' indices (with their convergence check) and Morris effects of every outcome under
    every policy, and of the difference between two policies; one long table each, and notes
    on what could not be computed."""
    table = table[table["market"] == "all"] if "market" in table.columns else table
    notes: list[str] = []
    sob, mor = [], []
    kinds = worlds.set_index("world")["design"]
    saltelli = kinds.index[kinds == "saltelli"].to_numpy()
    morris_w = kinds.index[kinds == "morris"].to_numpy()
    ucols = [f"u:{c}" for c in design.inputs]
    for label, outcome, policy, values in _targets(table, outcomes, policies, difference):
        head = {"target": label, "outcome": outcome, "policy": policy}
        if len(saltelli):
            y = values.reindex(saltelli).to_numpy(dtype=float)
            if np.isfinite(y).all():
                sob.append(sobol_convergence(design, y, bootstrap=bootstrap, seed=seed).assign(**head))
            else:
                notes.append(f"{label}: Sobol' indices not computed ({int((~np.isfinite(y)).sum())} worlds without a "
                             "value)")
        if len(morris_w):
            y = values.reindex(morris_w).to_numpy(dtype=float)
            x = worlds.set_index("world").loc[morris_w, ucols].to_numpy(dtype=float)
            if np.isfinite(y).all():
                mor.append(morris_table(design, x, y, bootstrap=bootstrap, seed=seed).assign(**head))
            else:
                notes.append(f"{label}: Morris effects not computed ({int((~np.isfinite(y)).sum())} worlds without a "
                             "value)")
    cols_s = ["target", "outcome", "policy", "input", "n", "S1", "S1_conf", "ST", "ST_conf", "S1_half", "ST_half",
              "converged"]
    cols_m = ["target", "outcome", "policy", "input", "mu", "mu_star", "mu_star_conf", "sigma"]
    sobol_frame = pd.concat(sob, ignore_index=True)[cols_s] if sob else pd.DataFrame(columns=cols_s)
    morris_frame = pd.concat(mor, ignore_index=True)[cols_m] if mor else pd.DataFrame(columns=cols_m)
    return sobol_frame, morris_frame, notes
