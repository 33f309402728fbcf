"""Sweep files: a base scenario, named policy variants, levers and uncertainties, and replications.

```toml
name = "threshold_capacity"
scenario = "../baseline.toml"      # a path (relative to this file), or an inline [scenario] table
replications = 10
days = 90                          # optional: every run's length (a run setting, not an axis)

[variants.baseline]                # always present (added empty when not given)
[variants.strict]
policy_preset = "strict"           # start the policy from a preset...
"policy.review.capacity_per_day" = 300   # ...and/or override any lever's dotted path

[variants.id_capacity]             # one market's lever: policy_overrides.<market>.<policy path>
"policy_overrides.id.review.capacity_per_day" = 300

[levers.grid]                      # what the platform chooses: cartesian product (or [levers.sample])
"policy.detection.threshold" = [2.0, 2.5, 3.0]

[variants.strict.expect]           # optional: the expected sign of the paired difference to the
prevalence = "down"                # baseline, per metric: "up", "down" or "flat" (checked by the
bans = "up"                        # report's "Sign checks" section)

[uncertainties.sample]             # what it does not: Latin hypercube or Sobol (scipy.stats.qmc)
method = "lhs"                     # over ranges (or [uncertainties.grid])
n = 16
seed = 7
ranges = { "world.adaptation.learning_rate" = [0.1, 0.5] }
```

A sweep names the side of every path it varies, so that its results can be read as
"which policy does well across the worlds we cannot rule out" (levers x uncertainties):

* **levers** (``[levers.grid]`` / ``[levers.sample]``, and every variant) are the platform's
  choices: ``policy.*``, ``policy_overrides.*``, ``policy_preset`` and ``timeline.*``;
* **uncertainties** (``[uncertainties.grid]`` / ``[uncertainties.sample]``) are the world's
  unknowns: ``world.*``.

A path on the wrong side, or one on neither (``days``, ``seed``: the run length is the top-level
``days``, and seeds come from replications), is an error naming the file, the key and where it
belongs. Each side is a grid or a sample (not both). When both sides are given, every lever point
is crossed with every uncertainty point (lever points outer, uncertainty points inner), so every
policy meets the same worlds. A sweep's points stay plain dicts of dotted paths, and its
``design`` is ``grid`` when every given side is a grid, ``sample`` when any side is sampled, and
``none`` without either. The old untyped top-level ``[grid]`` / ``[sample]`` tables are refused
with one line saying how to move their paths.

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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import Field, Strict, ValidationError, field_validator, model_validator

from sim.config import OVERRIDE_ALIASES, Scenario, load_scenario, read_toml, scenario_from_dict, with_overrides
from sim.errors import ScenarioError, format_validation_error
from sim.plain import plain
from sim.schema import Name, StrictModel

__all__ = ["SIGNS", "Axis", "RunSpec", "Sweep", "SweepFile", "axis_of", "load_sweep", "read_worlds", "sweep_from_dict", "sweep_from_presets"]

# The expected signs a variant may declare per metric (``[variants.X.expect]``): the paired
# difference to the baseline goes up, goes down, or does not move (its interval holds 0).
SIGNS = ("up", "down", "flat")


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
                if isinstance(end, bool) or not isinstance(end, int | float):
                    raise ValueError(f"@{path}|got {end!r}; a range is [min, max] of finite numbers")
                # Beyond 1e15, min + u x (max - min) loses all precision or overflows.
                if (isinstance(end, int) and abs(end) > 10**15) or not math.isfinite(end) or abs(end) > 1e15:
                    raise ValueError(f"@{path}|got {str(end)[:30]}; range ends must be finite, within +/-1e15")
            if lo > hi:
                raise ValueError(f"ranges.{path}: [{lo}, {hi}] has min > max")
        return v


class Axis(StrictModel):
    """One side of a sweep (its levers or its uncertainties): a grid or a sample of dotted paths,
    or explicit points (``[[uncertainties.points]]``, e.g. the plausible worlds of a calibration,
    ``livesim sweep --worlds``)."""

    grid: dict[str, list[Any]] = Field(default_factory=dict)
    sample: Sample | None = None
    points: list[dict[str, Any]] = Field(default_factory=list, max_length=100_000)

    @model_validator(mode="after")
    def _grid_or_sample(self) -> Axis:
        if sum((bool(self.grid), self.sample is not None, bool(self.points))) > 1:
            raise ValueError("@grid|use either a grid or a sample (or points) on one side, not both")
        for path, values in self.grid.items():
            if not values:
                raise ValueError(f"@grid.{path}|needs at least one value")
        if self.points:
            keys = list(self.points[0])
            for i, point in enumerate(self.points):
                if not point or list(point) != keys:
                    raise ValueError(f"@points.{i}|every point names the same paths, in the same order, as the first "
                                     f"({', '.join(keys) or 'none'})")
        return self

    @property
    def design(self) -> str:
        """``grid``, ``sample``, ``points`` or ``none``."""
        return ("grid" if self.grid else "sample" if self.sample is not None else "points" if self.points
                else "none")

    @property
    def paths(self) -> list[str]:
        """The dotted paths this side varies, in file order."""
        if self.grid:
            return list(self.grid)
        if self.sample is not None:
            return list(self.sample.ranges)
        return list(self.points[0]) if self.points else []


class SweepFile(StrictModel):
    """The validated contents of a sweep TOML file."""

    name: Name
    description: str = ""
    scenario: str | dict[str, Any]
    replications: Annotated[int, Strict(), Field(ge=1, le=100_000)] | None = None
    days: Annotated[int, Strict(), Field(ge=1, le=3650)] | None = None
    variants: dict[Name, dict[str, Any]] = Field(default_factory=dict)
    levers: Axis = Field(default_factory=Axis)
    uncertainties: Axis = Field(default_factory=Axis)
    # Run the base scenario's own lever values as the reference when [levers.grid] or
    # [levers.sample] does not contain them, so every swept setting is compared with today's.
    reference: Annotated[bool, Strict()] = True


# Which side of a sweep a path's first part belongs to (aliases such as ``n_buyers`` resolved).
LEVER_ROOTS = ("policy", "policy_overrides", "policy_preset", "timeline", "signals", "controllers")
UNCERTAINTY_ROOTS = ("world",)
# At most this many points (levers x uncertainties), checked before they are made.
MAX_POINTS = 100_000

_OLD_STYLE = {
    "grid": "sweep files now name their axes: move policy.*, policy_overrides.* and timeline.* paths to "
            "[levers.grid] and world.* paths to [uncertainties.grid] (see README, Sweeps)",
    "sample": "sweep files now name their axes: move policy.*, policy_overrides.* and timeline.* ranges to "
              "[levers.sample] and world.* ranges to [uncertainties.sample] (see README, Sweeps)",
}


def axis_of(path: str) -> str | None:
    """``levers``, ``uncertainties``, ``neither`` (a known run setting such as ``days``), or None
    for a path whose first part is unknown (left to the override check, which suggests names)."""
    root = OVERRIDE_ALIASES.get(path, path).split(".", 1)[0]
    if root in LEVER_ROOTS:
        return "levers"
    if root in UNCERTAINTY_ROOTS:
        return "uncertainties"
    if root in Scenario.model_fields:
        return "neither"
    return None


def _not_an_axis(path: str) -> str:
    root = OVERRIDE_ALIASES.get(path, path).split(".", 1)[0]
    if root == "days":
        return "the run length is not a lever or an uncertainty: set days = N at the top of the sweep file"
    if root == "seed":
        return ("seeds are not a lever or an uncertainty: replication r of every run uses the same world seed; "
                "set replications = N at the top of the sweep file")
    if root == "replications":
        return "set replications = N at the top of the sweep file"
    return ("is not a lever or an uncertainty; levers are policy.*, policy_overrides.*, policy_preset and "
            "timeline.* paths, uncertainties are world.* paths")


def _check_sides(sweep: SweepFile, src: str) -> None:
    """Every swept path is on its own side, and every variant holds levers only."""
    for side, other in (("levers", "uncertainties"), ("uncertainties", "levers")):
        axis: Axis = getattr(sweep, side)
        table = "grid" if axis.grid else "sample.ranges"
        for path in axis.paths:
            found = axis_of(path)
            if found == "neither":
                raise ScenarioError(src, f"{side}.{table}.{path}", None, _not_an_axis(path))
            if found == other:
                where = f"[{other}.{table.split('.')[0]}]"
                why = (f"world.* paths are uncertainties (the world's unknowns), not levers: move it to {where}"
                       if other == "uncertainties" else
                       "policy.*, policy_overrides.*, policy_preset and timeline.* paths are levers (the platform's "
                       f"choices), not uncertainties: move it to {where} or into a variant")
                raise ScenarioError(src, f"{side}.{table}.{path}", None, why)
    for vname, overrides in sweep.variants.items():
        for path in _flatten_variant(overrides):
            found = axis_of(path)
            if found == "neither":
                raise ScenarioError(src, f"variants.{vname}.{path}", None, _not_an_axis(path))
            if found == "uncertainties":
                raise ScenarioError(src, f"variants.{vname}.{path}", None,
                                    "world.* paths are uncertainties, not policy variants: vary them in "
                                    "[uncertainties.grid] or [uncertainties.sample] (or change the base scenario)")


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
    # Per variant, the expected sign of its paired difference to the baseline, per metric.
    expectations: dict[str, dict[str, str]] = field(default_factory=dict)
    # The base scenario's own lever values, crossed with every uncertainty point, when the swept
    # lever points do not contain them (see :attr:`reference`); run after the swept points.
    reference_points: list[dict[str, Any]] = field(default_factory=list)
    # The lever values every other lever point is compared with (the base scenario's own), and
    # whether they were added to the sweep; None when levers are not swept or cannot be read.
    reference_levers: dict[str, Any] | None = None

    @property
    def all_points(self) -> list[dict[str, Any]]:
        """The swept points, then the reference points: what the runs cover, point index by index."""
        return self.points + self.reference_points

    @property
    def reference(self) -> dict[str, Any]:
        """How the sweep's policies are compared: the reference lever values (the base scenario's
        own), the point indices that hold them (one per uncertainty point), whether they were added
        to the swept points, and how many uncertainty points (worlds) each lever point meets."""
        n_worlds = max(1, len(_axis_points(self.file.uncertainties)))
        if self.reference_levers is None:
            return {"levers": None, "points": [], "added": False, "n_worlds": n_worlds}
        points = [i for i, p in enumerate(self.all_points)
                  if all(_same(p.get(k), v) for k, v in self.reference_levers.items())]
        return {"levers": self.reference_levers, "points": points, "added": bool(self.reference_points),
                "n_worlds": n_worlds}

    def runs(self) -> list[RunSpec]:
        """Every run, in a fixed order (variant, point, replication)."""
        out = []
        for vname, vscen in self.variants.items():
            for p, params in enumerate(self.all_points):
                scen = with_overrides(vscen, params, source=f"{self.source} (grid/sample point {p})") if params else vscen
                for r in range(self.replications):
                    out.append(RunSpec(f"{vname}__p{p:04d}__r{r:03d}", vname, p, r, params, scen))
        return out

    @property
    def design(self) -> str:
        """``grid``, ``sample`` or ``none``: how the points were made (``grid`` when every side
        given is a grid, so that the points form a grid; ``sample`` when any side is sampled)."""
        designs = {self.file.levers.design, self.file.uncertainties.design} - {"none"}
        return "sample" if designs & {"sample", "points"} else "grid" if designs else "none"

    @property
    def axes(self) -> dict[str, list[str]]:
        """The swept paths on each side: the platform's levers and the world's uncertainties."""
        return {"levers": self.file.levers.paths, "uncertainties": self.file.uncertainties.paths}

    def config_document(self) -> dict[str, Any]:
        """The resolved configuration, as stored in the manifest."""
        return {
            "name": self.file.name,
            "description": self.file.description,
            "source": self.source,
            "replications": self.replications,
            "design": self.design,
            "axes": self.axes,
            "variants": {k: v for k, v in self.file.variants.items()},
            "points": self.all_points,
            "reference": self.reference,
            "expectations": self.expectations,
            "base_scenario": self.base.model_dump(mode="json"),
        }

    def config_hash(self) -> str:
        """A hash of what the runs will compute: every resolved variant and point (not where the
        file was, nor how its path was spelled), so resuming needs the same experiment."""
        doc = {
            "replications": self.replications,
            "points": self.all_points,
            "variants": {k: v.model_dump(mode="json") for k, v in self.variants.items()},
        }
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()[:16]


def load_sweep(path: str | Path, worlds: str | Path | None = None, worlds_n: int | None = None,
               worlds_seed: int = 0) -> Sweep:
    """Read, validate and expand a sweep file (or a bundled sweep by name); every override is
    re-validated.

    ``worlds``: a Parquet file of worlds (its ``world.*`` columns, one world a row, e.g. a
    calibration's ``plausible.parquet``) that become the sweep's uncertainty points, so that
    every policy meets the worlds the data allows; ``worlds_n`` of them drawn at random (seed
    ``worlds_seed``), in file order, when fewer are wanted."""
    from sim.bundled import resolve_sweep

    path = resolve_sweep(path)
    src = str(path)
    data = read_toml(path, "sweep")
    if worlds is not None:
        if "uncertainties" in data:
            raise ScenarioError(src, "uncertainties", None, "--worlds supplies the sweep's worlds; this file varies "
                                "them already: remove its [uncertainties] or leave out --worlds")
        data["uncertainties"] = {"points": read_worlds(worlds, worlds_n, worlds_seed)}
    return sweep_from_dict(data, source=src, base_dir=path.parent)


def sweep_from_dict(data: dict[str, Any], source: str = "<sweep>", base_dir: str | Path | None = None) -> Sweep:
    """Validate and expand a sweep given as a dict (what a sweep file holds), as :func:`load_sweep`
    does a file: ``scenario`` a path (relative to ``base_dir``, default the working directory),
    or an inline scenario table. numpy scalars and arrays count as the Python
    numbers and lists they hold (``sim.plain``)."""
    src = source
    path = Path(base_dir if base_dir is not None else ".") / "sweep.toml"  # only its folder is used
    data = plain(dict(data))
    for old, allowed in _OLD_STYLE.items():
        if old in data:
            raise ScenarioError(src, old, None, allowed)
    expectations = _pop_expectations(data, src)
    try:
        sweep = SweepFile.model_validate(data)
    except ValidationError as exc:
        raise format_validation_error(exc, src, SweepFile) from None
    _check_sides(sweep, src)

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
                                "is also set by [levers.grid] or [levers.sample], whose values would replace "
                                "the variant's; set it in one place only")
        resolved[vname] = _apply_variant(base, overrides, f"{src}: variants.{vname}")

    reference_levers, reference_points = _reference(sweep, base, points)
    # Validate every point against every variant now, not in the middle of a sweep.
    for vname, vscen in resolved.items():
        for p, params in enumerate(points + reference_points):
            with_overrides(vscen, params, source=f"{src}: variants.{vname} at point {p}")
    return Sweep(sweep, src, base, points, resolved, replications, expectations, reference_points, reference_levers)


def read_worlds(path: str | Path, n: int | None = None, seed: int = 0) -> list[dict[str, Any]]:
    """The ``world.*`` columns of a Parquet file as points (one a row), or ``n`` rows of them
    drawn without replacement (in file order); ScenarioError naming the file when it cannot be used."""
    import pandas as pd

    src = str(path)
    if not Path(path).is_file():
        raise ScenarioError(src, None, None, "no such worlds file (a Parquet file, e.g. a calibration's "
                            "plausible.parquet)")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
        raise ScenarioError(src, None, None, f"not a readable Parquet file ({type(exc).__name__})") from None
    cols = [c for c in frame.columns if isinstance(c, str) and c.startswith("world.")]
    if not cols:
        raise ScenarioError(src, "columns", None, "no world.* column: a worlds file holds one world a row, its "
                            "world.* parameters as columns (as a calibration's plausible.parquet)")
    frame = frame[cols].dropna()
    if frame.empty:
        raise ScenarioError(src, None, None, "holds no world (no row with every world.* value)")
    if n is not None:
        if n < 1:
            raise ScenarioError("--worlds-n", None, n, "expected at least 1 world")
        if n < len(frame):
            keep = np.sort(np.random.default_rng(seed).choice(len(frame), size=n, replace=False))
            frame = frame.iloc[keep]
    out = []
    for row in frame.itertuples(index=False):
        out.append({c: (int(v) if isinstance(v, np.integer) else float(v) if isinstance(v, np.floating) else v)
                    for c, v in zip(cols, row, strict=True)})
    return out


def _same(a: Any, b: Any) -> bool:
    """Equal lever values (an integer grid value equals the same float in the scenario)."""
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b


def _reference(sweep: SweepFile, base: Scenario, points: list[dict[str, Any]]
               ) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The base scenario's own values of the swept lever paths, and the points to add so that
    they are run on every world: none when the lever points already hold them, when levers are
    not swept, when the sweep says ``reference = false``, or when a path has no value to read
    (a timeline entry the base does not have)."""
    from sim.config import value_at

    paths = sweep.levers.paths
    if not paths or not sweep.reference:
        return None, []
    try:
        own = {p: value_at(base, p) for p in paths}
    except ScenarioError:
        return None, []
    levers = _axis_points(sweep.levers)
    if any(all(_same(lp[k], v) for k, v in own.items()) for lp in levers):
        return own, []
    return own, [own | world for world in _axis_points(sweep.uncertainties)]


def _pop_expectations(data: dict[str, Any], src: str) -> dict[str, dict[str, str]]:
    """Take each variant's ``expect`` table out of the file's variants (it is not an override)
    and check it: known metrics, signs from :data:`SIGNS`, and never on the baseline."""
    from sim.errors import unknown_name_message
    from sim.metrics import METRICS

    out: dict[str, dict[str, str]] = {}
    variants = data.get("variants")
    if not isinstance(variants, dict):
        return out
    for vname, table in variants.items():
        if not isinstance(table, dict) or "expect" not in table:
            continue
        expect = table.pop("expect")
        where = f"variants.{vname}.expect"
        if vname == "baseline":
            raise ScenarioError(src, where, None, "the baseline is what the other variants are compared with; "
                                "declare expected signs on the other variants")
        if not isinstance(expect, dict) or not expect:
            raise ScenarioError(src, where, None, 'expected a table of metric = sign, e.g. prevalence = "down"')
        for metric, sign in expect.items():
            if metric not in METRICS:
                raise ScenarioError(src, f"{where}.{metric}", None, unknown_name_message(metric, list(METRICS),
                                                                                         "metric"))
            if sign not in SIGNS:
                shown = sign if isinstance(sign, str | int | float | bool) else type(sign).__name__
                raise ScenarioError(src, f"{where}.{metric}", shown, f"allowed: {', '.join(SIGNS)}")
        out[str(vname)] = dict(expect)
    return out


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
    """Every point: each lever point crossed with each uncertainty point (levers outer), so
    every policy meets the same worlds; one empty point when nothing is swept."""
    sizes = {side: _size(getattr(sweep, side)) for side in ("levers", "uncertainties")}
    total = math.prod(sizes.values())
    if total > MAX_POINTS:
        raise ScenarioError(src, "points", total, f"at most {MAX_POINTS:,} points (levers: {sizes['levers']:,} x "
                            f"uncertainties: {sizes['uncertainties']:,}); use fewer values or a smaller sample")
    levers = _axis_points(sweep.levers)
    uncertainties = _axis_points(sweep.uncertainties)
    return [lever | world for lever in levers for world in uncertainties]


def _size(axis: Axis) -> int:
    if axis.points:
        return len(axis.points)
    if axis.grid:
        return math.prod(len(v) for v in axis.grid.values())
    return axis.sample.n if axis.sample is not None else 1


def _axis_points(axis: Axis) -> list[dict[str, Any]]:
    if axis.points:
        return [dict(p) for p in axis.points]
    if axis.grid:
        keys = list(axis.grid)
        return [dict(zip(keys, combo, strict=True)) for combo in itertools.product(*(axis.grid[k] for k in keys))]
    if axis.sample is not None:
        return _sample_points(axis.sample)
    return [{}]


def _sample_points(sample: Sample) -> list[dict[str, Any]]:
    """Latin hypercube or Sobol points scaled to the ranges; integer ranges give integers."""
    from scipy.stats import qmc

    keys = list(sample.ranges)
    d = len(keys)
    if sample.method == "lhs":
        unit = qmc.LatinHypercube(d=d, rng=np.random.default_rng(sample.seed)).random(sample.n)
    else:
        import warnings

        from sim.errors import ScenarioWarning

        if sample.n & (sample.n - 1):  # scipy warns too, in two lines; say it once, as livesim does
            warnings.warn(ScenarioWarning(f"sample.n: {sample.n} is not a power of 2, so the Sobol sample loses "
                                          "its balance properties; 8, 16, 32, ... keep them"), stacklevel=2)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
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
