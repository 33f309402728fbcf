"""Deterrence: adaptive creators respond to the certainty and the severity of sanctions.

The levers, on paired seeds (same scenario seed and replication, only the lever differs), in
the baseline world with weak classifiers (d' 1.2-2.5), classifier-only detection and unlimited review, so that the share of
violating streams sanctioned is set by the reviewers' ``sensitivity``:

- *certainty*: ``policy.review.sensitivity`` 0.3 -> 0.6, which doubles the realised share of
  adversaries' violating streams that draw a decision (checked below);
- *severity*: every tactic's points range doubled (``policy.enforcement.points``), so each
  decision moves the creator twice as far up the points ladder towards its sanctions.

The outcome is adversary intensity: the mean ``intensity`` of live adversarial creators
(``sim.tactics.adversary_type_codes``) over the last 60 days.
"""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest

from sim import LiveShopModel
from sim.config import load_scenario, scenario_from_dict
from sim.labels import CreatorType
from sim.tactics import adversary_type_codes, kinds
from tests.conftest import tiny_dict

REPLICATIONS = 6
WEAK_DPRIME = {"counterfeit": 2.5, "misleading_claims": 1.8, "fake_engagement": 2.2, "offplatform_diversion": 1.5,
               "incentive_fraud": 1.5, "minor": 1.2}


def _policy(sensitivity: float = 0.3, points_scale: float = 1.0) -> dict:
    points = {k.name: [k.points[0] * points_scale, k.points[1] * points_scale] for k in kinds()}
    return {"policy.detection.report_threshold": 10_000, "policy.detection.complaint_threshold": 10_000,
            "policy.review.capacity_per_day": 100_000, "policy.review.auto_action": False,
            "policy.review.sensitivity": sensitivity, "policy.enforcement.points": points,
            # Weak classifiers, fixed here so that recalibrating the defaults leaves the test's
            # world as measured: most violations go unflagged and certainty has room to act.
            "policy.detection.dprime": dict(WEAK_DPRIME)}


LEVERS = {"base": _policy(), "certainty_x2": _policy(sensitivity=0.6), "severity_x2": _policy(points_scale=2.0)}


def _trajectory(model: LiveShopModel) -> np.ndarray:
    """Run to the end; the mean intensity of live adversarial creators on each day."""
    c = model.creators
    out = []
    while model.running:
        model.step()
        adv = np.isin(c.col("ctype"), adversary_type_codes()) & c.live_mask()
        out.append(float(c.col("intensity")[adv].mean()))
    return np.array(out)


@cache
def _lever_run(lever: str, replication: int) -> tuple[float, float]:
    """(adversary intensity over the last 60 days, share of adversaries' violating streams
    that drew a confirmed decision) for one lever and replication of the baseline world."""
    model = LiveShopModel(scenario="baseline", replication=replication, **LEVERS[lever])
    intensity = _trajectory(model)[-60:].mean()
    c = model.creators
    adv = np.isin(c.col("ctype"), adversary_type_codes())
    log = model.governance.enforcer.log
    real, creator = log.col("real")[: log.n], log.col("creator")[: log.n]
    rate = (real & adv[creator]).sum() / max(1, c.col("violating_streams")[adv].sum())
    return float(intensity), float(rate)


def _mean(lever: str) -> tuple[float, float]:
    runs = np.array([_lever_run(lever, r) for r in range(REPLICATIONS)])
    return float(runs[:, 0].mean()), float(runs[:, 1].mean())


@pytest.mark.slow
def test_doubling_severity_lowers_adversary_intensity():
    """Twice the points per violation: adversaries violate less (paired replications), while
    the share of violating streams sanctioned stays about the same."""
    base_i, base_rate = _mean("base")
    sev_i, sev_rate = _mean("severity_x2")
    assert sev_i < base_i - 0.03, (base_i, sev_i)
    assert abs(sev_rate / base_rate - 1.0) < 0.25, (base_rate, sev_rate)


