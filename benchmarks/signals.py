"""The README's monitoring example, measured: which signal caught the emerging trend first, at how
many false alarms a month, and does escalation contain it sooner than the fixed policy?

Runs scenarios/sweeps/signals.toml's variants in-process (replication r of every variant on the
same world), scores each run's alerts against its trends (analysis.signals) over the days after
the warm-up, and compares time_to_containment (with how many runs were censored), harm_during_trend,
net GMV, honest creators sanctioned and review utilisation in sg, paired by replication (mean
difference with its 95 % CI, paired t-test and Wilcoxon signed-rank test). Writes a plot to --plot.

    python benchmarks/signals.py --reps 24 --workers 2 --plot docs/signals_example.png

``--calibrate N`` instead sets each signal's limit the way a team would before switching it on:
it runs the fixed policy on N other replications (seeds the comparison never uses), stops them
the day before the trends' onset, and prints, per signal, the lowest limit whose alarms on that
quiet history stay within ``--budget`` false alarms per 30 days (analysis.signals.calibrate_limit).
The limits in scenarios/emerging_trend.toml were set this way:

    python benchmarks/signals.py --calibrate 6 --budget 1.0

``--footprint`` instead asks how much the trend moves what the signals watch, and how often they
would "detect" it by chance: replication r of the fixed policy runs twice, with the trends and
without them (the same world up to the onset), and the benchmark prints, per day after the onset,
sg's mean excess of reports, complaints and refunded orders over the trend-free twin with the
noise of that excess, and each signal's detected share and delay on both worlds (on the
trend-free twin every alarm in sg from the onset counts as a "detection": what chance alone gives
at the signal's false-alarm rate):

    python benchmarks/signals.py --footprint --reps 24 --workers 2
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np
import pandas as pd


def _one(args: tuple[str, int]) -> dict:
    from analysis.signals import evaluate
    from sim.runner import run
    from sim.sweep import load_sweep

    variant, rep, sweep = args
    scenario = load_sweep(sweep).variants[variant]
    r = run(scenario, rep)
    warm = scenario.effective_warmup
    ev = evaluate(r.alerts[r.alerts["day"] > warm], r.trends, scenario.days - warm)
    sg = r.summary_by_market["sg"]
    daily = r.daily[r.daily["market"] == "sg"][["day", "prevalence_counterfeit", "flags"]].assign(variant=variant, rep=rep)
    return {"variant": variant, "rep": rep, "evaluation": ev.assign(variant=variant, rep=rep),
            "time_to_containment": sg["time_to_containment"], "trend_contained": sg["trend_contained"],
            "harm_during_trend": sg["harm_during_trend"], "net_gmv": sg["net_gmv"],
            "honest_sanctioned_per_10k": sg["honest_sanctioned_per_10k"], "review_utilisation": sg["review_utilisation"],
            "controller_actions": sg.get("controller_actions", 0.0), "daily": daily}


def _twin(args: tuple[int, bool, str]) -> dict:
    """One fixed-policy world with or without its trends: sg's daily observed counts, the alerts
    after the warm-up and the trends' record (empty without them)."""
    from sim.runner import run
    from sim.sweep import load_sweep

    rep, with_trends, sweep = args
    scenario = load_sweep(sweep).variants["baseline"]
    if not with_trends:
        scenario = scenario.model_copy(update={"timeline": [e for e in scenario.timeline if e.kind != "trend"]})
    r = run(scenario, rep)
    warm = scenario.effective_warmup
    daily = r.daily[r.daily["market"] == "sg"].set_index("day")
    refunded = daily["refund_rate"] * daily["orders"]
    counts = pd.DataFrame({"reports": daily["reports"], "complaints": daily["complaints"], "refunds": refunded,
                           "views": daily["views"]})
    return {"rep": rep, "trend": with_trends, "alerts": r.alerts[r.alerts["day"] > warm], "trends": r.trends,
            "days": scenario.days - warm, "counts": counts}


