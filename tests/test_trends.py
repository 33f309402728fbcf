"""Abuse trends (``kind = "trend"`` timeline entries, sim/platform/trends/): each changes the world
from its onset day only, only in its group where the mechanics allow it, and in the direction
its kind says; the run records the trend and the accounts it changed.

Paired runs share seed and replication, with and without the trend. Creator-level draws (going
live, violating, the classifiers' scores) are made per creator, so on the onset day a trend's
effect on who violates and who is flagged is exact; buyers' draws span every market, so from
the day after the onset other markets' numbers move too (the mechanics do not keep them apart).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import LiveShopModel
from sim.config import scenario_from_dict
from sim.errors import ScenarioError
from sim.runner import run, write_run
from sim.tactics import code, creator_type_names
from tests.conftest import tiny_dict

ONSET = 12
DAYS = 22


def _data(*trends: dict, days: int = DAYS) -> dict:
    data = tiny_dict(enforced=True, n_buyers=8_000, n_creators=600)
    data["world"]["creators"] = {"mix": {"honest": 0.785, "counterfeit": 0.08}}  # enough counterfeiters to see
    data["days"] = days
    data["timeline"] = list(trends)
    return data


def _trend(kind: str, **fields: object) -> dict:
    return {"kind": "trend", "trend": kind, "name": f"t_{kind}", "start_day": ONSET, "days": 4,
            "markets": ["aa"], **fields}


def _streams(data: dict) -> tuple[LiveShopModel, list[dict[str, np.ndarray]]]:
    """The model stepped to its end, and each day's streams (who, where, what, flagged, score)."""
    model = LiveShopModel(scenario=scenario_from_dict(data))
    days = []
    while model.running:
        model.step()
        s = model.today
        days.append({"creator": s.creator.copy(), "market": s.market.copy(), "category": s.category.copy(),
                     "tactic": s.tactic.copy(), "flagged": s.flagged.copy(), "score": s.score.copy()})
    return model, days


def _same_days(a: list[dict], b: list[dict], upto: int) -> None:
    for day in range(upto):
        for key in a[day]:
            np.testing.assert_array_equal(a[day][key], b[day][key], err_msg=f"day {day + 1} {key}")


@pytest.fixture(scope="module")
def base() -> tuple[LiveShopModel, list[dict]]:
    """The world without any trend."""
    return _streams(_data())


def test_an_adoption_wave_switches_only_its_group_from_its_onset(base) -> None:
    """Before the onset every stream is the same; on the onset day only accounts of the group (its market and categories, opportunists and adversaries) changed tactic, and they now violate with it."""
    wave = _trend("adoption_wave", tactic="counterfeit", share=0.6, categories=["beauty", "fashion"])
    model, days = _streams(_data(wave))
    b_days = base[1]
    _same_days(days, b_days, ONSET - 1)
    day = ONSET - 1
    s, t = days[day], b_days[day]
    np.testing.assert_array_equal(s["creator"], t["creator"])  # who goes live: the same draws
    changed = s["tactic"] != t["tactic"]
    c = model.creators
    adopters = np.flatnonzero(c.col("trend") == 0)
    assert adopters.size > 5
    assert set(s["creator"][changed]) <= set(adopters)
    assert np.all(s["tactic"][changed] == code("counterfeit")) and changed.sum() > 0
    # Everyone it changed is in the group.
    cats = [model.category_names.index(n) for n in ("beauty", "fashion")]
    assert np.all(c.col("market")[adopters] == 0) and np.all(np.isin(c.col("category")[adopters], cats))
    names = creator_type_names()
    assert {names[t] for t in c.col("ctype")[adopters]} <= {"opportunist", "ban_evader", *names[2:]}
    assert "honest" not in {names[t] for t in c.col("ctype")[adopters]}


def test_an_adoption_wave_raises_the_tactic_in_its_group(base) -> None:
    """After the onset the group's streams violate with the wave's tactic far more often than without the wave."""
    model, days = _streams(_data(_trend("adoption_wave", tactic="counterfeit", share=0.8, categories=["fashion"])))
    fashion = model.category_names.index("fashion")

    def counterfeit_streams(ds: list[dict]) -> int:
        return sum(int(((d["tactic"] == code("counterfeit")) & (d["market"] == 0) & (d["category"] == fashion)).sum())
                   for d in ds[ONSET - 1:])

    wave, without = counterfeit_streams(days), counterfeit_streams(base[1])
    assert wave > 2 * without + 5, (wave, without)


