"""livesim as a model in EMA Workbench (sim/ema.py): parameters, outcomes, compositions,
replications, reproducibility, and EMA's own analyses on its results."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from sim import ScenarioError, run
from sim.config import scenario_from_dict
from sim.ema import DEFAULT_OUTCOMES, DEFAULT_UNCERTAINTIES, LivesimFunction, ema_model, mix_shares
from sim.metrics import METRICS
from tests.conftest import tiny_dict

ema = pytest.importorskip("ema_workbench")


UNC = {"world.buyers.report_rate": (0.005, 0.08), "world.adaptation.learning_rate": (0.05, 0.6)}
LEV = {"policy.detection.threshold": (2.0, 3.5), "policy.review.capacity_per_day": (5, 60)}


@pytest.fixture(scope="module")
def small():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return scenario_from_dict({**tiny_dict(enforced=True, n_buyers=2_000, n_creators=100), "days": 20,
                                   "warmup_days": 0})


def test_parameters_follow_the_scenario_types(small) -> None:
    model = ema_model(small, uncertainties=UNC, levers={**LEV, "policy_preset": ["tiktok_points_sea", "strikes"]},
                      outcomes=["prevalence", "net_gmv", "bans"], markets=["aa"])
    unc = {p.name: p for p in model.uncertainties}
    lev = {p.name: p for p in model.levers}
    assert isinstance(unc["world.buyers.report_rate"], ema.RealParameter)
    assert (unc["world.buyers.report_rate"].lower_bound, unc["world.buyers.report_rate"].upper_bound) == (0.005, 0.08)
    assert isinstance(lev["policy.review.capacity_per_day"], ema.IntegerParameter)  # an int field
    assert isinstance(lev["policy.detection.threshold"], ema.RealParameter)
    assert isinstance(lev["policy_preset"], ema.CategoricalParameter)
    kinds = {o.name: o.kind for o in model.outcomes}
    assert list(kinds) == ["prevalence", "net_gmv", "bans", "prevalence[aa]", "net_gmv[aa]", "bans[aa]"]
    assert kinds["prevalence"] == ema.ScalarOutcome.MINIMIZE and not METRICS["prevalence"].higher_is_better
    assert kinds["net_gmv[aa]"] == ema.ScalarOutcome.MAXIMIZE and METRICS["net_gmv"].higher_is_better
    assert kinds["bans"] == ema.ScalarOutcome.INFO and METRICS["bans"].higher_is_better is None


def test_defaults_are_the_fitted_world_parameters_and_the_team_outcomes() -> None:
    model = ema_model("baseline")
    assert [p.name for p in model.uncertainties] == list(DEFAULT_UNCERTAINTIES)
    assert [o.name for o in model.outcomes] == list(DEFAULT_OUTCOMES)
    assert list(model.levers) == []


@pytest.mark.parametrize(("kwargs", "field", "allowed"), [
    ({"uncertainties": {"policy.detection.threshold": (2.0, 3.0)}}, "uncertainties.policy.detection.threshold",
     "allowed: world.*"),
    ({"levers": {"world.buyers.report_rate": (0.01, 0.02)}}, "levers.world.buyers.report_rate", "allowed: policy.*"),
    ({"uncertainties": {"world.buyers.no_such": (0.0, 1.0)}}, "world.buyers.no_such", "no_such"),
    ({"uncertainties": {"world.buyers.report_rate": (0.08, 0.005)}}, "world.buyers.report_rate", "low < high"),
    ({"levers": {"policy.review.capacity_per_day": (5.5, 60)}}, "policy.review.capacity_per_day", "integer bounds"),
    ({"uncertainties": {"world.buyers.report_rate": 0.02}}, "world.buyers.report_rate", "a range (low, high)"),
    ({"outcomes": ["prevalance"]}, "outcomes", "not a metric"),
    ({"markets": ["zz"]}, "markets", "allowed: aa, bb"),
    ({"uncertainties": {"world.creators.mix.opportunist": (0.1, 0.6), "world.creators.mix.counterfeit": (0.1, 0.5)}},
     "world.creators.mix", "leave room"),
    ({"uncertainties": UNC, "levers": {"world.buyers.report_rate": (0.01, 0.02)}}, "levers.world", "allowed"),
])
def test_bad_specifications_are_refused_before_any_run(small, kwargs, field, allowed) -> None:
    with pytest.raises(ScenarioError) as err:
        ema_model(small, **kwargs)
    message = str(err.value)
    assert field in message and allowed in message and "\n" not in message


def test_mix_shares_keep_the_composition_whole() -> None:
    base = {"honest": 0.84, "opportunist": 0.08, "counterfeit": 0.05, "ban_evader": 0.03}
    out = mix_shares(base, {"opportunist": 0.2, "counterfeit": 0.1})
    assert math.isclose(math.fsum(out.values()), 1.0, abs_tol=1e-12)
    assert (out["opportunist"], out["counterfeit"]) == (0.2, 0.1)
    # The others keep their scenario proportions: honest : ban_evader = 0.84 : 0.03.
    assert math.isclose(out["honest"], 0.7 * 0.84 / 0.87) and math.isclose(out["ban_evader"], 0.7 * 0.03 / 0.87)
    assert list(out) == list(base)


def test_a_sampled_mix_runs_with_the_shares_asked_for(small) -> None:
    fn = LivesimFunction(small, ["adversary_share"], 1)
    changes = fn.overrides_for({"world.creators.mix.opportunist": np.float64(0.3)})
    mix = changes["world.creators.mix"]
    assert mix["opportunist"] == 0.3 and math.isclose(math.fsum(mix.values()), 1.0, abs_tol=1e-9)
    result = run(small, overrides=changes)
    initial = result.creators[result.creators["joined_day"] == 0]
    share = float((initial["type"] == "opportunist").mean())
    assert abs(share - 0.3) < 3 * math.sqrt(0.3 * 0.7 / len(initial))  # binomial, 3 standard errors


def test_experiment_outcome_is_the_mean_over_common_seeds(small) -> None:
    """An experiment's outcome is the mean of replications 0..R-1 of the scenario run with its values."""
    fn = LivesimFunction(small, ["prevalence", "net_gmv[bb]"], 2)
    values = {"world.buyers.report_rate": np.float64(0.03), "policy.review.capacity_per_day": np.int64(12)}
    got = fn(**values)
    scen = small
    runs = [run(scen, r, overrides={"world.buyers.report_rate": 0.03, "policy.review.capacity_per_day": 12})
            for r in (0, 1)]
    assert got["prevalence"] == math.fsum(r.summary["prevalence"] for r in runs) / 2
    assert got["net_gmv[bb]"] == math.fsum(r.summary_by_market["bb"]["net_gmv"] for r in runs) / 2


