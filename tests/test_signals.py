"""Detection signal sources (sim/platform/signals/) on hand-built days, their registry, and
what they may see."""

from __future__ import annotations

import numpy as np
import pytest

from sim.config import scenario_from_dict
from sim.day import DayStreams
from sim.labels import CreatorState, Tactic
from sim.model import LiveShopModel
from sim.platform.signals import (
    BUILTIN,
    CreatorFlags,
    PlatformView,
    SignalSource,
    StreamSignal,
    register,
    source_class,
    source_names,
    unregister,
)
from sim.platform.signals.classifier import ClassifierFlags
from sim.platform.signals.complaints import ComplaintSpikes
from sim.platform.signals.reports import UserReports
from tests.conftest import tiny_dict


def _model(**policy: object) -> LiveShopModel:
    data = tiny_dict(enforced=True)
    data["policy"] = policy
    return LiveShopModel(scenario=scenario_from_dict(data))


def _day(m: LiveShopModel, rows: np.ndarray, *, tactic=None, reports=None, score=None, flagged=None, reason=None,
         views=None) -> DayStreams:
    """Open the model's day with hand-built streams of creators ``rows`` (classifier fields included)."""
    day = m.begin_day()
    c = m.creators
    n = rows.size
    z = np.zeros(n, dtype=np.int64)

    def arr(x, dtype):
        return np.zeros(n, dtype=dtype) if x is None else np.asarray(x, dtype=dtype)

    s = DayStreams(
        creator=rows.astype(np.int64),
        market=c.col("market")[rows].astype(np.int64),
        category=c.col("category")[rows].astype(np.int64),
        tactic=arr(tactic, np.int8),
        induced=np.zeros(n, dtype=bool),
        campaign=np.zeros(n, dtype=bool),
        views=arr(views, np.int64),
        reports=arr(reports, np.int64),
        false_reports=z.copy(),
        score=arr(score, float),
        reason=arr(reason, np.int8),
        flagged=arr(flagged, bool),
        keep_share=np.ones(n),
    )
    day.streams = s
    return s


def _rows(m: LiveShopModel, market: int, k: int) -> np.ndarray:
    return np.flatnonzero(m.creators.col("market") == market)[:k]


# ------------------------------------------------------------------ built-in sources


def test_builtin_sources_run_in_documented_order() -> None:
    """The built-in sources are classifier, report, complaint, in that order (their decision-log codes)."""
    assert BUILTIN == ("classifier", "report", "complaint")
    assert source_names()[:3] == BUILTIN
    assert [source_class(n) for n in BUILTIN] == [ClassifierFlags, UserReports, ComplaintSpikes]


def test_classifier_source_flags_exactly_the_scanned_flags() -> None:
    """The classifier source flags the streams the scan flagged, with their reason; every stream's
    evidence is its classifier score (below the threshold for an unflagged one)."""
    m = _model()
    rows = _rows(m, 0, 4)
    _day(m, rows, score=[3.0, 1.0, 2.6, -0.5], flagged=[True, False, True, False], reason=[1, 2, 6, 3])
    seen = ClassifierFlags().observe(PlatformView(m))
    assert isinstance(seen, StreamSignal)
    np.testing.assert_array_equal(seen.flag, [True, False, True, False])
    np.testing.assert_array_equal(seen.score, [3.0, 1.0, 2.6, -0.5])
    np.testing.assert_array_equal(seen.reason, [1, 2, 6, 3])


def test_report_source_flags_streams_at_the_threshold_where_detection_is_on() -> None:
    """A stream with at least report_threshold reports is flagged, in a market with detection on only; each report adds 0.01."""
    data = tiny_dict(enforced=True)
    data["policy"] = {"detection": {"report_threshold": 3}}
    data["policy_overrides"] = {"bb": {"detection": {"enabled": False}}}
    m = LiveShopModel(scenario=scenario_from_dict(data))
    rows = np.concatenate([_rows(m, 0, 4), _rows(m, 1, 2)])
    _day(m, rows, reports=[0, 2, 3, 9, 5, 9])
    seen = UserReports().observe(PlatformView(m))
    np.testing.assert_array_equal(seen.flag, [False, False, True, True, False, False])
    np.testing.assert_array_equal(seen.score, 0.01 * np.array([0, 2, 3, 9, 5, 9]))
    assert not seen.reason.any()


def test_complaint_source_flags_a_week_of_complaints_once_a_week() -> None:
    """A present creator with complaint_threshold complaints in 7 days is flagged, scored 0.1 per complaint, and not again within 7 days."""
    m = _model(detection={"complaint_threshold": 3})
    rows = _rows(m, 0, 4)
    _day(m, rows[:0])
    c = m.creators
    comp = np.zeros(c.n)
    comp[rows] = [2, 3, 5, 4]
    m.complaints_7d.values = comp
    c.col("state")[rows[3]] = CreatorState.banned
    source = ComplaintSpikes()
    seen = source.observe(PlatformView(m))
    assert isinstance(seen, CreatorFlags)
    np.testing.assert_array_equal(seen.creator, rows[1:3])
    np.testing.assert_array_equal(seen.score, [0.30000000000000004, 0.5])
    np.testing.assert_array_equal(c.col("last_complaint_flag")[rows[1:3]], m.day)
    assert source.observe(PlatformView(m)).creator.size == 0  # within the week: not again


