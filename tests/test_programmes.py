"""Incentive programme types: the interface the phases call, the three built-in types, their
configuration errors, and the direction of their effects on paired runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tomli_w

import sim.platform.commerce as commerce
from sim import LiveShopModel
from sim.cli import main
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.labels import CreatorState
from sim.platform.programmes import program_names
from sim.platform.programmes.gmv_bonus import GmvBonusConfig
from sim.platform.programmes.new_creator_support import NewCreatorSupport
from sim.platform.programmes.quality_bonus import QualityBonus, QualityBonusConfig
from tests.conftest import tiny_dict


def _model(event: dict, days: int = 10, **world: object) -> LiveShopModel:
    data = tiny_dict(**world)
    data["days"] = days
    data["timeline"] = [{"kind": "incentive", "name": "p", "start_day": 1, "days": days} | event]
    return LiveShopModel(scenario=scenario_from_dict(data))


def _quality(**cfg: object) -> QualityBonus:
    """A quality bonus on a built (not yet stepped) model, started: its first period opens on day 1."""
    m = _model({"program": "quality_bonus", "period_days": 5} | cfg)
    run = m.timeline.incentives[0]
    assert isinstance(run, QualityBonus)
    run.start()
    return run


def _book(run: QualityBonus, gmv: dict[int, float], clean: dict[int, tuple[int, int, int]]) -> None:
    """Record one order of value ``gmv[c]`` per creator, and for creator c ``(clean, dirty,
    complaints)`` settled orders (every creator enrolled)."""
    n = run.model.creators.n
    creator = np.array(list(gmv), dtype=np.int64)
    run.record_orders(creator, np.array(list(gmv.values())), np.ones(n, dtype=bool))
    cr, cl, co = [], [], []
    for c, (good, bad, complaints) in clean.items():
        cr += [c] * (good + bad)
        cl += [True] * good + [False] * bad
        co += [True] * complaints + [False] * (good + bad - complaints)
    run.record_settled(np.array(cr, dtype=np.int64), np.array(cl), np.array(co))


def test_scenario_without_program_is_a_gmv_bonus() -> None:
    """An incentive entry without ``program`` (every file written before there were types) is a gmv_bonus, as before."""
    data = tiny_dict()
    data["timeline"] = [{"kind": "incentive", "name": "b", "start_day": 1, "days": 5, "gmv_threshold": 30.0}]
    event = scenario_from_dict(data).timeline[0]
    assert isinstance(event, GmvBonusConfig) and event.program == "gmv_bonus" and event.gmv_threshold == 30.0
    assert set(program_names()) >= {"gmv_bonus", "quality_bonus", "new_creator_support"}


def test_quality_bonus_pays_only_clean_creators_above_the_floor() -> None:
    """At the period's end the quality bonus pays rate x GMV (capped) to creators at the floor with clean share and complaint rate within bounds, and nothing to the others."""
    run = _quality(gmv_floor=100.0, min_clean_share=0.8, max_complaint_rate=0.1, bonus_rate=0.1, bonus_cap=30.0,
                   budget=1e6)
    # 0: qualifies; 1: below the floor; 2: clean share 0.5; 3: complaint rate 0.2; 4: capped; 5: nothing settled
    _book(run, {0: 200.0, 1: 99.0, 2: 200.0, 3: 200.0, 4: 1000.0, 5: 200.0},
          {0: (9, 1, 0), 1: (10, 0, 0), 2: (5, 5, 0), 3: (10, 0, 2), 4: (10, 0, 1)})
    for day in range(1, 5):
        assert not run.close_day(day).any(), "nothing is paid before the period ends"
    paid = run.close_day(5)
    expected = np.zeros(paid.size)
    expected[0], expected[4] = 20.0, 30.0
    np.testing.assert_allclose(paid, expected)
    assert run.spent == pytest.approx(50.0)
    assert not run.close_day(6).any() and run.gmv.sum() == 0.0, "a new period opens empty"


def test_quality_bonus_pays_pro_rata_when_the_budget_runs_out() -> None:
    """When the period's bonuses exceed what is left of the budget, each qualifying creator gets the same share of it."""
    run = _quality(gmv_floor=10.0, bonus_rate=0.5, bonus_cap=1e6, budget=30.0)
    _book(run, {0: 40.0, 1: 80.0}, {0: (4, 0, 0), 1: (4, 0, 0)})
    paid = run.close_day(5)
    assert paid[0] == pytest.approx(10.0) and paid[1] == pytest.approx(20.0) and paid.sum() == pytest.approx(30.0)
    assert run.remaining == pytest.approx(0.0)
    _book(run, {0: 40.0}, {0: (4, 0, 0)})
    assert not run.close_day(10).any(), "an exhausted budget pays nothing more"


