"""A run is a function: ``run(scenario, replication) -> RunResult``, and its files on disk."""

from __future__ import annotations

import json
import math
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.config import Scenario, load_scenario, with_overrides
from sim.events import EventLog
from sim.labels import CreatorState
from sim.metrics import METRICS, run_summary
from sim.model import LiveShopModel
from sim.outdir import MARKER, Replacement, check_out_dir, install, make_staging, run_files
from sim.platform.trends import trends_frame
from sim.provenance import RUN_FORMAT, livesim_version, provenance, scenario_hash, scenario_toml
from sim.tactics import creator_type_names
from sim.tactics import names as tactic_names

__all__ = ["RunResult", "incentive_twin", "livesim_version", "run", "set_incentive_roi", "write_outputs", "write_run"]

ProgressFn = Callable[[int, int], None]


@dataclass
class RunResult:
    """Everything one run produced.

    ``daily`` has one row per (day, market), ``market == "all"`` being the whole platform;
    ``creators`` one row per creator account ever created; ``sanctions`` one row per
    enforcement decision (with its ground truth, detection source, sanction and appeal);
    ``summary`` the platform-wide run values keyed by metric name (``summary_by_market`` the
    same per market); ``trends`` one row per abuse trend (its onset and affected group: the
    ground truth monitoring signals are scored against; empty without trends); ``events`` the run's
    event log (:mod:`sim.events`), None when it was not kept.
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
    # One row per abuse trend of the scenario (sim/platform/trends/): what, where, from when, whom.
    trends: pd.DataFrame = field(default_factory=lambda: trends_frame([]))
    extra: dict[str, Any] = field(default_factory=dict)
    # The overrides applied to the scenario as given (dotted paths, plus days and seed), for the record.
    overrides: dict[str, Any] = field(default_factory=dict)
    events: pd.DataFrame | None = None

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
    events: bool = False,
) -> RunResult:
    """Simulate ``scenario`` (a Scenario or a path) for its days; same inputs, same result.

    ``events`` keeps the run's event log (``result.events``, :mod:`sim.events`; ``livesim run``
    keeps it unless told not to); it draws no random numbers, so every other output is the same
    with or without it.

    ``overrides`` (dotted paths such as ``policy.referral_fee``) are applied first and kept in
    the result, so summary.json says how the run differed from its scenario file. A world too
    large for the memory available is refused (ScenarioError) before it is built.
    """
    from sim.capacity import check_memory
    from sim.plain import plain

    overrides, replication = plain(overrides), int(plain(replication))
    source = str(scenario) if not isinstance(scenario, Scenario) else f"scenario {scenario.name!r}"
    if not isinstance(scenario, Scenario):
        scenario = load_scenario(scenario)
    scenario = with_overrides(scenario, overrides or {}, source=f"{source} (overrides)")
    check_memory(scenario, source)
    t0 = time.perf_counter()
    model = LiveShopModel(scenario=scenario, replication=replication, events=events)
    days = scenario.days
    while model.running:
        model.step()
        if progress is not None:
            progress(model.day, days)
    result = _result(model, time.perf_counter() - t0)
    del model
    twin = incentive_twin(scenario)
    if twin is not None:
        set_incentive_roi(result, _simulate(twin, replication))
    result.runtime_s = time.perf_counter() - t0
    result.overrides = dict(overrides or {})
    return result


def incentive_twin(scenario: Scenario) -> Scenario | None:
    """The same scenario without its incentive programmes (its ``kind = "incentive"`` timeline
    entries), or None when it has none. Programmes draw no random numbers, so the twin run with
    the same seed and replication makes every other draw the same way: the difference between
    the two runs is the programmes' effect (common random numbers)."""
    if not any(e.kind == "incentive" for e in scenario.timeline):
        return None
    return scenario.model_copy(update={"timeline": [e for e in scenario.timeline if e.kind != "incentive"]})


def _simulate(scenario: Scenario, replication: int) -> RunResult:
    model = LiveShopModel(scenario=scenario, replication=replication)
    while model.running:
        model.step()
    return _result(model, 0.0)