def footprint(reps: range, workers: int, sweep: str) -> None:
    """Print the trend's footprint on sg's observed counts and each signal's delay with and without it."""
    from sim.sweep import load_sweep

    scenario = load_sweep(sweep).variants["baseline"]
    onset = min(e.start_day for e in scenario.timeline if e.kind == "trend")
    with ProcessPoolExecutor(workers) as pool:
        out = list(pool.map(_twin, [(r, t, sweep) for r in reps for t in (True, False)]))
    by = {(o["rep"], o["trend"]): o for o in out}
    print(f"sg's excess over the trend-free twin, replications {reps.start}-{reps.stop - 1}, paired (onset day {onset}):")
    print("  day  " + "  ".join(f"{k:>22}" for k in ("reports", "complaints", "refunds")) +
          "   cumulative reports z")
    base = np.array([by[r, False]["counts"].loc[onset - 28:onset - 1, "reports"].mean() for r in reps])
    for d in range(8):
        cells = []
        for k in ("reports", "complaints", "refunds"):
            x = np.array([by[r, True]["counts"].loc[onset + d, k] - by[r, False]["counts"].loc[onset + d, k]
                          for r in reps])
            cells.append(f"{x.mean():+7.2f} (sd {x.std(ddof=1):5.2f})")
        cum = np.array([(by[r, True]["counts"].loc[onset:onset + d, "reports"].sum()
                         - by[r, False]["counts"].loc[onset:onset + d, "reports"].sum()) for r in reps])
        # The excess summed from the onset, in units of its noise under the null (Poisson: sqrt(2 n mu)).
        z = np.median(cum / np.sqrt(2 * (d + 1) * base))
        print(f"  {onset + d:>3}  " + "  ".join(f"{c:>22}" for c in cells) + f"   {z:+.2f}")
    print(f"  (sg's reports before the onset: {base.mean():.1f} a day)")
    from analysis.signals import evaluate

    # The twin is scored against its trend run's record: the same onset and affected group.
    ev = pd.concat([evaluate(o["alerts"], by[o["rep"], True]["trends"], o["days"]).assign(
        rep=o["rep"], world="trend" if o["trend"] else "no trend") for o in out], ignore_index=True)
    ev = ev[ev["trend"] == "counterfeit_wave"]
    table = ev.groupby(["signal", "world"], sort=False).agg(
        detected=("detected", "sum"), within_6_days=("delay_days", lambda x: int((x <= 6).sum())),
        median_delay_days=("delay_days", "median"), mean_delay_days=("delay_days", "mean"),
        false_alarms_per_30d=("false_alarms_per_30d", "mean")).unstack("world")
    print(f"\nEach signal with the trend and on its trend-free twin (detections of {len(reps)}; on the twin every alarm "
          "in sg from the onset counts):")
    print(table.round(2).to_string())


# The parameter that holds each detector kind's limit (pelt's penalty is no limit on a score).
LIMIT_FIELD = {"threshold": "limit", "zscore": "z", "ewma": "limit", "cusum": "h"}
CALIBRATION_REPS = 1000  # first replication of the calibration histories (never compared)


def _history(rep: int) -> pd.DataFrame:
    from sim.runner import run
    from sim.sweep import load_sweep

    scenario = load_sweep("scenarios/sweeps/signals.toml").variants["baseline"]
    onset = min(e.start_day for e in scenario.timeline if e.kind == "trend")
    quiet = scenario.model_copy(update={"days": onset - 1})
    r = run(quiet, rep)
    return r.alerts[r.alerts["day"] > scenario.effective_warmup].assign(run=rep)


def calibrate(n: int, budget: float, workers: int) -> None:
    """Print each signal's limit calibrated on ``n`` quiet histories."""
    from analysis.signals import calibrate_limit
    from sim.sweep import load_sweep

    scenario = load_sweep("scenarios/sweeps/signals.toml").variants["baseline"]
    onset = min(e.start_day for e in scenario.timeline if e.kind == "trend")
    days = (onset - 1 - scenario.effective_warmup) * n
    with ProcessPoolExecutor(workers) as pool:
        alerts = pd.concat(pool.map(_history, range(CALIBRATION_REPS, CALIBRATION_REPS + n)), ignore_index=True)
    print(f"Limits within {budget} false alarms / 30 days on {n} quiet histories ({days} days):")
    for s in scenario.signals:
        field = LIMIT_FIELD.get(s.detector.kind)
        if field is None:
            print(f"  {s.name}: {s.detector.kind} has no limit to calibrate")
            continue
        mine = alerts[alerts["signal"] == s.name]
        try:
            limit = calibrate_limit(mine, budget, days, getattr(s.detector, "direction", "up"))
        except ValueError as e:
            print(f"  {s.name}: {e}")
            continue
        print(f"  {s.name}: {s.detector.kind} {field} = {getattr(s.detector, field)} now; calibrated {limit:.3g}")


