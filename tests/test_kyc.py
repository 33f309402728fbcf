"""Stricter KYC for new accounts of a category (``onboarding.kyc_strictness_by_category``) and
escalation's ``kyc`` option: who is refused at the door, at what rate, and when."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import LiveShopModel, run
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from tests.conftest import EVADERS_ONLY, ban_everyone, escalated_by_day, tiny_dict

CATEGORIES = ["beauty", "fashion", "electronics", "home", "food", "health"]
BEAUTY = CATEGORIES.index("beauty")


def _newcomers(policy_overrides: dict | None) -> LiveShopModel:
    """A tiny world with many arrivals and full friction (at the market's strictness 0.5, half are deterred)."""
    data = tiny_dict(creators={"arrival_rate": 0.1})
    data["policy"] |= {"onboarding": {"kyc_friction": 1.0}}
    if policy_overrides:
        data["policy_overrides"] = policy_overrides
    return LiveShopModel(scenario=scenario_from_dict(data))


STRICT_BEAUTY = {"aa": {"onboarding": {"kyc_strictness_by_category": {"beauty": 1.0}}}}


def test_full_category_kyc_refuses_every_newcomer_of_the_category_in_its_market_only() -> None:
    """At strictness 1 for beauty in aa (friction 1), no beauty newcomer joins aa in 20 days while others join aa and
    beauty newcomers join bb; up to the first day the plain run takes one, the newcomers are the plain run's, and that
    day they are exactly the plain run's less its aa beauty ones."""
    plain, strict = _newcomers(None), _newcomers(STRICT_BEAUTY)
    for day in range(1, 21):
        plain.step()
        strict.step()
        p, s = plain.creators, strict.creators
        new_p, new_s = np.flatnonzero(p.col("joined_day") == day), np.flatnonzero(s.col("joined_day") == day)
        refused = (p.col("market")[new_p] == 0) & (p.col("category")[new_p] == BEAUTY)
        for name in ("market", "category", "ctype", "followers", "quality", "skill"):
            assert np.array_equal(s.col(name)[new_s], p.col(name)[new_p[~refused]]), (day, name)
        if refused.any():
            break
    assert refused.any()
    for _ in range(day, 20):
        strict.step()
    c = strict.creators
    new = np.flatnonzero(c.col("joined_day") > 0)
    market, category = c.col("market")[new], c.col("category")[new]
    assert not ((market == 0) & (category == BEAUTY)).any()
    assert ((market == 0) & (category != BEAUTY)).sum() > 20
    assert ((market == 1) & (category == BEAUTY)).sum() > 5


def test_a_category_strictness_not_above_the_market_changes_nothing() -> None:
    """Beauty at the market's own strictness (0.5) refuses no one: the run is the plain run, bit for bit (its extra
    draws come from their own stream)."""
    data = tiny_dict(creators={"arrival_rate": 0.05}) | {"days": 15}
    plain = run(scenario_from_dict(data))
    data["policy"] |= {"onboarding": {"kyc_strictness_by_category": {"beauty": 0.5}}}
    same = run(scenario_from_dict(data))
    pd.testing.assert_frame_equal(plain.daily, same.daily)


def _reentries(by_category: dict[str, float]) -> tuple[int, dict[int, int]]:
    """Every creator a banned evader re-entering two days later (one attempt, market strictness 0.4): the caught
    count, and the category of each re-entered account by actor."""
    data = tiny_dict(enforced=True, n_creators=1_500, creators={"mix": EVADERS_ONLY, "arrival_rate": 0.0, "entry_response": 0.0},
                     adaptation={"reentry_days": [2, 2], "reentry_attempts": 1}) | {"days": 10}
    data["policy"] = {"detection": {"enabled": False},
                      "onboarding": {"kyc_strictness": 0.4, "kyc_strictness_by_category": by_category}}
    m = LiveShopModel(scenario=scenario_from_dict(data))
    m.step()
    n = ban_everyone(m)
    for _ in range(3):
        m.step()
    c = m.creators
    new = np.flatnonzero(c.col("joined_day") > 0)
    assert int(m.totals["ban_evasions"].sum()) == new.size
    assert int(m.totals["ban_evasions_caught"].sum()) + new.size == n
    return int(m.totals["ban_evasions_caught"].sum()), dict(zip(c.col("actor")[new].tolist(),
                                                                c.col("category")[new].tolist(), strict=True))


def test_evaders_reentering_into_the_category_are_caught_at_its_strictness() -> None:
    """With beauty at 0.9 over a market's 0.4, evaders whose new account would sell beauty get in with chance 0.1
    instead of 0.6: of the plain run's beauty re-entries (same draws) a sixth pass (4 binomial sd) and the rest count
    as caught; the others are the same people exactly."""
    plain_caught, plain = _reentries({})
    caught, strict = _reentries({"beauty": 0.9})
    plain_beauty = {a for a, k in plain.items() if k == BEAUTY}
    strict_beauty = {a for a, k in strict.items() if k == BEAUTY}
    assert {a for a, k in strict.items() if k != BEAUTY} == {a for a, k in plain.items() if k != BEAUTY}
    assert strict_beauty <= plain_beauty
    assert caught == plain_caught + len(plain_beauty) - len(strict_beauty)  # each refused beauty account is caught
    b = len(plain_beauty)
    assert b > 100
    sd = (b * (1 / 6) * (5 / 6)) ** 0.5
    assert abs(len(strict_beauty) - b / 6) < 4 * sd, (len(strict_beauty), b)


COHORT = {"kind": "trend", "trend": "cohort", "name": "ring", "tactic": "counterfeit", "markets": ["aa"],
          "start_day": 3, "days": 5, "accounts_per_day": 40, "categories": ["beauty"]}


def _cohort(policy: dict) -> tuple[pd.DataFrame, int]:
    data = tiny_dict(enforced=True) | {"days": 10, "timeline": [COHORT]}
    data["policy"] = policy
    result = run(scenario_from_dict(data))
    return result.daily, int(result.trends["accounts"].iloc[0])


def test_a_cohort_in_a_category_with_stricter_kyc_loses_accounts_at_the_door() -> None:
    """A ring of 200 beauty accounts in aa: all join without the lever, and when only home is checked (at the market's
    strictness: the run is the plain one, bit for bit); with beauty at 1.0 and friction 0.5 about half join (4
    binomial sd)."""
    plain, n_plain = _cohort({})
    other, n_other = _cohort({"onboarding": {"kyc_strictness_by_category": {"home": 0.5}}})
    assert n_plain == n_other == 200
    pd.testing.assert_frame_equal(plain, other)
    _, n_strict = _cohort({"onboarding": {"kyc_friction": 0.5, "kyc_strictness_by_category": {"beauty": 1.0}}})
    assert abs(n_strict - 100) < 4 * (200 * 0.25) ** 0.5, n_strict


ESCALATED = {"name": "kyc", "days": 24, "seed": 2,
             "world": {"n_buyers": 3000, "n_creators": 160, "creators": {"arrival_rate": 0.05},
                       "markets": [{"name": "sg", "buyer_share": 0.5, "creator_share": 0.5},
                                   {"name": "id", "buyer_share": 0.5, "creator_share": 0.5, "price_level": 0.35}]},
             "policy": {"onboarding": {"kyc_friction": 1.0}},
             "signals": [{"name": "refunds", "group_by": ["market", "category"],
                          "observable": {"kind": "refund_rate", "window_days": 3},
                          "detector": {"kind": "threshold", "limit": 0.7}}],
             "controllers": [{"kind": "escalation", "name": "esc", "signal": "refunds", "markets": ["sg"], "days": 3,
                              "set": {"review.capacity_per_day": 150}, "kyc": 1.0}]}


def test_escalation_kyc_is_in_force_exactly_on_escalated_days_in_fired_categories() -> None:
    """Escalation with kyc 1.0 sets strictness 1 for sg's fired categories exactly on the escalated days (the day
    after each action until the day after the revert) and nowhere else; no newcomer of a checked category joins sg
    on those days (friction 1), while others join."""
    model = LiveShopModel(scenario=scenario_from_dict(ESCALATED))
    checked = []
    for _ in range(ESCALATED["days"]):
        lv = model.levers  # in force for the day about to run
        checked.append(None if lv.kyc_category_set is None else (lv.kyc_category_set.copy(),
                                                                  lv.kyc_category_strictness.copy()))
        model.step()
    actions = model.monitor.controllers.frame()
    assert actions["change"].str.startswith("revert").sum() >= 1
    expected = escalated_by_day(actions, CATEGORIES, "1.0", ESCALATED["days"])
    c = model.creators
    joined, market, category = c.col("joined_day"), c.col("market"), c.col("category")
    others = 0
    for day in range(1, ESCALATED["days"] + 1):
        want = expected.get(day, set())
        now = checked[day - 1]
        if not want:
            assert now is None
            continue
        is_set, strictness = now
        codes = [CATEGORIES.index(k) for k in want]
        assert {CATEGORIES[k] for k in np.flatnonzero(is_set[0])} == want and not is_set[1].any()
        assert (strictness[0, codes] == 1.0).all()
        today = (joined == day) & (market == 0)
        assert not np.isin(category[today], codes).any()
        others += int(today.sum())
    assert others > 0  # sg's other categories still take newcomers on escalated days


def test_unknown_category_and_doubly_set_kyc_are_refused() -> None:
    """A category the world does not have is refused naming the field; escalation's kyc and the same lever in its
    set are refused together, and an escalation must change something (kyc alone does)."""
    with pytest.raises(ScenarioError, match="kyc_strictness_by_category"):
        scenario_from_dict(tiny_dict() | {"policy": {"onboarding": {"kyc_strictness_by_category": {"toys": 0.9}}}})
    esc = ESCALATED["controllers"][0] | {"set": {"onboarding.kyc_strictness_by_category": {"beauty": 1.0}}}
    with pytest.raises(ScenarioError, match="set by kyc"):
        scenario_from_dict(ESCALATED | {"controllers": [esc]})
    nothing = {k: v for k, v in ESCALATED["controllers"][0].items() if k not in ("set", "kyc")}
    with pytest.raises(ScenarioError, match="no change given"):
        scenario_from_dict(ESCALATED | {"controllers": [nothing]})
    scenario_from_dict(ESCALATED | {"controllers": [nothing | {"kyc": 0.9}]})  # kyc alone is a change
