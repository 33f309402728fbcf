"""A run is a function: ``run(scenario, replication) -> RunResult``, and its files on disk."""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario, load_scenario, with_overrides
from sim.labels import CreatorState, CreatorType, Tactic
from sim.metrics import METRICS, run_summary
from sim.model import LiveShopModel

__all__ = ["RunResult", "livesim_version", "run", "write_outputs"]

ProgressFn = Callable[[int, int], None]


def livesim_version() -> str:
    try:
        return version("livesim")
    except PackageNotFoundError:
        return "unknown"


@dataclass
class RunResult:
    """Everything one run produced.

    ``daily`` has one row per (day, market), ``market == "all"`` being the whole platform;
    ``creators`` one row per creator account ever created; ``sanctions`` one row per
    enforcement decision (with its ground truth, detection source, sanction and appeal);
    ``summary`` the platform-wide run values keyed by metric name (``summary_by_market`` the
    same per market).
    """

    scenario: Scenario
    replication: int
    daily: pd.DataFrame
    creators: pd.DataFrame
    sanctions: pd.DataFrame
    summary: dict[str, float]
    summary_by_market: dict[str, dict[str, float]]
    ledger: dict[str, float]
    campaigns: list[dict[str, Any]]
    runtime_s: float
    seed_entropy: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def platform_daily(self) -> pd.DataFrame:
        """Daily rows for the whole platform, indexed by day."""
        return self.daily[self.daily["market"] == "all"].set_index("day")


def run(
    scenario: Scenario | str | Path,
    replication: int = 0,
    *,
    overrides: dict[str, Any] | None = None,
    progress: ProgressFn | None = None,
) -> RunResult:
    """Simulate ``scenario`` (a Scenario or a path) for its days; same inputs, same result."""
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = with_overrides(scenario, overrides or {})
    t0 = time.perf_counter()
    model = LiveShopModel(scenario=scenario, replication=replication)
    days = scenario.days
    while model.running:
        model.step()
        if progress is not None:
            progress(model.day, days)
    runtime = time.perf_counter() - t0
    return _result(model, runtime)


def _result(model: LiveShopModel, runtime: float) -> RunResult:
    markets = ["all", *model.market_names]
    rows = []
    for day, snapshot in enumerate(model.history, start=1):
        for m in markets:
            rows.append({"day": day, "market": m, **snapshot[m]})
    daily = pd.DataFrame(rows, columns=["day", "market", *METRICS])
    daily["day"] = daily["day"].astype("int32")
    series = {m: {name: daily.loc[daily["market"] == m, name].tolist() for name in METRICS} for m in markets}
    summary = run_summary(model, series)
    campaigns = [
        {"name": n, "first_day": a, "last_day": b, "markets": ms} for n, a, b, ms in model.timeline.campaign_days()
    ]
    return RunResult(
        scenario=model.config,
        replication=model.replication,
        daily=daily,
        creators=creators_frame(model),
        sanctions=sanctions_frame(model),
        summary=summary["all"],
        summary_by_market={m: summary[m] for m in model.market_names},
        ledger=model.ledger.as_dict(),
        campaigns=campaigns,
        runtime_s=runtime,
        seed_entropy=int(model.seed_sequence.entropy),
    )


def creators_frame(model: LiveShopModel) -> pd.DataFrame:
    """One row per creator account with traits, final state and run totals."""
    c = model.creators
    agents = {a.row: a.unique_id for a in model.agents}
    frame = pd.DataFrame(
        {
            "creator_id": [agents[i] for i in range(c.n)],
            "actor": c.col("actor"),
            "market": pd.Categorical.from_codes(c.col("market"), model.market_names),
            "category": pd.Categorical.from_codes(c.col("category"), model.category_names),
            "type": pd.Categorical.from_codes(c.col("ctype"), [t.name for t in CreatorType]),
            "tactic": pd.Categorical.from_codes(c.col("tactic"), [t.name for t in Tactic]),
            "state": pd.Categorical.from_codes(c.col("state"), [s.name for s in CreatorState]),
        }
    )
    for name in (
        "followers", "quality", "skill", "streams_per_week", "commission_rate", "intensity", "level",
        "joined_day", "left_day", "earnings", "profit", "gmv", "orders", "streams", "violating_streams",
        "views", "settled", "refunded", "bad_outcomes", "complaints", "reports", "ladder", "sanctions",
        "frozen", "suspended", "suspended_until",
    ):
        frame[name] = c.col(name).copy()
    return frame