def main() -> None:
    from scipy import stats

    from analysis.signals import rank_signals

    p = argparse.ArgumentParser()
    p.add_argument("--reps", type=int, default=8)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--variants", default="baseline,escalate")
    p.add_argument("--budget", type=float, default=2.0)
    p.add_argument("--plot", default="")
    p.add_argument("--calibrate", type=int, default=0)
    p.add_argument("--sweep", default="scenarios/sweeps/signals.toml")
    p.add_argument("--footprint", action="store_true")
    p.add_argument("--first-rep", type=int, default=0, help="first replication (the README's are 0-23)")
    a = p.parse_args()
    if a.footprint:
        footprint(range(a.first_rep, a.first_rep + a.reps), a.workers, a.sweep)
        return
    if a.calibrate:
        calibrate(a.calibrate, a.budget, a.workers)
        return
    variants = a.variants.split(",")
    jobs = [(v, r, a.sweep) for r in range(a.first_rep, a.first_rep + a.reps) for v in variants]
    with ProcessPoolExecutor(a.workers) as pool:
        out = list(pool.map(_one, jobs))
    ev = pd.concat([o["evaluation"] for o in out if o["variant"] == "baseline"], ignore_index=True)
    ev = ev[ev["trend"] == "counterfeit_wave"]
    pooled = ev.groupby("signal", sort=False).agg(
        detected=("detected", "mean"), median_delay_days=("delay_days", "median"),
        mean_delay_days=("delay_days", "mean"), false_alarms_per_30d=("false_alarms_per_30d", "mean"),
        precision=("precision", "mean"))
    print(f"Signals on the fixed policy, {a.reps} replications from {a.first_rep} (trend counterfeit_wave, onset day 90):")
    print(pooled.round(2).to_string())
    print(f"\nRanked by delay within {a.budget} false alarms / 30 days (mean over replications):")
    mean_ev = ev.groupby(["signal", "trend"], sort=False).mean(numeric_only=True).reset_index()
    mean_ev["detected"] = mean_ev["detected"] > 0.5
    print(rank_signals(mean_ev, a.budget).round(2).to_string())
    res = pd.DataFrame([{k: v for k, v in o.items() if k not in ("evaluation", "daily")} for o in out])
    contained = res.groupby("variant", sort=False)["trend_contained"].agg(["sum", "size"])
    print("\nContained before the run's end (else time_to_containment is censored there):")
    for v, row in contained.iterrows():
        print(f"  {v}: {int(row['sum'])}/{int(row['size'])}")
    for metric in ("time_to_containment", "harm_during_trend", "net_gmv", "honest_sanctioned_per_10k",
                   "review_utilisation"):
        wide = res.pivot(index="rep", columns="variant", values=metric)
        print(f"\n{metric} in sg, per replication:\n{wide.round(1).to_string()}")
        for v in variants[1:]:
            d = (wide[v] - wide["baseline"]).to_numpy()
            t = stats.ttest_rel(wide[v], wide["baseline"])
            w = stats.wilcoxon(d) if np.any(d != 0) else None
            half = stats.t.ppf(0.975, d.size - 1) * d.std(ddof=1) / np.sqrt(d.size)
            print(f"{v} - baseline: mean {d.mean():.2f} (95 % CI {d.mean() - half:.2f} to {d.mean() + half:.2f}; "
                  f"sd {d.std(ddof=1):.2f}); paired t p = {t.pvalue:.4f}; Wilcoxon p = "
                  f"{w.pvalue if w else float('nan'):.4f}; {int((d < 0).sum())}/{d.size} lower")
    if a.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        daily = pd.concat([o["daily"] for o in out], ignore_index=True)
        fig, axes = plt.subplots(1, 3, figsize=(17, 4.2))
        for v, g in daily.groupby("variant", sort=False):
            m = g.groupby("day")["prevalence_counterfeit"].mean().rolling(7, min_periods=1).mean()
            axes[0].plot(m.index, m.to_numpy(), label=v)
        axes[0].axvline(90, color="k", ls="--", lw=0.8)
        axes[0].set(title="counterfeit prevalence in sg (7-day mean over replications)", xlabel="day")
        axes[0].legend()
        order = pooled.sort_values("mean_delay_days").index
        axes[1].barh(list(order), pooled.loc[order, "mean_delay_days"], color="tab:blue")
        for i, s in enumerate(order):
            axes[1].text(pooled.loc[s, "mean_delay_days"] if pooled.loc[s, "mean_delay_days"] == pooled.loc[s, "mean_delay_days"] else 0,
                         i, f"  {pooled.loc[s, 'false_alarms_per_30d']:.1f} FA/30d", va="center", fontsize=8)
        axes[1].set(title="mean detection delay (days) and false alarms per 30 days", xlabel="days after onset")
        wide = res.pivot(index="rep", columns="variant", values="time_to_containment")
        for v in variants[1:]:
            axes[2].scatter(wide["baseline"], wide[v], label=v, s=18)
        top = float(np.nanmax(wide.to_numpy())) + 2
        axes[2].plot([0, top], [0, top], color="k", lw=0.8, ls="--")
        axes[2].set(title="days to containment in sg, paired", xlabel="fixed policy",
                    ylabel="with the controller", xlim=(0, top), ylim=(0, top))
        axes[2].legend()
        fig.tight_layout()
        fig.savefig(a.plot, dpi=100)


if __name__ == "__main__":
    main()
