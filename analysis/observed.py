"""Observed files: a team's own numbers, and the world parameters to fit to them.

```toml
description = "Our dashboard, Q3"
replications = 3            # runs per candidate world (common random numbers across candidates)
batch = 4                   # candidates proposed at a time (fixed, so results do not depend on workers)
profile_points = 7          # per parameter, worlds on a slice through the best one (0: none)

[[targets]]                 # what was observed: a metric (per market or "all"), as a sweep reports it
metric = "refund_rate"
value = 0.12
tolerance = 0.02            # or se = 0.01: the band is value +/- 3 x sqrt(se^2 + simulation variance)
[[targets]]
metric = "bans"
per_10k_creators = true
min = 300.0                 # or a band: min and/or max
max = 900.0
[[targets]]
metric = "gmv_per_buyer"
market = "id"
days = [91, 180]            # optional window: the mean of the metric's daily values over those days
value = 40.0
tolerance = 6.0
held_out = true             # not fitted: shown apart in the fit table (out-of-sample check)

[[fit]]                     # the world parameters to fit (world.* only: levers are never fitted)
path = "world.buyers.report_rate"
low = 0.001
high = 0.02
log = true                  # search on a log scale
```

A target is a :class:`sim.config.Target` (metric, market, band, ``per_10k_creators``, source,
confidence) with three more fields: ``se`` (a standard error instead of a tolerance),
``held_out`` and ``days``. Without ``days`` a target is compared with the run's summary value of
its metric (the warm-up left out), the figure ``livesim sweep`` and ``check-facts`` report; with
``days = [first, last]`` with the mean of its daily values on those days.

The policy in force when the numbers were observed is part of the scenario; only ``world.*``
paths can be fitted. Every path and range is checked against the scenario before anything runs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, Strict, StrictBool, field_validator, model_validator

from sim.config import Scenario, Target, read_toml, validate_tables, value_at, with_overrides
from sim.errors import ScenarioError
from sim.schema import StrictModel

__all__ = ["FitParameter", "Observed", "ObservedTarget", "load_observed"]

# History matching's cut-off: a world whose simulated mean lies more than three standard errors
# from the observation is implausible (Pukelsheim's three-sigma rule; Andrianakis et al. 2015).
SIGMAS = 3.0
TOP_KEYS = ("description", "replications", "batch", "profile_points", "targets", "fit")


class ObservedTarget(Target):
    """One observed number: a metric's value (with a tolerance or a standard error) or band."""

    se: Annotated[float, Strict(), Field(gt=0)] | None = None
    held_out: StrictBool = False
    days: tuple[Annotated[int, Strict(), Field(ge=1)], Annotated[int, Strict(), Field(ge=1)]] | None = None

    @field_validator("se")
    @classmethod
    def _finite_se(cls, v: float | None) -> float | None:
        if v is not None and not math.isfinite(v):
            raise ValueError(f"got {v}; a standard error must be a finite number")
        return v

    @field_validator("days")
    @classmethod
    def _window(cls, v: tuple[int, int] | None) -> tuple[int, int] | None:
        if v is not None and v[0] > v[1]:
            raise ValueError(f"first day {v[0]} is after last day {v[1]}; expected days = [first, last]")
        return v

    @model_validator(mode="after")
    def _one_band(self) -> ObservedTarget:  # replaces Target's: a value may come with se instead of tolerance
        bounds = self.max is not None or self.min is not None
        point = self.value is not None or self.tolerance is not None or self.se is not None
        if bounds == point:
            raise ValueError("a target needs max and/or min, or value with tolerance or se (not both forms)")
        if point:
            if self.value is None:
                raise ValueError("tolerance and se need a value: the band is around the observed value")
            if (self.tolerance is None) == (self.se is None):
                raise ValueError("a value needs exactly one of tolerance (the band's half-width) or se (its "
                                 "standard error)")
        if self.max is not None and self.min is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    @property
    def band(self) -> tuple[float, float]:
        """The accepted values before the simulation's own noise is added (``se``: value +/- 3 se)."""
        if self.se is not None and self.value is not None:
            return self.value - SIGMAS * self.se, self.value + SIGMAS * self.se
        return super().band

    def band_text(self) -> str:
        if self.se is not None:
            return f"{self.value:g} (se {self.se:g})"
        return super().band_text()

    def describe(self) -> str:
        text = super().describe()
        if self.days is not None and not self.label:
            text = f"{text} on days {self.days[0]}-{self.days[1]}"
        return text

    @property
    def centre(self) -> float:
        """The observed value (the middle of a two-sided band, the bound of a one-sided one)."""
        if self.value is not None:
            return self.value
        if self.min is not None and self.max is not None:
            return (self.min + self.max) / 2.0
        return self.max if self.max is not None else self.min  # type: ignore[return-value]

    def half_width(self, sim_sd: float = 0.0, replications: int = 1) -> float:
        """Half the band's width (infinite for a one-sided band); with ``se`` it grows with the
        simulation's own standard error of the mean: 3 x sqrt(se^2 + sd^2 / replications)."""
        if self.se is not None:
            return SIGMAS * math.sqrt(self.se**2 + sim_sd**2 / max(replications, 1))
        if self.tolerance is not None:
            return self.tolerance
        if self.min is not None and self.max is not None:
            return (self.max - self.min) / 2.0
        return math.inf

    @property
    def is_band(self) -> bool:
        """A band (``min`` and/or ``max``): every value inside is as good as any other."""
        return self.value is None

    def implausibility(self, mean: float, sim_sd: float = 0.0, replications: int = 1) -> float:
        """How far the simulated mean lies from the observation. A value target: the distance
        from the value in half-band widths (0 at the value, 1 at the band's edge). A band: 0
        anywhere inside, and past an edge 1 plus the distance in half-widths (a one-sided band:
        in units of its bound), so any miss counts as outside. NaN (a metric a run could not
        compute) is infinitely implausible."""
        if mean != mean:
            return math.inf
        if not self.is_band:
            h = self.half_width(sim_sd, replications)
            return abs(mean - self.centre) / h if h > 0 else (0.0 if mean == self.centre else math.inf)
        low, high = super().band
        miss = max(low - mean, mean - high, 0.0)
        if miss == 0.0:
            return 0.0
        h = self.half_width()
        scale = h if math.isfinite(h) and h > 0 else max(abs(self.centre), 1e-12)
        return 1.0 + miss / scale

    def normalised_error(self, mean: float) -> float:
        """The error relative to the observation, as in an NRMSE: ``(sim - value) / value`` for a
        value target; for a band, the signed distance past its nearest bound relative to that
        bound (+ above the maximum, - below the minimum), 0 inside."""
        if mean != mean:
            return math.inf
        if not self.is_band:
            scale = abs(self.centre) or self.half_width() or 1.0
            return (mean - self.centre) / scale
        low, high = super().band
        if mean > high:
            return (mean - high) / (abs(high) or 1.0)
        if mean < low:
            return (mean - low) / (abs(low) or 1.0)
        return 0.0


