"""Ladder kinds: the registry, the built-in kinds' hooks, and an Enforcer free of kind branches."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

import numpy as np
import pytest

from sim.platform import enforcement
from sim.platform.ladders import BUILTIN, LadderKind, config_class, kind_names, ladder_for, register, unregister
from sim.policy import HealthScoreLadder, LadderConfig, PointsLadder, TiersLadder


def test_enforcer_source_holds_no_branch_on_a_ladder_kind() -> None:
    """enforcement.py never reads or compares a ladder's kind nor a kind's own parameter: every kind goes through the registry."""
    source = Path(enforcement.__file__).read_text(encoding="utf-8")
    assert "kind ==" not in source and ".kind" not in source
    own = {f for c in (HealthScoreLadder, PointsLadder, TiersLadder) for f in c.model_fields} - set(LadderConfig.model_fields)
    assert own and not re.findall(r"(?<!np)\.(" + "|".join(sorted(own)) + r")\b", source)


@pytest.mark.parametrize("config", [HealthScoreLadder, PointsLadder, TiersLadder])
def test_every_builtin_kind_is_registered_with_its_config(config: type[LadderConfig]) -> None:
    """Each built-in config class is run by the strategy registered under its kind name."""
    e = config(kind=config.model_fields["kind"].annotation.__args__[0])
    ladder = ladder_for(e)
    assert isinstance(ladder, LadderKind) and ladder.name == e.kind and ladder.config is config
    assert config_class(e.kind) is config and e.kind in BUILTIN and e.kind in kind_names()


def test_register_refuses_a_kind_whose_config_names_another_kind() -> None:
    """A strategy's name must be its config's kind, so a scenario's kind selects both."""

    class Wrong(LadderKind):
        name = "wrong"
        config = PointsLadder

    with pytest.raises(ValueError, match="Literal"):
        register(Wrong)
    assert "wrong" not in kind_names()


def test_register_refuses_to_replace_a_kind_and_builtins_stay() -> None:
    """A second strategy under a taken name is refused, and a built-in kind cannot be unregistered."""

    class Points2(LadderKind):
        name = "points"
        config = PointsLadder

    with pytest.raises(ValueError, match="already registered"):
        register(Points2)
    with pytest.raises(ValueError, match="built in"):
        unregister("points")
    assert type(ladder_for(PointsLadder(kind="points"))).__name__ == "Points"


def test_register_refuses_a_config_that_is_not_a_ladder_config() -> None:
    """A kind's config must hold the shared ladder fields (points ranges, milestones) the Enforcer reads."""
    from sim.schema import StrictModel

    class Bare(StrictModel):
        kind: Literal["bare"]

    class BareKind(LadderKind):
        name = "bare"
        config = Bare  # type: ignore[assignment]

    with pytest.raises(ValueError, match="LadderConfig"):
        register(BareKind)


def test_health_score_falls_from_its_initial_value_and_crosses_milestones_downwards() -> None:
    """Health starts at initial, loses points x score_per_point (lapsing after the window), is floored at 0, and a fall through 150 and 50 reaches the 50 milestone."""
    e = HealthScoreLadder(kind="health_score", initial=300.0, score_per_point=5.0, window_days=30)
    h = ladder_for(e)
    assert h.start(e) == 300.0
    points, delta, expiry = h.score(e, np.array([2.4, 9.6]), day=10)
    np.testing.assert_array_equal(points, [2.0, 10.0])
    np.testing.assert_array_equal(delta, [-10.0, -50.0])
    assert expiry == 40
    before, after = h.bound(e, np.array([160.0, 160.0, 140.0, 20.0]), np.array([40.0, 155.0, 160.0, -30.0]))
    np.testing.assert_array_equal(after, [40.0, 155.0, 160.0, 0.0])
    ats = [m.at for m in e.milestones]
    assert ats == [150.0, 100.0, 50.0, 0.0]
    np.testing.assert_array_equal(h.milestones_reached(e, before, after), [2, -1, -1, 3])
    assert not any(h.resets(e, d) for d in range(1, 400))


