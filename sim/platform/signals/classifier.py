"""Classifier flags: streams whose classifier score crossed the market's threshold.

The scores themselves are drawn while the stream is live (``Governance.scan``, in ``plan``),
because real-time interruption needs them before any view; this source only reads them. A
stream the classifier did not flag contributes -10 to its item's risk score, so it ranks below
every flagged one under the ``risk`` priority.
"""

from __future__ import annotations

import numpy as np

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
        return StreamSignal(flag=s.flagged, score=np.where(s.flagged, s.score, -10.0), reason=s.reason)