def test_quality_bonus_fraud_target_needs_a_surviving_clean_share() -> None:
    """A fraudster fakes the floor gap only if the fake orders colluders cancel would leave the clean share above the threshold."""
    run = _quality(gmv_floor=100.0, min_clean_share=0.75)
    enrolled = np.ones(run.model.creators.n, dtype=bool)
    # 0: a long clean record and a small gap; 1: no record at all
    _book(run, {0: 90.0}, {0: (40, 0, 0)})
    target = run.fraud_target(enrolled, 1.0, 0.9)
    assert target[0] == pytest.approx(10.0), "one fake order of the average value is absorbed by 40 clean ones"
    assert target[1] == 0.0, "with 90 % of fake orders cancelled, faking from nothing ends at a 10 % clean share"
    assert not run.fraud_target(np.zeros_like(enrolled), 1.0, 0.9).any(), "no target for creators not enrolled"


def _support(days: int = 40, **cfg: object) -> LiveShopModel:
    m = _model({"program": "new_creator_support", "max_age_days": 5} | cfg, days=days,
               creators={"arrival_rate": 0.05})
    while m.running:
        m.step()
    return m


def test_new_creator_support_covers_only_creators_in_their_first_days() -> None:
    """Enrolment and the traffic factor cover exactly the creators who joined during the run, on days 1 to N after joining."""
    m = _support(days=12)
    run = m.timeline.incentives[0]
    assert isinstance(run, NewCreatorSupport)
    c = m.creators
    age = m.day - c.col("joined_day")
    window = (c.col("joined_day") > 0) & (age >= 1) & (age <= 5)
    enrolled = run.enrolled()
    assert enrolled.any() and (~enrolled).any()
    assert not enrolled[c.col("joined_day") == 0].any(), "the population present at the start is not supported"
    assert not enrolled[age > 5].any() and not enrolled[age < 1].any()
    assert (enrolled & (c.col("state") == CreatorState.pilot)).any(), "pilots are supported too"
    np.testing.assert_array_equal(enrolled, window & c.live_mask() & c.col("incentive_eligible"))
    np.testing.assert_array_equal(run.traffic_factor(), np.where(enrolled, 1.5, 1.0))
    assert m.timeline.campaign_effects()["boost"][enrolled].min() == 1.5


def test_new_creator_support_pays_per_live_day_within_budget() -> None:
    """The daily bonus goes to supported creators who went live that day, and stops when the budget is spent."""
    m = _support(days=40, bonus_per_live_day=4.0, budget=1e9)
    run = m.timeline.incentives[0]
    assert run.spent > 0 and run.spent % 4.0 == 0.0
    assert run.spent == pytest.approx(m.ledger.incentive_paid.sum())
    capped = _support(days=40, bonus_per_live_day=4.0, budget=10.0)
    assert capped.timeline.incentives[0].spent == pytest.approx(10.0)
    assert capped.ledger.incentive_paid.sum() == pytest.approx(10.0)


FRAUD_WORLD = {"n_buyers": 6_000, "n_creators": 300, "creators": {"mix": {
    "honest": 0.7, "opportunist": 0.0, "counterfeit": 0.0, "misleading_claims": 0.0, "fake_engagement": 0.0,
    "offplatform_diversion": 0.0, "incentive_fraud": 0.3, "ban_evader": 0.0}}}


def _fake_orders(monkeypatch: pytest.MonkeyPatch, event: dict, seed: int) -> int:
    made = [0]
    real = commerce.tactic_orders

    def counting(model: LiveShopModel, day: object, rng: np.random.Generator) -> dict[str, np.ndarray]:
        out = real(model, day, rng)  # type: ignore[arg-type]
        made[0] += out["value"].size
        return out

    monkeypatch.setattr(commerce, "tactic_orders", counting)
    data = tiny_dict(**FRAUD_WORLD)
    data["days"], data["seed"] = 30, seed
    data["timeline"] = [{"kind": "incentive", "name": "b", "start_day": 1, "days": 30, "period_days": 7,
                         "bonus_rate": 0.1, "bonus_cap": 200.0, "budget": 1e9} | event]
    m = LiveShopModel(scenario=scenario_from_dict(data))
    while m.running:
        m.step()
    return made[0]


@pytest.mark.parametrize("seed", [0, 1])
def test_quality_bonus_induces_far_fewer_fake_orders_than_a_gross_gmv_bonus(
        monkeypatch: pytest.MonkeyPatch, seed: int) -> None:
    """On paired seeds, a quality bonus with the same floor, rate and cap draws under a tenth of the fake orders a gross GMV bonus does."""
    gross = _fake_orders(monkeypatch, {"gmv_threshold": 200.0}, seed)
    quality = _fake_orders(monkeypatch, {"program": "quality_bonus", "gmv_floor": 200.0}, seed)
    assert gross > 1000
    assert quality < gross / 10