class FitParameter(StrictModel):
    """A world parameter to fit, over ``low`` to ``high`` (a log scale with ``log = true``)."""

    path: Annotated[str, Field(min_length=1, max_length=200)]
    low: Annotated[float, Strict()] | Annotated[int, Strict()]
    high: Annotated[float, Strict()] | Annotated[int, Strict()]
    log: StrictBool = False

    @field_validator("path")
    @classmethod
    def _world_only(cls, v: str) -> str:
        if not v.startswith("world."):
            raise ValueError("only world.* parameters are fitted (levers and the timeline are the policy in "
                             "force when the data was observed: set them in the scenario)")
        return v

    @model_validator(mode="after")
    def _range(self) -> FitParameter:
        for name in ("low", "high"):
            if not math.isfinite(getattr(self, name)):
                raise ValueError(f"{name} must be a finite number")
        if not self.low < self.high:
            raise ValueError(f"low {self.low:g} must be below high {self.high:g}")
        if self.log and self.low <= 0:
            raise ValueError(f"a log-scale range needs low > 0; got low {self.low:g}")
        return self


class ObservedFile(StrictModel):
    description: Annotated[str, Field(max_length=300)] = ""
    replications: Annotated[int, Strict(), Field(ge=1, le=100)] = 3
    batch: Annotated[int, Strict(), Field(ge=1, le=64)] = 4
    profile_points: Annotated[int, Strict(), Field(ge=0, le=50)] = 7


