"""The run's event log (sim/events.py, events.parquet): what it records and that recording changes nothing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from sim.config import scenario_from_dict
from sim.events import COLUMNS, KINDS, EventLog
from sim.model import LiveShopModel
from sim.runner import run
from tests.conftest import harsh_dict


@pytest.fixture(scope="module")
def harsh_run():
    """The harsh world's run with its event log."""
    return run(scenario_from_dict(harsh_dict()), events=True)


@pytest.fixture(scope="module")
def events(harsh_run) -> pd.DataFrame:
    return harsh_run.events


def _total(daily: pd.DataFrame, name: str) -> float:
    return float(daily.loc[daily["market"] == "all", name].sum())


def test_logging_changes_no_result(harsh_run) -> None:
    """The same run without the log has identical daily, creator and sanction tables and summary."""
    plain = run(scenario_from_dict(harsh_dict()), events=False)
    assert plain.events is None
    assert_frame_equal(plain.daily, harsh_run.daily)
    assert_frame_equal(plain.creators, harsh_run.creators)
    assert_frame_equal(plain.sanctions, harsh_run.sanctions)
    assert plain.summary == pytest.approx(harsh_run.summary, nan_ok=True, rel=0, abs=0)


def test_columns_are_the_documented_core_in_order(events) -> None:
    """The table has the core columns, in order, with their dtypes; kinds are the known ones."""
    assert list(events.columns) == list(COLUMNS)
    for name, dtype in COLUMNS.items():
        assert str(events[name].dtype) == dtype, name
    assert set(events["kind"].unique()) <= set(KINDS)


def test_rows_are_in_event_order(events) -> None:
    """Rows go by day, then by the phase of the day (KINDS order), then by hour."""
    day = events["day"].to_numpy()
    phase = events["kind"].cat.codes.to_numpy()
    hour = events["hour"].fillna(-1.0).to_numpy()
    key = list(zip(day, phase, hour, strict=True))
    assert key == sorted(key)
    assert events["kind"].cat.categories.tolist()[: len(KINDS)] == list(KINDS)


def test_one_decision_row_per_sanctions_row(harsh_run, events) -> None:
    """Decision events are the sanctions table's rows: same creators, days, points, sanctions, truth."""
    d = events[events["kind"] == "decision"].sort_values(["day", "hour", "creator_id"], kind="stable")
    s = harsh_run.sanctions.assign(hour=harsh_run.sanctions["decision_hour"].round(2))
    s = s.sort_values(["day", "hour", "creator_id"], kind="stable")
    assert len(d) == len(s) > 0
    assert d["creator_id"].to_numpy(dtype=np.int64).tolist() == s["creator_id"].tolist()
    assert d["day"].tolist() == s["day"].tolist()
    assert d["points"].tolist() == s["points"].tolist()
    assert d["sanction"].astype(str).tolist() == s["sanction"].astype(str).tolist()
    assert d["true_label"].astype(str).tolist() == s["true_label"].astype(str).tolist()
    assert d["believed"].astype(str).tolist() == s["reason"].astype(str).tolist()


def test_flags_reviews_and_expiries_match_the_daily_counts(harsh_run, events) -> None:
    """Flags (on streams and accounts), reviews and expired items add up to the daily series."""
    daily = harsh_run.daily
    on_streams = (events["kind"] == "stream") & events["source"].notna()
    on_accounts = events["kind"] == "flag"
    assert int(on_streams.sum() + on_accounts.sum()) == _total(daily, "flags") > 0
    review = events[events["kind"] == "review"]
    reviewed = int(review["outcome"].isin(["confirmed", "dismissed"]).sum())
    auto = int((events["kind"].isin(["stream", "flag"]) & (events["outcome"] == "auto")).sum())
    assert auto > 0 and reviewed > 0
    assert reviewed + auto == _total(daily, "reviews")  # the metric counts auto-actions as decided
    assert int((review["outcome"] == "expired").sum()) == _total(daily, "expired_items")


