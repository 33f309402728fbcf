"""Trends from outside livesim: a plug-in tactic as a trend's subject, and a trend kind of one's own.

The toy tactic ``hidden_fees`` (tests/plugins/test_toy_tactic.py) is a tactic the classifiers
were never trained on: its separability is whatever the plug-in declares (here, low). The toy
kind ``intensity_creep`` is one config class, one ``TrendRun`` subclass and one registration:
the group's users of the tactic violate more often, step by step over the ramp.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pytest

from sim import LiveShopModel
from sim.config import Trend, scenario_from_dict
from sim.errors import ScenarioError
from sim.platform.trends import TrendRun, register, unregister
from sim.schema import Share
from sim.tactics import code, creator_type_names
from sim.tactics import register as register_tactic
from sim.tactics import unregister as unregister_tactic
from tests.conftest import tiny_dict
from tests.plugins.test_toy_tactic import HiddenFees


class LowSeparabilityFees(HiddenFees):
    """Hidden fees, against which the classifier has little to go on."""

    separability = 0.8


class IntensityCreepConfig(Trend):
    trend: Literal["intensity_creep"]
    rise: Share = 0.2


class IntensityCreep(TrendRun):
    """Users of the tactic in the trend's markets violate ``rise`` more often once the ramp is complete."""

    name = "intensity_creep"
    config = IntensityCreepConfig
    parameter = "rise"

    def ramp(self, day: int, before: float, level: float) -> None:
        c = self.model.creators
        rows = np.flatnonzero(self.group_mask() & (c.col("tactic") == self.tactic))
        c.col("intensity")[rows] = np.minimum(c.col("intensity")[rows] + self.cfg.rise * (level - before), 1.0)
        self.mark(rows)
        self.accounts = max(self.accounts, rows.size)


@pytest.fixture
def hidden_fees() -> Iterator[None]:
    register_tactic(LowSeparabilityFees)
    try:
        yield
    finally:
        unregister_tactic("hidden_fees")


@pytest.fixture
def creep() -> Iterator[None]:
    register(IntensityCreep)
    try:
        yield
    finally:
        unregister("intensity_creep")


def _data(*trends: dict) -> dict:
    data = tiny_dict(enforced=True, n_buyers=6_000, n_creators=400)
    data["days"] = 16
    data["world"]["creators"] = {"mix": {"honest": 0.74, "hidden_fees": 0.10}}
    data["timeline"] = list(trends)
    return data


def _run(data: dict) -> LiveShopModel:
    model = LiveShopModel(scenario=scenario_from_dict(data))
    while model.running:
        model.step()
    return model


def test_a_plugin_tactic_can_be_adopted_in_a_wave(hidden_fees: None) -> None:
    """Opportunists in the wave's market switch to the plug-in tactic and may then only choose between it and staying clean."""
    wave = {"kind": "trend", "trend": "adoption_wave", "name": "fees", "tactic": "hidden_fees", "start_day": 5,
            "days": 2, "share": 0.7, "markets": ["bb"], "creator_types": ["opportunist"]}
    model = _run(_data(wave))
    c = model.creators
    adopters = np.flatnonzero(c.col("trend") == 0)
    assert adopters.size > 3
    assert np.all(c.col("market")[adopters] == 1)
    assert set(c.col("ctype")[adopters]) == {creator_type_names().index("opportunist")}
    menu = model.learner.allowed[adopters]
    tactics = {model.learner.actions[a][0] for a in np.flatnonzero(menu.any(axis=0))}
    assert tactics == {0, code("hidden_fees")}
    assert np.all(np.isin(c.col("tactic")[adopters], [code("hidden_fees")]))


def test_evasion_works_against_a_plugin_tactic(hidden_fees: None) -> None:
    """An evasion of the plug-in tactic sets the loss of its classifier's separability, in its markets and for its type only."""
    evade = {"kind": "trend", "trend": "evasion", "name": "hide", "tactic": "hidden_fees", "start_day": 3, "days": 1,
             "dprime_drop": 0.5, "markets": ["aa"], "creator_types": ["hidden_fees"]}
    model = _run(_data(evade))
    loss = model.world_shift.dprime_loss
    t, ctype = code("hidden_fees"), creator_type_names().index("hidden_fees")
    assert loss[0, ctype, t] == 0.5
    loss[0, ctype, t] = 0.0
    assert not loss.any()


def test_a_trend_kind_of_ones_own_is_one_class_and_a_registration(hidden_fees: None, creep: None) -> None:
    """Registered, the toy kind is accepted in a scenario, runs on its ramp days and is recorded like the built-in kinds."""
    entry = {"kind": "trend", "trend": "intensity_creep", "name": "creep", "tactic": "hidden_fees", "start_day": 4,
             "days": 4, "rise": 0.2, "markets": ["aa"]}
    data, plain = _data(entry), _data()
    for d in (data, plain):
        d["world"]["adaptation"] = {"enabled": False}  # intensities move only by the trend
    base, model = _run(plain), _run(data)
    c = model.creators
    mine = (c.col("tactic") == code("hidden_fees")) & (c.col("market") == 0) & (c.col("trend") == 0)
    assert mine.sum() > 3
    # Intensity rose by the whole 0.2 (from the tactic's 0.8), capped at 1, for the accounts there all along.
    there = np.flatnonzero(mine[: base.creators.n] & (c.col("joined_day")[: base.creators.n] == 0))
    np.testing.assert_allclose(c.col("intensity")[there], 1.0)
    assert not np.any(c.col("trend")[c.col("market") == 1] == 0)


def test_an_unregistered_trend_kind_is_refused(hidden_fees: None) -> None:
    """Without its registration the toy kind's entry is refused, naming the registered kinds."""
    entry = {"kind": "trend", "trend": "intensity_creep", "name": "creep", "tactic": "hidden_fees", "start_day": 4}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(entry))
    assert err.value.field == "timeline[0].trend" and "adoption_wave" in str(err.value)