def test_a_cohort_adds_exactly_its_accounts_from_its_onset(base) -> None:
    """K accounts a day arrive in each of the trend's markets on each ramp day, of its type and tactic, in its categories, run by one actor, and stream from the onset day; nothing differs before."""
    cohort = _trend("cohort", tactic="counterfeit", accounts_per_day=3, categories=["home"], shared_actor=True)
    model, days = _streams(_data(cohort))
    _same_days(days, base[1], ONSET - 1)
    c = model.creators
    ring = np.flatnonzero(c.col("trend") == 0)
    assert ring.size == 3 * 4
    assert np.all(c.col("market")[ring] == 0)
    assert np.all(c.col("category")[ring] == model.category_names.index("home"))
    assert set(c.col("ctype")[ring]) == {creator_type_names().index("counterfeit")}
    assert np.all(c.col("actor")[ring] == ring[0])
    assert sorted(set(c.col("joined_day")[ring])) == [ONSET - 1, ONSET, ONSET + 1, ONSET + 2]
    joined = c.col("joined_day")
    live = [(day, r) for day in range(ONSET - 1, DAYS) for r in set(days[day]["creator"]) & set(ring)]
    assert live and all(joined[r] < day + 1 for day, r in live)  # each streams from the day after it joined
    result = run(scenario_from_dict(_data(cohort)))
    row = result.trends.iloc[0]
    assert (row["trend"], row["onset_day"], row["accounts"], list(row["markets"])) == ("cohort", ONSET, 12, ["aa"])


def test_evasion_lowers_only_the_groups_scores_from_its_onset(base) -> None:
    """On the onset day a stream's classifier score falls by exactly drop x level where it violates with the tactic in the trend's market, and nowhere else."""
    drop, onset = 2.0, 3  # early, while counterfeiters are many
    _, days = _streams(_data(_trend("evasion", tactic="counterfeit", dprime_drop=drop, start_day=onset)))
    b_days = base[1]
    _same_days(days, b_days, onset - 1)
    s, t = days[onset - 1], b_days[onset - 1]
    np.testing.assert_array_equal(s["creator"], t["creator"])
    np.testing.assert_array_equal(s["tactic"], t["tactic"])
    counterfeit = s["tactic"] == code("counterfeit")
    group = counterfeit & (s["market"] == 0)
    assert group.sum() >= 2 and (counterfeit & (s["market"] == 1)).sum() >= 2  # both sides of the market line
    np.testing.assert_array_equal(s["score"][~group], t["score"][~group])
    np.testing.assert_array_equal(s["flagged"][~group], t["flagged"][~group])
    # The counterfeit classifier's score falls by drop / days (the reported score is the highest
    # classifier's, which for a counterfeit stream with d' = 4 is the counterfeit one).
    assert np.all(s["score"][group] <= t["score"][group])
    np.testing.assert_allclose((t["score"] - s["score"])[group], drop / 4, rtol=0, atol=1e-12)


def test_evasion_cuts_the_groups_flags(base) -> None:
    """After the onset a much smaller share of the group's violating streams is flagged than without evasion."""
    _, days = _streams(_data(_trend("evasion", tactic="counterfeit", dprime_drop=3.5)))

    def flag_share(ds: list[dict]) -> float:
        hit = sum(int((d["flagged"] & (d["tactic"] == code("counterfeit")) & (d["market"] == 0)).sum())
                  for d in ds[ONSET + 3:])
        n = sum(int(((d["tactic"] == code("counterfeit")) & (d["market"] == 0)).sum()) for d in ds[ONSET + 3:])
        return hit / n

    assert flag_share(days) < 0.5 * flag_share(base[1])


def test_a_category_shock_adds_violations_only_in_its_category(base) -> None:
    """On the onset day the streams violating in the shocked category with the tactic are a superset of those without the shock, and every other stream is the same."""
    shock = _trend("category_shock", tactic="misleading_claims", category="health", exposure_multiplier=8.0)
    model, days = _streams(_data(shock))
    b_days = base[1]
    _same_days(days, b_days, ONSET - 1)
    s, t = days[ONSET - 1], b_days[ONSET - 1]
    np.testing.assert_array_equal(s["creator"], t["creator"])
    c = model.creators
    uses = c.col("tactic")[s["creator"]] == code("misleading_claims")
    group = uses & (s["market"] == 0) & (s["category"] == model.category_names.index("health"))
    np.testing.assert_array_equal(s["tactic"][~group], t["tactic"][~group])
    assert np.all((t["tactic"][group] > 0) <= (s["tactic"][group] > 0))


def test_a_category_shock_raises_the_tactic_there(base) -> None:
    """After the onset the tactic's violating streams in the shocked category outnumber those without the shock."""
    shock = _trend("category_shock", tactic="misleading_claims", category="health", exposure_multiplier=8.0)
    model, days = _streams(_data(shock))
    health = model.category_names.index("health")

    def violating(ds: list[dict]) -> int:
        return sum(int(((d["tactic"] == code("misleading_claims")) & (d["market"] == 0)
                        & (d["category"] == health)).sum()) for d in ds[ONSET - 1:ONSET + 5])

    assert violating(days) > violating(base[1])


