"""The dashboard's live run (livesim_dashboard.live), without a browser."""

from __future__ import annotations

import pytest

pytest.importorskip("solara")

from livesim_dashboard.live import LiveRun, levers_of, market_series

from sim.config import scenario_from_dict
from tests.conftest import harsh_dict


def _flags(run: LiveRun) -> list[float]:
    d = run.daily()
    return d.loc[d["market"] == "aa", "flags"].tolist()


def test_levers_are_the_main_policy_levers_per_market() -> None:
    """Preset, one detection threshold per market, review capacity and KYC strictness, at the scenario's values."""
    levers = {lv.path: lv.value for lv in levers_of(scenario_from_dict(harsh_dict()))}
    assert levers == {"policy_preset": "strict", "policy_overrides.aa.detection.threshold": 1.5,
                      "policy_overrides.bb.detection.threshold": 1.5, "policy.review.capacity_per_day": 400,
                      "policy.onboarding.kyc_strictness": 0.9}


def test_same_seed_same_days_and_a_lever_acts_from_the_next_day() -> None:
    """Reset with the same seed replays the same days; a threshold moved on day 3 leaves days 1-3 as
    they were and changes the flags after; a no-op move (slider float noise) changes nothing."""
    run = LiveRun(scenario_from_dict(harsh_dict(days=10)))
    run.step(6)
    before = _flags(run)
    run.reset()
    run.step(3)
    run.set_lever("policy_overrides.aa.detection.threshold", 1.5000000000000002)
    run.step(3)
    assert _flags(run) == before
    run.reset()
    run.step(3)
    run.set_lever("policy_overrides.aa.detection.threshold", 4.0)
    run.step(3)
    after = _flags(run)
    assert after[:3] == before[:3] and sum(after[3:]) < sum(before[3:])
    run.reset(seed=12)
    assert run.day == 0 and run.model.policies[0].detection.threshold == 4.0


def test_market_series_draws_one_line_per_market() -> None:
    """The live plot has one line per market asked for."""
    run = LiveRun(scenario_from_dict(harsh_dict(days=5)))
    run.step(5)
    fig = market_series(run.daily(), "gmv", ["aa", "bb"], run.campaigns(), run.days)
    assert len(fig.axes[0].get_lines()) == 2