def _new_creators(seed: int, support: bool) -> tuple[float, float]:
    data = tiny_dict(n_buyers=6_000, n_creators=300)
    data["days"], data["seed"] = 60, seed
    if support:
        data["timeline"] = [{"kind": "incentive", "name": "s", "program": "new_creator_support", "start_day": 1,
                             "days": 60, "budget": 1e9}]
    m = LiveShopModel(scenario=scenario_from_dict(data))
    while m.running:
        m.step()
    c = m.creators
    new = c.col("joined_day") > 0
    stayed = (c.col("state") != CreatorState.churned) & (c.col("state") != CreatorState.banned)
    return float(c.col("gmv")[new].sum()), float(stayed[new].mean())


def test_new_creator_support_raises_new_creators_gmv_on_paired_seeds() -> None:
    """Summed over paired seeds, creators who joined during the run sell more with the support than without, and as many of them stay."""
    without = [_new_creators(s, False) for s in (0, 1, 2)]
    with_ = [_new_creators(s, True) for s in (0, 1, 2)]
    assert sum(g for g, _ in with_) > 1.1 * sum(g for g, _ in without)
    assert sum(s for _, s in with_) >= sum(s for _, s in without)


def _write_scenario(path: Path, event: dict) -> Path:
    data = tiny_dict() | {"days": 5}
    data["timeline"] = [{"kind": "incentive", "name": "b", "start_day": 1, "days": 3} | event]
    path.write_text(tomli_w.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize(("event", "expected"), [
    ({"program": "loyalty"}, ["timeline[0].program", "'loyalty'", "'gmv_bonus'", "'new_creator_support'",
                              "'quality_bonus'"]),
    ({"program": "quality_bonus", "gmv_threshold": 10.0}, ["timeline[0].gmv_threshold", "unknown key", "gmv_floor"]),
    ({"program": "quality_bonus", "min_clean_share": 1.5}, ["timeline[0].min_clean_share", "1.5"]),
    ({"program": "new_creator_support", "max_age_days": 0}, ["timeline[0].max_age_days", "got 0"]),
])
def test_programme_config_errors_are_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                     event: dict, expected: list[str]) -> None:
    """An unknown programme type or a bad field of a type's block is exit 2 with one error line naming file, field and the allowed values."""
    scenario = _write_scenario(tmp_path / "s.toml", event)
    status = main(["validate", str(scenario), "--brief"])
    err = capsys.readouterr().err
    assert status == 2 and err.count("\n") == 1 and err.startswith("livesim: error: "), err
    assert "s.toml" in err and all(s in err for s in expected), err


def test_unknown_programme_is_refused_by_the_command_line_process(tmp_path: Path) -> None:
    """`python -m sim.cli run` on an unknown programme type exits 2 with one line listing the types, before writing anything."""
    _write_scenario(tmp_path / "s.toml", {"program": "loyalty"})
    proc = subprocess.run([sys.executable, "-m", "sim.cli", "run", "s.toml", "--quiet", "--no-plot"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert "'quality_bonus'" in proc.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.toml"]


def test_a_type_config_round_trips_through_a_dump() -> None:
    """A quality bonus dumped (as run records and overrides do) validates back to the same type and values."""
    data = tiny_dict()
    data["timeline"] = [{"kind": "incentive", "name": "q", "program": "quality_bonus", "start_day": 1, "days": 5,
                         "min_clean_share": 0.6}]
    scenario = scenario_from_dict(data)
    again = scenario_from_dict(scenario.model_dump(mode="json"))
    assert isinstance(again.timeline[0], QualityBonusConfig) and again.timeline[0] == scenario.timeline[0]
    with pytest.raises(ScenarioError, match="gmv_floor"):
        scenario_from_dict(data | {"timeline": [data["timeline"][0] | {"gmv_thresold": 1.0}]})


def test_spend_by_programme_type_adds_up_to_incentive_spend() -> None:
    """With a quality bonus and new-creator support running together, each type's spend metric holds what that type paid, and they sum to incentive_spend."""
    from sim.runner import run

    data = tiny_dict(n_buyers=6_000, n_creators=300, creators={"arrival_rate": 0.02}) | {"days": 20}
    data["timeline"] = [
        {"kind": "incentive", "name": "q", "program": "quality_bonus", "start_day": 1, "days": 20, "period_days": 5,
         "gmv_floor": 20.0, "min_clean_share": 0.5, "max_complaint_rate": 0.5},
        {"kind": "incentive", "name": "s", "program": "new_creator_support", "start_day": 1, "days": 20},
    ]
    s = run(scenario_from_dict(data)).summary
    assert s["quality_bonus_spend"] > 0 and s["new_creator_support_spend"] > 0 and s["gmv_bonus_spend"] == 0.0
    assert s["quality_bonus_spend"] + s["new_creator_support_spend"] == pytest.approx(s["incentive_spend"])
