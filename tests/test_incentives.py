"""Incentive effects of the right size: effort follows the bonus a creator can expect, a
programme that pays nothing changes nothing, ``incentive_roi`` is the paired incremental net
GMV per unit of bonus, and the bonus paid is recorded per creator."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import sim.runner
from sim import LiveShopModel
from sim.config import load_scenario, scenario_from_dict
from sim.experiment import run_spec
from sim.runner import run
from sim.sweep import RunSpec
from sim.tactics import adversary_type_codes, creator_type_names
from tests.conftest import tiny_dict

ROOT = Path(__file__).resolve().parents[1]

# Enforcement on, creators adapt, and a tenth of them incentive fraudsters: every path a
# programme could touch is in play.
WORLD = {"n_buyers": 5_000, "n_creators": 200, "creators": {"arrival_rate": 0.02, "mix": {
    "honest": 0.8, "opportunist": 0.05, "counterfeit": 0.02, "misleading_claims": 0.02, "fake_engagement": 0.0,
    "offplatform_diversion": 0.0, "incentive_fraud": 0.1, "ban_evader": 0.01}}}


def _scenario(event: dict | None, days: int = 40, seed: int = 11) -> dict:
    data = tiny_dict(enforced=True, **WORLD)
    data["days"], data["seed"] = days, seed
    if event is not None:
        data["timeline"] = [{"kind": "incentive", "name": "p", "start_day": 5, "days": 30, "budget": 1e6,
                             "effort_boost": 0.5} | event]
    return data


@pytest.mark.parametrize("event", [
    {"program": "gmv_bonus", "gmv_threshold": 100.0, "bonus_rate": 0.0},
    {"program": "gmv_bonus", "gmv_threshold": 100.0, "bonus_rate": 0.2, "budget": 0.0},
    {"program": "quality_bonus", "gmv_floor": 100.0, "bonus_rate": 0.0},
    {"program": "new_creator_support", "bonus_per_live_day": 0.0, "traffic_multiplier": 1.0},
], ids=["gmv_rate0", "gmv_budget0", "quality_rate0", "support_bonus0"])
def test_a_programme_that_pays_nothing_changes_nothing(event: dict) -> None:
    """With a zero rate or no budget, the run is the run without the programme, bit for bit: every daily value (streams, GMV, violations, ...) and every creator; this also shows a programme draws no random numbers."""
    with_ = run(scenario_from_dict(_scenario(event)))
    without = run(scenario_from_dict(_scenario(None)))
    assert with_.summary["incentive_spend"] == 0.0
    assert with_.summary["streams"] > 0 and with_.summary["gmv"] > 0
    pd.testing.assert_frame_equal(with_.daily, without.daily)
    pd.testing.assert_frame_equal(with_.creators, without.creators)


def _boosts(rates: list[float], days: int = 12) -> list[np.ndarray]:
    """Each creator's effort boost on day ``days + 1`` from one and the same state, for each rate."""
    m = LiveShopModel(scenario=scenario_from_dict(_scenario({"gmv_threshold": 100.0, "bonus_rate": 0.1})))
    while m.day < days:
        m.step()
    run_ = m.timeline.incentives[0]
    enrolled = run_.enrolled()
    out = []
    for rate in rates:
        run_.cfg = run_.cfg.model_copy(update={"bonus_rate": rate})
        out.append(run_.effort_boost(enrolled))
    return out


def test_effort_boost_rises_with_the_bonus_rate_from_the_same_state() -> None:
    """From the same state, each creator's effort boost is 0 at rate 0, never falls as the rate rises, rises for some, and never passes effort_boost."""
    b0, b1, b2, b3 = _boosts([0.0, 0.02, 0.1, 1.0])
    assert not b0.any()
    assert (b1 <= b2).all() and (b2 <= b3).all()
    assert (b1 > 0).any() and (b2 > b1).any() and (b3 > b2).any()
    assert b3.max() <= 0.5


def _streams_in_force(rate: float, seed: int) -> float:
    result = run(scenario_from_dict(_scenario({"gmv_threshold": 100.0, "bonus_rate": rate}, seed=seed)))
    d = result.platform_daily
    return float(d.loc[5:34, "streams"].sum())


def test_streams_rise_with_the_bonus_rate_on_paired_seeds() -> None:
    """On paired seeds (same seed and replication, only the rate differs), streams held while the programme runs rise with the bonus rate, summed over three seeds."""
    seeds = (1, 2, 3)
    s0, s1, s2 = (sum(_streams_in_force(rate, s) for s in seeds) for rate in (0.0, 0.05, 0.3))
    assert s0 < s1 < s2


def _incentive_world(seed: int = 11) -> dict:
    return _scenario({"gmv_threshold": 100.0, "bonus_rate": 0.15}, seed=seed)


