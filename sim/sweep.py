"""Sweep files: a base scenario, named policy variants, a grid or a sample, and replications.

```toml
name = "threshold_capacity"
scenario = "../baseline.toml"      # a path (relative to this file), or an inline [scenario] table
replications = 10

[variants.baseline]                # always present (added empty when not given)
[variants.strict]
policy_preset = "strict"           # start the policy from a preset...
"policy.review.capacity_per_day" = 300   # ...and/or override any dotted path

[variants.id_capacity]             # one market's lever: policy_overrides.<market>.<policy path>
"policy_overrides.id.review.capacity_per_day" = 300

[grid]                             # cartesian product (or [sample] instead)
"policy.detection.threshold" = [2.0, 2.5, 3.0]

[sample]                           # Latin hypercube or Sobol over ranges (scipy.stats.qmc)
method = "lhs"
n = 16
seed = 7
ranges = { "timeline.weekly_bonus.budget" = [10_000, 100_000] }
```

Every run is (variant, point, replication); replication ``r`` of every variant and point uses
the same world seed, so differences between variants are paired (common random numbers).
Every override is applied to the base scenario and re-validated when the sweep is loaded, so
a bad path or value is reported before anything runs.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, Strict, ValidationError, field_validator, model_validator

from sim.config import Scenario, load_scenario, read_toml, scenario_from_dict, with_overrides
from sim.errors import ScenarioError, format_validation_error
from sim.schema import Name, StrictModel

__all__ = ["RunSpec", "Sweep", "SweepFile", "load_sweep", "sweep_from_presets"]


class Sample(StrictModel):
    """A quasi-random sample of points over numeric ranges."""

    method: Literal["lhs", "sobol"] = "lhs"
    n: Annotated[int, Strict(), Field(ge=1, le=100_000)]
    seed: Annotated[int, Strict(), Field(ge=0, le=2**63 - 1)] = 0
    # Finite numbers only (not booleans, inf or nan); integer ends give integers.
    ranges: dict[str, tuple[Any, Any]] = Field(min_length=1)

    @field_validator("ranges")
    @classmethod
    def _ordered(cls, v: dict[str, tuple[Any, Any]]) -> dict[str, tuple[float, float]]:
        for path, (lo, hi) in v.items():
            for end in (lo, hi):
                if isinstance(end, bool) or not isinstance(end, int | float) or not math.isfinite(end):
                    raise ValueError(f"@{path}|got {end!r}; a range is [min, max] of finite numbers")
            if lo > hi:
                raise ValueError(f"ranges.{path}: [{lo}, {hi}] has min > max")
        return v


class SweepFile(StrictModel):
    """The validated contents of a sweep TOML file."""

    name: Name
    description: str = ""
    scenario: str | dict[str, Any]
    replications: Annotated[int, Strict(), Field(ge=1, le=100_000)] | None = None
    days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None
    variants: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    grid: dict[str, list[Any]] = Field(default_factory=dict)
    sample: Sample | None = None

    @model_validator(mode="after")
    def _grid_or_sample(self) -> SweepFile:
        if self.grid and self.sample is not None:
            raise ValueError("@grid|use either [grid] or [sample], not both")
        for path, values in self.grid.items():
            if not values:
                raise ValueError(f"@grid.{path}|needs at least one value")
        return self


@dataclass(frozen=True)
class RunSpec:
    """One run of a sweep: which variant, which grid/sample point, which replication."""

    run_id: str
    variant: str
    point: int
    replication: int
    params: dict[str, Any]  # the point's parameter values (dotted paths)
    scenario: Scenario  # fully resolved and validated


@dataclass
class Sweep:
    """A loaded sweep: its file, the base scenario, and every run it asks for."""

    file: SweepFile
    source: str
    base: Scenario
    points: list[dict[str, Any]]
    variants: dict[str, Scenario]  # the base scenario with each variant applied
    replications: int

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order (variant, point, replication)."""
        out = []
        for vname, vscen in self.variants.items():
            for p, params in enumerate(self.points):
                scen = with_overrides(vscen, params, source=f"{self.source} (grid/sample point {p})") if params else vscen
                for r in range(self.replications):
                    out.append(RunSpec(f"{vname}__p{p:04d}__r{r:03d}", vname, p, r, params, scen))
        return out

    @property
    def design(self) -> str:
        """``grid``, ``sample`` or ``none``: how the points were made."""
        return "grid" if self.file.grid else "sample" if self.file.sample is not None else "none"

    def config_document(self) -> dict[str, Any]:
        """The resolved configuration, as stored in the manifest."""
        return {
            "name": self.file.name,
            "description": self.file.description,
            "source": self.source,
            "replications": self.replications,
            "design": self.design,
            "variants": {k: v for k, v in self.file.variants.items()},
            "points": self.points,
            "base_scenario": self.base.model_dump(mode="json"),
        }

    def config_hash(self) -> str:
        """A hash of what the runs will compute: every resolved variant and point (not where the
        file was, nor how its path was spelled), so resuming needs the same experiment."""
        doc = {
            "replications": self.replications,
            "points": self.points,
            "variants": {k: v.model_dump(mode="json") for k, v in self.variants.items()},
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_sweep(path: str | Path) -> Sweep:
    """Read, validate and expand a sweep file (or a bundled sweep by name); every override is
    re-validated."""
    from sim.bundled import resolve_sweep

    path = resolve_sweep(path)
    src = str(path)
    data = read_toml(path, "sweep")
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, src, SweepFile) from None

    if isinstance(sweep.scenario, str):
        scen_path = (path.parent / sweep.scenario).resolve()
        if not scen_path.is_file():
            raise ScenarioError(src, "scenario", sweep.scenario, f"no such scenario file ({scen_path})")
        raw = read_toml(scen_path)
        base_dir = scen_path.parent
        scen_src = str(scen_path)
    else:
        raw = dict(sweep.scenario)
        base_dir = path.parent
        scen_src = f"{src} [scenario]"
    top: dict[str, Any] = {}
    if sweep.days is not None:
        top["days"] = sweep.days
    # The timeline is checked once the sweep's own ``days`` is applied.
    base = with_overrides(scenario_from_dict(raw, source=scen_src, base_dir=base_dir, check_timeline=False), top,
                          source=src if top else scen_src)
    replications = sweep.replications if sweep.replications is not None else base.replications

    variants = {"baseline": {}} | dict(sweep.variants)
    points = _points(sweep, src)
    swept = set(points[0]) if points else set()
    resolved: dict[str, Scenario] = {}
    for vname, overrides in variants.items():
        clash = sorted(swept & set(_flatten_variant({k: v for k, v in overrides.items() if k != "policy_preset"})))
        if clash:
            raise ScenarioError(src, f"variants.{vname}.{clash[0]}", None,
                                "is also set by the grid or sample, whose values would replace the variant's; "
                                "set it in one place only")
        resolved[vname] = _apply_variant(base, overrides, f"{src}: variants.{vname}")

    # Validate every point against every variant now, not in the middle of a sweep.
    for vname, vscen in resolved.items():
        for p, params in enumerate(points):
            with_overrides(vscen, params, source=f"{src}: variants.{vname} at point {p}")
    return Sweep(sweep, src, base, points, resolved, replications)


