"""Checking runs against public stylized facts: how many of them a run reproduces.

A facts file (``scenarios/targets/public_facts.toml``, bundled as ``public_facts``) holds

* ``[[targets]]``: outcome facts, each a :class:`sim.config.Target` (metric, market, band,
  source, confidence), checked against a run's summary;
* ``[[parameters]]``: input facts, rules the scenario should encode (the 30-day appeal window),
  checked against the resolved scenario.

:func:`fact_table` gives, per fact, the observed value, the band and whether it is met;
:func:`attainment` counts them ("k of n facts met"). ``livesim check-facts`` prints both for a
scenario (run once) or a finished run folder, and ``livesim report --targets`` adds the same
section to a sweep's report.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import pandas as pd
from pydantic import Field, Strict, model_validator

from sim.config import Scenario, Target, read_toml, validate_tables
from sim.errors import ScenarioError
from sim.schema import StrictModel

__all__ = ["FactCheck", "Facts", "ParameterFact", "attainment", "check_facts", "fact_table", "format_facts",
           "load_facts", "parameter_table", "resolve_facts", "run_dir_summary"]

DEFAULT_FACTS = "public_facts"


class ParameterFact(StrictModel):
    """An input fact: the value (or range) a scenario parameter should have, and its source."""

    path: Annotated[str, Field(min_length=1, max_length=200)]
    value: Annotated[float, Strict()] | Annotated[int, Strict()] | None = None
    min: Annotated[float, Strict()] | Annotated[int, Strict()] | None = None
    max: Annotated[float, Strict()] | Annotated[int, Strict()] | None = None
    source: Annotated[str, Field(max_length=300)] = ""
    confidence: Literal["H", "M", "L", ""] = ""

    @model_validator(mode="after")
    def _one_form(self) -> ParameterFact:
        if (self.value is None) == (self.min is None and self.max is None):
            raise ValueError("a parameter fact needs value, or min and/or max (not both forms)")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self

    def band_text(self) -> str:
        if self.value is not None:
            return f"= {self.value:g}"
        if self.min is not None and self.max is not None:
            return f"{self.min:g} to {self.max:g}"
        return f"<= {self.max:g}" if self.max is not None else f">= {self.min:g}"

    def met(self, value: Any) -> bool:
        if isinstance(value, bool) or not isinstance(value, int | float) or value != value:
            return False
        if self.value is not None:
            return math.isclose(value, self.value, rel_tol=1e-9, abs_tol=1e-12)
        return (self.min is None or value >= self.min) and (self.max is None or value <= self.max)


@dataclass(frozen=True)
class Facts:
    """A facts file: outcome targets and input parameter facts."""

    source: str
    targets: list[Target]
    parameters: list[ParameterFact]

    def __len__(self) -> int:
        return len(self.targets) + len(self.parameters)


def resolve_facts(arg: str | Path) -> Path:
    """A facts argument as a path: an existing file, else a bundled facts file's name."""
    from sim.bundled import resolve_targets

    return resolve_targets(arg)


def load_facts(arg: str | Path = DEFAULT_FACTS) -> Facts:
    """Read and validate a facts file (or a bundled one by name); errors name the file and field."""
    from analysis.report import load_targets

    path = resolve_facts(arg)
    src = str(path)
    targets = load_targets(path)
    data = read_toml(path, "targets")
    unknown = sorted(set(data) - {"targets", "parameters", "description"})
    if unknown:
        raise ScenarioError(src, unknown[0], None, "unknown key; a facts file holds description, [[targets]] and "
                            "[[parameters]]")
    params = []
    items = data.get("parameters", [])
    if not isinstance(items, list):
        raise ScenarioError(src, "parameters", None, "expected [[parameters]] tables")
    for i, fact in enumerate(validate_tables(items, ParameterFact, src, "parameters")):
        _lookup(Scenario.model_construct(), fact.path, src, f"parameters[{i}].path", check_only=True)
        params.append(fact)
    return Facts(src, targets, params)


