"""Detection signal sources by name: the one place governance looks them up.

The order of ``source_names()`` is the source's code in the review queue and the decision log
(``source`` column) and the order governance runs them in: the built-in sources first
(classifier, report, complaint), then those registered from outside livesim, in the order they
were registered.
"""

from __future__ import annotations

from sim.platform.signals.base import SignalSource
from sim.registry import Registry

__all__ = ["BUILTIN", "SOURCES", "register", "source_class", "source_names", "sources", "unregister"]

# Sources that ship with livesim (their names are the decision log's ``source`` values).
BUILTIN: tuple[str, ...] = ("classifier", "report", "complaint")


class _Sources(Registry[type[SignalSource]]):
    def check(self, kind: type, name: str) -> None:
        if name not in self and len(self) >= 127:  # codes are int8
            raise ValueError(f"signal source {name!r}: at most 127 sources can be registered")


SOURCES = _Sources("signal source", BUILTIN, base=SignalSource, sort=False)
register = SOURCES.register
unregister = SOURCES.unregister
# Every registered source, in code (and running) order: the built-in ones in ``BUILTIN`` order
# (whatever order their modules were imported in), then the others as registered.
source_names = SOURCES.names
source_class = SOURCES.get


def sources() -> tuple[type[SignalSource], ...]:
    """Every registered source class, in code (and running) order."""
    return tuple(SOURCES.get(n) for n in source_names())