@pytest.mark.slow
def test_doubling_certainty_lowers_intensity_more_than_doubling_severity():
    """Both act, certainty more (Nagin: certainty deters more than severity): twice the chance a
    violating stream is sanctioned deters more than twice the points, and twice the points
    deters at least the share 2^gamma - 1 of it that the creators' pricing gives severity.

    A creator's perceived cost is p x D x (C / D)^gamma (sim/agents/adaptation.py): doubling the
    cost C raises it by 2^gamma - 1 (32 % at gamma 0.4), doubling the true chance p by at most
    100 % (the perceived chance moves less than the true one under its prior), so severity's
    effect is at least that share of certainty's. No larger share is claimed: the literature
    finds severity's marginal effect small, possibly zero (docs/validation.md)."""
    base_i, base_rate = _mean("base")
    cert_i, cert_rate = _mean("certainty_x2")
    sev_i, _ = _mean("severity_x2")
    gamma = load_scenario("baseline").world.adaptation.severity_exponent
    assert 1.6 < cert_rate / base_rate < 2.4, (base_rate, cert_rate)  # the lever doubles certainty
    assert cert_i < base_i - 0.05, (base_i, cert_i)
    assert cert_i < sev_i - 0.01, (cert_i, sev_i)
    assert base_i - sev_i > (2.0**gamma - 1.0) * (base_i - cert_i), (base_i, sev_i, cert_i, gamma)


def test_no_first_decision_collapse_without_enforcement():
    """With detection off nothing punishes violating: the first decisions (staggered over the
    first week, untried actions valued from a prior) do not drag adversary intensity down."""
    model = LiveShopModel(scenario="baseline", replication=0, days=21, **{"policy.detection.enabled": False})
    intensity = _trajectory(model)
    start = intensity[0]
    # What remains is learning, slow and per creator: without sanctions bought engagement still
    # loses money and overclaiming pays better at low intensity, so intensity drifts down a little.
    assert intensity[6:14].mean() > 0.8 * start, (start, intensity[6:14])
    assert intensity[13] > 0.75 * start, (start, intensity[13])


def _warned(warning: bool) -> tuple[float, float, float]:
    """Perceived sanction chance of one adversary for its tactic, before and after one decision
    that crosses a milestone whose sanction is a bare warning (or nothing at all)."""
    data = tiny_dict(enforced=True)
    data["days"] = 5
    data["policy"] = {"enforcement": {"kind": "points", "milestones": [
        {"at": 1.0, "sanction": {"warning": warning}}]}}
    model = LiveShopModel(scenario=scenario_from_dict(data))
    model.step()
    c = model.creators
    cr = int(np.flatnonzero(c.col("ctype") == CreatorType.counterfeit)[0])
    tactic = int(c.col("tactic")[cr])
    before = model.learner.perceived(np.array([cr]))[0, tactic]
    model.governance.enforcer.decide(
        creator=np.array([cr]), violation_day=np.array([model.day]), reason=np.array([tactic], dtype=np.int8),
        label=np.array([tactic], dtype=np.int8), real=np.array([True]), source=np.array([0]),
        auto=np.array([False]), proactive=np.array([True]), rng=np.random.default_rng(0),
    )
    assert model.governance.enforcer.log.col("milestone")[0] == 0
    after = model.learner.perceived(np.array([cr]))[0, tactic]
    return float(before), float(after), float(model.learner.trials[cr, tactic])


def test_a_warning_raises_the_perceived_chance_of_sanction():
    """A warning is not a bare label: the warned creator believes itself more likely caught."""
    before, after, trials = _warned(warning=True)
    cfg = LiveShopModel(scenario=scenario_from_dict(tiny_dict(enforced=True))).config.world.adaptation
    # The Beta update: at least one more sanction (warning_weight) among the creator's own
    # streams and the prior's weight; its peers hear of it too, which adds a little more.
    assert after - before >= cfg.warning_weight / (cfg.prior_strength + trials) - 1e-12
    assert after - before < 2 * cfg.warning_weight / (cfg.prior_strength + trials)
    quiet_before, quiet_after, _ = _warned(warning=False)
    assert quiet_after == quiet_before