def _lookup(scenario: Scenario | dict[str, Any], path: str, src: str = "", where: str = "",
            check_only: bool = False) -> Any:
    """A scenario's value at a dotted path (``policy.appeals.window_days``)."""
    root = path.split(".", 1)[0]
    if check_only:
        if root not in Scenario.model_fields:
            raise ScenarioError(src, where, path, f"not a scenario path; it starts with one of: "
                                f"{', '.join(sorted(Scenario.model_fields))}")
        return None
    node: Any = scenario.model_dump(mode="json") if isinstance(scenario, Scenario) else scenario
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def fact_table(summary: pd.DataFrame, targets: Sequence[Target], n_creators: int,
               creator_share: dict[str, float] | None = None, groups: Sequence[str] = ("label",)) -> pd.DataFrame:
    """Per group and outcome fact: the observed value (mean over replications), the band, whether
    it is met, the share of replications meeting it, the source and confidence.

    A fact whose metric the results lack (results of older code) is listed with a NaN value and
    counts as not met, so the count "k of n" always has every fact in n."""
    from analysis.report import target_table

    rows = []
    have = target_table(summary, targets, n_creators, groups=groups, creator_share=creator_share)
    keys = list(dict.fromkeys(map(tuple, summary[list(groups)].to_numpy()))) if not summary.empty else [()]
    for t in targets:
        for key in keys:
            hit = have[have["target"] == t.describe()] if not have.empty else have
            for g, k in zip(groups, key, strict=False):
                hit = hit[hit[g] == k] if not hit.empty else hit
            low, high = t.band
            row = {**dict(zip(groups, key, strict=False)), "fact": t.describe(), "metric": t.metric,
                   "market": t.market, "band": t.band_text(), "low": low, "high": high,
                   "source": t.source, "confidence": t.confidence}
            if hit.empty:
                row |= {"observed": float("nan"), "met": False, "share_met": float("nan"), "n": 0}
            else:
                r = hit.iloc[0]
                row |= {"observed": float(r["mean"]), "met": bool(r["met"]), "share_met": float(r["share_met"]),
                        "n": int(r["n"])}
            rows.append(row)
    return pd.DataFrame(rows)


def parameter_table(scenario: Scenario | dict[str, Any], parameters: Sequence[ParameterFact]) -> pd.DataFrame:
    """Per input fact: the scenario's value, the band, whether it matches."""
    rows = []
    for p in parameters:
        value = _lookup(scenario, p.path)
        rows.append({"fact": p.path, "observed": value if value is None else f"{value:g}"
                     if isinstance(value, int | float) and not isinstance(value, bool) else str(value),
                     "band": p.band_text(), "met": p.met(value),
                     "source": p.source, "confidence": p.confidence})
    return pd.DataFrame(rows)


def attainment(*tables: pd.DataFrame) -> tuple[int, int]:
    """``(k, n)``: facts met, and facts checked, over the given tables."""
    k = sum(int(t["met"].sum()) for t in tables if not t.empty)
    n = sum(len(t) for t in tables)
    return k, n


def run_dir_summary(folder: str | Path) -> tuple[pd.DataFrame, dict[str, Any]]:
    """A run folder's summary as a table (market ``all`` and each market) and its resolved scenario."""
    from sim.config import load_scenario

    folder = Path(folder)
    doc_path = folder / "summary.json"
    try:
        doc = json.loads(doc_path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise ScenarioError(str(doc_path), None, None, f"cannot be read as a run's summary ({type(exc).__name__}); "
                            "give a folder livesim run wrote") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("metrics"), dict):
        raise ScenarioError(str(doc_path), "metrics", None, "missing; give a folder livesim run wrote")
    rows = [{"market": "all", **doc["metrics"]}]
    rows += [{"market": m, **v} for m, v in (doc.get("by_market") or {}).items() if isinstance(v, dict)]
    summary = pd.DataFrame(rows).fillna(float("nan"))
    for col in summary.columns:
        if col != "market":
            summary[col] = pd.to_numeric(summary[col], errors="coerce")
    summary["label"] = str(doc.get("scenario", folder.name))
    scenario = load_scenario(folder / "scenario.toml")
    return summary, scenario.model_dump(mode="json")


