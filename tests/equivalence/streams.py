"""Key results of many seeds, recorded once from the code before a change of random streams.

A change that alters only the random streams (how numbers are drawn, never what they mean)
must leave every result's distribution where it was. ``record`` runs the cases below on the
code as it stands and writes their key results to a JSON file; ``tests/test_equivalence.py``
runs the same cases on the current code and compares the two samples metric by metric.

    PYTHONPATH=/path/to/old/checkout python -m tests.equivalence.streams OUT.json
"""

from __future__ import annotations

import json
import subprocess
import sys
import warnings
from pathlib import Path

FORMAT = "livesim-stream-equivalence/1"
# A small baseline world, long enough for churn, sanctions and the monthly levels to act.
OVERRIDES = {"world.n_buyers": 20_000, "world.n_creators": 400, "days": 120}
# The baseline's world as the "before" sample was recorded in it (8cd42ce): sim/config.py's
# defaults for the six values the baseline has since been calibrated to (docs/model.md 7.27) and
# the review capacity of that time, so that the comparison stays one of code, not of worlds.
RECORDED_WORLD = {"world.creators.followers_alpha": 2.0, "world.creators.opportunist_intensity": 0.15,
                  "world.buyers.return_propensity_sigma": 0.4, "world.buyers.price_sensitivity_sigma": 0.3,
                  "world.buyers.report_rate": 0.02, "world.buyers.false_report_rate": 0.0007,
                  "policy.review.capacity_per_day": 75}
SEEDS = tuple(range(1000, 1024))  # 24 independent worlds
RUN_TOTALS = ("sessions", "views", "orders", "gmv", "refunded", "buyer_harm", "complaints", "reports",
              "interrupted_views", "violating_views", "violating_gmv", "offplatform_gmv")
FINAL = ("buyer_trust", "buyer_retention", "honest_creator_income", "honest_creator_retention", "active_creators",
         "adversary_share", "creator_gini", "prevalence")


def key_results(seed: int) -> dict[str, float]:
    """The key results of the small baseline world with scenario seed ``seed``."""
    from sim.model import LiveShopModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = LiveShopModel(seed=seed, **_overrides())
    while m.running:
        m.step()
    out = {f: float(m.run_totals[f].sum()) for f in RUN_TOTALS}
    final = m.metrics_today["all"]
    out.update({f: float(final[f]) for f in FINAL})
    out["buyers_active"] = float(m.buyers.stock_active.sum())
    return out


def _overrides() -> dict[str, object]:
    return {"n_buyers": OVERRIDES["world.n_buyers"], "n_creators": OVERRIDES["world.n_creators"],
            "days": OVERRIDES["days"], **RECORDED_WORLD}


def record(out: Path) -> None:
    """Run every seed on the code importable now and write the results to ``out``."""
    import sim

    commit = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                            cwd=Path(sim.__file__).resolve().parent.parent).stdout.strip()
    results = {str(seed): key_results(seed) for seed in SEEDS}
    out.write_text(json.dumps({"format": FORMAT, "commit": commit, "overrides": OVERRIDES,
                               "results": results}, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    record(Path(sys.argv[1]))
