"""docs/extending.md is a contract: each of its examples registers a working plug-in."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from sim.metrics import METRICS, unregister_metric
from sim.platform.ladders import kind_names, unregister
from sim.runner import run
from sim.tactics import names as tactic_names
from sim.tactics import unregister as unregister_tactic
from tests.conftest import tiny_dict

DOC = (Path(__file__).resolve().parents[2] / "docs" / "extending.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"^```python\n(.*?)^```", DOC, flags=re.S | re.M)


def _example(first_line: str) -> str:
    (block,) = [b for b in BLOCKS if b.startswith(first_line)]
    return block


def test_metric_example_adds_a_column_and_a_summary() -> None:
    """The metric example, run as written, adds a daily column and a summary equal to views / streams."""
    exec(compile(_example("# my_metrics.py"), "extending.md metric", "exec", dont_inherit=True), {})
    try:
        assert "views_per_stream" in METRICS
        from sim.config import scenario_from_dict

        result = run(scenario_from_dict(tiny_dict(enforced=True) | {"days": 4}))
        assert result.summary["views_per_stream"] == result.summary["views"] / result.summary["streams"]
        assert "views_per_stream" in result.daily.columns
    finally:
        unregister_metric("views_per_stream")


def test_ladder_example_is_accepted_and_bans_at_three_strikes() -> None:
    """The ladder example, run as written, makes kind = "strikes" valid; every ban comes at the third strike."""
    exec(compile(_example("# strikes.py"), "extending.md ladder", "exec", dont_inherit=True), {})
    try:
        assert "strikes" in kind_names()
        from sim.config import scenario_from_dict

        data = tiny_dict(enforced=True) | {"days": 20}
        data["policy"] = {"enforcement": {"kind": "strikes"}, "appeals": {"rate_if_wrong": 0.0, "rate_if_right": 0.0}}
        result = run(scenario_from_dict(data))
        log = result.sanctions.reset_index(drop=True)
        strikes = log.groupby("creator_id").cumcount() + 1  # decisions so far, per creator
        assert log["ban"].any()
        assert (strikes[log["ban"]] == 3).all()
    finally:
        unregister("strikes")


def test_tactic_example_is_drawn_streamed_and_sanctioned() -> None:
    """The tactic example, run as written, adds a creator type whose creators violate with it and are sanctioned for it."""
    exec(compile(_example("# fake_discounts.py"), "extending.md tactic", "exec", dont_inherit=True), {})
    try:
        assert "fake_discounts" in tactic_names()
        from sim.config import scenario_from_dict

        data = tiny_dict(enforced=True, n_creators=300) | {"days": 30}
        data["world"]["creators"] = {"mix": {"honest": 0.74, "fake_discounts": 0.10}}
        result = run(scenario_from_dict(data))
        mine = result.creators[result.creators["type"] == "fake_discounts"]
        assert len(mine) > 10 and (mine["tactic"] == "fake_discounts").all()
        assert mine["violating_streams"].sum() > 0
        assert (result.sanctions["reason"] == "fake_discounts").any()
    finally:
        unregister_tactic("fake_discounts")
def test_signal_example_raises_refund_spike_decisions() -> None:
    """The signal-source example, run as written, adds a source whose items reach the sanctions table as refund_spike."""
    from sim.platform.signals import BUILTIN, source_names
    from sim.platform.signals import unregister as unregister_source

    exec(compile(_example("# refund_spike.py"), "extending.md signal", "exec", dont_inherit=True), {})
    try:
        assert source_names() == (*BUILTIN, "refund_spike")
        from sim.config import scenario_from_dict

        data = tiny_dict(enforced=True, n_buyers=8_000) | {"days": 15}
        result = run(scenario_from_dict(data))
        assert (result.sanctions["source"] == "refund_spike").any()
    finally:
        unregister_source("refund_spike")


def test_trend_example_raises_its_groups_intensity_from_its_onset() -> None:
    """The trend-kind example, run as written, makes trend = "intensity_creep" valid; it raises the counterfeiters' intensity in its market only, from its onset."""
    from sim.platform.trends import trend_names
    from sim.platform.trends import unregister as unregister_trend

    exec(compile(_example("# intensity_creep.py"), "extending.md trend", "exec", dont_inherit=True), {})
    try:
        assert "intensity_creep" in trend_names()
        from sim.config import scenario_from_dict

        data = tiny_dict(n_creators=300) | {"days": 8}
        data["world"]["creators"] = {"mix": {"honest": 0.785, "counterfeit": 0.08}}
        data["world"]["tactics"] = {"counterfeit": {"intensity": 0.5}}
        data["timeline"] = [{"kind": "trend", "trend": "intensity_creep", "name": "creep", "tactic": "counterfeit",
                             "start_day": 5, "days": 2, "rise": 0.3, "markets": ["aa"]}]
        result = run(scenario_from_dict(data))
        c = result.creators
        users = (c["tactic"] == "counterfeit") & (c["joined_day"] == 0)
        mine = users & (c["type"] == "counterfeit")  # the typology's own (opportunists start lower)
        assert np.allclose(c.loc[mine & (c["market"] == "aa"), "intensity"], 0.8, rtol=0, atol=1e-12)
        assert (c.loc[mine & (c["market"] == "bb"), "intensity"] == 0.5).all()
        assert (c["trend"] == "creep").sum() == (users & (c["market"] == "aa")).sum() > 0
        assert result.trends.loc[0, "value"] == 0.3
    finally:
        unregister_trend("intensity_creep")