def _experiments(model, evaluator=None):
    kwargs = {"scenarios": 6, "policies": 2, "uncertainty_sampling_kwargs": {"rng": 11},
              "lever_sampling_kwargs": {"rng": 12}}
    if evaluator is None:
        return ema.perform_experiments(model, **kwargs)
    return evaluator.perform_experiments(**kwargs)


@pytest.mark.slow
def test_perform_experiments_then_prim_is_reproducible_and_evaluator_free(small) -> None:
    """perform_experiments over the adapter, then PRIM on its results: the same seeds give the same
    experiments, outcomes and boxes, sequentially and with EMA's multiprocessing evaluator."""
    from ema_workbench.analysis import prim

    model = ema_model(small, uncertainties=UNC, levers=LEV, outcomes=["prevalence", "net_gmv"], replications=1)
    exp_a, out_a = _experiments(model)
    exp_b, out_b = _experiments(model)
    with ema.MultiprocessingEvaluator(model, n_processes=2) as evaluator:
        exp_c, out_c = _experiments(model, evaluator)
    assert len(exp_a) == 12
    cols = [p.name for p in model.uncertainties] + [p.name for p in model.levers]
    for exp, out in ((exp_b, out_b), (exp_c, out_c)):
        assert exp[cols].equals(exp_a[cols])
        for name in out_a:
            assert np.array_equal(out[name], out_a[name])
    # Worlds where prevalence is in its top third: PRIM on the uncertainties and levers.
    y = out_a["prevalence"] >= np.quantile(out_a["prevalence"], 2 / 3)
    boxes = []
    for _ in range(2):
        box = prim.Prim(exp_a[cols], y, peel_alpha=0.1).find_box()
        boxes.append((box.box_lim, box.peeling_trajectory))
    assert boxes[0][0].equals(boxes[1][0]) and boxes[0][1].equals(boxes[1][1])
    assert 0.0 < box.coverage <= 1.0 and box.density >= y.mean()