APPEAL_STATES = ("none", "will_appeal", "pending", "upheld", "overturned")


def sanctions_frame(model: LiveShopModel) -> pd.DataFrame:
    """One row per enforcement decision: who, when, why, whether it was right, what followed."""
    from sim.platform.enforcement import SANCTION_NAMES, SOURCES

    log = model.governance.enforcer.log
    agents = {a.row: a.unique_id for a in model.agents}
    creator = log.col("creator")
    appeal = log.col("appeal").astype(np.int64)
    # An appeal still to be filed after the run ended was never filed.
    appeal = np.where(appeal == 1, 0, appeal)
    tactics = [t.name for t in Tactic]
    return pd.DataFrame(
        {
            "creator_id": np.array([agents[int(r)] for r in creator], dtype=np.int64),
            "actor": log.col("actor").copy(),
            "market": pd.Categorical.from_codes(log.col("market"), model.market_names),
            "creator_type": pd.Categorical.from_codes(model.creators.col("ctype")[creator],
                                                      [t.name for t in CreatorType]),
            "day": log.col("day").copy(),
            "violation_day": log.col("violation_day").copy(),
            "reason": pd.Categorical.from_codes(log.col("reason"), tactics),
            "true_label": pd.Categorical.from_codes(log.col("label"), tactics),
            "real": log.col("real").copy(),
            "source": pd.Categorical.from_codes(log.col("source"), list(SOURCES)),
            "auto": log.col("auto").copy(),
            "proactive": log.col("proactive").copy(),
            "points": log.col("points").copy(),
            "milestone": log.col("milestone").astype(np.int64),
            "sanction": pd.Categorical.from_codes(log.col("sanction"), list(SANCTION_NAMES)),
            "ban": log.col("ban").copy(),
            "commission_held": log.col("frozen").copy(),
            "appeal": pd.Categorical.from_codes(appeal, list(APPEAL_STATES)),
            "appeal_day": np.where(appeal > 0, log.col("appeal_day"), -1),
            "appeal_decided_day": log.col("appeal_decided_day").copy(),
            "overturned": appeal == 4,
        }
    )


def _clean(x: Any) -> Any:
    """JSON-safe: NaN and infinities become null; numpy scalars become Python numbers."""
    if isinstance(x, dict):
        return {k: _clean(v) for k, v in x.items()}
    if isinstance(x, list | tuple):
        return [_clean(v) for v in x]
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return None
    return x


def summary_document(result: RunResult) -> dict[str, Any]:
    """The contents of ``summary.json``."""
    return _clean(
        {
            "scenario": result.scenario.name,
            "seed": result.scenario.seed,
            "replication": result.replication,
            "days": result.scenario.days,
            "livesim_version": livesim_version(),
            "runtime_s": round(result.runtime_s, 3),
            "metrics": result.summary,
            "by_market": result.summary_by_market,
            "ledger": result.ledger,
            "campaigns": result.campaigns,
            "units": {name: m.unit for name, m in METRICS.items()},
        }
    )


def write_outputs(result: RunResult, out_dir: str | Path, *, plot: bool = True) -> Path:
    """Write daily.parquet, creators.parquet, sanctions.parquet, summary.json and daily.png.

    Files are written to a temporary folder beside ``out_dir`` and moved into place only when
    all of them succeeded, so a failure never leaves half-written output.
    """
    out_dir = Path(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out_dir.name}.", dir=out_dir.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp makes it private; results are ordinary files
    try:
        result.daily.to_parquet(tmp / "daily.parquet", index=False)
        result.creators.to_parquet(tmp / "creators.parquet", index=False)
        result.sanctions.to_parquet(tmp / "sanctions.parquet", index=False)
        (tmp / "summary.json").write_text(json.dumps(summary_document(result), indent=2) + "\n")
        if plot:
            from analysis.plots import daily_overview

            fig = daily_overview(result.daily, campaigns=result.campaigns, title=result.scenario.name)
            fig.savefig(tmp / "daily.png", dpi=110)
            import matplotlib.pyplot as plt

            plt.close(fig)
        if out_dir.exists():
            old = out_dir.with_name(f".{out_dir.name}.old-{os.getpid()}")
            out_dir.rename(old)
            tmp.rename(out_dir)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(out_dir)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out_dir
