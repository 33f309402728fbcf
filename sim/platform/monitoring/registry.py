"""Observable, detector and controller kinds by name: the one place the scenario schema and the
run look a kind up.

A kind is a class with ``name`` and ``config`` (a subclass of the block's base config whose
``kind`` is ``Literal[name]``); ``register`` it (a class decorator) and a scenario may name it.
The built-in kinds register themselves when their packages are imported; the registries import
them on first use, so a scenario can be validated before anything else imported them.
"""

from __future__ import annotations

import importlib
import typing
from typing import Any

__all__ = ["CONTROLLERS", "DETECTORS", "OBSERVABLES", "Registry"]


class Registry:
    """Kinds of one plug-in family (observables, detectors or controllers) by name."""

    def __init__(self, what: str, base_config: str, builtin: tuple[str, ...], package: str) -> None:
        self.what = what
        self._base_config = base_config
        self.builtin = builtin
        self._package = package
        self._kinds: dict[str, type] = {}

    def _base(self) -> type:
        from sim.platform.monitoring import config

        return getattr(config, self._base_config)

    def register[K: type](self, kind: K) -> K:
        """Register ``kind`` under ``kind.name`` (usable as a class decorator)."""
        name = getattr(kind, "name", None)
        config = getattr(kind, "config", None)
        base = self._base()
        if not isinstance(name, str) or not name:
            raise ValueError(f"{self.what} kind {kind.__name__} needs a class attribute name")
        if not (isinstance(config, type) and issubclass(config, base) and config is not base):
            raise ValueError(f"{self.what} kind {name!r}: config must be a subclass of {base.__name__}")
        field = config.model_fields.get("kind")
        if field is None or typing.get_args(field.annotation) != (name,):
            raise ValueError(f"{self.what} kind {name!r}: {config.__name__}.kind must be Literal[{name!r}]")
        current = self._kinds.get(name)
        if current is not None and current is not kind:
            raise ValueError(f"{self.what} kind {name!r} is already registered ({current.__name__})")
        self._kinds[name] = kind
        return kind

    def unregister(self, name: str) -> None:
        """Remove a kind registered from outside livesim (the built-in kinds stay)."""
        if name in self.builtin:
            raise ValueError(f"{self.what} kind {name!r} is built in and cannot be unregistered")
        self._kinds.pop(name, None)

    def names(self) -> tuple[str, ...]:
        """Every registered kind, sorted."""
        self._load()
        return tuple(sorted(self._kinds))

    def get(self, name: str) -> Any:
        """The class registered as ``name`` (ValueError naming the registered kinds if none)."""
        self._load()
        try:
            return self._kinds[name]
        except KeyError:
            raise ValueError(f"{self.what} kind {name!r} is not registered; registered: "
                             f"{', '.join(self.names())}") from None

    def config_class(self, name: str) -> type | None:
        """The config class of kind ``name``, or None if no such kind is registered."""
        self._load()
        kind = self._kinds.get(name)
        return None if kind is None else kind.config

    def _load(self) -> None:
        if not all(n in self._kinds for n in self.builtin):
            importlib.import_module(self._package)


OBSERVABLES = Registry("observable", "ObservableConfig", (
    "appeal_overturn_rate", "complaint_rate", "flag_rate", "ratio", "refund_rate", "reports_per_1k_views",
    "review_queue_growth", "young_gmv_share"), "sim.platform.monitoring.observables")
DETECTORS = Registry("detector", "DetectorConfig", ("cusum", "ewma", "pelt", "threshold", "zscore"),
                     "sim.platform.monitoring.detectors")
CONTROLLERS = Registry("controller", "ControllerConfig", ("escalation", "guardrail_rollback", "pi_threshold"),
                       "sim.platform.controllers")