@pytest.mark.slow
def test_replicator_model_reduces_the_same_replications(small) -> None:
    mean_model = ema_model(small, uncertainties=UNC, levers={}, outcomes=["prevalence"], replications=2)
    rep_model = ema_model(small, uncertainties=UNC, levers={}, outcomes=["prevalence"], replications=2,
                          replicator=True, name="livesim_reps")
    kwargs = {"scenarios": 3, "uncertainty_sampling_kwargs": {"rng": 5}}
    _, mean_out = ema.perform_experiments(mean_model, **kwargs)
    _, rep_out = ema.perform_experiments(rep_model, **kwargs)
    assert rep_out["prevalence"].shape == (3,)
    assert np.allclose(rep_out["prevalence"], mean_out["prevalence"], rtol=1e-12, atol=0.0)


@pytest.mark.slow
def test_an_ema_users_own_function_runs_on_numpy_inputs(small) -> None:
    """Written as an EMA user writes it: a function of keyword arguments calling sim.run; EMA
    passes numpy scalars (np.int64 for an IntegerParameter), which livesim takes."""

    def livesim_fn(report_rate=0.02, learning_rate=0.3, threshold=2.5, capacity=20):
        result = run(small, overrides={"world.buyers.report_rate": report_rate,
                                       "world.adaptation.learning_rate": learning_rate,
                                       "policy.detection.threshold": threshold,
                                       "policy.review.capacity_per_day": capacity})
        return {"prevalence": result.summary["prevalence"], "buyer_harm": result.summary["buyer_harm"],
                "net_gmv": result.summary["net_gmv"]}

    model = ema.Model("livesim_user", function=livesim_fn)
    model.uncertainties = [ema.RealParameter("report_rate", 0.005, 0.08),
                           ema.RealParameter("learning_rate", 0.05, 0.6)]
    model.levers = [ema.RealParameter("threshold", 2.0, 3.5), ema.IntegerParameter("capacity", 5, 60)]
    model.outcomes = [ema.ScalarOutcome("prevalence"), ema.ScalarOutcome("buyer_harm"), ema.ScalarOutcome("net_gmv")]
    experiments, outcomes = ema.perform_experiments(model, scenarios=3, policies=2,
                                                    uncertainty_sampling_kwargs={"rng": 3},
                                                    lever_sampling_kwargs={"rng": 4})
    assert len(experiments) == 6 and np.all(np.isfinite(outcomes["net_gmv"]))


@pytest.mark.slow
def test_robust_optimize_over_two_levers_completes(small, tmp_path) -> None:
    model = ema_model(small, uncertainties=UNC, levers=LEV, outcomes=["prevalence", "net_gmv"], replications=1)
    robustness = [
        ema.ScalarOutcome("mean_prevalence", kind=ema.ScalarOutcome.MINIMIZE, variable_name="prevalence",
                          function=np.mean),
        ema.ScalarOutcome("mean_net_gmv", kind=ema.ScalarOutcome.MAXIMIZE, variable_name="net_gmv",
                          function=np.mean),
    ]
    with ema.SequentialEvaluator(model) as evaluator:
        results = evaluator.robust_optimize(robustness, 3, nfe=12, epsilons=[0.005, 100.0], population_size=4,
                                            rng=1, filename="archive.tar.gz", directory=str(tmp_path))
    frame = results[0] if isinstance(results, tuple) else results
    assert len(frame) >= 1
    assert {"policy.detection.threshold", "policy.review.capacity_per_day", "mean_prevalence"} <= set(frame.columns)
    assert frame["policy.detection.threshold"].between(2.0, 3.5).all()


def test_ema_workbench_is_an_optional_extra() -> None:
    """EMA Workbench is the `ema` extra, not a core dependency, and livesim's own commands never import it."""
    import subprocess
    import sys
    import tomllib
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    assert not any(d.lower().startswith("ema") for d in project["dependencies"])
    assert any(d.startswith("ema-workbench") for d in project["optional-dependencies"]["ema"])
    code = "import sys, sim, sim.runner, sim.cli, sim.experiment; print('ema_workbench' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root, check=True)
    assert out.stdout.strip() == "False"
