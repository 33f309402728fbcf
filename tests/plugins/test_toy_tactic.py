"""A tactic defined outside livesim: one config class, one tactic class, one registration.

The toy ``hidden_fees`` typology adds an undisclosed fee to each order: buyers who keep the
item pay a surcharge the creator pockets (its ``settle_gain`` hook). Registering it makes
``world.tactics.hidden_fees``, ``world.creators.mix.hidden_fees``, each category's
``exposure.hidden_fees``, ``policy.detection.dprime.hidden_fees`` and
``policy.enforcement.points.hidden_fees`` valid, and the phases run it like a built-in tactic.
It is registered for these tests only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.runner import creators_frame
from sim.schema import Share
from sim.tactics import TacticConfig, TacticKind, code, creator_type_names, names, register, unregister
from tests.conftest import run_to_end, tiny_dict


class HiddenFeesConfig(TacticConfig):
    intensity: Share = 0.8
    bad_outcome_rate: Share = 0.1
    report_visibility: Share = 0.4
    surcharge: Share = 0.2  # of the order value, kept by the creator when the item is kept


class HiddenFees(TacticKind):
    """Undisclosed fees: the creator pockets a surcharge on every order that is not refunded."""

    name = "hidden_fees"
    config = HiddenFeesConfig
    separability = 3.0
    points = (3.0, 12.0)

    def settle_gain(self, cfg, model, orders, mine, on, refunded):
        return np.where(mine & on & ~refunded, orders["value"] * cfg.surcharge, 0.0)


@pytest.fixture
def hidden_fees() -> Iterator[None]:
    """The toy tactic is registered for one test and removed afterwards."""
    register(HiddenFees)
    try:
        yield
    finally:
        unregister("hidden_fees")


def _data(enforced: bool, surcharge: float = 0.2, days: int = 30) -> dict:
    data = tiny_dict(enforced=enforced, n_buyers=6_000, n_creators=300)
    data["days"] = days
    data["world"]["creators"] = {"mix": {"honest": 0.74, "hidden_fees": 0.10}}
    data["world"]["tactics"] = {"hidden_fees": {"surcharge": surcharge}}
    return data


def test_a_registered_tactic_is_configured_like_a_builtin(hidden_fees: None) -> None:
    """Its config block, creator share, exposure, separability and points are accepted with its declared defaults, and errors in its block name the field."""
    data = _data(enforced=True)
    data["policy"] = {"enforcement": {"kind": "points", "points": {"hidden_fees": [5.0, 10.0]}}}
    s = scenario_from_dict(data)
    assert s.world.tactics.hidden_fees.surcharge == 0.2 and s.world.tactics.hidden_fees.intensity == 0.8
    assert s.world.creators.mix.hidden_fees == 0.10
    assert all(cat.exposure.hidden_fees == 1.0 for cat in s.world.categories)
    assert s.policy.detection.dprime.hidden_fees == 3.0
    assert s.policy.enforcement.points["hidden_fees"] == (5.0, 10.0)
    assert names()[code("hidden_fees")] == "hidden_fees" and code("hidden_fees") == 7
    assert creator_type_names()[8] == "hidden_fees"
    data["world"]["tactics"] = {"hidden_fees": {"surcharge": 2.0}}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert err.value.field == "world.tactics.hidden_fees.surcharge" and err.value.value == 2.0


def test_an_unregistered_tactic_is_refused() -> None:
    """Without the registration, a scenario naming the tactic is refused in one line that lists the registered tactics."""
    register(HiddenFees)
    unregister("hidden_fees")
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(enforced=False))
    assert "hidden_fees" in str(err.value) and "counterfeit" in str(err.value)


def test_a_registered_tactic_streams_sells_and_is_caught(hidden_fees: None) -> None:
    """Its creators exist, violate with its code, sell under it, are scored by its classifier and sanctioned for it, and outputs name it."""
    m = run_to_end(_data(enforced=True))
    c = m.creators
    mine = c.col("ctype") == creator_type_names().index("hidden_fees")
    t = code("hidden_fees")
    assert mine.sum() > 10
    assert np.all(c.col("tactic")[mine] == t)
    assert c.col("violating_streams")[mine].sum() > 0 and c.col("gmv")[mine].sum() > 0
    log = m.governance.enforcer.log
    caught = log.col("reason") == t
    assert caught.any() and np.all(log.col("label")[caught & log.col("real")] == t)
    frame = creators_frame(m)
    assert set(frame.loc[mine, "tactic"]) == {"hidden_fees"} and set(frame.loc[mine, "type"]) == {"hidden_fees"}


def test_its_settlement_hook_moves_only_its_creators_profit(hidden_fees: None) -> None:
    """On paired runs, a surcharge raises exactly its creators' profit (by the kept orders' fees) and changes nothing else."""
    a, b = run_to_end(_data(enforced=False, surcharge=0.0)), run_to_end(_data(enforced=False, surcharge=0.3))
    mine = a.creators.col("ctype") == creator_type_names().index("hidden_fees")
    for col in ("gmv", "orders", "settled", "refunded", "earnings"):
        np.testing.assert_array_equal(a.creators.col(col), b.creators.col(col))
    pa, pb = a.creators.col("profit"), b.creators.col("profit")
    np.testing.assert_array_equal(pa[~mine], pb[~mine])
    assert np.all(pb[mine] >= pa[mine]) and (pb[mine] > pa[mine]).sum() > 5
    # The fee is 30 % of the kept orders' value: at most 30 % of the creators' settled GMV.
    assert (pb - pa)[mine].sum() <= 0.3 * a.creators.col("gmv")[mine].sum() + 1e-9


def test_registering_a_tactic_changes_no_builtinrun_to_end() -> None:
    """A tiny built-in run is bit-identical before registration and after the tactic is removed again."""
    data = tiny_dict(enforced=True)
    data["days"] = 20
    before = run_to_end(data)
    register(HiddenFees)
    unregister("hidden_fees")
    after = run_to_end(data)
    for col in ("profit", "gmv", "ladder", "state", "tactic"):
        np.testing.assert_array_equal(before.creators.col(col), after.creators.col(col))


class QuietFees(HiddenFees):
    """Hidden fees that never violate: a registered tactic overriding ``may_violate``."""

    name = "quiet_fees"

    def may_violate(self, model, day, creators):
        return np.zeros(creators.size, dtype=bool)


def test_plan_calls_the_phase_hooks_a_tactic_overrides() -> None:
    """kinds_with lists exactly the tactics whose class overrides a hook (built-in: incentive fraud's
    prepare and may_violate), follows registration, and plan applies a plug-in's may_violate: its
    creators stream but never violate."""
    from sim.tactics import kinds_with

    assert [k.name for k in kinds_with("prepare")] == ["incentive_fraud"]
    assert [k.name for k in kinds_with("may_violate")] == ["incentive_fraud"]
    register(QuietFees)
    try:
        assert [k.name for k in kinds_with("may_violate")] == ["incentive_fraud", "quiet_fees"]
        data = tiny_dict(enforced=False, n_buyers=2_000, n_creators=100)
        data["days"] = 10
        data["world"]["creators"] = {"mix": {"honest": 0.44, "quiet_fees": 0.40}}
        c = run_to_end(data).creators
        mine = c.col("tactic") == code("quiet_fees")
        assert c.col("streams")[mine].sum() > 0 and c.col("violating_streams")[mine].sum() == 0
    finally:
        unregister("quiet_fees")
    assert [k.name for k in kinds_with("may_violate")] == ["incentive_fraud"]
