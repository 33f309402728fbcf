"""Complaint spikes: a creator whose buyers complained repeatedly this week is queued.

A present creator in a market with detection on is flagged when it has at least
``complaint_threshold`` complaints over the last 7 days and was not complaint-flagged in the
last 7 days (the source records the day in ``last_complaint_flag``). The flag is about the
account, not one stream: governance looks back at the creator's last week to judge it.
"""

from __future__ import annotations

import numpy as np

from sim.platform.signals.base import CreatorFlags, PlatformView, SignalSource
from sim.platform.signals.registry import register

__all__ = ["ComplaintSpikes"]


@register
class ComplaintSpikes(SignalSource):
    """Creators with a week of complaints at or above the market's threshold."""

    name = "complaint"

    def observe(self, view: PlatformView) -> CreatorFlags:
        lv = view.levers
        day = view.day
        comp = view.complaints_7d
        market = view.col("market")
        last_flag = view.col("last_complaint_flag")
        n = view.n_creators
        spike = np.zeros(n, dtype=bool)
        spike[: comp.size] = comp[:n] >= lv.complaint_threshold[market[: comp.size]]
        spike &= (day - last_flag >= 7) & view.present() & lv.detection_on[market]
        cr = spike.nonzero()[0]
        last_flag[cr] = day
        return CreatorFlags(creator=cr, score=comp[cr].astype(float) * 0.1, reason=np.zeros(cr.size, dtype=np.int8))
