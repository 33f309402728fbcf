"""A ladder kind defined outside livesim: one config class, one strategy, one registration.

The toy ``strikes`` ladder counts confirmed violations: every decision is one strike, strikes
never lapse, a first strike warns and the N-th bans. It is registered for these tests only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Literal

import numpy as np
import pytest
from pydantic import Field, Strict

from sim import LiveShopModel
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.labels import CreatorState
from sim.platform.ladders import LadderKind, kind_names, register, unregister
from sim.policy import LadderConfig, Milestone, Sanction
from tests.conftest import tiny_dict

STRIKES_TO_BAN = 2
NO_APPEALS = {"rate_if_wrong": 0.0, "rate_if_right": 0.0}


class StrikesLadder(LadderConfig):
    """Strikes: one per confirmed violation, never lapsing."""

    kind: Literal["strikes"]
    warn_after: Annotated[int, Strict(), Field(ge=1, le=100)] = 1
    milestones: list[Milestone] = Field(
        default_factory=lambda: [Milestone(at=1, sanction=Sanction()),
                                 Milestone(at=STRIKES_TO_BAN, sanction=Sanction(ban=True))]
    )


class Strikes(LadderKind):
    """Each decision adds exactly one strike, whatever its severity."""

    name = "strikes"
    config = StrikesLadder

    def score(self, e: StrikesLadder, severity: np.ndarray, day: int) -> tuple[np.ndarray, np.ndarray, int]:
        ones = np.ones(severity.size)
        return ones, ones, -1


@pytest.fixture
def strikes() -> Iterator[None]:
    """The strikes kind is registered for one test and removed afterwards."""
    register(Strikes)
    try:
        yield
    finally:
        unregister("strikes")


def _run(policy: dict, days: int = 40, **extra: object) -> LiveShopModel:
    data = tiny_dict(enforced=True, n_buyers=6_000, n_creators=300)
    data["days"] = days
    data["policy"] = policy
    data.update(extra)
    model = LiveShopModel(scenario=scenario_from_dict(data))
    while model.running:
        model.step()
    return model


def test_strikes_ban_a_creator_exactly_at_the_nth_decision(strikes: None) -> None:
    """Every decision adds one strike; the first warns, the N-th (and only it) bans, and a creator is banned iff it has N strikes."""
    m = _run({"enforcement": {"kind": "strikes"}, "appeals": NO_APPEALS})
    log, c = m.governance.enforcer.log, m.creators
    creator, milestone, ban = log.col("creator"), log.col("milestone"), log.col("ban")
    assert log.n > 0 and np.all(log.col("points") == 1.0) and np.all(log.col("delta") == 1.0)
    # The strike number of each decision: its rank among the creator's decisions, in log order.
    strike = np.zeros(log.n, dtype=np.int64)
    seen: dict[int, int] = {}
    for r, cr in enumerate(creator.tolist()):
        seen[cr] = seen.get(cr, 0) + 1
        strike[r] = seen[cr]
    assert (strike == STRIKES_TO_BAN).any(), "the run must reach the ban milestone to test it"
    np.testing.assert_array_equal(milestone, np.select([strike == 1, strike == STRIKES_TO_BAN], [0, 1], -1))
    np.testing.assert_array_equal(ban, strike == STRIKES_TO_BAN)
    counts = np.bincount(creator, minlength=c.n)
    np.testing.assert_array_equal(c.col("ladder"), counts.astype(float))
    np.testing.assert_array_equal(c.col("state") == CreatorState.banned, counts >= STRIKES_TO_BAN)


def test_a_market_switches_to_strikes_mid_run_next_to_a_builtin_ladder(strikes: None) -> None:
    """A policy event moves one market to strikes: its creators restart at zero strikes and count one per later decision, while the other market keeps its points ladder."""
    switch = 15
    event = {"kind": "policy", "name": "strikes", "start_day": switch, "markets": ["bb"],
             "set": {"enforcement": {"kind": "strikes"}}}
    m = _run({"appeals": NO_APPEALS}, timeline=[event])
    assert [p.enforcement.kind for p in m.policies] == ["points", "strikes"]
    log, c = m.governance.enforcer.log, m.creators
    bb, late = log.col("market") == 1, log.col("day") >= switch
    assert (bb & late).any() and (bb & ~late).any() and (~bb).any()
    assert np.all(log.col("points")[bb & late] == 1.0) and np.all(log.col("expiry_day")[bb & late] == -1)
    aa_days = log.col("expiry_day")[~bb] - log.col("day")[~bb]
    assert np.all(aa_days == m.policies[0].enforcement.expiry_days)
    strikes_since = np.bincount(log.col("creator")[bb & late], minlength=c.n).astype(float)
    in_bb = c.col("market") == 1
    np.testing.assert_array_equal(c.col("ladder")[in_bb], strikes_since[in_bb])


def test_strikes_config_is_validated_like_any_ladder(strikes: None) -> None:
    """A registered kind's own fields are checked, with the file and the field in the one-line error."""
    data = tiny_dict(enforced=True)
    data["policy"] = {"enforcement": {"kind": "strikes", "warn_after": 0}}
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(data)
    assert err.value.field == "policy.enforcement.warn_after" and err.value.value == 0
    data["policy"] = {"enforcement": {"kind": "strikez"}}
    with pytest.raises(ScenarioError, match="'strikes'"):
        scenario_from_dict(data)


def test_an_unregistered_kind_is_refused_again() -> None:
    """Once the toy kind is unregistered, a scenario naming it is refused and only the built-in kinds are listed."""
    register(Strikes)
    unregister("strikes")
    assert kind_names() == ("health_score", "points", "tiers")
    data = tiny_dict(enforced=True)
    data["policy"] = {"enforcement": {"kind": "strikes"}}
    with pytest.raises(ScenarioError, match=r"'health_score', 'points', 'tiers'$"):
        scenario_from_dict(data)
