"""A programme type defined outside livesim: one config class, one Programme, one registration.

The toy ``end_bonus`` type pays a flat amount, once, to every enrolled creator still payable on
the programme's last day, within its budget. It is registered for these tests only.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

import numpy as np
import pytest

from sim import LiveShopModel
from sim.config import Incentive, scenario_from_dict
from sim.errors import ScenarioError
from sim.platform.programmes import BUILTIN, Programme, program_names, register, unregister
from sim.runner import run
from sim.schema import Money
from tests.conftest import tiny_dict


class EndBonusConfig(Incentive):
    """A flat amount per enrolled creator, paid on the last day."""

    program: Literal["end_bonus"]
    amount: Money = 10.0


class EndBonus(Programme):
    """Pays ``amount`` to each creator enrolled and payable on ``end_day``."""

    name = "end_bonus"
    config = EndBonusConfig
    cfg: EndBonusConfig

    def close_day(self, day: int) -> np.ndarray:
        n = self.model.creators.n
        if not self.active or day != self.cfg.end_day:
            return np.zeros(n)
        bonus = np.where(self.enrolled() & self.payable(n), self.cfg.amount, 0.0)
        self.paid_to = bonus > 0
        return self.pay_within_budget(bonus)


@pytest.fixture
def end_bonus() -> Iterator[None]:
    """The end_bonus type is registered for one test and removed afterwards."""
    register(EndBonus)
    try:
        yield
    finally:
        unregister("end_bonus")


def _data(**event: object) -> dict:
    data = tiny_dict() | {"days": 12}
    data["timeline"] = [{"kind": "incentive", "name": "end", "program": "end_bonus", "start_day": 3, "days": 8}
                        | event]
    return data


def test_end_bonus_pays_every_enrolled_creator_once_on_the_last_day(end_bonus: None) -> None:
    """The registered type runs through the phases: it pays amount x the creators enrolled on its last day, on that day only, into incentive_spend."""
    m = LiveShopModel(scenario=scenario_from_dict(_data(amount=7.0, budget=1e9)))
    spend_by_day = []
    while m.running:
        m.step()
        spend_by_day.append(m.counts.incentive_spend.sum())
    prog = m.timeline.incentives[0]
    assert isinstance(prog, EndBonus)
    assert prog.paid_to.sum() > 0
    assert spend_by_day[10 - 1] == pytest.approx(7.0 * prog.paid_to.sum())
    assert sum(spend_by_day) == pytest.approx(spend_by_day[10 - 1])
    assert m.ledger.incentive_paid.sum() == pytest.approx(prog.spent)


def test_end_bonus_respects_its_budget_and_reports_spend(end_bonus: None) -> None:
    """With a budget below the bill, the type pays exactly the budget, and the run's incentive_spend says so."""
    result = run(scenario_from_dict(_data(amount=7.0, budget=20.0)))
    assert result.summary["incentive_spend"] == pytest.approx(20.0)


def test_end_bonus_config_is_validated_like_any_type(end_bonus: None) -> None:
    """A registered type's own fields are checked (file and field in the one-line error), and an unknown name lists it among the types."""
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(amount=-1.0))
    assert err.value.field == "timeline[0].amount" and err.value.value == -1.0
    with pytest.raises(ScenarioError, match="'end_bonus'"):
        scenario_from_dict(_data(program="end_bonuses"))


def test_an_unregistered_type_is_refused_again() -> None:
    """Once the toy type is unregistered, a scenario naming it is refused and only the built-in types are listed."""
    register(EndBonus)
    unregister("end_bonus")
    assert program_names() == BUILTIN
    with pytest.raises(ScenarioError, match=r"'gmv_bonus', 'new_creator_support', 'quality_bonus'$"):
        scenario_from_dict(_data())


def test_registration_checks_the_config_names_the_type() -> None:
    """A type whose config's program is not Literal[its name], or a built-in type, is refused with a reason."""

    class Misnamed(EndBonus):
        name = "other_bonus"

    with pytest.raises(ValueError, match="Literal"):
        register(Misnamed)
    with pytest.raises(ValueError, match="built in"):
        unregister("gmv_bonus")


def test_extending_doc_programme_example_pays_the_flat_amount() -> None:
    """The programme example in docs/extending.md, run as written, makes program = "flat_bonus" valid and pays a multiple of its amount every day it runs."""
    from tests.plugins.test_extending_doc import _example

    exec(compile(_example("# flat_bonus.py"), "extending.md programme", "exec", dont_inherit=True), {})
    try:
        assert "flat_bonus" in program_names()
        data = tiny_dict() | {"days": 6}
        data["timeline"] = [{"kind": "incentive", "name": "flat", "program": "flat_bonus", "start_day": 2, "days": 4,
                             "amount": 3.0, "budget": 1e9}]
        result = run(scenario_from_dict(data))
        spend = result.daily.loc[result.daily["market"] == "all", "incentive_spend"].to_numpy()
        assert spend[0] == 0.0 and spend[5] == 0.0 and (spend[1:5] > 0).all()
        assert np.all(spend % 3.0 == 0.0)
    finally:
        unregister("flat_bonus")
