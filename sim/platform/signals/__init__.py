"""Detection signal sources: one file per source, registered by name.

Governance (``sim/platform/governance.py``) runs every registered source each day, in
registration order, and turns their flags into review items. The built-in sources are
``classifier`` (classifier flags), ``report`` (user reports) and ``complaint`` (complaint
spikes). To add one, subclass ``SignalSource``, read only the ``PlatformView`` it is given and
decorate it with ``register`` (see docs/extending.md).
"""

from __future__ import annotations

from sim.platform.signals import classifier, complaints, reports  # noqa: F401  (registers the built-in sources; order = codes)
from sim.platform.signals.base import CreatorFlags, PlatformView, SignalSource, StreamSignal
from sim.platform.signals.registry import BUILTIN, register, source_class, source_names, sources, unregister

__all__ = ["BUILTIN", "CreatorFlags", "PlatformView", "SignalSource", "StreamSignal", "register", "source_class",
           "source_names", "sources", "unregister"]
