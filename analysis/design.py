"""What a report compares: the policies of a result, the worlds they met, and the reference.

Every run of a sweep is (variant, point, replication). A point joins the platform's lever values
(a grid or sample over ``policy.*`` and ``timeline.*`` paths) with the world's uncertainty values
(``world.*``), so a run belongs to one **policy** (a variant at one lever point) and one **world**
(an uncertainty point and a replication, which fix the random numbers). Every policy meets the
same worlds, so two policies are compared world by world: paired differences on the world.

The **reference** is what every other policy is compared with. By default it is the base
scenario's own policy: the ``baseline`` variant at the base scenario's own lever values (a
lever sweep runs those as an extra point when its grid or sample lacks them; see
:mod:`sim.sweep`). ``--baseline`` names another: a variant (at the reference lever values), a
policy id such as ``strict@3`` (a variant at lever point 3) or ``@3`` (the baseline variant at
lever point 3).

A single run's folder is one policy on one world: nothing to compare, and the report says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sim.errors import ScenarioError

__all__ = ["Design", "design_of"]


@dataclass
class Design:
    """The policies, worlds and reference of a result, and how they are compared."""

    kind: str  # "run", "variants", "grid" or "sample" (of levers, uncertainties or both)
    lever_paths: list[str]
    world_paths: list[str]
    policies: list[str]  # policy ids, reference first
    reference: str
    labels: dict[str, str]  # policy id -> readable name
    levers: dict[str, dict[str, Any]]  # policy id -> lever values (dotted paths) that differ from the reference's
    n_worlds: int  # worlds every policy met (uncertainty points x replications)
    n_uncertainty_points: int
    replications: int
    notes: list[str] = field(default_factory=list)  # how the reference was chosen, when it is not the default

    @property
    def others(self) -> list[str]:
        """The policies compared with the reference."""
        return [p for p in self.policies if p != self.reference]

    def describe(self) -> str:
        """One sentence: what was compared, how, and on how many pairs."""
        if self.kind == "run":
            return "One run: one policy on one world, so nothing is compared; the report describes the run."
        if not self.others:
            return "One policy only: nothing is compared; the report describes its runs."
        worlds = (f"{self.n_worlds} worlds ({self.n_uncertainty_points} sampled or gridded worlds x "
                  f"{self.replications} replications)" if self.n_uncertainty_points > 1
                  else f"{self.n_worlds} worlds (replications)")
        return (f"Each of {len(self.others)} polic{'y' if len(self.others) == 1 else 'ies'} is compared with the "
                f"reference '{self.labels[self.reference]}' world by world on {worlds}: paired differences, "
                "each world's random numbers shared by every policy.")


def _fmt_value(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _short(path: str, paths: list[str]) -> str:
    """The last part of a dotted path, or more of it when two paths share their last part."""
    parts = path.split(".")
    for k in range(1, len(parts) + 1):
        tail = ".".join(parts[-k:])
        if sum(1 for p in paths if p.split(".")[-k:] == parts[-k:]) == 1:
            return tail
    return path


def design_of(summary: pd.DataFrame, manifest: dict[str, Any], baseline: str | None = None,
              source: str = "--baseline") -> tuple[Design, pd.DataFrame]:
    """The design of a result, and ``summary`` with ``policy`` and ``world`` columns added.

    ``baseline``: None for the default reference (see the module docstring), or the name the
    user gave (a variant, a policy id ``variant@k``, or ``@k``). An unknown name raises
    ScenarioError naming the policies there are."""
    config = manifest.get("config", {}) if isinstance(manifest.get("config"), dict) else {}
    axes = config.get("axes") if isinstance(config.get("axes"), dict) else {}
    points = config.get("points") or [{}]
    all_paths = list(points[0].keys()) if points and isinstance(points[0], dict) else []
    lever_paths = [p for p in (axes.get("levers") or []) if p in summary.columns]
    world_paths = [p for p in (axes.get("uncertainties") or []) if p in summary.columns]
    if not axes and all_paths:  # an older manifest: every swept path was a lever
        lever_paths = [p for p in all_paths if p in summary.columns]
    frame = summary.copy()

    def key(row_values: list[Any]) -> str:
        return "\x1f".join(map(repr, row_values))

    lever_key = frame[lever_paths].apply(lambda r: key(list(r)), axis=1) if lever_paths else pd.Series(
        "", index=frame.index)
    world_key = frame[world_paths].apply(lambda r: key(list(r)), axis=1) if world_paths else pd.Series(
        "", index=frame.index)
    # Lever points numbered in the order of the sweep's points (the reference, if added, last).
    order = frame.sort_values("point", kind="stable")
    lever_ids = {k: i for i, k in enumerate(dict.fromkeys(lever_key.loc[order.index]))}
    world_ids = {k: i for i, k in enumerate(dict.fromkeys(world_key.loc[order.index]))}
    frame["lever_point"] = lever_key.map(lever_ids).astype(int)
    frame["world_point"] = world_key.map(world_ids).astype(int)
    variants = list(dict.fromkeys(order["variant"].astype(str)))
    swept = bool(lever_paths)
    frame["policy"] = (frame["variant"].astype(str) + "@" + frame["lever_point"].astype(str)) if swept \
        else frame["variant"].astype(str)
    frame["world"] = frame["world_point"].astype(str) + "/r" + frame["replication"].astype(str)

    lever_values: dict[int, dict[str, Any]] = {}
    first = frame.sort_values("point", kind="stable").drop_duplicates("lever_point")
    for _, r in first.iterrows():
        lever_values[int(r["lever_point"])] = {p: r[p] for p in lever_paths}

    # The reference lever point: the base scenario's own values, as the sweep recorded them.
    notes: list[str] = []
    ref_info = config.get("reference") if isinstance(config.get("reference"), dict) else {}
    ref_levers = ref_info.get("levers") if isinstance(ref_info.get("levers"), dict) else None
    ref_point: int | None = None
    if swept and ref_levers:
        for i, vals in lever_values.items():
            if all(_equal(vals.get(p), ref_levers.get(p)) for p in lever_paths):
                ref_point = i
                break
    if swept and ref_point is None:
        ref_point = 0
        if baseline is None or "@" not in baseline:
            notes.append("the base scenario's own lever values were not run (a sweep made with reference = false, "
                         "or by an older livesim): the reference is the first lever point; name another with "
                         "--baseline VARIANT@K")

    def policy_id(variant: str, lever_point: int | None) -> str:
        return f"{variant}@{lever_point}" if swept else variant

    policies_present = list(dict.fromkeys(frame.sort_values(["point"], kind="stable")["policy"]))
    if baseline is None:
        reference = policy_id("baseline" if "baseline" in variants else variants[0], ref_point)
        if "baseline" not in variants:
            notes.append(f"no variant is called 'baseline': the reference is '{variants[0]}'")
    elif baseline in policies_present:
        reference = baseline
    elif baseline in variants:
        reference = policy_id(baseline, ref_point)
    elif swept and baseline.startswith("@") and baseline[1:].isdigit():
        reference = policy_id("baseline" if "baseline" in variants else variants[0], int(baseline[1:]))
    else:
        reference = baseline
    if reference not in policies_present:
        shown = ", ".join(policies_present[:12]) + (", ..." if len(policies_present) > 12 else "")
        what = "a variant, a policy VARIANT@K or @K (K: a lever point)" if swept else "a variant"
        raise ScenarioError(source, None, baseline if baseline is not None else reference,
                            f"not a policy of these results; give {what}: {shown}")

    _, _, ref_lp = reference.partition("@")
    ref_values = lever_values.get(int(ref_lp), {}) if swept and ref_lp.isdigit() else {}
    labels: dict[str, str] = {}
    levers: dict[str, dict[str, Any]] = {}
    base_levers = ref_levers or {}
    for pid in policies_present:
        variant, _, lp = pid.partition("@")
        vals = lever_values.get(int(lp), {}) if swept and lp.isdigit() else {}
        parts = [f"{_short(p, lever_paths)}={_fmt_value(vals[p])}" for p in lever_paths if p in vals]
        own = bool(base_levers) and all(_equal(vals.get(p), base_levers.get(p)) for p in lever_paths)
        label = variant + (f" · {', '.join(parts)}" if parts else "")
        if swept and own:
            label += " (current)"
        labels[pid] = label
        levers[pid] = {p: vals[p] for p in lever_paths if p in vals and not _equal(vals[p], ref_values.get(p))}

    policies = [reference, *[p for p in policies_present if p != reference]]
    n_unc = int(frame["world_point"].nunique())
    reps = int(frame["replication"].nunique())
    kind = "run" if manifest.get("kind") == "run" else str(config.get("design") or "none")
    kind = {"none": "variants"}.get(kind, kind)
    design = Design(kind=kind, lever_paths=lever_paths, world_paths=world_paths, policies=policies,
                    reference=reference, labels=labels, levers=levers,
                    n_worlds=int(frame.loc[frame["policy"] == reference, "world"].nunique()),
                    n_uncertainty_points=n_unc, replications=reps, notes=notes)
    return design, frame


def _equal(a: Any, b: Any) -> bool:
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool) \
            and not isinstance(b, bool):
        return float(a) == float(b)
    return a == b