def test_incentive_roi_is_incremental_net_gmv_over_the_twin_per_bonus() -> None:
    """incentive_roi is (net_gmv - net_gmv of the same world without the programme) / incentive_spend, exactly, platform-wide and per market; the twin is the run made by hand without the timeline entry, and the daily column ends at the summary's value."""
    data = _incentive_world()
    result = run(scenario_from_dict(data))
    twin = run(scenario_from_dict(data | {"timeline": []}))
    spend = result.summary["incentive_spend"]
    assert spend > 0
    assert result.summary["incentive_roi"] == (result.summary["net_gmv"] - twin.summary["net_gmv"]) / spend
    for m, values in result.summary_by_market.items():
        if values["incentive_spend"] > 0:
            expected = (values["net_gmv"] - twin.summary_by_market[m]["net_gmv"]) / values["incentive_spend"]
            assert values["incentive_roi"] == expected
    daily = result.platform_daily["incentive_roi"]
    assert daily.loc[:5].isna().all(), "no bonus paid yet: undefined"
    assert daily.iloc[-1] == pytest.approx(result.summary["incentive_roi"], rel=1e-9, abs=1e-9)
    assert result.extra["incentive_twin_net_gmv"]["all"] == twin.summary["net_gmv"]
    assert np.isnan(twin.summary["incentive_roi"])


def test_the_twin_drops_only_the_incentive_entries() -> None:
    """The twin keeps campaigns and everything else; a scenario without programmes has no twin."""
    data = _incentive_world()
    data["timeline"].append({"kind": "campaign", "name": "sale", "start_day": 10, "days": 3})
    scenario = scenario_from_dict(data)
    twin = sim.runner.incentive_twin(scenario)
    assert twin is not None and [e.kind for e in twin.timeline] == ["campaign"]
    assert twin.model_copy(update={"timeline": scenario.timeline}) == scenario
    assert sim.runner.incentive_twin(twin) is None


def test_a_sweep_run_reports_the_same_paired_roi() -> None:
    """A sweep's run of the scenario reports the paired incentive_roi of sim.runner.run, per market too."""
    scenario = scenario_from_dict(_incentive_world())
    direct = run(scenario)
    out = run_spec(RunSpec("r0", "v", 0, 0, {}, scenario))
    summary = out["frames"]["summary"].set_index("market")
    paired = (direct.summary["net_gmv"] - direct.extra["incentive_twin_net_gmv"]["all"]) / direct.summary["incentive_spend"]
    assert summary.loc["all", "incentive_roi"] == paired == direct.summary["incentive_roi"]
    for m, values in direct.summary_by_market.items():
        assert summary.loc[m, "incentive_roi"] == values["incentive_roi"] or np.isnan(values["incentive_roi"])


def test_bonus_paid_per_creator_adds_up_to_the_incentive_spend() -> None:
    """creators.bonus_paid sums to incentive_spend (and the ledger's incentive_paid), platform-wide and per market; incentive_fraud_share is the adversaries' part of it."""
    result = run(scenario_from_dict(_incentive_world()))
    c = result.creators
    spend = result.summary["incentive_spend"]
    assert spend > 0 and (c["bonus_paid"] >= 0).all()
    assert c["bonus_paid"].sum() == pytest.approx(spend, rel=1e-12)
    assert c["bonus_paid"].sum() == pytest.approx(result.ledger["incentive_paid"], rel=1e-12)
    for m, values in result.summary_by_market.items():
        assert c.loc[c["market"] == m, "bonus_paid"].sum() == pytest.approx(values["incentive_spend"], rel=1e-12)
    names = creator_type_names()
    adversary = c["type"].isin([names[k] for k in adversary_type_codes()])
    share = result.summary["incentive_fraud_share"]
    assert 0.0 <= share <= 1.0
    assert share == pytest.approx(c.loc[adversary, "bonus_paid"].sum() / spend, rel=1e-12)


def test_incentive_fraud_scenario_pays_part_of_its_bonus_to_fraudsters() -> None:
    """In scenarios/incentive_fraud.toml (a smaller world, same mix and programme) part of the bonus goes to adversarial creators, and the daily share stays within [0, 1]."""
    scenario = load_scenario(ROOT / "scenarios" / "incentive_fraud.toml")
    result = run(scenario, overrides={"world.n_buyers": 30_000, "world.n_creators": 800})
    share = result.summary["incentive_fraud_share"]
    assert 0.0 < share < 1.0
    daily = result.platform_daily["incentive_fraud_share"].dropna()
    assert len(daily) > 0 and daily.between(0.0, 1.0).all()


@pytest.mark.parametrize(("field", "value"), [("effort_elasticity", -0.1), ("gmv_outlook_sigma", 0.0),
                                              ("effort_elasticity", 6.0)])
def test_new_effort_fields_are_bounded(field: str, value: float) -> None:
    """The effort fields are validated: a value out of bounds is a one-line error naming the field."""
    from sim.errors import ScenarioError

    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_scenario({field: value}))
    assert err.value.field == f"timeline[0].{field}" and "\n" not in str(err.value)