def summary_frame(summary: dict[str, float], by_market: dict[str, dict[str, float]], label: str) -> pd.DataFrame:
    """A run's summary dicts as the table :func:`fact_table` reads."""
    rows = [{"market": "all", **summary}] + [{"market": m, **v} for m, v in by_market.items()]
    out = pd.DataFrame(rows)
    out["label"] = label
    return out


def scenario_scale(scenario: dict[str, Any]) -> tuple[int, dict[str, float]]:
    """Initial creators and each market's share of them (for per-10k-creator facts)."""
    world = scenario.get("world", {})
    markets = world.get("markets", [])
    total = sum(m.get("creator_share", 0.0) for m in markets) or 1.0
    return int(world.get("n_creators", 0) or 0), {m["name"]: m.get("creator_share", 0.0) / total
                                                  for m in markets if "name" in m}


def format_facts(targets: pd.DataFrame, params: pd.DataFrame) -> str:
    """The check as plain text: one line per fact, then ``k of n facts met``."""
    from analysis.text import strip_controls

    def one(x: Any) -> str:
        return " ".join(strip_controls(x).split())

    lines = []
    if not targets.empty:
        lines.append(f"{'outcome fact':<62} {'observed':>10}  {'band':<16} met  conf")
        for r in targets.itertuples(index=False):
            obs = "n/a" if r.observed != r.observed else f"{r.observed:.4g}"
            lines.append(f"{one(r.fact)[:62]:<62} {obs:>10}  {one(r.band)[:16]:<16} "
                         f"{'yes' if r.met else 'NO ':<4} {one(r.confidence) or '-'}")
    if not params.empty:
        lines.append("")
        lines.append(f"{'input fact':<62} {'value':>10}  {'band':<16} met  conf")
        for r in params.itertuples(index=False):
            lines.append(f"{one(r.fact)[:62]:<62} {one(r.observed)[:10]:>10}  {one(r.band)[:16]:<16} "
                         f"{'yes' if r.met else 'NO ':<4} {one(r.confidence) or '-'}")
    k, n = attainment(targets, params)
    kt, nt = attainment(targets)
    lines.append("")
    lines.append(f"{k} of {n} facts met ({kt} of {nt} outcome facts, {k - kt} of {n - nt} input facts)")
    return "\n".join(lines)


@dataclass(frozen=True)
class FactCheck:
    """One run checked against a facts file."""

    what: str  # the run folder, or "scenario NAME, replication R"
    targets: pd.DataFrame
    parameters: pd.DataFrame

    @property
    def met(self) -> tuple[int, int]:
        """Outcome facts ``(met, checked)``."""
        return attainment(self.targets)

    def text(self) -> str:
        return f"{self.what}\n\n" + format_facts(self.targets, self.parameters)


def check_facts(arg: str | Path, facts: str | Path | Facts = DEFAULT_FACTS, *, replication: int = 0,
                scenario: Scenario | None = None) -> FactCheck:
    """Check one run against ``facts``: ``arg`` a finished run folder (its ``summary.json``), or a
    scenario (file or bundled name, or ``scenario`` already loaded with overrides) run once now."""
    loaded = facts if isinstance(facts, Facts) else load_facts(facts)
    folder = Path(arg)
    if scenario is None and folder.is_dir():
        summary, resolved = run_dir_summary(folder)
        what = f"run folder {folder}"
    else:
        from sim.bundled import resolve_scenario
        from sim.config import load_scenario
        from sim.runner import run

        scen = scenario if scenario is not None else load_scenario(resolve_scenario(arg))
        result = run(scen, replication=replication)
        summary = summary_frame(result.summary, result.summary_by_market, scen.name)
        resolved = scen.model_dump(mode="json")
        what = f"scenario {scen.name}, replication {replication}, {scen.days} days"
    n_creators, shares = scenario_scale(resolved)
    markets = set(summary["market"].astype(str))
    for i, t in enumerate(loaded.targets):
        if t.market not in markets:
            raise ScenarioError(loaded.source, f"targets[{i}].market", t.market,
                                f"not a market of this run; markets: {', '.join(sorted(markets))}")
    return FactCheck(what, fact_table(summary, loaded.targets, n_creators, shares),
                     parameter_table(resolved, loaded.parameters))
