"""Does escalation's stricter KYC in a fired category shrink a ring of new counterfeit sellers?

The world of scenarios/emerging_trend.toml (30,000 buyers, 800 creators, its category-grouped
signals) with one trend instead of its wave: a cohort of ``--per-day`` counterfeit accounts a day
arriving in sg's beauty category for 30 days from day 90 (one actor, a ring). Two arms on the same
worlds (replication r of both): the fixed policy, and an escalation whose only change is ``kyc``
(stricter KYC for new accounts in each fired category of sg for 21 days after the last alarm).
Paired by replication: the ring's accounts that joined, counterfeit harm to buyers in sg after the
onset (harm_during_trend) and honest newcomers in sg deterred, as mean difference (KYC - fixed)
with its 95 % CI, paired t-test and Wilcoxon signed-rank test.

    python benchmarks/kyc_cohort.py --reps 12 --workers 2
"""

from __future__ import annotations

import argparse
from concurrent.futures import ProcessPoolExecutor

import numpy as np

ONSET, DAYS = 90, 30
SIGNALS = ("complaints_by_category_ewma", "reports_by_category_ewma", "complaints_by_category")


def scenario(kyc: float | None, per_day: int, friction: float | None):
    """The emerging-trend world with a beauty ring in sg, and (kyc given) the KYC escalation."""
    from sim.config import load_scenario, scenario_from_dict

    base = load_scenario("scenarios/emerging_trend.toml").model_dump(mode="json", exclude_none=True)
    data = {k: v for k, v in base.items() if k in ("name", "days", "warmup_days", "seed", "world", "policy")}
    data["timeline"] = [{"kind": "trend", "trend": "cohort", "name": "ring", "tactic": "counterfeit",
                         "markets": ["sg"], "categories": ["beauty"], "start_day": ONSET, "days": DAYS,
                         "accounts_per_day": per_day, "shared_actor": True}]
    data["signals"] = [s for s in base["signals"] if s["name"] in SIGNALS]
    if friction is not None:
        data["policy"]["onboarding"]["kyc_friction"] = friction
    if kyc is not None:
        data["controllers"] = [{"kind": "escalation", "name": "kyc", "signal": list(SIGNALS), "markets": ["sg"],
                                "days": 21, "kyc": kyc}]
    return scenario_from_dict(data)


def _one(args: tuple[float | None, int, float | None, int]) -> dict:
    from sim.runner import run

    kyc, per_day, friction, rep = args
    r = run(scenario(kyc, per_day, friction), rep)
    sg = r.summary_by_market["sg"]
    c = r.creators
    honest_new = int(((c["market"] == "sg") & (c["joined_day"] >= ONSET) & (c["type"] == "honest")).sum())
    actions = r.controller_actions
    fired_beauty = actions is not None and bool(actions["change"].str.contains("'beauty'").any())
    return {"arm": "fixed" if kyc is None else "kyc", "rep": rep, "accounts": int(r.trends["accounts"].iloc[0]),
            "harm_during_trend": sg["harm_during_trend"], "honest_newcomers": honest_new,
            "fired_beauty": fired_beauty}


def paired(a: np.ndarray, b: np.ndarray) -> str:
    from scipy import stats

    d = b - a
    n = d.size
    half = stats.t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 1 else np.nan
    t = stats.ttest_rel(b, a).pvalue if d.std() > 0 else (0.0 if d.mean() else 1.0)
    w = stats.wilcoxon(d).pvalue if np.any(d) else 1.0
    return f"mean {d.mean():+.2f} (95 % CI {d.mean() - half:+.2f} to {d.mean() + half:+.2f}), paired t p = {t:.2g}, " \
           f"Wilcoxon p = {w:.2g}; fixed mean {a.mean():.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--reps", type=int, default=12)
    ap.add_argument("--first", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--kyc", type=float, default=0.9)
    ap.add_argument("--per-day", type=int, default=4)
    ap.add_argument("--friction", type=float, default=None, help="onboarding.kyc_friction (default: the scenario's)")
    args = ap.parse_args()
    reps = range(args.first, args.first + args.reps)
    jobs = [(k, args.per_day, args.friction, r) for r in reps for k in (None, args.kyc)]
    with ProcessPoolExecutor(args.workers) as pool:
        rows = list(pool.map(_one, jobs))
    fixed = sorted((r for r in rows if r["arm"] == "fixed"), key=lambda r: r["rep"])
    kyc = sorted((r for r in rows if r["arm"] == "kyc"), key=lambda r: r["rep"])
    print(f"{args.reps} paired replications from {args.first}; kyc {args.kyc}; ring {args.per_day}/day x {DAYS} days; "
          f"friction {args.friction or 'scenario'}; beauty fired in {sum(r['fired_beauty'] for r in kyc)}")
    for key in ("accounts", "harm_during_trend", "honest_newcomers"):
        a = np.array([r[key] for r in fixed], dtype=float)
        b = np.array([r[key] for r in kyc], dtype=float)
        print(f"{key}: {paired(a, b)}")
        print("   per rep (fixed, kyc):", [(float(round(x, 1)), float(round(y, 1))) for x, y in zip(a, b, strict=True)])


if __name__ == "__main__":
    main()