def set_incentive_roi(result: RunResult, twin: RunResult) -> None:
    """Fill ``incentive_roi`` from the paired twin run: per market and platform-wide, the
    incremental net GMV over the twin per unit of bonus paid. The summary is
    ``(net_gmv - twin net_gmv) / incentive_spend`` of the run summaries; the daily column the
    same from the daily series summed to that day (undefined before any bonus is paid). The
    twin's net GMV is kept in ``result.extra["incentive_twin_net_gmv"]``."""
    if "incentive_roi" not in result.summary:
        return
    daily, other = result.daily, twin.daily
    for m in ["all", *result.summary_by_market]:
        rows = (daily["market"] == m).to_numpy()
        cum_net = np.cumsum(daily.loc[rows, "net_gmv"].to_numpy())
        cum_twin = np.cumsum(other.loc[(other["market"] == m).to_numpy(), "net_gmv"].to_numpy())
        cum_spend = np.cumsum(daily.loc[rows, "incentive_spend"].to_numpy())
        daily.loc[rows, "incentive_roi"] = np.divide(cum_net - cum_twin, cum_spend, out=np.full(cum_spend.size, np.nan),
                                                     where=cum_spend > 0)
    result.extra["incentive_twin_net_gmv"] = {"all": twin.summary["net_gmv"]} | {
        m: v["net_gmv"] for m, v in twin.summary_by_market.items()}
    for summary, base in ((result.summary, twin.summary),
                          *((result.summary_by_market[m], twin.summary_by_market[m]) for m in result.summary_by_market)):
        spend = summary["incentive_spend"]
        summary["incentive_roi"] = (summary["net_gmv"] - base["net_gmv"]) / spend if spend > 0 else float("nan")


def _result(model: LiveShopModel, runtime: float) -> RunResult:
    markets = ["all", *model.market_names]
    rows = []
    for day, snapshot in enumerate(model.history, start=1):
        for m in markets:
            rows.append({"day": day, "market": m, **snapshot[m]})
    daily = pd.DataFrame(rows, columns=["day", "market", *METRICS])
    daily["day"] = daily["day"].astype("int32")
    series = {m: {name: daily.loc[daily["market"] == m, name].tolist() for name in METRICS} for m in markets}
    # Days the run summaries leave out (scenario.warmup_days), kept in the table and marked.
    daily.insert(2, "warmup", daily["day"] <= model.config.effective_warmup)
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
        events=model.events.frame(model) if isinstance(model.events, EventLog) else None,
        summary=summary["all"],
        summary_by_market={m: summary[m] for m in model.market_names},
        ledger=model.ledger.as_dict(),
        campaigns=campaigns,
        runtime_s=runtime,
        seed_entropy=int(model.seed_sequence.entropy),
        trends=trends_frame([t.record() for t in model.timeline.trends]),
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
            "type": pd.Categorical.from_codes(c.col("ctype"), creator_type_names()),
            "tactic": pd.Categorical.from_codes(c.col("tactic"), tactic_names()),
            "state": pd.Categorical.from_codes(c.col("state"), [s.name for s in CreatorState]),
        }
    )
    for name in (
        "followers", "quality", "skill", "streams_per_week", "commission_rate", "intensity", "level",
        "joined_day", "left_day", "earnings", "profit", "bonus_paid", "gmv", "orders", "streams", "violating_streams",
        "views", "settled", "refunded", "bad_outcomes", "complaints", "reports", "ladder", "sanctions",
        "frozen", "suspended", "suspended_until",
    ):
        frame[name] = c.col(name).copy()
    trends = [t.cfg.name for t in model.timeline.trends]
    if trends:  # which trend changed the account (an adopter, a cohort's account): ground truth
        frame["trend"] = pd.Categorical.from_codes(c.col("trend").astype(np.int64), trends)
    return frame


APPEAL_STATES = ("none", "will_appeal", "pending", "upheld", "overturned")


