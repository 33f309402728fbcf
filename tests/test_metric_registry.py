"""The metric registry: one definition per metric, from which the daily table, the run summary
and the day counters all follow."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import scenario_from_dict, with_overrides
from sim.metrics import (
    LAST_DAY,
    MEAN,
    METRICS,
    TOTAL,
    DayCounts,
    Metric,
    count,
    register_metric,
    registered,
    unregister_metric,
)
from sim.model import LiveShopModel
from sim.runner import run
from tests.conftest import tiny_dict


def _tiny(days: int = 3, enforced: bool = True):
    return with_overrides(scenario_from_dict(tiny_dict(enforced=enforced)), {"days": days})


def _toy(name: str = "toy", **kw) -> Metric:
    return Metric(name, "items", "a test metric", None, kw.pop("daily", count("views")), kw.pop("summarize", TOTAL),
                  **kw)


def test_every_counter_a_metric_declares_is_a_day_counter():
    """Each counter that a registered metric's rules read is kept per market each day and summed over the run."""
    m = LiveShopModel(scenario=_tiny(days=1))
    m.step()
    for metric in METRICS.values():
        for f in metric.counters:
            assert f in DayCounts.FIELDS and f in m.totals and getattr(m.counts, f).shape == (2,)


def test_a_new_counter_comes_with_the_metric_that_declares_it():
    """A metric declaring a counter nobody had adds a zeroed day counter and run total; removing it removes them."""
    toy = _toy(daily=lambda v: v.count("toy_items"), counters=("toy_items",))
    assert "toy_items" not in DayCounts.FIELDS
    with registered(toy):
        assert "toy_items" in DayCounts.FIELDS
        m = LiveShopModel(scenario=_tiny(days=2))
        while m.running:
            m.step()
        assert m.totals["toy_items"].tolist() == [0.0, 0.0]
        assert [day["all"]["toy"] for day in m.history] == [0.0, 0.0]
    assert "toy_items" not in DayCounts.FIELDS and "toy" not in METRICS


def test_the_run_summary_lists_metrics_in_registry_order():
    """Summaries, platform and per market, hold every registered metric in the order of the daily table's columns."""
    result = run(_tiny())
    assert list(result.summary) == list(METRICS)
    assert all(list(row) == list(METRICS) for row in result.summary_by_market.values())
    assert list(result.daily.columns) == ["day", "market", "warmup", *METRICS]


def test_named_summary_rules_aggregate_the_daily_column():
    """A registered metric's TOTAL, LAST_DAY or MEAN summary is that aggregate of its own daily column, per market."""
    toys = (_toy("toy_total", summarize=TOTAL), _toy("toy_last", summarize=LAST_DAY),
            _toy("toy_mean", daily=count("flags"), summarize=MEAN))
    with registered(*toys):
        result = run(_tiny(days=4))
    for market, row in {"all": result.summary, **result.summary_by_market}.items():
        daily = result.daily[result.daily["market"] == market]
        assert row["toy_total"] == float(np.nansum(daily["views"].tolist()))
        assert row["toy_last"] == daily["views"].iloc[-1]
        assert row["toy_mean"] == float(np.nanmean(daily["flags"].tolist()))
        assert daily["views"].sum() > 0


def test_unusable_registrations_are_refused_and_change_nothing():
    """A taken name, a table key, a bad counter name or a summary function without words is refused; the registry stays as it was."""
    before = list(METRICS)
    fields = DayCounts.FIELDS
    for bad in (_toy("gmv"), _toy("day"), _toy("market"), _toy("two words"),
                _toy(daily=lambda v: 0.0, counters=("reset",)), _toy(daily=lambda v: 0.0, counters=("_x",))):
        with pytest.raises(ValueError):
            register_metric(bad)
    with pytest.raises(ValueError, match="summary"):
        _toy(summarize=lambda view, series: 0.0)
    with pytest.raises(KeyError):
        unregister_metric("no_such_metric")
    assert list(METRICS) == before and DayCounts.FIELDS == fields


def test_registration_block_cleans_up_when_it_fails():
    """registered() removes its metrics even when the block raises, and unregister_metric returns the definition."""
    toy = _toy()
    with pytest.raises(RuntimeError), registered(toy):
        assert "toy" in METRICS
        raise RuntimeError("boom")
    assert "toy" not in METRICS
    register_metric(toy)
    assert unregister_metric("toy") is toy and "toy" not in METRICS