def test_every_violating_stream_is_logged_with_its_truth(harsh_run, events) -> None:
    """Stream rows cover every violating stream, with its true label, and flagged clean streams too."""
    streams = events[events["kind"] == "stream"]
    violating = streams["true_label"].astype(str) != "none"
    assert int(violating.sum()) == harsh_run.creators["violating_streams"].sum()
    clean = streams[~violating]
    assert len(clean) > 0 and clean["source"].notna().all()
    assert streams.loc[streams["source"].isna(), "believed"].isna().all()


def test_appeals_and_overturns_match_the_sanctions_table(harsh_run, events) -> None:
    """Appeals filed and decided, and overturns, are the sanctions table's."""
    s = harsh_run.sanctions
    filed = events[events["kind"] == "appeal_filed"]
    decided = events[events["kind"] == "appeal_decided"]
    assert len(filed) == int(s["appeal"].isin(["pending", "upheld", "overturned"]).sum()) > 0
    assert int((decided["outcome"] == "overturned").sum()) == int(s["overturned"].sum()) > 0
    assert int((decided["outcome"] == "upheld").sum()) == int((s["appeal"] == "upheld").sum())
    assert (decided["day"].to_numpy() >= decided["about_day"].to_numpy()).all()


def test_weeks_add_up_to_the_creator_totals(harsh_run, events) -> None:
    """Each account's weekly views sum to its total views; weekly GMV to its total within rounding."""
    weeks = events[events["kind"] == "week"].groupby("creator_id")[["views", "gmv"]].sum()
    c = harsh_run.creators.set_index("creator_id")
    views = weeks["views"].reindex(c.index, fill_value=0).astype(np.int64)
    assert (views == c["views"]).all()
    n_weeks = int(np.ceil(harsh_run.scenario.days / 7))
    gmv = weeks["gmv"].reindex(c.index, fill_value=0.0)
    assert (np.abs(gmv - c["gmv"]) <= 0.5 * n_weeks + 1e-9).all()


def test_accounts_open_and_close(harsh_run, events) -> None:
    """One joined row per account, with its type; one left row per account closed at the end."""
    joined = events[events["kind"] == "joined"]
    c = harsh_run.creators
    assert sorted(joined["creator_id"].astype(int)) == sorted(c["creator_id"])
    types = joined.set_index(joined["creator_id"].astype(np.int64))["creator_type"].astype(str)
    assert types.sort_index().tolist() == c.set_index("creator_id")["type"].astype(str).sort_index().tolist()
    left = events[events["kind"] == "left"]
    assert len(left) == int((c["left_day"] >= 0).sum())
    assert set(left["outcome"].astype(str)) <= {"banned", "churned"}


def test_platform_level_events_have_no_creator() -> None:
    """A campaign is a platform-level row: no creator, its market, first and last day and name."""
    data = harsh_dict(days=20)
    data["timeline"] = [{"kind": "campaign", "name": "flash", "start_day": 5, "days": 3}]
    e = run(scenario_from_dict(data), events=True).events
    camp = e[e["kind"] == "campaign"]
    assert len(camp) == 2  # one per market
    assert camp["creator_id"].isna().all()
    assert camp["day"].tolist() == [5, 5] and camp["until_day"].tolist() == [7, 7]
    assert camp["note"].tolist() == ["flash", "flash"]


def test_a_plugin_kind_adds_its_own_nullable_columns() -> None:
    """Rows added through EventLog.add with new columns (a controller action) keep them; other rows get null."""
    model = LiveShopModel(scenario=scenario_from_dict(harsh_dict(days=3)), events=True)
    model.step()
    assert isinstance(model.events, EventLog)
    model.events.add("controller_action", 1, controller=["threshold_pi"], change=["threshold 1.5 -> 1.7"],
                     reason=["prevalence above target"], market_code=[0])
    model.step()
    e = model.events.frame(model)
    row = e[e["kind"] == "controller_action"]
    assert len(row) == 1 and row["creator_id"].isna().all()
    assert row["controller"].tolist() == ["threshold_pi"] and row["market"].tolist() == ["aa"]
    assert e.loc[e["kind"] != "controller_action", "controller"].isna().all()
    assert list(e.columns)[: len(COLUMNS)] == list(COLUMNS)