def test_detect_merges_stream_signals_and_appends_account_flags() -> None:
    """One item per stream any source flags (source = first flagging it, score = classifier evidence + 0.01 x reports), then complaint items; truth comes from the streams."""
    m = _model(detection={"complaint_threshold": 3}, review={"auto_action": False})
    rows = _rows(m, 0, 4)
    s = _day(m, rows, tactic=[Tactic.counterfeit, 0, 0, 0], reports=[2, 1, 0, 0], score=[3.0, 1.0, 2.7, 0.0],
             flagged=[True, False, True, False], reason=[2, 0, 6, 0], views=[10, 20, 30, 40])
    comp = np.zeros(m.creators.n)
    comp[rows[3]] = 4
    m.complaints_7d.values = comp
    m.governance.detect()
    q = m.governance.queue.items
    np.testing.assert_array_equal(q["creator"], rows[[0, 1, 2, 3]])
    np.testing.assert_array_equal(q["source"], [0, 1, 0, 2])
    np.testing.assert_array_equal(q["proactive"], [True, False, True, False])
    np.testing.assert_array_equal(q["score"], [3.0 + 0.02, 1.0 + 0.01, 2.7, 0.4])
    np.testing.assert_array_equal(q["real"], [True, False, False, False])
    np.testing.assert_array_equal(q["label"], [Tactic.counterfeit, 0, 0, 0])
    # The classifier's reason where it flagged; otherwise the reviewer's (minor for a clean stream).
    np.testing.assert_array_equal(q["reason"], [2, Tactic.minor, 6, Tactic.minor])
    np.testing.assert_array_equal(q["reach"], [10.0, 20.0, 30.0, 0.0])
    assert s.creator.size == 4


# ------------------------------------------------------------------ what a source may see


def test_the_view_refuses_ground_truth() -> None:
    """A source's view has no true label on streams and refuses creator type, tactic and the decisions' true labels."""
    m = _model()
    _day(m, _rows(m, 0, 2))
    view = PlatformView(m)
    assert not hasattr(view.streams, "tactic") and not hasattr(view.streams, "false_reports")
    for hidden in ("ctype", "tactic", "intensity", "actor", "last_violation_label", "last_violation_day"):
        with pytest.raises(KeyError, match="ground truth"):
            view.col(hidden)
    for hidden in ("label", "real"):
        with pytest.raises(KeyError, match="ground truth"):
            view.decision(hidden)
    assert np.shares_memory(view.col("refunded"), m.creators.col("refunded"))


def test_sources_do_not_change_when_the_true_labels_are_shuffled() -> None:
    """With everything the platform sees fixed, permuting every creator's type and tactic and the streams' true labels leaves each built-in source's output unchanged."""
    m = _model(detection={"complaint_threshold": 2, "report_threshold": 2})
    for _ in range(6):
        m.step()
    c = m.creators
    rows = np.flatnonzero(c.present_mask())[:40]
    rng = np.random.default_rng(3)
    s = _day(m, rows, tactic=rng.integers(0, 7, rows.size), reports=rng.integers(0, 4, rows.size),
             score=rng.normal(size=rows.size), flagged=rng.random(rows.size) < 0.3,
             reason=rng.integers(1, 7, rows.size), views=rng.integers(0, 50, rows.size))
    m.complaints_7d.values = rng.integers(0, 4, c.n).astype(float)
    flag_day = c.col("last_complaint_flag").copy()

    def outputs() -> list[tuple[np.ndarray, ...]]:
        c.col("last_complaint_flag")[:] = flag_day
        out = []
        for source in (ClassifierFlags(), UserReports(), ComplaintSpikes()):
            seen = source.observe(PlatformView(m))
            out.append(tuple(np.copy(getattr(seen, f)) for f in seen.__dataclass_fields__))
        return out

    before = outputs()
    assert before[0][0].any() and before[1][0].any() and before[2][0].size, "every source must flag something"
    for col in ("ctype", "tactic", "last_violation_day", "last_violation_label", "intensity"):
        c.col(col)[: c.n] = rng.permutation(c.col(col)[: c.n])
    s.tactic = rng.permutation(s.tactic)
    after = outputs()
    for b, a in zip(before, after, strict=True):
        for x, y in zip(b, a, strict=True):
            np.testing.assert_array_equal(x, y)


# ------------------------------------------------------------------ registry


class _Quiet(SignalSource):
    """Flags nothing."""

    name = "quiet"

    def observe(self, view: PlatformView) -> CreatorFlags:
        none = np.zeros(0, dtype=np.int64)
        return CreatorFlags(creator=none, score=none.astype(float), reason=none.astype(np.int8))


def test_registry_refuses_bad_registrations_and_unknown_names() -> None:
    """An unknown name, a second class under a taken name, a built-in's removal, a nameless or non-source class are all refused."""
    with pytest.raises(ValueError, match="'nope' is not registered; registered: classifier, report, complaint"):
        source_class("nope")

    class Impostor(_Quiet):
        name = "complaint"

    with pytest.raises(ValueError, match="'complaint' is already registered"):
        register(Impostor)
    with pytest.raises(ValueError, match="built in"):
        unregister("classifier")

    class Nameless(SignalSource):
        pass

    with pytest.raises(ValueError, match="needs a class attribute name"):
        register(Nameless)
    with pytest.raises(ValueError, match="not a subclass"):
        register(int)  # type: ignore[arg-type]
    assert source_names() == BUILTIN


def test_a_registered_source_gets_the_next_code_and_leaves_with_unregister() -> None:
    """Registering appends the source after the built-ins (registering it twice is harmless); unregistering removes it and a model built then runs only the built-ins."""
    register(_Quiet)
    try:
        register(_Quiet)
        assert source_names() == (*BUILTIN, "quiet")
        assert [type(s).__name__ for s in _model().governance.sources][-1] == "_Quiet"
    finally:
        unregister("quiet")
    assert source_names() == BUILTIN
    assert len(_model().governance.sources) == len(BUILTIN)
