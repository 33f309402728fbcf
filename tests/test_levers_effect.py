"""Levers move what they should: the referral fee reaches buyers through prices, and the points
skew of a ladder moves the points decisions carry. Paired runs: same scenario seed and
replication, only the lever differs."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import scenario_from_dict
from sim.runner import run
from tests.conftest import tiny_dict


def _fee_run(fee: float, replication: int = 0, **policy: object) -> tuple[dict, dict]:
    data = tiny_dict(n_buyers=6_000, n_creators=200)
    data["days"] = 30
    data["policy"].update({"referral_fee": fee, **policy})
    res = run(scenario_from_dict(data), replication)
    return res.summary, res.ledger


@pytest.mark.parametrize("replication", [0, 1])
def test_a_higher_fee_lowers_gmv_and_orders_and_raises_fee_per_order(replication: int) -> None:
    """Paired runs at fees 0.02 and 0.20 (pass-through 0.5, price elasticity 2): sellers pass half the fee on, so prices rise about 9 %, orders fall (by more than 5 %), GMV falls, and the platform's fee per order rises."""
    low, low_ledger = _fee_run(0.02, replication)
    high, high_ledger = _fee_run(0.20, replication)
    assert high["orders"] < 0.95 * low["orders"]
    assert high["gmv"] < low["gmv"]
    per_order_low = low_ledger["platform_fees"] / low["orders"]
    per_order_high = high_ledger["platform_fees"] / high["orders"]
    assert per_order_high > 9.0 * per_order_low  # ten times the rate on dearer orders, less refunds


def test_without_pass_through_the_fee_is_a_transfer() -> None:
    """With fee_pass_through = 0 a fee change moves only the money split: orders and GMV are identical (exact)."""
    a, _ = _fee_run(0.02, fee_pass_through=0.0)
    b, _ = _fee_run(0.20, fee_pass_through=0.0)
    assert a["orders"] == b["orders"] and a["gmv"] == b["gmv"]


def test_at_the_reference_fee_the_pass_through_changes_nothing() -> None:
    """Prices are calibrated at fee_reference: at that fee the pass-through and elasticity leave every result as without them (exact)."""
    a, la = _fee_run(0.06, fee_pass_through=0.0)
    b, lb = _fee_run(0.06, fee_pass_through=1.0, fee_price_elasticity=5.0)
    assert a.keys() == b.keys()
    assert all(a[k] == b[k] or (np.isnan(a[k]) and np.isnan(b[k])) for k in a)
    assert la == lb


def test_price_factor_follows_the_documented_formula() -> None:
    """Levers hold (1 + pass x fee) / (1 + pass x fee_reference) per market."""
    from sim.platform.levers import Levers
    from sim.policy import Policy

    p = Policy(referral_fee=0.10, fee_pass_through=0.5, fee_reference=0.06)
    lv = Levers([p, Policy()], ["x"])
    np.testing.assert_allclose(lv.fee_price_factor, [(1 + 0.05) / (1 + 0.03), 1.0], rtol=1e-15)


def _points_run(skew: float) -> np.ndarray:
    """Decisions' points as a share of their reason's range, on a tiny enforced world."""
    from sim import LiveShopModel
    from sim.tactics import names

    data = tiny_dict(enforced=True, n_buyers=6_000, n_creators=300)
    data["days"] = 40
    # Creators who do not learn keep violating, so the run has enough decisions to measure.
    data["world"]["adaptation"] = {"enabled": False}
    # Ranges wide enough that rounding to whole points hardly matters.
    points = {n: [0.0, 1000.0] for n in names()[1:]}
    data["policy"] = {"enforcement": {"kind": "points", "points": points, "points_skew": skew,
                                      "milestones": [{"at": 100_000.0, "sanction": {}}]}}
    model = LiveShopModel(scenario=scenario_from_dict(data))
    while model.running:
        model.step()
    return model.governance.enforcer.log.col("points") / 1000.0


def test_points_skew_sets_where_decisions_fall_in_the_range() -> None:
    """Points are lo + (hi - lo) x Beta(1, points_skew): the mean share of the range is 1 / (1 + skew) (within 4 standard errors)."""
    for skew in (1.0, 3.0, 9.0):
        u = _points_run(skew)
        assert u.size > 100
        mean, var = 1.0 / (1.0 + skew), skew / ((1.0 + skew) ** 2 * (2.0 + skew))
        assert abs(u.mean() - mean) < 4.0 * np.sqrt(var / u.size) + 0.001, (skew, u.mean(), mean)


def test_points_skew_is_validated() -> None:
    """points_skew is accepted on [1, 20] and refused outside it with the field named."""
    from sim.errors import ScenarioError

    for skew, ok in ((1.0, True), (20.0, True), (0.5, False), (25.0, False)):
        data = tiny_dict(enforced=True)
        data["policy"] = {"enforcement": {"kind": "points", "points_skew": skew}}
        if ok:
            assert scenario_from_dict(data).policy.enforcement.points_skew == skew
        else:
            with pytest.raises(ScenarioError) as err:
                scenario_from_dict(data)
            assert err.value.field.endswith(".points_skew") and err.value.value == skew
