"""Classifier flags: streams whose classifier score crossed the market's threshold.

The scores themselves are drawn while the stream is live (``Governance.scan``, in ``plan``),
because real-time interruption needs them before any view; this source only reads them. Every
stream contributes its classifier score to its item's risk score, flagged or not: a stream the
classifier did not flag (a report-only item) scored below the threshold, so under the ``risk``
priority it ranks below every flagged item of the same age, by how near the threshold it came,
and the age weight (``review.age_weight``) lifts it as it waits.
"""

from __future__ import annotations

from sim.platform.signals.base import PlatformView, SignalSource, StreamSignal
from sim.platform.signals.registry import register

__all__ = ["ClassifierFlags"]


@register
class ClassifierFlags(SignalSource):
    """The classifiers' own flags: proactive, and decided at once above the auto threshold."""

    name = "classifier"
    proactive = True
    auto_action = True

    def observe(self, view: PlatformView) -> StreamSignal:
        s = view.streams
        return StreamSignal(flag=s.flagged, score=s.score, reason=s.reason)
