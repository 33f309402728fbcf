"""Scenario validation: loading TOML files, error messages, overrides and immutability."""

from __future__ import annotations

import math
import textwrap
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.config import (
    BuyerPopulation,
    Campaign,
    CreatorMix,
    CreatorPopulation,
    Market,
    Policy,
    Scenario,
    Tactics,
    World,
    load_scenario,
    with_overrides,
)
from sim.errors import ScenarioError
from sim.policy import Recommender

BASELINE = Path(__file__).resolve().parents[1] / "scenarios" / "baseline.toml"

# A small valid scenario. Markets are listed "id" then "sg" so that addressing a market by
# name ("world.markets.sg") is distinguishable from addressing it by position.
BASE_TOML = textwrap.dedent(
    """\
    name = "small"
    days = 20

    [world]
    n_buyers = 3000
    n_creators = 120

    [[world.markets]]
    name = "id"
    buyer_share = 0.6
    creator_share = 0.6
    price_level = 0.35

    [[world.markets]]
    name = "sg"
    buyer_share = 0.4
    creator_share = 0.4

    [policy]
    referral_fee = 0.06

    [[timeline]]
    kind = "campaign"
    name = "sale"
    start_day = 5
    days = 3
    """
)


def _write(tmp_path: Path, text: str, name: str = "scenario.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _edit(old: str, new: str, count: int = 1) -> str:
    assert old in BASE_TOML, f"test setup: {old!r} not in BASE_TOML"
    return BASE_TOML.replace(old, new, count)


def _load_error(tmp_path: Path, text: str) -> tuple[ScenarioError, Path]:
    path = _write(tmp_path, text)
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    return info.value, path


@pytest.fixture(scope="module")
def small() -> Scenario:
    """The BASE_TOML scenario, loaded once."""
    import tempfile

    with tempfile.TemporaryDirectory() as d:
        return load_scenario(_write(Path(d), BASE_TOML))


# ---------------------------------------------------------------------------------------
# The bundled baseline
# ---------------------------------------------------------------------------------------


def test_base_toml_is_valid(small: Scenario) -> None:
    """The small scenario used throughout these tests is itself valid, so error tests isolate one fault."""
    assert small.name == "small"
    assert [m.name for m in small.world.markets] == ["id", "sg"]
    assert small.timeline[0].name == "sale"


def test_baseline_loads_at_full_scale() -> None:
    """scenarios/baseline.toml loads and describes >= 2 markets, >= 100k buyers, >= 2k creators, 180 days."""
    s = load_scenario(BASELINE)
    assert s.name == "baseline"
    assert len(s.world.markets) >= 2
    assert s.world.n_buyers >= 100_000
    assert s.world.n_creators >= 2_000
    assert s.days == 180


def _fitted_paths() -> dict[str, tuple[float, float]]:
    """The world parameters scenarios/observed/public_facts.toml fits, with their ranges."""
    observed = tomllib.loads((BASELINE.parent / "observed" / "public_facts.toml").read_text(encoding="utf-8"))
    return {f["path"]: (f["low"], f["high"]) for f in observed["fit"]}


def test_baseline_unset_values_take_config_defaults() -> None:
    """Every value baseline.toml does not write equals the default declared in sim/config.py; of the
    buyer and creator populations it writes only the parameters fitted to the public facts."""
    s = load_scenario(BASELINE)
    fitted = _fitted_paths()
    buyers = {p.rsplit(".", 1)[1] for p in fitted if p.startswith("world.buyers.")}
    creators = {p.rsplit(".", 1)[1] for p in fitted if p.startswith("world.creators.")}
    assert buyers and creators
    assert s.world.buyers.model_dump(exclude=buyers) == BuyerPopulation().model_dump(exclude=buyers)
    assert s.world.creators.model_dump(exclude=creators) == CreatorPopulation().model_dump(exclude=creators)
    assert s.world.tactics == Tactics()
    assert s.world.categories == World().categories
    assert s.policy.recommender == Recommender()
    assert s.policy.level_thresholds == Policy().level_thresholds
    # Market fields the file does not set.
    for market in s.world.markets:
        for field in ("base_conversion", "delivery_days", "activity_level"):
            assert getattr(market, field) == Market.model_fields[field].default, (market.name, field)


def test_baseline_writes_each_fitted_parameter_inside_its_range() -> None:
    """baseline.toml sets every world parameter public_facts.toml fits (not leaving it to the default),
    at a value inside the range the calibration searched."""
    written = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    s = load_scenario(BASELINE)
    for path, (low, high) in _fitted_paths().items():
        _, block, field = path.split(".")
        assert field in written["world"][block], path
        assert low <= getattr(getattr(s.world, block), field) <= high, path


def test_baseline_sourced_defaults() -> None:
    """The baseline carries the sourced values: 6 % referral fee, 30-day pilot under 5,000 followers, 1,000-follower minimum."""
    s = load_scenario(BASELINE)
    assert s.policy.referral_fee == pytest.approx(0.06)
    assert s.policy.pilot_days == 30
    assert s.policy.pilot_followers_max == 5_000
    assert s.world.creators.followers_min == 1_000
    assert s.world.creators.mix == CreatorMix()
    assert s.world.creators.mix.counterfeit == pytest.approx(0.025)


# ---------------------------------------------------------------------------------------
# Unknown keys
# ---------------------------------------------------------------------------------------

UNKNOWN_KEY_CASES = [
    pytest.param(lambda: "typo = 1\n" + BASE_TOML, "typo", Scenario, id="top-level"),
    pytest.param(lambda: _edit("n_creators = 120\n", "n_creators = 120\ntypo = 1\n"), "world.typo", World,
                 id="world"),
    pytest.param(lambda: _edit('name = "id"\n', 'name = "id"\ntypo = 1\n'), "world.markets[0].typo", Market,
                 id="market"),
    pytest.param(lambda: _edit('name = "sg"\n', 'name = "sg"\ntypo = 1\n'), "world.markets[1].typo", Market,
                 id="second-market"),
    pytest.param(lambda: BASE_TOML + "typo = 1\n", "timeline[0].typo", Campaign, id="timeline"),
]


@pytest.mark.parametrize(("make_text", "field", "block"), UNKNOWN_KEY_CASES)
def test_unknown_key_names_file_field_and_allowed_keys(tmp_path: Path, make_text, field: str, block) -> None:
    """An unknown key raises ScenarioError naming the file, the dotted field path and every allowed key."""
    err, path = _load_error(tmp_path, make_text())
    assert err.field == field
    assert str(path) in err.message
    assert f"{field}:" in err.message
    assert "allowed keys:" in err.message
    allowed = err.message.split("allowed keys:", 1)[1]
    listed = {k.strip() for k in allowed.split(",")}
    assert listed == set(block.model_fields), listed ^ set(block.model_fields)
    assert "\n" not in err.message


# ---------------------------------------------------------------------------------------
# Wrong types and out-of-range values
# ---------------------------------------------------------------------------------------

BAD_VALUE_CASES = [
    pytest.param(lambda: _edit("n_buyers = 3000", 'n_buyers = "many"'), "world.n_buyers", "'many'",
                 id="wrong-type"),
    pytest.param(lambda: _edit("buyer_share = 0.6", "buyer_share = -0.6"), "world.markets[0].buyer_share", "-0.6",
                 id="negative-market-share"),
    pytest.param(lambda: BASE_TOML.replace("[policy]\n", "[policy]\nrefund_protection = -0.1\n"),
                 "policy.refund_protection", "-0.1", id="negative-share"),
    pytest.param(lambda: _edit("referral_fee = 0.06", "referral_fee = 0.9"), "policy.referral_fee", "0.9",
                 id="referral-fee-too-high"),
    pytest.param(lambda: _edit("days = 20", "days = 0"), "days", "0", id="zero-days"),
    pytest.param(lambda: _edit("n_creators = 120\n", "n_creators = 120\n[world.creators.mix]\nhonest = 0.5\n"),
                 "world.creators.mix", "0.66", id="creator-mix-not-summing-to-1"),
]


@pytest.mark.parametrize(("make_text", "field", "bad"), BAD_VALUE_CASES)
def test_bad_value_names_file_field_and_value(tmp_path: Path, make_text, field: str, bad: str) -> None:
    """A wrong type or out-of-range value raises ScenarioError naming the file, the field and the bad value."""
    err, path = _load_error(tmp_path, make_text())
    assert err.field == field
    assert str(path) in err.message
    assert f"{field}:" in err.message
    assert bad in err.message
    assert "\n" not in err.message


@pytest.mark.parametrize(
    ("old", "new", "field"),
    [
        pytest.param("n_buyers = 3000", "n_buyers = true", "world.n_buyers", id="n_buyers"),
        pytest.param("days = 20", "days = true", "days", id="days"),
    ],
)
def test_boolean_for_integer_is_wrong_type(tmp_path: Path, old: str, new: str, field: str) -> None:
    """A TOML boolean where an integer count is expected is a wrong type, not the number 1."""
    err, path = _load_error(tmp_path, _edit(old, new))
    assert err.field == field
    assert str(path) in err.message


def test_missing_file_names_file(tmp_path: Path) -> None:
    """A scenario path that does not exist raises ScenarioError naming that path."""
    path = tmp_path / "nowhere" / "missing.toml"
    with pytest.raises(ScenarioError) as info:
        load_scenario(path)
    assert str(path) in info.value.message
    assert "no such" in info.value.message


def test_toml_syntax_error_names_file_and_line(tmp_path: Path) -> None:
    """A TOML syntax error raises ScenarioError naming the file and the offending line."""
    text = BASE_TOML + "broken = \n"
    line = text.count("\n")  # the last line is the broken one
    err, path = _load_error(tmp_path, text)
    assert str(path) in err.message
    assert "TOML" in err.message
    assert f"line {line}" in err.message


def test_timeline_unknown_market_names_timeline_field(tmp_path: Path) -> None:
    """A timeline entry naming a market that does not exist is an error at timeline[0].markets listing the markets."""
    err, path = _load_error(tmp_path, BASE_TOML + 'markets = ["xx"]\n')
    assert err.field == "timeline[0].markets"
    assert str(path) in err.message
    assert "timeline[0].markets" in err.message
    assert "'xx'" in err.message
    assert "id" in err.message and "sg" in err.message


def test_timeline_known_market_is_accepted(tmp_path: Path) -> None:
    """A timeline entry restricted to an existing market validates and keeps that restriction."""
    s = load_scenario(_write(tmp_path, BASE_TOML + 'markets = ["sg"]\n'))
    assert s.timeline[0].markets == ["sg"]


def test_delivery_days_min_above_max_is_error(tmp_path: Path) -> None:
    """delivery_days = [min, max] with min > max raises ScenarioError naming that market's field."""
    err, path = _load_error(tmp_path, _edit("price_level = 0.35", "price_level = 0.35\ndelivery_days = [5, 2]"))
    assert err.field == "world.markets[0].delivery_days"
    assert str(path) in err.message
    assert "min" in err.message and "max" in err.message


def test_delivery_days_equal_bounds_are_valid(tmp_path: Path) -> None:
    """delivery_days with min == max is a valid (fixed) delivery time."""
    s = load_scenario(_write(tmp_path, _edit("price_level = 0.35", "price_level = 0.35\ndelivery_days = [3, 3]")))
    assert s.world.markets[0].delivery_days == (3, 3)


# ---------------------------------------------------------------------------------------
# Overrides
# ---------------------------------------------------------------------------------------


def test_override_dotted_policy_path(small: Scenario) -> None:
    """with_overrides sets a dotted policy path and leaves other values as they were."""
    s = with_overrides(small, {"policy.referral_fee": 0.08})
    assert s.policy.referral_fee == 0.08
    assert s.policy.refund_protection == small.policy.refund_protection
    assert s.world == small.world


def test_override_market_by_name(small: Scenario) -> None:
    """A market is addressed by its name: world.markets.sg changes "sg" (listed second), not the first market."""
    s = with_overrides(small, {"world.markets.sg.price_level": 2.5})
    by_name = {m.name: m for m in s.world.markets}
    assert by_name["sg"].price_level == 2.5
    assert by_name["id"].price_level == small.world.markets[0].price_level == 0.35


def test_override_out_of_range_raises(small: Scenario) -> None:
    """An override is re-validated: an out-of-range value raises ScenarioError naming field and value."""
    with pytest.raises(ScenarioError) as info:
        with_overrides(small, {"world.markets.sg.price_level": -1.0}, source="cli")
    assert info.value.field == "world.markets[1].price_level"
    assert "cli" in info.value.message
    assert "-1.0" in info.value.message


def test_override_breaking_cross_check_raises(small: Scenario) -> None:
    """An override that breaks a cross-field rule (delivery min > max) is rejected."""
    with pytest.raises(ScenarioError) as info:
        with_overrides(small, {"world.markets.id.delivery_days": [9, 1]})
    assert info.value.field == "world.markets[0].delivery_days"


@pytest.mark.parametrize(
    ("path", "where", "allowed"),
    [
        pytest.param("policy.typo", "policy.typo", set(Policy.model_fields), id="unknown-leaf"),
        pytest.param("polcy.referral_fee", "polcy", set(Scenario.model_fields), id="unknown-block"),
        pytest.param("world.markets.sg.typo", "world.markets.sg.typo", set(Market.model_fields),
                     id="unknown-market-field"),
        pytest.param("world.markets.xx.price_level", "world.markets.xx", {"id", "sg"}, id="unknown-market"),
    ],
)
def test_override_unknown_path_lists_allowed(small: Scenario, path: str, where: str, allowed: set[str]) -> None:
    """An override path that does not exist raises ScenarioError naming the path and listing every allowed name."""
    with pytest.raises(ScenarioError) as info:
        with_overrides(small, {path: 1.0}, source="overrides.toml")
    err = info.value
    assert err.field == where
    assert "overrides.toml" in err.message
    listed = {k.strip() for k in err.message.rsplit(":", 1)[1].split(",")}
    assert listed == allowed


@pytest.mark.parametrize(
    ("alias", "value", "get"),
    [
        ("n_buyers", 777, lambda s: s.world.n_buyers),
        ("n_creators", 33, lambda s: s.world.n_creators),
        ("days", 7, lambda s: s.days),
        ("seed", 12345, lambda s: s.seed),
    ],
)
def test_override_aliases(small: Scenario, alias: str, value: int, get) -> None:
    """The short override names n_buyers, n_creators, days and seed set their full paths."""
    assert get(small) != value
    assert get(with_overrides(small, {alias: value})) == value


def test_override_leaves_original_unchanged(small: Scenario) -> None:
    """with_overrides returns a new scenario; the one it was given is unchanged."""
    before = small.model_dump()
    s = with_overrides(
        small,
        {"policy.referral_fee": 0.1, "world.markets.sg.price_level": 3.0, "n_buyers": 10, "days": 2},
    )
    assert s is not small
    assert small.model_dump() == before
    assert (s.policy.referral_fee, s.world.markets[1].price_level, s.world.n_buyers, s.days) == (0.1, 3.0, 10, 2)


@pytest.mark.parametrize(
    "assign",
    [
        pytest.param(lambda s: setattr(s, "days", 3), id="top-level"),
        pytest.param(lambda s: setattr(s.world, "n_buyers", 3), id="world"),
        pytest.param(lambda s: setattr(s.policy, "referral_fee", 0.2), id="policy"),
        pytest.param(lambda s: setattr(s.world.markets[0], "price_level", 2.0), id="market"),
        pytest.param(lambda s: setattr(s.timeline[0], "start_day", 2), id="timeline"),
    ],
)
def test_scenario_is_frozen(small: Scenario, assign) -> None:
    """Assigning an attribute anywhere in a scenario raises, and the value stays as it was."""
    before = small.model_dump()
    with pytest.raises(ValidationError, match="frozen"):
        assign(small)
    assert small.model_dump() == before


# ---------------------------------------------------------------------------------------
# Property: the referral fee range
# ---------------------------------------------------------------------------------------


@settings(max_examples=30, deadline=None)
@given(fee=st.floats(min_value=0.0, max_value=0.5, allow_nan=False))
def test_referral_fee_in_range_validates_and_round_trips(small: Scenario, fee: float) -> None:
    """Any referral_fee in [0, 0.5] is accepted by an override and survives a JSON round trip."""
    s = with_overrides(small, {"policy.referral_fee": fee})
    assert s.policy.referral_fee == fee
    assert Scenario.model_validate_json(s.model_dump_json()) == s


@settings(max_examples=30, deadline=None)
@given(
    fee=st.one_of(
        st.floats(max_value=-math.ulp(0.0)),
        st.floats(min_value=0.5, exclude_min=True),
        st.just(math.nan),
    )
)
def test_referral_fee_out_of_range_raises(small: Scenario, fee: float) -> None:
    """Any referral_fee below 0, above 0.5 or NaN is rejected with a ScenarioError naming the field."""
    with pytest.raises(ScenarioError) as info:
        with_overrides(small, {"policy.referral_fee": fee})
    assert info.value.field == "policy.referral_fee"