def test_health_score_recovers_with_clean_orders_up_to_its_ceiling_in_its_market_only() -> None:
    """Clean orders add recovery_per_clean_order each, capped at recovery_ceiling, only for the market's creators."""
    e = HealthScoreLadder(kind="health_score", recovery_ceiling=210.0, recovery_per_clean_order=2.0)
    value = np.array([200.0, 200.0, 100.0])
    ladder_for(e).recover(e, np.array([True, True, False]), value, np.array([6.0, 1.0]))
    np.testing.assert_array_equal(value, [210.0, 202.0, 100.0])


def test_points_rise_lapse_after_expiry_and_cross_upwards() -> None:
    """Points are the rounded severity, lapse expiry_days later, never reset, and crossing 12 and 36 in one move reaches the 36 milestone."""
    e = PointsLadder(kind="points", expiry_days=90)
    p = ladder_for(e)
    assert p.start(e) == 0.0
    points, delta, expiry = p.score(e, np.array([3.5, 40.2]), day=5)
    np.testing.assert_array_equal(points, [4.0, 40.0])
    np.testing.assert_array_equal(delta, points)
    assert expiry == 95
    reached = p.milestones_reached(e, np.array([10.0, 11.0, 12.0]), np.array([13.0, 40.0, 20.0]))
    np.testing.assert_array_equal(reached, [0, 2, -1])
    assert not any(p.resets(e, d) for d in range(1, 400))


def test_tiers_score_at_least_one_never_lapse_and_reset_every_period() -> None:
    """Tier points are the scaled severity, at least 1, without expiry; the ladder resets on multiples of reset_days only."""
    e = TiersLadder(kind="tiers", points_scale=0.5, reset_days=7)
    t = ladder_for(e)
    points, delta, expiry = t.score(e, np.array([0.4, 9.0]), day=3)
    np.testing.assert_array_equal(points, [1.0, 4.0])
    np.testing.assert_array_equal(delta, points)
    assert expiry == -1
    assert [d for d in range(1, 30) if t.resets(e, d)] == [7, 14, 21, 28]


def test_health_score_recovery_restores_lost_score_up_to_the_start_value() -> None:
    """By default recovery stops at the start value (200): a score below it climbs back to it and no further; one above it (a lapsed deduction given back) is brought down to it."""
    e = HealthScoreLadder(kind="health_score", recovery_per_clean_order=1.0)
    assert e.ceiling == e.initial == 200.0
    value = np.array([150.0, 195.0, 200.0, 230.0, 10.0])
    ladder_for(e).recover(e, np.ones(5, dtype=bool), value, np.array([20.0, 20.0, 20.0, 0.0, 0.0]))
    np.testing.assert_array_equal(value, [170.0, 200.0, 200.0, 200.0, 10.0])


def test_health_score_ceiling_is_validated() -> None:
    """recovery_ceiling must lie between initial and maximum."""
    assert HealthScoreLadder(kind="health_score", recovery_ceiling=400.0).ceiling == 400.0
    for bad in (150.0, 1000.0):
        with pytest.raises(ValueError, match="recovery_ceiling"):
            HealthScoreLadder(kind="health_score", recovery_ceiling=bad, maximum=900.0)


def test_no_creator_ends_a_day_above_the_health_score_ceiling() -> None:
    """On a tiny enforced world under the health score (short window, so deductions lapse and are given back), every creator's score stays within [0, 200] at the end of every day, while many recover to it."""
    from sim import LiveShopModel
    from sim.config import scenario_from_dict
    from tests.conftest import tiny_dict

    data = tiny_dict(enforced=True, n_buyers=6_000, n_creators=300)
    data["days"] = 60
    data["policy"] = {"enforcement": {"kind": "health_score", "window_days": 15, "recovery_per_clean_order": 1.0}}
    model = LiveShopModel(scenario=scenario_from_dict(data))
    while model.running:
        model.step()
        value = model.creators.col("ladder")
        assert value.min() >= 0.0 and value.max() <= 200.0, (model.day, value.max())
    log = model.governance.enforcer.log
    deducted = int((log.col("delta") < 0).sum())
    assert deducted > 20 and log.col("expired").any()
    assert (model.creators.col("ladder") == 200.0).mean() > 0.5
