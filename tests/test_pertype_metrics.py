"""Per-tactic harm and enforcement metrics, and the metrics of harm to honest creators.

``prevalence_<tactic>`` and ``recall_<tactic>`` exist for every registered tactic (a plug-in
too) and add up to ``prevalence`` and ``enforcement_recall``; ``honest_sanctioned_per_10k`` and
``honest_wrongful_bans`` agree with a recount from the run's creators.parquet and
sanctions.parquet.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from sim import LiveShopModel
from sim.config import scenario_from_dict
from sim.metrics import METRICS
from sim.runner import run, write_outputs
from sim.tactics import kinds, register, unregister
from tests.conftest import run_to_end, tiny_dict
from tests.plugins.test_toy_tactic import HiddenFees

# The day counters kept per tactic (``<prefix>_<tactic>``) and their platform-wide totals.
TACTIC_COUNTER_PREFIXES = ("violating_views", "violating_streams", "violations_actioned")


def _data(days: int = 40) -> dict:
    data = tiny_dict(enforced=True, n_buyers=6_000, n_creators=300)
    data["days"] = days
    return data


@pytest.fixture(scope="module")
def enforced() -> LiveShopModel:
    return run_to_end(_data())


@pytest.fixture
def hidden_fees() -> Iterator[None]:
    register(HiddenFees)
    try:
        yield
    finally:
        unregister("hidden_fees")


def test_every_registered_tactic_has_its_metric_pair() -> None:
    """Each built-in tactic (the typologies and the accidental minor breach) has prevalence_ and recall_ metrics."""
    names = {k.name for k in kinds()}
    assert {"counterfeit", "misleading_claims", "fake_engagement", "offplatform_diversion", "incentive_fraud",
            "minor"} <= names
    for name in names:
        assert f"prevalence_{name}" in METRICS and f"recall_{name}" in METRICS
        assert METRICS[f"recall_{name}"].counters == (f"violations_actioned_{name}", f"violating_streams_{name}")


def test_per_tactic_counters_add_up_to_the_overall_ones(enforced: LiveShopModel) -> None:
    """Over the tactics, violating views, violating streams and actioned violations add up exactly to the overall counters, in every market."""
    totals = enforced.totals
    for prefix in TACTIC_COUNTER_PREFIXES:
        per_tactic = sum(totals[f"{prefix}_{k.name}"] for k in kinds())
        np.testing.assert_array_equal(per_tactic, totals[prefix])
    assert totals["violating_streams"].sum() > 50 and totals["violations_actioned"].sum() > 10


def test_per_tactic_prevalences_sum_to_prevalence(enforced: LiveShopModel) -> None:
    """Daily and run values: the per-tactic prevalences sum to prevalence (up to float rounding) for the platform and each market."""
    from sim.runner import _result

    res = _result(enforced, 0.0)
    names = [k.name for k in kinds()]
    daily = res.daily
    per_tactic = daily[[f"prevalence_{n}" for n in names]].sum(axis=1)
    np.testing.assert_allclose(per_tactic, daily["prevalence"], rtol=1e-12, atol=0)
    assert daily["prevalence"].max() > 0
    for summary in (res.summary, *res.summary_by_market.values()):
        assert sum(summary[f"prevalence_{n}"] for n in names) == pytest.approx(summary["prevalence"], rel=1e-12)


def test_per_tactic_recall_is_its_counters_ratio(enforced: LiveShopModel) -> None:
    """recall_<tactic> is actioned over violating streams of that tactic; weighted by those streams, the recalls give enforcement_recall."""
    from sim.runner import _result

    res = _result(enforced, 0.0)
    t = enforced.totals
    weighted = 0.0
    for k in kinds():
        den = t[f"violating_streams_{k.name}"].sum()
        num = t[f"violations_actioned_{k.name}"].sum()
        if den > 0:
            assert res.summary[f"recall_{k.name}"] == pytest.approx(num / den, rel=1e-12)
            weighted += res.summary[f"recall_{k.name}"] * den
        else:
            assert np.isnan(res.summary[f"recall_{k.name}"])
    assert weighted / t["violating_streams"].sum() == pytest.approx(res.summary["enforcement_recall"], rel=1e-12)


def test_a_plugin_tactic_gets_its_own_metrics(hidden_fees: None) -> None:
    """Registering a tactic from outside livesim adds its pair (recorded and adding up like a built-in's); unregistering removes it."""
    assert "prevalence_hidden_fees" in METRICS and "recall_hidden_fees" in METRICS
    data = _data(days=30)
    data["world"]["creators"] = {"mix": {"honest": 0.74, "hidden_fees": 0.10}}
    model = run_to_end(data)
    t = model.totals
    assert t["violating_streams_hidden_fees"].sum() > 0 and t["violating_views_hidden_fees"].sum() > 0
    for prefix in TACTIC_COUNTER_PREFIXES:
        np.testing.assert_array_equal(sum(t[f"{prefix}_{k.name}"] for k in kinds()), t[prefix])
    unregister("hidden_fees")
    assert "prevalence_hidden_fees" not in METRICS and "recall_hidden_fees" not in METRICS


def _harsh(days: int = 60) -> dict:
    """A world where honest creators are banned now and then: every decision whose reason is the
    minor breach (the reason of a flag that points at no known violation) costs 48 points, and
    review is sloppy, so honest creators draw wrongful and rightful bans alike."""
    data = _data(days=days)
    data["policy"] = {
        "detection": {"threshold": 1.5},
        "review": {"specificity": 0.6, "capacity_per_day": 400},
        "enforcement": {"kind": "points", "points": {"minor": [48.0, 48.0]}},
    }
    return data


@pytest.fixture(scope="module")
def harsh_outputs(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, pd.DataFrame, pd.DataFrame]:
    res = run(scenario_from_dict(_harsh()))
    out: Path = tmp_path_factory.mktemp("harsh")
    write_outputs(res, out, plot=False)
    return res.summary, pd.read_parquet(out / "creators.parquet"), pd.read_parquet(out / "sanctions.parquet")


def test_honest_wrongful_bans_recount(harsh_outputs: tuple[dict, pd.DataFrame, pd.DataFrame]) -> None:
    """honest_wrongful_bans equals the sanctions.parquet rows that banned an honest creator on a stream that did not violate; wrongful_bans counts every creator type."""
    summary, _, sanctions = harsh_outputs
    wrongful = sanctions["ban"] & ~sanctions["real"]
    honest = sanctions["creator_type"] == "honest"
    assert summary["honest_wrongful_bans"] == (wrongful & honest).sum() > 0
    assert summary["wrongful_bans"] == wrongful.sum() >= summary["honest_wrongful_bans"]


def test_honest_sanctioned_per_10k_recount(harsh_outputs: tuple[dict, pd.DataFrame, pd.DataFrame]) -> None:
    """honest_sanctioned_per_10k equals honest creators with a decision not overturned, per 10,000 honest accounts, from either file."""
    summary, creators, sanctions = harsh_outputs
    honest = creators["type"] == "honest"
    from_creators = 10_000 * (honest & (creators["sanctions"] > 0)).sum() / honest.sum()
    standing = sanctions[(sanctions["creator_type"] == "honest") & ~sanctions["overturned"]]
    from_sanctions = 10_000 * standing["creator_id"].nunique() / honest.sum()
    assert summary["honest_sanctioned_per_10k"] == pytest.approx(from_creators, rel=1e-12)
    assert from_sanctions == pytest.approx(from_creators, rel=1e-12)
    assert 0 < summary["honest_sanctioned_per_10k"] < 10_000
