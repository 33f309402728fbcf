"""The scenario blocks of monitoring: ``[[signals]]`` and ``[[controllers]]``.

A signal is an observable (what the platform measures, per group, each day), a grouping and a
detector (when a value is alarming). Observables, detectors and controllers are plug-ins, one
class per kind registered by name (``sim.platform.monitoring.registry``); each kind brings its
own config class, a subclass of :class:`ObservableConfig`, :class:`DetectorConfig` or
:class:`ControllerConfig` whose ``kind`` is ``Literal["<name>"]``. Validating a base block hands
the entry to the registered kind's class (as trend kinds do), so a scenario file names the
kind and its parameters and nothing else::

    [[signals]]
    name = "refunds_z"
    group_by = ["market", "category"]
    observable = { kind = "refund_rate", window_days = 7 }
    detector = { kind = "zscore", window_days = 28, z = 3.0 }

``observable = "refund_rate"`` (a bare name) is the kind with its default parameters.
"""

from __future__ import annotations

import itertools
from typing import Annotated, Any, Literal

from pydantic import Field, SerializeAsAny, Strict, field_validator, model_validator

from sim.registry import ByKind, Registry
from sim.schema import Name, StrictModel

__all__ = ["AGE_BANDS", "DIMENSIONS", "ControllerConfig", "DetectorConfig", "ObservableConfig", "SignalConfig"]

# What a signal can group by: the creator's market, category, level (L0-L8) and account-age band.
DIMENSIONS: tuple[str, ...] = ("market", "category", "level", "age_band")
# Default account-age band edges in days: new (< 30: the pilot period, seller-us H), young (30-89), older.
AGE_BANDS: tuple[int, ...] = (30, 90)


class _Kinded(ByKind):
    kind: Name
    bare_name = True  # ``observable = "refund_rate"``: the kind with its default parameters


class ObservableConfig(_Kinded):
    """What a signal measures per group and day, from observed data only.

    ``window_days``: the value is taken over the last N days (numerators and denominators summed),
    which smooths a daily rate; ``min_count``: a group whose denominator over the window is below
    it has no value that day (too few orders, views or streams to say anything)."""

    window_days: Annotated[int, Strict(), Field(ge=1, le=365)] = 1
    min_count: Annotated[float, Strict(), Field(ge=0.0, le=1e9)] = 1.0

    @staticmethod
    def registry() -> Registry[Any]:
        from sim.platform.monitoring.registry import OBSERVABLES  # the registry imports this module

        return OBSERVABLES


class DetectorConfig(_Kinded):
    """When a signal's value is alarming. ``direction``: ``up`` (a rise alarms), ``down`` or ``both``."""

    direction: Literal["up", "down", "both"] = "up"

    @staticmethod
    def registry() -> Registry[Any]:
        from sim.platform.monitoring.registry import DETECTORS  # the registry imports this module

        return DETECTORS


class SignalConfig(StrictModel):
    """One monitoring signal: an observable per group, and a detector watching each group's series."""

    name: Name
    observable: SerializeAsAny[ObservableConfig]
    group_by: list[Literal["market", "category", "level", "age_band"]] = Field(default_factory=lambda: ["market"])
    # Account-age band edges (days since the account joined) when grouping by ``age_band``.
    age_bands: Annotated[list[Annotated[int, Strict(), Field(ge=1, le=3650)]], Field(min_length=1, max_length=8)] = \
        Field(default_factory=lambda: list(AGE_BANDS))
    detector: SerializeAsAny[DetectorConfig]

    @field_validator("group_by")
    @classmethod
    def _distinct(cls, v: list[str]) -> list[str]:
        if len(set(v)) != len(v):
            raise ValueError(f"each dimension at most once; allowed: {', '.join(DIMENSIONS)}")
        return v

    @field_validator("age_bands")
    @classmethod
    def _increasing(cls, v: list[int]) -> list[int]:
        if any(b <= a for a, b in itertools.pairwise(v)):
            raise ValueError("band edges must increase")
        return v

    @model_validator(mode="after")
    def _observable_groups(self) -> SignalConfig:
        from sim.platform.monitoring.registry import OBSERVABLES

        kind = OBSERVABLES.get(self.observable.kind)
        allowed = getattr(kind, "dimensions", DIMENSIONS)
        bad = [d for d in self.group_by if d not in allowed]
        if bad:
            raise ValueError(f"@group_by|observable {self.observable.kind!r} cannot be grouped by {bad[0]!r}; "
                             f"allowed: {', '.join(allowed) or 'nothing (the whole platform: [])'}")
        return self


class ControllerConfig(_Kinded):
    """A feedback loop: a policy that moves levers from what the platform observes."""

    name: Name
    markets: list[Name] = Field(default_factory=list, description="empty means every market")

    @staticmethod
    def registry() -> Registry[Any]:
        from sim.platform.monitoring.registry import CONTROLLERS  # the registry imports this module

        return CONTROLLERS
