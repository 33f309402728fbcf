"""How well monitoring signals caught the abuse trends: scored after the run, against ground truth.

Signals never see the trends (they read observed data only); this module puts their alerts
(``alerts.parquet``) next to the trends' record (``trends.parquet``) once the run is over:

- an **alarm** is a run of consecutive fired days of one signal in one group; it starts on its
  first fired day;
- an alarm is **true** for a trend when its group is in the trend's affected group (its market
  among the trend's markets and its category among the trend's categories, for the dimensions
  the signal groups by; level and age band do not restrict) and it starts on or after the
  trend's onset; an alarm true for no trend is a **false alarm**;
- **detection delay** (signal x trend): days from the onset to the first fired day, on or after
  it, in an affected group (0: the onset day itself; NaN: never);
- **false alarms per 30 days**: false alarms x 30 / days monitored;
- **precision**: true alarms / all alarms of the signal; **recall** (signal x trend): share of
  the trend's affected groups (of the signal's groups) with a fired day on or after the onset.

:func:`rank_signals` orders signals by delay among those within a false-alarm budget: the risk
prioritisation a team would act on. :func:`calibrate_limit` sets a detector's limit from quiet
history the way a team would before switching a signal on: the lowest limit whose alarms on
that history stay within the false-alarm budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["EVALUATION_COLUMNS", "alarms", "calibrate_limit", "evaluate", "load_run", "rank_signals"]

EVALUATION_COLUMNS = ("signal", "trend", "onset_day", "detected", "delay_days", "first_alert_day", "alarms",
                      "true_alarms", "false_alarms", "false_alarms_per_30d", "precision", "recall")


def alarms(alerts: pd.DataFrame) -> pd.DataFrame:
    """The alarms: one row per run of consecutive fired days of a signal in a group (its first day)."""
    a = alerts.sort_values(["signal", "group", "day"], kind="stable")
    fired = a["fired"].to_numpy(bool)
    same = (a["signal"].astype(str).to_numpy()[1:] == a["signal"].astype(str).to_numpy()[:-1]) & \
           (a["group"].astype(str).to_numpy()[1:] == a["group"].astype(str).to_numpy()[:-1]) & \
           (a["day"].to_numpy()[1:] == a["day"].to_numpy()[:-1] + 1)
    before = np.concatenate([[False], fired[:-1] & same])
    return a[fired & ~before].reset_index(drop=True)


def _affected(rows: pd.DataFrame, trend: pd.Series) -> np.ndarray:
    """Which alert rows lie in the trend's affected group (on the dimensions the signal has)."""
    out = np.ones(len(rows), dtype=bool)
    for col, allowed in (("market", trend["markets"]), ("category", trend["categories"])):
        values = rows[col]
        out &= values.isna().to_numpy() | values.isin(list(allowed)).to_numpy()
    return out


def evaluate(alerts: pd.DataFrame, trends: pd.DataFrame, days: int | None = None) -> pd.DataFrame:
    """One row per signal and trend (see the module docstring); ``days`` monitored defaults to
    the days in ``alerts``."""
    if days is None:
        days = int(alerts["day"].nunique())
    starts = alarms(alerts)
    signals = list(alerts["signal"].cat.categories) if hasattr(alerts["signal"], "cat") \
        else list(dict.fromkeys(alerts["signal"]))
    true = np.zeros(len(starts), dtype=bool)
    for _, t in trends.iterrows():
        true |= _affected(starts, t) & (starts["day"].to_numpy() >= t["onset_day"])
    rows = []
    for s in signals:
        mine = (starts["signal"] == s).to_numpy()
        n, n_true = int(mine.sum()), int((mine & true).sum())
        fa = n - n_true
        per30 = fa * 30.0 / days if days else float("nan")
        sa = alerts[(alerts["signal"] == s).to_numpy()]
        for _, t in trends.iterrows():
            hit = sa[_affected(sa, t) & (sa["day"].to_numpy() >= t["onset_day"])]
            fired = hit[hit["fired"].to_numpy(bool)]
            first = int(fired["day"].min()) if len(fired) else None
            groups = hit["group"].nunique()
            rows.append({
                "signal": s, "trend": t["name"], "onset_day": int(t["onset_day"]), "detected": first is not None,
                "delay_days": float(first - t["onset_day"]) if first is not None else float("nan"),
                "first_alert_day": first if first is not None else pd.NA,
                "alarms": n, "true_alarms": n_true, "false_alarms": fa, "false_alarms_per_30d": per30,
                "precision": n_true / n if n else float("nan"),
                "recall": fired["group"].nunique() / groups if groups else float("nan"),
            })
    frame = pd.DataFrame(rows, columns=list(EVALUATION_COLUMNS))
    frame["first_alert_day"] = frame["first_alert_day"].astype("Int64")
    return frame