def _apply_variant(base: Scenario, overrides: dict[str, Any], where: str) -> Scenario:
    """The base scenario with a variant applied (nested tables or dotted keys). A
    ``policy_preset`` replaces the scenario's preset exactly as in a scenario file: the
    scenario's own [policy] values still win (the same mechanism as ``--set policy_preset=``)."""
    return with_overrides(base, _flatten_variant(overrides), source=where)


def _flatten_variant(tree: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Variant tables may nest ([variants.x.policy.review]) or use dotted keys; a table whose
    path ends at a whole config block (``policy.enforcement``) is kept as one value."""
    out: dict[str, Any] = {}
    for key, value in tree.items():
        path = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and not _is_block_value(path, value):
            out.update(_flatten_variant(value, path))
        else:
            out[path] = value
    return out


def _is_block_value(path: str, value: dict[str, Any]) -> bool:
    # A table that says which kind it is replaces the whole block (e.g. a different ladder).
    return "kind" in value or path.endswith(("commission_cap_by_category", "opportunist_weights", "points", "set"))


def _points(sweep: SweepFile, src: str) -> list[dict[str, Any]]:
    if sweep.grid:
        keys = list(sweep.grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(sweep.grid[k] for k in keys))]
    if sweep.sample is not None:
        return _sample_points(sweep.sample)
    return [{}]


def _sample_points(sample: Sample) -> list[dict[str, Any]]:
    """Latin hypercube or Sobol points scaled to the ranges; integer ranges give integers."""
    from scipy.stats import qmc

    keys = list(sample.ranges)
    d = len(keys)
    if sample.method == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(sample.seed)).random(sample.n)
    else:
        unit = qmc.Sobol(d=d, scramble=True, rng=np.random.default_rng(sample.seed)).random(sample.n)
    points = []
    for row in unit:
        point: dict[str, Any] = {}
        for k, u in zip(keys, row, strict=True):
            a, b = sample.ranges[k]
            if isinstance(a, int) and isinstance(b, int):
                # Each integer gets an equal share of [0, 1): strata stay strata.
                point[k] = min(int(a + np.floor(u * (b - a + 1))), b)
            else:
                point[k] = float(a + u * (b - a))
        points.append(point)
    return points


def sweep_from_presets(scenario: str | Path, presets: list[str], replications: int = 5,
                       days: int | None = None) -> Sweep:
    """The sweep behind ``livesim compare``: the scenario as it is vs each named policy preset."""
    from sim.bundled import resolve_scenario

    path = resolve_scenario(scenario)
    base = load_scenario(path)
    src = f"{path} (compare)"
    if not 1 <= replications <= 100_000:
        raise ScenarioError(src, "--replications", replications, "allowed: 1-100000")
    if not [p for p in presets if p != "baseline"]:
        raise ScenarioError(src, "--variants", ",".join(presets), "name at least one policy preset besides the "
                            "baseline, e.g. --variants strict,lenient")
    if days is not None:
        base = with_overrides(base, {"days": days}, source=src)
    variants: dict[str, Scenario] = {"baseline": base}
    for name in presets:
        if name == "baseline":
            continue
        variants[name] = _apply_variant(base, {"policy_preset": name}, f"{src}: --variants {name}")
    file = SweepFile(name=f"compare_{base.name}"[:40], description=f"{base.name} vs {', '.join(presets)}",
                     scenario=str(path.resolve()), replications=replications,
                     variants={p: {"policy_preset": p} for p in presets if p != "baseline"})
    return Sweep(file, src, base, [{}], variants, replications)
