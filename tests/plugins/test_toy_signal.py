"""A detection signal source defined outside livesim: one class, one registration.

The toy ``refund_spike`` source flags every creator whose buyers were refunded at least
``THRESHOLD`` times today. It reads only the platform's view (the ``refunded`` counter it is
allowed to see) and keeps yesterday's totals itself. It is registered for these tests only.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from sim import LiveShopModel
from sim.config import scenario_from_dict
from sim.platform.signals import BUILTIN, CreatorFlags, PlatformView, SignalSource, register, source_names, unregister
from sim.runner import run
from tests.conftest import tiny_dict

THRESHOLD = 2


class RefundSpike(SignalSource):
    """Creators refunded at least THRESHOLD times today (the day's change of their refund counter)."""

    name = "refund_spike"

    def __init__(self) -> None:
        self.seen = np.zeros(0, dtype=np.int64)  # each creator's refund count at the last look

    def observe(self, view: PlatformView) -> CreatorFlags:
        refunded = view.col("refunded")
        today = refunded.copy()
        today[: self.seen.size] -= self.seen
        self.seen = refunded.copy()
        cr = np.flatnonzero(today >= THRESHOLD)
        return CreatorFlags(creator=cr, score=today[cr].astype(float), reason=np.zeros(cr.size, dtype=np.int8))


@pytest.fixture
def refund_spike() -> Iterator[None]:
    """The refund-spike source is registered for one test and removed afterwards."""
    register(RefundSpike)
    try:
        yield
    finally:
        unregister("refund_spike")


def _data(days: int, **policy: object) -> dict:
    data = tiny_dict(enforced=True)
    data["days"] = days
    data["policy"] = policy
    return data


def test_refund_spike_queues_exactly_the_creators_refunded_twice_today(refund_spike: None) -> None:
    """With no review capacity, the queue holds one refund-spike item per creator-day with at least THRESHOLD refunds, and nothing else of that source."""
    m = LiveShopModel(scenario=scenario_from_dict(_data(12, review={"capacity_per_day": 0, "sla_days": 365})))
    code = source_names().index("refund_spike")
    assert code == len(BUILTIN)
    expected: set[tuple[int, int]] = set()
    while m.running:
        before = m.creators.col("refunded").copy()
        m.step()
        after = m.creators.col("refunded").astype(np.int64)
        after[: before.size] -= before
        expected |= {(m.day, int(cr)) for cr in np.flatnonzero(after >= THRESHOLD)}
    q = m.governance.queue.items
    mine = q["source"] == code
    got = set(zip(q["enqueued"][mine].tolist(), q["creator"][mine].tolist(), strict=True))
    assert expected, "the run must have refund spikes to test the source"
    assert got == expected
    assert not q["proactive"][mine].any()


def test_refund_spike_decisions_appear_in_the_sanctions_table(refund_spike: None) -> None:
    """A run with the source registered has decisions whose source is refund_spike (none exist without it), named so in the sanctions table."""
    result = run(scenario_from_dict(_data(15)))
    sources = result.sanctions["source"]
    assert "refund_spike" in list(sources.cat.categories)
    assert (sources == "refund_spike").sum() > 0

