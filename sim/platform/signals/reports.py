"""User reports: a stream with at least ``report_threshold`` reports today is queued.

Every report adds 0.01 to the risk score of its stream's item (flagged or not), so among equal
classifier scores the more reported stream is reviewed first. Reports do not say which rule
was broken: the reviewer names it.
"""

from __future__ import annotations

import numpy as np

from sim.platform.signals.base import PlatformView, SignalSource, StreamSignal
from sim.platform.signals.registry import register

__all__ = ["UserReports"]


@register
class UserReports(SignalSource):
    """Streams reported at least the market's threshold today."""

    name = "report"

    def observe(self, view: PlatformView) -> StreamSignal:
        s = view.streams
        lv = view.levers
        on = lv.detection_on[s.market]
        flag = on & (s.reports >= lv.report_threshold[s.market])
        return StreamSignal(flag=flag, score=0.01 * s.reports, reason=np.zeros(s.size, dtype=np.int8))
