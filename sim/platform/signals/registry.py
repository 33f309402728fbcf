"""Detection signal sources by name: the one place governance looks them up.

The order of ``source_names()`` is the source's code in the review queue and the decision log
(``source`` column) and the order governance runs them in: the built-in sources first
(classifier, report, complaint), then those registered from outside livesim, in the order they
were registered.
"""

from __future__ import annotations

from sim.platform.signals.base import SignalSource

__all__ = ["BUILTIN", "register", "source_class", "source_names", "sources", "unregister"]

# Sources that ship with livesim (their names are the decision log's ``source`` values).
BUILTIN: tuple[str, ...] = ("classifier", "report", "complaint")

_SOURCES: dict[str, type[SignalSource]] = {}


def register[S: type[SignalSource]](source: S) -> S:
    """Register signal source ``source`` under ``source.name`` (usable as a class decorator)."""
    name = getattr(source, "name", None)
    if not (isinstance(source, type) and issubclass(source, SignalSource)):
        raise ValueError(f"{source!r} is not a subclass of sim.platform.signals.SignalSource")
    if not isinstance(name, str) or not name:
        raise ValueError(f"signal source {source.__name__} needs a class attribute name")
    current = _SOURCES.get(name)
    if current is not None and current is not source:
        raise ValueError(f"signal source {name!r} is already registered ({current.__name__})")
    if current is None and len(_SOURCES) >= 127:
        raise ValueError(f"signal source {name!r}: at most 127 sources can be registered")
    _SOURCES[name] = source
    return source


def unregister(name: str) -> None:
    """Remove a signal source registered from outside livesim (the built-in sources stay)."""
    if name in BUILTIN:
        raise ValueError(f"signal source {name!r} is built in and cannot be unregistered")
    _SOURCES.pop(name, None)


def source_names() -> tuple[str, ...]:
    """Every registered source, in code (and running) order: the built-in ones in ``BUILTIN``
    order (whatever order their modules were imported in), then the others as registered."""
    return (*(n for n in BUILTIN if n in _SOURCES), *(n for n in _SOURCES if n not in BUILTIN))


def sources() -> tuple[type[SignalSource], ...]:
    """Every registered source class, in code (and running) order."""
    return tuple(_SOURCES[n] for n in source_names())


def source_class(name: str) -> type[SignalSource]:
    """The source registered as ``name``."""
    try:
        return _SOURCES[name]
    except KeyError:
        raise ValueError(f"signal source {name!r} is not registered; registered: {', '.join(source_names())}") from None