def sanctions_frame(model: LiveShopModel) -> pd.DataFrame:
    """One row per enforcement decision: who, when, why, whether it was right, what followed."""
    from sim.platform.enforcement import SANCTION_NAMES
    from sim.platform.signals import source_names

    log = model.governance.enforcer.log
    agents = {a.row: a.unique_id for a in model.agents}
    creator = log.col("creator")
    appeal = log.col("appeal").astype(np.int64)
    # An appeal still to be filed after the run ended was never filed.
    appeal = np.where(appeal == 1, 0, appeal)
    tactics = tactic_names()
    return pd.DataFrame(
        {
            "creator_id": np.array([agents[int(r)] for r in creator], dtype=np.int64),
            "actor": log.col("actor").copy(),
            "market": pd.Categorical.from_codes(log.col("market"), model.market_names),
            "creator_type": pd.Categorical.from_codes(model.creators.col("ctype")[creator],
                                                      creator_type_names()),
            "day": log.col("day").copy(),
            "violation_day": log.col("violation_day").copy(),
            "violation_hour": log.col("violation_hour").copy(),
            "decision_hour": log.col("decision_hour").copy(),
            "reports": log.col("reports").copy(),
            "hours_to_action": 24.0 * (log.col("day") - log.col("violation_day")) + log.col("decision_hour")
            - log.col("violation_hour"),
            "reason": pd.Categorical.from_codes(log.col("reason"), tactics),
            "true_label": pd.Categorical.from_codes(log.col("label"), tactics),
            "real": log.col("real").copy(),
            "source": pd.Categorical.from_codes(log.col("source"), list(source_names())),
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


def summary_document(result: RunResult, files: list[str] | None = None) -> dict[str, Any]:
    """The contents of ``summary.json``: results, and what made them (code, scenario, overrides, packages).

    ``format`` marks the folder as a livesim run (the only kind livesim will replace) and
    ``files`` lists what the run wrote, the only files a later run into the folder may remove.
    """
    return _clean(
        {
            "format": RUN_FORMAT,
            "scenario": result.scenario.name,
            "scenario_hash": scenario_hash(result.scenario),
            "seed": result.scenario.seed,
            "replication": result.replication,
            "days": result.scenario.days,
            "overrides": result.overrides,
            "livesim_version": livesim_version(),
            "provenance": provenance(),
            "files": files if files is not None else run_files(),
            "runtime_s": round(result.runtime_s, 3),
            "metrics": result.summary,
            "by_market": result.summary_by_market,
            "ledger": result.ledger,
            "campaigns": result.campaigns,
            "trends": result.trends.to_dict(orient="records"),
            "units": {name: m.unit for name, m in METRICS.items()},
        }
    )


def write_run(result: RunResult, out_dir: str | Path, *, plot: bool = True) -> Replacement:
    """Write the run's files into ``out_dir``; say whether an earlier run there was replaced.

    ``out_dir`` must be new, empty or an earlier livesim run folder (else ScenarioError, before
    anything is written). Files are written to a temporary folder beside it first and moved in
    only when all of them succeeded, so a failure never leaves half-written output; in an
    earlier run folder only livesim's own files are replaced (see :mod:`sim.outdir`).
    """
    out_dir = Path(out_dir)
    files = run_files(plot, trends=len(result.trends) > 0, events=result.events is not None)
    check_out_dir(out_dir, files)
    tmp = make_staging(out_dir)
    try:
        result.daily.to_parquet(tmp / "daily.parquet", index=False)
        result.creators.to_parquet(tmp / "creators.parquet", index=False)
        result.sanctions.to_parquet(tmp / "sanctions.parquet", index=False)
        if len(result.trends):
            result.trends.to_parquet(tmp / "trends.parquet", index=False)
        if result.events is not None:
            result.events.to_parquet(tmp / "events.parquet", index=False, compression="zstd")
        (tmp / "scenario.toml").write_text(scenario_toml(result.scenario), encoding="utf-8")
        if plot:
            from analysis.plots import daily_overview

            fig = daily_overview(result.daily, campaigns=result.campaigns, title=result.scenario.name)
            fig.savefig(tmp / "daily.png", dpi=110)
            import matplotlib.pyplot as plt

            plt.close(fig)
        doc = summary_document(result, files)
        (tmp / MARKER).write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
        return install(tmp, out_dir)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)  # our own temporary folder: only run files are in it


def write_outputs(result: RunResult, out_dir: str | Path, *, plot: bool = True) -> Path:
    """Write daily.parquet, creators.parquet, sanctions.parquet, trends.parquet (with abuse trends),
    events.parquet (when the run kept its event log), scenario.toml, summary.json and daily.png.

    The folder rules and the all-or-nothing writing of :func:`write_run` apply.
    """
    return write_run(result, out_dir, plot=plot).path
