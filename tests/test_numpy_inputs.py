"""The Python API takes what scientific Python passes it: numpy scalars and arrays count as the
Python numbers and lists they hold, and are then judged as strictly as a scenario file."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

from sim import ScenarioError, load_scenario, run, with_overrides
from sim.config import scenario_from_dict
from sim.model import LiveShopModel
from sim.plain import plain
from sim.sweep import load_sweep, sweep_from_dict
from tests.conftest import tiny_dict

INT_FIELD = "policy.review.capacity_per_day"
FLOAT_FIELD = "world.buyers.report_rate"


@pytest.fixture(scope="module")
def baseline():
    return load_scenario("baseline")


@pytest.mark.parametrize("value", [np.int64(116), np.int32(116), np.uint16(116), np.int8(116)])
def test_numpy_integers_set_integer_fields(baseline, value) -> None:
    new = with_overrides(baseline, {INT_FIELD: value})
    assert new.policy.review.capacity_per_day == 116
    assert type(new.policy.review.capacity_per_day) is int


@pytest.mark.parametrize("value", [np.float64(0.03), np.float32(0.03), np.int64(0)])
def test_numpy_numbers_set_float_fields(baseline, value) -> None:
    new = with_overrides(baseline, {FLOAT_FIELD: value})
    assert new.world.buyers.report_rate == float(value)
    assert type(new.world.buyers.report_rate) is float


@pytest.mark.parametrize(("path", "value", "why"), [
    (INT_FIELD, np.float64(116.0), "valid integer"),  # a float for an integer field, as in a file
    (INT_FIELD, np.float32(116.0), "valid integer"),
    (INT_FIELD, np.bool_(True), "valid integer"),
    (FLOAT_FIELD, np.bool_(False), "valid number"),
    (FLOAT_FIELD, np.float64("nan"), "finite number"),
    (FLOAT_FIELD, np.float32("inf"), "finite number"),
    (FLOAT_FIELD, np.float64(1.5), "less than or equal to 1"),
])
def test_numpy_values_are_refused_as_a_file_would_be(baseline, path, value, why) -> None:
    with pytest.raises(ScenarioError) as err:
        with_overrides(baseline, {path: value})
    message = str(err.value)
    assert path in message and why in message and "\n" not in message


def test_numpy_array_sets_a_pair_field(baseline) -> None:
    new = with_overrides(baseline, {"world.creators.quality_beta": np.array([4.0, 3.0])})
    assert new.world.creators.quality_beta == (4.0, 3.0)


def test_scenario_from_dict_with_numpy_values_equals_the_plain_one() -> None:
    data = tiny_dict(n_buyers=3_000, n_creators=120)
    numpy_data = tiny_dict(n_buyers=np.int64(3_000), n_creators=np.int32(120))
    numpy_data["days"] = np.int64(numpy_data["days"])
    numpy_data["world"]["markets"][1]["price_level"] = np.float32(0.5)
    assert scenario_from_dict(numpy_data) == scenario_from_dict(data)


def test_run_with_numpy_overrides_and_replication_is_the_same_run() -> None:
    scenario = scenario_from_dict({**tiny_dict(), "days": 8})
    py = run(scenario, 1, overrides={"world.n_buyers": 2_500, INT_FIELD: 30, FLOAT_FIELD: 0.05})
    npy = run(scenario, np.int64(1), overrides={"world.n_buyers": np.int64(2_500), INT_FIELD: np.int32(30),
                                                FLOAT_FIELD: np.float64(0.05)})
    assert json.dumps(npy.summary, sort_keys=True) == json.dumps(py.summary, sort_keys=True)  # nan == nan
    assert npy.replication == 1 and type(npy.replication) is int
    # The record of the overrides is plain, so it writes to summary.json as it is.
    assert npy.overrides == py.overrides
    assert json.dumps(npy.overrides) == json.dumps(py.overrides)


def test_model_keyword_arguments_take_numpy_scalars() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = LiveShopModel(scenario=scenario_from_dict(tiny_dict()), n_buyers=np.int64(1_500),
                              n_creators=np.int16(80), days=np.int64(4))
    assert (model.config.world.n_buyers, model.config.world.n_creators, model.config.days) == (1_500, 80, 4)


def test_sweep_from_dict_with_numpy_grid_equals_the_file(tmp_path) -> None:
    from sim.bundled import resolve_sweep

    path = resolve_sweep("threshold_capacity")
    from_file = load_sweep(path)
    data = {
        "name": "threshold_capacity",
        "description": from_file.file.description,
        "scenario": "../baseline.toml",
        "replications": np.int64(3),
        "levers": {"grid": {"policy.detection.threshold": np.array([2.0, 2.5, 3.0]),
                            INT_FIELD: np.array([50, 150, 400])}},
    }
    from_dict = sweep_from_dict(data, source="<dict>", base_dir=path.parent)
    assert from_dict.points == from_file.points
    assert from_dict.replications == from_file.replications
    assert from_dict.variants == from_file.variants
    with pytest.raises(ScenarioError, match=r"<dict>: variants.baseline at point 0: policy.review.capacity_per_day: got 50.5"):
        sweep_from_dict({**data, "levers": {"grid": {INT_FIELD: np.array([50.5, 150.0])}}}, source="<dict>",
                        base_dir=path.parent)


def test_plain_leaves_python_values_alone() -> None:
    value = {"a": [1, 2.5, True, None, "x"], "b": (3, {"c": 0.1})}
    assert plain(value) == value
    assert plain({"a": np.arange(3), np.str_("k"): np.bool_(True)}) == {"a": [0, 1, 2], "k": True}
    assert type(plain(np.float32(0.5))) is float and type(plain(np.int64(2))) is int
