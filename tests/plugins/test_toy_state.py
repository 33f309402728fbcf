"""State columns are declared by the components that own them; a plug-in declares its own."""

from __future__ import annotations

import numpy as np
import pytest

from sim import LiveShopModel
from sim.config import scenario_from_dict
from sim.state import BUYERS, CREATORS, NEVER, Column
from tests.conftest import tiny_dict

OWNER = "tests.plugins.test_toy_state"


def test_the_tables_are_assembled_from_the_declarations(tiny) -> None:
    """A model's creator and buyer tables hold exactly the declared columns, with the declared dtypes, each owned by the component that uses it."""
    m = LiveShopModel(scenario=tiny)
    assert set(m.creators.columns) == set(CREATORS.columns())
    assert set(m.buyers.columns) == set(BUYERS.columns())
    for name, col in CREATORS.columns().items():
        assert m.creators.col(name).dtype == np.dtype(col.dtype)
    assert CREATORS.owner("ladder") == "sim.platform.enforcement"
    assert CREATORS.owner("action") == "sim.agents.adaptation"
    assert CREATORS.owner("gmv") == "sim.agents.creators"


def test_new_rows_start_at_the_declared_defaults(tiny) -> None:
    """Columns a component leaves to its declaration start at the declared value on every row."""
    m = LiveShopModel(scenario=tiny)
    c = m.creators
    for name, col in CREATORS.columns().items():
        if name in ("last_stream_day", "suspended_until", "last_sanction_day", "penalty_multiplier",
                    "campaign_eligible", "incentive_eligible"):
            assert np.all(c.col(name) == col.default), name
    assert np.all(c.col("suspended_until") == NEVER) and np.all(c.col("penalty_multiplier") == 1.0)
    assert np.all(m.buyers.col("left_day") == -1)


def test_a_column_declared_from_outside_is_in_every_new_table_with_its_default() -> None:
    """A plug-in's column appears in models built after its declaration, at its default on initial and arriving creators, and is gone once removed."""
    CREATORS.declare(OWNER, Column("watchlist_score", np.float64, 0.5, "a plug-in's own state"))
    try:
        data = tiny_dict(enforced=True)
        data["days"] = 40
        data["world"]["creators"] = {"arrival_rate": 0.02}
        m = LiveShopModel(scenario=scenario_from_dict(data))
        n0 = m.creators.n
        while m.running:
            m.step()
        assert m.creators.n > n0  # arrivals happened
        assert np.all(m.creators.col("watchlist_score") == 0.5)
    finally:
        CREATORS.undeclare(OWNER, "watchlist_score")
    assert "watchlist_score" not in LiveShopModel(scenario=scenario_from_dict(tiny_dict())).creators.columns


def test_a_column_cannot_be_declared_twice_by_different_owners() -> None:
    """Two components claiming one column is an error that names the first owner."""
    with pytest.raises(ValueError, match=r"already declared by sim\.platform\.enforcement"):
        CREATORS.declare(OWNER, Column("ladder", np.float64))
