"""A metric defined and registered outside the sim package shows up in every output, then goes away."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from sim.cli import summary_table
from sim.config import scenario_from_dict, with_overrides
from sim.metrics import METRICS, DayCounts, Metric, RunView, ratio, ratio_of_totals, registered
from sim.runner import RunResult, run
from tests.conftest import tiny_dict

BUILT_IN_COUNTERS = DayCounts.FIELDS  # before any toy registration

# The toy plug-in: two definitions, one from named rules and one with a summary function of its own.
VIEWS_PER_STREAM = Metric(
    "views_per_stream", "views", "stream views per live stream held", None,
    daily=ratio("views", "streams"), summarize=ratio_of_totals("views", "streams"),
)


def _busiest_day(view: RunView, series: Sequence[float]) -> float:
    """The most views any one day had."""
    return float(np.nanmax(series)) if len(series) else float("nan")


PEAK_VIEWS = Metric(
    "peak_views", "views", "stream views on the day", None,
    daily=lambda v: v.count("views"), summarize=_busiest_day, counters=("views",), summary="maximum over days",
)


@pytest.fixture(scope="module")
def toy_run() -> RunResult:
    """A tiny enforced run with the toy metrics registered for its duration only."""
    scenario = with_overrides(scenario_from_dict(tiny_dict(enforced=True)), {"days": 4})
    with registered(VIEWS_PER_STREAM, PEAK_VIEWS):
        return run(scenario)


def test_toy_metric_is_a_column_of_the_daily_table(toy_run):
    """The toy metric is a daily column, after the built-ins, equal each day to views / streams of that row."""
    daily = toy_run.daily
    assert list(daily.columns)[-2:] == ["views_per_stream", "peak_views"]
    assert daily["streams"].gt(0).all()
    assert daily["views_per_stream"].tolist() == (daily["views"] / daily["streams"]).tolist()
    assert daily["peak_views"].tolist() == daily["views"].tolist()


def test_toy_metric_summary_follows_its_rule(toy_run):
    """The run summary of a ratio-of-totals plug-in is the run's views over its streams, per market too."""
    rows = {"all": toy_run.summary, **toy_run.summary_by_market}
    assert len(rows) == 3
    for market, row in rows.items():
        assert row["views_per_stream"] == row["views"] / row["streams"], market
        per_day = toy_run.daily.loc[toy_run.daily["market"] == market, "views"]
        assert row["peak_views"] == per_day.max(), market


def test_toy_metric_reaches_the_printed_summary(toy_run):
    """The plain-text summary that `livesim run` prints has a row for the plug-in while it is registered."""
    with registered(VIEWS_PER_STREAM):
        table = summary_table(toy_run.summary, toy_run.summary_by_market)
    assert any(line.startswith("views_per_stream") for line in table.splitlines())


def test_toy_metric_is_gone_after_its_block(toy_run):
    """Leaving the registration block removes the metric from the registry and leaves the day counters as before."""
    assert "views_per_stream" not in METRICS and "peak_views" not in METRICS
    assert DayCounts.FIELDS == BUILT_IN_COUNTERS
    scenario = with_overrides(scenario_from_dict(tiny_dict()), {"days": 1})
    assert "views_per_stream" not in run(scenario).daily.columns