def test_a_run_without_trends_reads_no_world_shift(base) -> None:
    """Without trends nothing is shifted: the phases' shift tables stay unset and no account is marked."""
    model = base[0]
    assert model.world_shift.dprime_loss is None and model.world_shift.violation_factor is None
    assert np.all(model.creators.col("trend") == -1)


def test_the_run_records_its_trends(tmp_path: Path) -> None:
    """trends.parquet, summary.json and creators.parquet name each trend, its onset and its group; a run without trends writes no trends.parquet."""
    import json

    wave = _trend("adoption_wave", tactic="counterfeit", share=0.5, categories=["beauty"], creator_types=["opportunist"])
    evade = _trend("evasion", name="hide", tactic="counterfeit", dprime_drop=1.0, markets=[])
    result = run(scenario_from_dict(_data(wave, evade, days=16)))
    write_run(result, tmp_path / "run", plot=False)
    frame = pd.read_parquet(tmp_path / "run" / "trends.parquet")
    assert list(frame["name"]) == ["t_adoption_wave", "hide"]
    first = frame.iloc[0]
    assert (first["onset_day"], first["ramp_days"], first["full_day"]) == (ONSET, 4, ONSET + 3)
    assert list(first["markets"]) == ["aa"] and list(first["categories"]) == ["beauty"]
    assert list(first["creator_types"]) == ["opportunist"] and first["value"] == 0.5
    assert list(frame.iloc[1]["markets"]) == ["aa", "bb"]
    doc = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert doc["trends"][0]["onset_day"] == ONSET and "trends.parquet" in doc["files"]
    creators = pd.read_parquet(tmp_path / "run" / "creators.parquet")
    marked = creators["trend"] == "t_adoption_wave"
    assert marked.sum() == first["accounts"] > 0
    assert set(creators.loc[marked, "type"]) == {"opportunist"} and set(creators.loc[marked, "category"]) == {"beauty"}
    plain = run(scenario_from_dict(_data(days=5)))
    write_run(plain, tmp_path / "plain", plot=False)
    assert not (tmp_path / "plain" / "trends.parquet").exists() and "trend" not in plain.creators


def test_a_later_run_without_trends_removes_the_old_trends_file(tmp_path: Path) -> None:
    """trends.parquet is a run file: a run without trends written into the same folder removes it."""
    write_run(run(scenario_from_dict(_data(_trend("evasion", tactic="counterfeit", dprime_drop=1.0), days=13))),
              tmp_path, plot=False)
    assert (tmp_path / "trends.parquet").exists()
    write_run(run(scenario_from_dict(_data(days=3))), tmp_path, plot=False)
    assert not (tmp_path / "trends.parquet").exists()


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"trend": "flood"}, "timeline[0].trend", ["flood", "adoption_wave", "cohort"]),
    ({"tactic": "piracy"}, "timeline[0].tactic", ["piracy", "counterfeit"]),
    ({"share": 1.5}, "timeline[0].share", ["less than or equal"]),
    ({"categories": ["toys"]}, "timeline[0].categories", ["toys", "beauty"]),
    ({"creator_types": ["robot"]}, "timeline[0].creator_types", ["robot", "opportunist"]),
    ({"colour": 1}, "timeline[0].colour", ["share", "categories"]),
    ({"markets": ["zz"]}, "timeline[0].markets", ["zz", "aa"]),
])
def test_a_bad_trend_names_its_field(fields: dict, field: str, words: list[str]) -> None:
    """A bad trend entry is refused with its field path, and the message says what is allowed."""
    entry = _trend("adoption_wave", tactic="counterfeit", share=0.5) | fields
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(entry))
    assert err.value.field == field
    for word in words:
        assert word in str(err.value)


def test_a_cohort_of_a_tactic_that_is_no_creator_type_needs_its_type() -> None:
    """A cohort using the accidental breach (no creator type of its own) must name the accounts' creator type."""
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(_trend("cohort", tactic="minor", accounts_per_day=2)))
    assert err.value.field == "timeline[0].creator_type" and "ban_evader" in str(err.value)
    scenario_from_dict(_data(_trend("cohort", tactic="minor", accounts_per_day=2, creator_type="opportunist")))


def test_a_trend_past_the_last_day_is_refused() -> None:
    """A trend starting after the run is an error naming its start day, like any timeline entry."""
    with pytest.raises(ScenarioError) as err:
        scenario_from_dict(_data(_trend("evasion", tactic="counterfeit", dprime_drop=1.0) | {"start_day": 99}))
    assert err.value.field == "timeline[0].start_day"
