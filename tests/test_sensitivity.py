"""Global sensitivity through the exploration's own design and SALib: Sobol' indices of the
Ishigami function within tolerance of their known values, their convergence check, and Morris
screening that ranks an inert input last."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from analysis.explore import DesignSpec, Uncertainty, make_design
from analysis.sensitivity import morris_table, sensitivity_tables, sobol_convergence, sobol_table

# Ishigami (a = 7, b = 0.1) on [-pi, pi]^3: the analytic indices.
S1 = {"world.x1": 0.3139, "world.x2": 0.4424, "world.x3": 0.0}
ST = {"world.x1": 0.5576, "world.x2": 0.4424, "world.x3": 0.2437}


def _ishigami(values: list[dict]) -> np.ndarray:
    x = pd.DataFrame(values)[list(S1)].to_numpy()
    return np.sin(x[:, 0]) + 7.0 * np.sin(x[:, 1]) ** 2 + 0.1 * x[:, 2] ** 4 * np.sin(x[:, 0])


def _uncertainties() -> list[Uncertainty]:
    return [Uncertainty(path=p, low=-math.pi, high=math.pi) for p in S1]


def test_sobol_indices_of_ishigami_match_the_analytic_values() -> None:
    """With n = 4096 (20,480 evaluations) every S1 and ST is within 0.03 of its analytic value,
    and each 95 % bootstrap interval, widened by 0.01, holds it."""
    design = make_design(_uncertainties(), DesignSpec(method="saltelli", n=4096, seed=11))
    table = sobol_table(design, _ishigami(design.values), bootstrap=200, seed=1).set_index("input")
    for name in S1:
        assert table.loc[name, "S1"] == pytest.approx(S1[name], abs=0.03), name
        assert table.loc[name, "ST"] == pytest.approx(ST[name], abs=0.03), name
        assert abs(table.loc[name, "S1"] - S1[name]) <= table.loc[name, "S1_conf"] + 0.01, name
        assert abs(table.loc[name, "ST"] - ST[name]) <= table.loc[name, "ST_conf"] + 0.01, name


def test_convergence_check_compares_n_over_2_with_n() -> None:
    """The half-design indices are the indices of the first n/2 base rows; at n = 4096 they agree."""
    design = make_design(_uncertainties(), DesignSpec(method="saltelli", n=4096, seed=11))
    y = _ishigami(design.values)
    conv = sobol_convergence(design, y, bootstrap=50).set_index("input")
    half = sobol_table(design, y, bootstrap=50, n=2048).set_index("input")
    assert conv["S1_half"].tolist() == half["S1"].tolist()
    assert conv["converged"].all()
    tiny = make_design(_uncertainties(), DesignSpec(method="saltelli", n=8, seed=11))
    assert not sobol_convergence(tiny, _ishigami(tiny.values), bootstrap=50)["converged"].all()


def test_morris_screening_puts_the_inert_input_last() -> None:
    """On y = 4 x1 + x2 (x3 inert) Morris mu* orders x1 > x2 > x3 = 0 (per unit of each quantile)."""
    uncs = [Uncertainty(path=p, low=0.0, high=1.0) for p in ("world.a", "world.b", "world.c")]
    design = make_design(uncs, DesignSpec(method="lhs", n=2, seed=3, morris=20))
    rows = np.array(design.kind) == "morris"
    x = design.unit[rows]
    y = 4.0 * x[:, 0] + x[:, 1]
    table = morris_table(design, x, y, bootstrap=50).set_index("input")
    assert table.loc["world.a", "mu_star"] == pytest.approx(4.0)
    assert table.loc["world.b", "mu_star"] == pytest.approx(1.0)
    assert table.loc["world.c", "mu_star"] == 0.0


def test_sensitivity_of_a_policy_difference_uses_paired_worlds() -> None:
    """The difference target is outcome(a) - outcome(b) world by world: here a - b = 3 x1, so x1
    explains all of it while each policy's own outcome also depends on x2."""
    uncs = [Uncertainty(path=p, low=0.0, high=1.0) for p in ("world.x1", "world.x2")]
    design = make_design(uncs, DesignSpec(method="saltelli", n=512, seed=2))
    worlds = design.frame()
    x = design.unit
    rows = []
    for w in range(len(x)):
        rows.append({"policy": "a", "world": w, "market": "all", "m": 3 * x[w, 0] + x[w, 1]})
        rows.append({"policy": "b", "world": w, "market": "all", "m": x[w, 1]})
    sob, mor, notes = sensitivity_tables(design, worlds, pd.DataFrame(rows), ["m"], ["a", "b"], ["a", "b"],
                                         bootstrap=50)
    diff = sob[sob["target"] == "m | a - b"].set_index("input")
    assert diff.loc["world.x1", "ST"] == pytest.approx(1.0, abs=0.02)
    assert diff.loc["world.x2", "ST"] == pytest.approx(0.0, abs=1e-12)
    only_b = sob[sob["target"] == "m | b"].set_index("input")
    assert only_b.loc["world.x2", "S1"] == pytest.approx(1.0, abs=0.02)
    assert mor.empty and notes == []