@dataclass
class Observed:
    """A loaded observed file, checked against the scenario it will calibrate."""

    source: str
    description: str
    replications: int
    batch: int
    profile_points: int
    targets: list[ObservedTarget]
    fit: list[FitParameter]
    integer: dict[str, bool]  # per fitted path: the scenario field holds an integer
    # Runs of the model behind each target's value: 0 for real data. A synthetic observation
    # (``livesim calibrate --identify``) is the mean of this many runs, so its own run-to-run
    # noise is part of every comparison with it (analysis.calibrate adds it to each se target).
    observation_runs: int = 0

    @property
    def fitted(self) -> list[ObservedTarget]:
        return [t for t in self.targets if not t.held_out]

    @property
    def held_out(self) -> list[ObservedTarget]:
        return [t for t in self.targets if t.held_out]

    def value(self, p: FitParameter, x: float) -> float | int:
        """A sampled value as the scenario takes it (an integer field gets an integer)."""
        return round(x) if self.integer[p.path] else float(x)


def load_observed(path: str | Path, scenario: Scenario) -> Observed:
    """Read and validate an observed file against ``scenario`` (its markets, its run length, the
    fitted paths and ranges); errors name the file and the field."""
    src = str(path)
    data = read_toml(path, "observed")
    unknown = sorted(set(data) - set(TOP_KEYS))
    if unknown:
        raise ScenarioError(src, unknown[0], None, f"unknown key; an observed file holds {', '.join(TOP_KEYS[:4])}, "
                            "[[targets]] and [[fit]]")
    head = validate_tables([{k: v for k, v in data.items() if k in TOP_KEYS[:4]}],
                           ObservedFile, src, "file")[0]
    targets_raw, fit_raw = data.get("targets"), data.get("fit")
    if not isinstance(targets_raw, list) or not targets_raw:
        raise ScenarioError(src, "targets", None, "expected one or more [[targets]] tables (the observed numbers)")
    if not isinstance(fit_raw, list) or not fit_raw:
        raise ScenarioError(src, "fit", None, "expected one or more [[fit]] tables (the world parameters to fit)")
    targets = validate_tables(targets_raw, ObservedTarget, src, "targets")
    fit = validate_tables(fit_raw, FitParameter, src, "fit")
    markets = ["all", *(m.name for m in scenario.world.markets)]
    for i, t in enumerate(targets):
        if t.market not in markets:
            raise ScenarioError(src, f"targets[{i}].market", t.market,
                                f"not a market of scenario {scenario.name!r}; allowed: {', '.join(markets)}")
        if t.days is not None and t.days[1] > scenario.days:
            raise ScenarioError(src, f"targets[{i}].days", list(t.days),
                                f"the window ends after the run's last day ({scenario.days})")
    if all(t.held_out for t in targets):
        raise ScenarioError(src, "targets", None, "every target is held_out: at least one must be fitted")
    seen: set[str] = set()
    integer: dict[str, bool] = {}
    for i, p in enumerate(fit):
        if p.path in seen:
            raise ScenarioError(src, f"fit[{i}].path", p.path, "fitted twice; give each path once")
        seen.add(p.path)
        try:
            current = value_at(scenario, p.path)
        except ScenarioError as exc:
            raise ScenarioError(src, f"fit[{i}].path", p.path, exc.allowed) from None
        if isinstance(current, bool) or not isinstance(current, int | float):
            raise ScenarioError(src, f"fit[{i}].path", p.path,
                                f"holds {current!r}; only a number can be fitted")
        integer[p.path] = isinstance(current, int)
        for end in ("low", "high"):
            x = getattr(p, end)
            try:
                with_overrides(scenario, {p.path: round(x) if integer[p.path] else float(x)},
                               source=src, check_timeline=False)
            except ScenarioError as exc:
                raise ScenarioError(src, f"fit[{i}].{end}", x, f"not a value {p.path} can take: {exc.allowed}") from None
    return Observed(src, head.description, head.replications, head.batch, head.profile_points, targets, fit, integer)


def describe_fit(obs: Observed) -> list[dict[str, Any]]:
    """The fitted parameters as plain rows (for the record)."""
    return [{"path": p.path, "low": p.low, "high": p.high, "log": p.log} for p in obs.fit]
