"""Robustness of policies across worlds: how each holds up, not how it does in one world.

From an outcome table (one row per policy and world, one column per outcome) these pure
functions give, per policy and outcome:

* ``mean``, ``p10`` and ``p90`` across worlds (numpy's linear percentiles);
* **regret** in each world: how much worse the policy did than the best policy *in that world*
  (best by the metric's own direction: ``best - x`` when higher is better, ``x - best`` when
  lower is), so 0 for the world's best policy; its maximum (minimax regret, Savage) and its
  90th percentile (a regret that ignores the worst tenth of worlds);
* **satisficing**: per policy, the share of worlds in which every target is met (a world
  meets a target when the policy's value there lies in the target's band);
* a **ranking** by one criterion and its **stability**: the share of bootstrap resamples of the
  worlds in which each policy ranks first, and in which the whole ranking is unchanged.

Worlds where a policy has no value (a failed run) are left out of that policy's statistics,
and of every policy's regret (regret compares policies within a world).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import Target

__all__ = ["CRITERIA", "Robustness", "meets_targets", "rank_policies", "regret_table", "robustness", "satisficing"]

# Criteria a ranking may use: higher satisficing is better; for the others lower is better
# (regret), or the outcome's own direction (mean).
CRITERIA = ("satisficing", "regret_p90", "regret_max", "mean")


@dataclass
class Robustness:
    """Every robustness table of one exploration."""

    stats: pd.DataFrame  # policy, outcome: mean, p10, p90, regret_max, regret_p90, worlds
    satisficing: pd.DataFrame  # policy: share of worlds meeting every target, worlds, per-target shares
    ranking: pd.DataFrame  # policy: rank, score, p_first (bootstrap), in criterion order
    criterion: str
    outcome: str  # the outcome the criterion reads (regret, mean); "" for satisficing
    stable_share: float  # share of bootstrap resamples giving the same whole ranking
    resamples: int


def _wide(table: pd.DataFrame, metric: str) -> pd.DataFrame:
    """worlds x policies for one metric (policies in first-seen order)."""
    order = list(dict.fromkeys(table["policy"]))
    wide = table.pivot(index="world", columns="policy", values=metric)
    return wide[order]


def regret_table(table: pd.DataFrame, metric: str, higher_is_better: bool) -> pd.DataFrame:
    """worlds x policies: each policy's regret in each world against that world's best policy.
    A world where any policy has no value is left out."""
    wide = _wide(table, metric).dropna(how="any")
    best = wide.max(axis=1) if higher_is_better else wide.min(axis=1)
    return (wide.rsub(best, axis=0) if higher_is_better else wide.sub(best, axis=0)).astype(float)


def _stats(table: pd.DataFrame, metrics: Sequence[str], directions: dict[str, bool | None]) -> pd.DataFrame:
    rows = []
    for metric in metrics:
        wide = _wide(table, metric)
        better = directions.get(metric)
        regret = regret_table(table, metric, bool(better)) if better is not None else None
        for policy in wide.columns:
            x = wide[policy].dropna().to_numpy(dtype=float)
            row = {"policy": policy, "outcome": metric, "worlds": len(x),
                   "mean": float(x.mean()) if len(x) else np.nan,
                   "p10": float(np.percentile(x, 10)) if len(x) else np.nan,
                   "p90": float(np.percentile(x, 90)) if len(x) else np.nan,
                   "regret_max": np.nan, "regret_p90": np.nan, "regret_mean": np.nan}
            if regret is not None and len(regret):
                r = regret[policy].to_numpy(dtype=float)
                row |= {"regret_max": float(r.max()), "regret_p90": float(np.percentile(r, 90)),
                        "regret_mean": float(r.mean())}
            rows.append(row)
    return pd.DataFrame(rows)


def satisficing(table: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """Per policy: the share of worlds in which every target is met, and each target's own share.

    ``table`` holds one row per policy, world and (optionally) market; a target reads its own
    market's row (``all`` when the table has no market column). A world where a target's
    value is missing does not meet it."""
    policies = list(dict.fromkeys(table["policy"]))
    worlds = sorted(set(table["world"]))
    met_all = pd.DataFrame(True, index=worlds, columns=policies)
    rows: dict[str, dict[str, float]] = {p: {} for p in policies}
    for t in targets:
        rows_t = table[table["market"] == t.market] if "market" in table.columns else table
        wide = rows_t.pivot(index="world", columns="policy", values=t.metric).reindex(index=worlds, columns=policies)
        low, high = t.band
        ok = (wide >= low) & (wide <= high)  # NaN compares False: a missing value misses
        met_all &= ok
        for p in policies:
            rows[p][f"met: {t.describe()}"] = float(ok[p].mean())
    out = pd.DataFrame({"policy": policies, "worlds": len(worlds),
                        "satisficing": [float(met_all[p].mean()) if targets else np.nan for p in policies]})
    extra = pd.DataFrame([rows[p] for p in policies])
    return pd.concat([out, extra], axis=1)


def meets_targets(table: pd.DataFrame, targets: Sequence[Target]) -> pd.DataFrame:
    """worlds x policies: whether the policy meets every target in the world (a missing value misses)."""
    policies = list(dict.fromkeys(table["policy"]))
    worlds = sorted(set(table["world"]))
    met = pd.DataFrame(True, index=worlds, columns=policies)
    for t in targets:
        rows = table[table["market"] == t.market] if "market" in table.columns else table
        wide = rows.pivot(index="world", columns="policy", values=t.metric).reindex(index=worlds, columns=policies)
        low, high = t.band
        met &= (wide >= low) & (wide <= high)
    return met


def _criterion_matrix(table: pd.DataFrame, criterion: str, outcome: str, targets: Sequence[Target],
                      higher_is_better: bool | None) -> tuple[pd.DataFrame, str, float]:
    """worlds x policies values the criterion reduces, the reduction (mean, max or p90), and the
    sign that makes a higher score better. Regret is relative to each world's best policy, so
    resampling worlds resamples rows of this matrix."""
    if criterion == "satisficing":
        return meets_targets(table, targets).astype(float), "mean", 1.0
    if criterion == "mean":
        return _wide(table, outcome).dropna(how="any"), "mean", 1.0 if higher_is_better in (True, None) else -1.0
    regret = regret_table(table, outcome, bool(higher_is_better))
    return regret, "max" if criterion == "regret_max" else "p90", -1.0


def _reduce(values: np.ndarray, how: str) -> np.ndarray:
    if how == "mean":
        return values.mean(axis=0)
    if how == "max":
        return values.max(axis=0)
    return np.percentile(values, 90, axis=0)


def rank_policies(table: pd.DataFrame, criterion: str, outcome: str, targets: Sequence[Target],
                  higher_is_better: bool | None) -> pd.DataFrame:
    """Policies best first by the criterion (ties keep the table's policy order), with each score
    as the criterion reads it (a share, a regret or a mean)."""
    matrix, how, sign = _criterion_matrix(table, criterion, outcome, targets, higher_is_better)
    score = _reduce(matrix.to_numpy(dtype=float), how)
    order = np.argsort(-sign * score, kind="stable")
    frame = pd.DataFrame({"rank": np.arange(1, len(order) + 1), "policy": matrix.columns[order],
                          "score": score[order]})
    return frame


def _stability(table: pd.DataFrame, criterion: str, outcome: str, targets: Sequence[Target],
               higher_is_better: bool | None, resamples: int, seed: int) -> tuple[dict[str, float], float]:
    """Bootstrap resamples of the worlds: the share in which each policy ranks first, and the
    share in which the whole ranking is unchanged."""
    matrix, how, sign = _criterion_matrix(table, criterion, outcome, targets, higher_is_better)
    values = matrix.to_numpy(dtype=float)
    policies = list(matrix.columns)
    point = np.argsort(-sign * _reduce(values, how), kind="stable")
    if not resamples or not len(values):
        return dict.fromkeys(policies, np.nan), np.nan
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, len(values), size=(resamples, len(values)))
    first = np.zeros(len(policies))
    same = 0
    for pick in picks:
        order = np.argsort(-sign * _reduce(values[pick], how), kind="stable")
        first[order[0]] += 1
        same += bool(np.array_equal(order, point))
    return {p: float(f / resamples) for p, f in zip(policies, first, strict=True)}, same / resamples


def robustness(table: pd.DataFrame, outcomes: Sequence[str], targets: Sequence[Target] = (),
               criterion: str | None = None, *, resamples: int = 200, seed: int = 0,
               market: str = "all") -> Robustness:
    """Every robustness table of an outcome table (``policy``, ``world``, optionally ``market``,
    and one column per outcome). ``criterion`` defaults to satisficing with targets, else the
    mean of the first outcome. Stability: ``resamples`` bootstrap resamples of the worlds
    (seeded: the same table gives the same answer)."""
    from sim.metrics import METRICS

    if criterion is None:
        criterion = "satisficing" if targets else "mean"
    if criterion not in CRITERIA:
        raise ValueError(f"criterion {criterion!r}; allowed: {', '.join(CRITERIA)}")
    full = table
    if "market" in table.columns:
        table = table[table["market"] == market]
    directions = {m: (METRICS[m].higher_is_better if m in METRICS else None) for m in outcomes}
    outcome = "" if criterion == "satisficing" else outcomes[0]
    if criterion in ("regret_p90", "regret_max") and directions.get(outcome) is None:
        raise ValueError(f"{outcome} has no better direction; regret cannot rank by it")
    stats = _stats(table, outcomes, directions)
    sat = satisficing(full, targets)
    source = full if criterion == "satisficing" else table
    ranking = rank_policies(source, criterion, outcome, targets, directions.get(outcome))
    first, stable = _stability(source, criterion, outcome, targets, directions.get(outcome), resamples, seed)
    ranking["p_first"] = [first[p] for p in ranking["policy"]]
    return Robustness(stats, sat, ranking, criterion, outcome, stable, resamples)
