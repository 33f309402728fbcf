"""The creator mix as a composition (sim/mix.py): set shares are kept, the rest fill up to one in
scenario proportions, and livesim explore, its red team and sim.ema all complete a mix this way."""

from __future__ import annotations

import math

import pytest

from sim.errors import ScenarioError
from sim.mix import mix_shares

BASE = {"honest": 0.84, "opportunist": 0.08, "counterfeit": 0.05, "ban_evader": 0.03}


def test_mix_shares_keep_the_composition_whole() -> None:
    """The sampled shares are kept exactly, the others keep their scenario proportions, in the scenario's order."""
    out = mix_shares(BASE, {"opportunist": 0.2, "counterfeit": 0.1})
    assert math.fsum(out.values()) == 1.0
    assert (out["opportunist"], out["counterfeit"]) == (0.2, 0.1)
    # The others keep their scenario proportions: honest : ban_evader = 0.84 : 0.03.
    assert math.isclose(out["honest"], 0.7 * 0.84 / 0.87) and math.isclose(out["ban_evader"], 0.7 * 0.03 / 0.87)
    assert list(out) == list(BASE)


def test_a_sampled_share_larger_than_the_rest_is_kept_exactly() -> None:
    """When a sampled share is the largest, the fill's rounding goes to a filled share, not to it."""
    for share in (0.55, 0.7, 0.9, 0.123456789):
        out = mix_shares(BASE, {"counterfeit": share})
        assert out["counterfeit"] == share
        assert math.fsum(out.values()) == pytest.approx(1.0, abs=1e-15)


@pytest.mark.parametrize(("sampled", "field"), [
    ({"honest": 0.5, "opportunist": 0.2, "counterfeit": 0.2, "ban_evader": 0.1}, "world.creators.mix.ban_evader"),
    ({"opportunist": 0.7, "counterfeit": 0.4}, "world.creators.mix.counterfeit,opportunist"),
    ({"counterfit": 0.1}, "world.creators.mix.counterfit"),
])
def test_shares_that_leave_no_room_or_name_no_type_are_refused(sampled: dict, field: str) -> None:
    """Every type sampled, shares over one, or an unknown type: a ScenarioError naming the shares."""
    with pytest.raises(ScenarioError) as err:
        mix_shares(BASE, sampled, "test")
    assert field in str(err.value)


def test_one_completion_for_explore_its_red_team_and_ema() -> None:
    """livesim explore's worlds, its red-team worlds and sim.ema's experiments complete a mix with sim.mix.mix_shares."""
    import analysis.explore as explore
    import sim.ema

    assert sim.ema.mix_shares is mix_shares and explore.mix_shares is mix_shares
    world = explore.red_team_world({"world.creators.mix.counterfeit": 0.3, "world.adaptation.learning_rate": 0.2},
                                   BASE)
    assert world == {"world.adaptation.learning_rate": 0.2,
                     **{f"world.creators.mix.{t}": v for t, v in mix_shares(BASE, {"counterfeit": 0.3}).items()}}