def rank_signals(evaluation: pd.DataFrame, budget: float = 2.0, trend: str | None = None) -> pd.DataFrame:
    """Signals within ``budget`` false alarms per 30 days, fastest first (undetected last); with
    several trends, ``trend`` picks one (default: each signal's mean delay over the trends,
    undetected trends counting as not detected)."""
    ev = evaluation if trend is None else evaluation[evaluation["trend"] == trend]
    g = ev.groupby("signal", sort=False)
    table = pd.DataFrame({
        "delay_days": g["delay_days"].mean(),
        "detected": g["detected"].all(),
        "false_alarms_per_30d": g["false_alarms_per_30d"].first(),
        "precision": g["precision"].first(),
        "recall": g["recall"].mean(),
    })
    table = table[table["false_alarms_per_30d"] <= budget]
    return table.sort_values(["detected", "delay_days"], ascending=[False, True], na_position="last").reset_index()


def load_run(folder: str | Path) -> tuple[pd.DataFrame, pd.DataFrame, int]:
    """alerts.parquet, trends.parquet and the run's days from a run folder."""
    import json

    folder = Path(folder)
    alerts = pd.read_parquet(folder / "alerts.parquet")
    trends = pd.read_parquet(folder / "trends.parquet") if (folder / "trends.parquet").exists() else \
        pd.DataFrame(columns=["name", "onset_day", "markets", "categories"])
    days = json.loads((folder / "summary.json").read_text(encoding="utf-8"))["days"]
    return alerts, trends, int(days)


def evaluate_runs(results: Sequence[tuple[pd.DataFrame, pd.DataFrame, int]]) -> pd.DataFrame:
    """:func:`evaluate` of several runs (e.g. replications), stacked with a ``run`` column."""
    return pd.concat([evaluate(a, t, d).assign(run=i) for i, (a, t, d) in enumerate(results)], ignore_index=True)


def calibrate_limit(scores: pd.DataFrame, budget: float, days: int, direction: str = "up") -> float:
    """The lowest limit at which ``scores`` (columns ``day``, ``group``, ``score``, and ``run`` when
    several histories are pooled) raise at most ``budget`` alarms per 30 days over ``days``
    monitored days (summed over runs), an alarm being a run of consecutive days with the score
    beyond the limit in one group, as :func:`alarms` counts them.

    Exact for detectors whose score does not depend on their limit (``threshold``, ``zscore``,
    ``ewma``: a higher limit only fires on fewer days); for ``cusum``, which restarts its sum
    after each alarm, scores recorded at a high limit are those of a detector that restarted
    less often, so the limit found is a slight overestimate. Scores pointing the other way
    (below 0 for ``up``) never fire; NaN scores never fire. ValueError when ``scores`` holds no
    score at all (nothing to calibrate on: the observable never met its ``min_count``, say).
    """
    s = scores.dropna(subset=["score"])
    if s.empty:
        raise ValueError("no scores to calibrate on (every score is missing)")
    x = s["score"].to_numpy(float) * (-1.0 if direction == "down" else 1.0)
    if direction == "both":
        x = np.abs(s["score"].to_numpy(float))
    keys = ["run", "group"] if "run" in s.columns else ["group"]
    frame = s[[*keys, "day"]].assign(x=x).sort_values([*keys, "day"], kind="stable")
    allowed = budget * days / 30.0
    # Try each observed score as the limit (fires strictly above it), from high to low.
    candidates = np.unique(np.concatenate([[0.0], frame["x"].to_numpy()]))[::-1]
    same = np.ones(len(frame), dtype=bool)
    for k in keys:
        v = frame[k].astype(str).to_numpy()
        same[1:] &= v[1:] == v[:-1]
    day = frame["day"].to_numpy()
    same[1:] &= day[1:] == day[:-1] + 1
    same[0] = False
    xs = frame["x"].to_numpy()
    best = float(candidates[0])
    for limit in candidates:
        on = xs > limit
        starts = on & ~(np.concatenate([[False], on[:-1]]) & same)
        if starts.sum() > allowed:
            break
        best = float(limit)
    return best
