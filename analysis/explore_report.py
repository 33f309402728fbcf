"""The report's sections for an exploration folder (``livesim explore --out``): robustness,
sensitivity, scenario discovery and the red team, read from the files the exploration wrote."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["explore_markdown", "explore_section"]


def _g(x: Any, digits: int = 4) -> str:
    if isinstance(x, bool):
        return "yes" if x else "no"
    if isinstance(x, int):
        return f"{x:,}"
    if isinstance(x, float):
        return "n/a" if x != x else f"{x:.{digits}g}"
    return str(x)


def _pct(x: float) -> str:
    return "n/a" if x != x else f"{x:.0%}"


def _table(tid: str, title: str, caption: str, frame: pd.DataFrame, columns: dict[str, Callable[[Any], str]]
           ) -> dict[str, Any]:
    rows = [[fmt(r[c]) for c, fmt in columns.items()] for _, r in frame.iterrows()]
    return {"id": tid, "title": title, "caption": caption, "columns": list(columns), "rows": rows}


def _read(folder: Path, name: str) -> pd.DataFrame | None:
    path = folder / name
    return pd.read_parquet(path) if path.is_file() else None


def _json(folder: Path, name: str) -> dict[str, Any] | None:
    path = folder / name
    try:
        doc = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
    except (OSError, ValueError):
        return None
    return doc if isinstance(doc, dict) else None


def explore_section(folder: str | Path, add: Callable[[str, str, str, Callable[[], Any]], None]) -> dict[str, Any] | None:
    """The exploration's headline answers, tables and figures (figures through ``add``, the
    report's own figure writer); None when the folder holds no exploration."""
    from analysis import explore_plots as ep
    from analysis.explore import read_explore

    folder = Path(folder)
    doc = read_explore(folder)
    if doc is None:
        return None
    file = doc.get("file", {})
    design = doc.get("design", {})
    lines: list[str] = []
    tables: list[dict[str, Any]] = []
    meta = (f"{len(doc.get('policies', []))} policies x {doc.get('n_worlds')} worlds ({design.get('method')} design, "
            f"n = {design.get('n')}" + (f", {design.get('morris')} Morris trajectories" if design.get("morris") else "")
            + f"), {file.get('replications') or 'the scenario s'} replications; uncertainties: "
            + ", ".join(u["path"] for u in file.get("uncertainties", [])) + ".")

    stats, ranking, sat = (_read(folder, n) for n in ("robustness.parquet", "ranking.parquet", "satisficing.parquet"))
    rob = _json(folder, "robustness.json") or {}
    if stats is not None and ranking is not None and sat is not None:
        merged = ranking.merge(sat, on="policy", how="left")
        crit = rob.get("criterion", "")
        what = "satisficing share" if crit == "satisficing" else f"{crit} of {rob.get('outcome')}"
        top = merged.iloc[0]
        lines.append(f"Most robust: {top['policy']} (ranked by {what}; first in {_pct(top['p_first'])} of "
                     f"{rob.get('resamples')} bootstrap resamples of the worlds; the whole ranking unchanged in "
                     f"{_pct(float(rob.get('stable_share', float('nan'))))}).")
        cols: dict[str, Callable[[Any], str]] = {"rank": _g, "policy": str, "score": _g, "p_first": _pct}
        if crit == "satisficing" or sat["satisficing"].notna().any():
            cols["satisficing"] = _pct
        cols |= {c: _pct for c in sat.columns if c.startswith("met: ")}
        tables.append(_table("explore-ranking", "Robustness: ranking and its stability",
                             f"Ranked by {what}; p_first: share of bootstrap resamples of the worlds in which the "
                             "policy ranks first; satisficing: share of worlds in which every target is met"
                             + (f" ({'; '.join(rob.get('targets', []))})" if rob.get("targets") else "") + ".",
                             merged, cols))
        tables.append(_table("explore-robustness", "Robustness: outcomes across worlds",
                             "Mean and 10th/90th percentiles across worlds; regret: how much worse than the best "
                             "policy in the same world (its maximum and 90th percentile).", stats,
                             {"policy": str, "outcome": str, "mean": _g, "p10": _g, "p90": _g, "regret_max": _g,
                              "regret_p90": _g}))
        add("explore_robustness", "Robustness across worlds", "Each policy's mean across the sampled worlds and "
            "its 10th-90th percentile range, per outcome.", lambda: ep.robustness_figure(stats))

    sob, mor = _read(folder, "sobol.parquet"), _read(folder, "morris.parquet")
    if sob is not None and len(sob):
        n = int(sob["n"].iloc[0])
        for target, s in sob.groupby("target", sort=False):
            s = s.sort_values("ST", ascending=False)
            if " - " in str(target):
                first = s.iloc[0]
                lines.append(f"What drives the choice ({target}): {first['input']} (total Sobol' index "
                             f"{first['ST']:.2f} ± {first['ST_conf']:.2f}"
                             + ("" if bool(first["converged"]) else "; not converged at this n") + ").")
        tables.append(_table("explore-sobol", "Global sensitivity: Sobol' indices",
                             f"First-order (S1) and total (ST) indices with 95 % bootstrap half-widths, from a "
                             f"Saltelli design of n = {n}; n/2 columns: the same from the first half of the design "
                             "(converged: no index moved by more than 0.1).", sob,
                             {"target": str, "input": str, "S1": _g, "S1_conf": _g, "ST": _g, "ST_conf": _g,
                              "S1_half": _g, "ST_half": _g, "converged": _g}))
        add("explore_sobol", "Sobol' indices", "First-order and total Sobol' indices per uncertainty with 95 % "
            "bootstrap intervals, per outcome and policy (and the difference between two policies).",
            lambda: ep.sobol_figure(sob))
    if mor is not None and len(mor):
        tables.append(_table("explore-morris", "Global sensitivity: Morris elementary effects",
                             "mu*: mean absolute elementary effect per unit of each uncertainty's quantile, with "
                             "its 95 % bootstrap half-width; sigma: their spread (interactions, non-linearity).",
                             mor, {"target": str, "input": str, "mu_star": _g, "mu_star_conf": _g, "mu": _g,
                                   "sigma": _g}))
        add("explore_morris", "Morris screening", "mu* per uncertainty with 95 % bootstrap intervals.",
            lambda: ep.morris_figure(mor))

    disc = _json(folder, "discovery.json")
    box, traj, scores = (_read(folder, n) for n in ("prim_box.parquet", "prim_trajectory.parquet",
                                                    "feature_scores.parquet"))
    if disc is not None and box is not None and traj is not None and scores is not None:
        lines.append(f"Where {disc['policy']} fails ({disc['cases']} of {disc['worlds']} worlds miss a target): "
                     f"{disc['box']} (PRIM: coverage {_pct(disc['coverage'])}, density {_pct(disc['density'])}, "
                     f"{_pct(disc['mass'])} of worlds); most telling uncertainty: {scores['input'].iloc[0]}.")
        tables.append(_table("explore-prim", f"Scenario discovery: where {disc['policy']} misses a target",
                             f"PRIM box of highest coverage with density at least {disc.get('min_density')}: coverage "
                             f"{_pct(disc['coverage'])} (share of failing worlds inside), density "
                             f"{_pct(disc['density'])} (share of worlds inside that fail).",
                             box[box["restricted"]], {"input": str, "low": _g, "high": _g, "range_low": _g,
                                                      "range_high": _g}))
        tables.append(_table("explore-features", "Feature scores of the uncertainties",
                             "Extra-trees importance for telling failing worlds from the others.", scores,
                             {"input": str, "score": _g}))
        chosen = int(disc.get("chosen", 0))
        add("explore_discovery", "Scenario discovery", "PRIM's peeling trajectory (the chosen box circled) and the "
            "feature scores.", lambda: ep.discovery_figure(traj, scores, chosen))

    red = _json(folder, "redteam.json")
    trials, cross, mm = (_read(folder, n) for n in ("redteam_trials.parquet", "redteam_cross.parquet",
                                                    "redteam_minimax.parquet"))
    if red is not None and trials is not None and cross is not None and mm is not None:
        obj = red["objective"]
        worst_rows = pd.DataFrame([{"policy": p, "value": red["worst_value"].get(p, float("nan")),
                                    **{k: v for k, v in params.items()}} for p, params in red["worst"].items()])
        fmt: dict[str, Callable[[Any], str]] = {"policy": str, "value": _g}
        fmt |= {k: _g for k in red["ranges"]}
        chosen = ranking["policy"].iloc[0] if ranking is not None else None
        rows_chosen = worst_rows[worst_rows["policy"] == chosen]
        top = rows_chosen.iloc[0] if len(rows_chosen) else worst_rows.sort_values("value", ascending=False).iloc[0]
        lines.append(f"Worst adversary found against {top['policy']}: {obj} {top['value']:.4g} at "
                     + ", ".join(f"{k} = {_g(top[k])}" for k in red["ranges"])
                     + f"; minimax choice (least bad worst case): {red['minimax']}.")
        tables.append(_table("explore-redteam", f"Red team: the worst {obj} found per policy",
                             f"{red['budget']} worlds searched per policy (optuna TPE) within: "
                             + ", ".join(f"{k} [{lo}, {hi}]" for k, (lo, hi) in red["ranges"].items()) + ".",
                             worst_rows, fmt))
        tables.append(_table("explore-minimax", "Red team: every policy in every worst world (minimax)",
                             f"Each policy's worst {obj} over the worst worlds found for every policy; lowest first.",
                             mm, {"rank": _g, "policy": str, "worst": _g, "worst_world_of": str}))
        add("explore_redteam", "Red team search", f"Each trial's {obj} and the worst found so far, per policy.",
            lambda: ep.red_team_figure(trials, obj))
    return {"name": file.get("name", folder.name), "meta": meta, "lines": lines, "tables": tables}


def explore_markdown(section: dict[str, Any], md: Callable[[Any], str]) -> list[str]:
    """The section as Markdown lines."""
    out = ["", "## Robust decisions across worlds", "", md(section["meta"]), ""]
    out += [f"- {md(x)}" for x in section["lines"]]
    for t in section["tables"]:
        out += ["", f"### {md(t['title'])}", "", md(t["caption"]), "",
                "| " + " | ".join(md(c) for c in t["columns"]) + " |", "|" + "---|" * len(t["columns"])]
        out += ["| " + " | ".join(md(c) for c in row) + " |" for row in t["rows"]]
    return out
