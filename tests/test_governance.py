"""Governance: detection, review, enforcement ladders, appeals, onboarding and adaptation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sim import LiveShopModel, run
from sim.config import load_scenario, scenario_from_dict
from sim.errors import ScenarioError
from sim.labels import CreatorState, CreatorType, Tactic
from tests.conftest import EVADERS_ONLY, ROOT, ban_everyone, tiny_dict

PERFECT_DPRIME = dict.fromkeys(
    ("counterfeit", "misleading_claims", "fake_engagement", "offplatform_diversion", "incentive_fraud", "minor"), 10.0
)


def _enforced(policy: dict | None = None, days: int = 30, **world: object) -> dict:
    data = tiny_dict(enforced=True, **world)
    data["days"] = days
    data["policy"] = policy or {}
    return data


def _model(data: dict, **overrides) -> LiveShopModel:
    return LiveShopModel(scenario=scenario_from_dict(data), **overrides)


def _run(model: LiveShopModel) -> LiveShopModel:
    while model.running:
        model.step()
    return model


def _classifier_only(extra: dict | None = None) -> dict:
    """Only the classifiers flag (no reports, no complaint spikes)."""
    detection = {"report_threshold": 10_000, "complaint_threshold": 10_000}
    detection.update(extra or {})
    return detection


def _decide(model: LiveShopModel, creator: int, reason: Tactic, real: bool = True) -> int:
    """Record one confirmed violation against ``creator`` today; returns its log row."""
    rows = model.governance.enforcer.decide(
        creator=np.array([creator]), violation_day=np.array([model.day]), reason=np.array([reason], dtype=np.int8),
        label=np.array([reason if real else Tactic.none], dtype=np.int8), real=np.array([real]),
        source=np.array([0]), auto=np.array([False]), proactive=np.array([True]), rng=np.random.default_rng(0),
    )
    return rows.start


# ------------------------------------------------------------------ analytic limits


def test_perfect_detection_and_unlimited_review_sanction_every_violation():
    """With d' far above the threshold, unlimited capacity and perfect reviewers, every violating
    stream draws exactly one decision and no clean stream does."""
    policy = {
        "detection": _classifier_only({"dprime": PERFECT_DPRIME, "threshold": 2.5}),
        "review": {"capacity_per_day": 1_000_000, "sensitivity": 1.0, "specificity": 1.0, "auto_action": False},
    }
    # Creators do not adapt here: sanctioning every violation would deter most of them.
    m = _run(_model(_enforced(policy, days=40, adaptation={"enabled": False})))
    t = m.totals
    assert t["violating_streams"].sum() > 100
    assert t["actions_real"].sum() == t["violating_streams"].sum()
    assert t["actions"].sum() == t["actions_real"].sum()
    log = m.governance.enforcer.log
    assert np.all(log.col("real"))
    assert np.all(log.col("day") == log.col("violation_day"))  # same day: nothing waits
    assert t["violations_actioned"].sum() == t["violating_streams"].sum()  # recall exactly 1


def test_no_violations_and_no_false_positives_give_no_sanctions():
    """An all-honest, never-violating world with a zero false-positive rate sanctions nobody."""
    mix = {"honest": 1.0, "opportunist": 0.0, "counterfeit": 0.0, "misleading_claims": 0.0, "fake_engagement": 0.0,
           "offplatform_diversion": 0.0, "incentive_fraud": 0.0, "ban_evader": 0.0}
    policy = {"detection": {"threshold": 20.0, "complaint_threshold": 1}, "review": {"specificity": 1.0}}
    data = _enforced(policy, days=40, creators={"mix": mix}, tactics={"minor": {"intensity": 0.0}},
                     buyers={"false_report_rate": 0.0})
    m = _run(_model(data))
    assert m.totals["actions"].sum() == 0
    assert m.governance.enforcer.log.n == 0
    assert m.totals["reviews"].sum() > 0  # complaint spikes were still reviewed, and cleared


def test_raising_the_threshold_lowers_false_positives_and_recall():
    """A higher classifier threshold gives fewer wrongful decisions and a lower recall."""

    def outcome(threshold: float) -> tuple[float, float]:
        policy = {"detection": _classifier_only({"threshold": threshold}),
                  "review": {"capacity_per_day": 1_000_000, "auto_action": False}}
        t = _run(_model(_enforced(policy, days=60, n_buyers=6_000, n_creators=300))).totals
        false_pos = t["actions"].sum() - t["actions_real"].sum()
        return false_pos, t["actions_real"].sum() / t["violating_streams"].sum()

    fp_low, recall_low = outcome(1.5)
    fp_high, recall_high = outcome(3.0)
    assert fp_high < fp_low / 3
    assert recall_high < recall_low - 0.2


# ------------------------------------------------------------------ ladders


def test_points_expire_exactly_after_their_window():
    """Points count for expiry_days and are gone on the day they lapse."""
    policy = {"detection": {"enabled": False}, "enforcement": {"kind": "points", "expiry_days": 10}}
    m = _model(_enforced(policy, days=30))
    m.step()
    row = _decide(m, 3, Tactic.counterfeit)
    pts = m.governance.enforcer.log.col("points")[row]
    assert pts > 0 and m.creators.col("ladder")[3] == pts
    day0 = m.day
    while m.day < day0 + 9:
        m.step()
    assert m.creators.col("ladder")[3] == pts  # day 9 after: still counted
    m.step()
    assert m.day == day0 + 10
    assert m.creators.col("ladder")[3] == 0.0


def test_points_milestones_trigger_graduated_sanctions_and_ban_at_48():
    """Crossing 12 points suppresses traffic; reaching 48 bans; a banned creator gets no traffic and earns nothing."""
    policy = {"detection": {"enabled": False},
              "enforcement": {"kind": "points", "points": {"counterfeit": [13.0, 13.0], "minor": [48.0, 48.0]}}}
    m = _model(_enforced(policy, days=40, n_buyers=8_000))
    for _ in range(5):
        m.step()
    c = m.creators
    busiest = int(np.argmax(c.col("views")))
    row = _decide(m, busiest, Tactic.counterfeit)
    log = m.governance.enforcer.log
    assert log.col("milestone")[row] == 0
    m.step()
    assert c.col("traffic_multiplier")[busiest] == pytest.approx(0.7)
    row = _decide(m, busiest, Tactic.minor)
    assert log.col("ban")[row]
    assert c.col("state")[busiest] == CreatorState.banned
    views, streams, earnings = c.col("views")[busiest], c.col("streams")[busiest], c.col("earnings")[busiest]
    for _ in range(10):
        m.step()
    assert c.col("views")[busiest] == views and c.col("streams")[busiest] == streams
    assert c.col("earnings")[busiest] <= earnings + 1e-9


def test_health_score_falls_by_severity_crosses_milestones_and_recovers():
    """The health score starts at 200, loses points x 4, sanctions at 150, and clean orders earn it back."""
    policy = {"detection": {"enabled": False},
              "enforcement": {"kind": "health_score", "points": {"misleading_claims": [20.0, 20.0]},
                              "recovery_per_clean_order": 1.0}}
    m = _model(_enforced(policy, days=40, n_buyers=10_000))
    for _ in range(3):
        m.step()
    c = m.creators
    assert np.all(c.col("ladder") >= 200.0)  # start at 200, plus what clean orders earned
    busiest = int(np.argmax(c.col("orders")))
    c.col("ladder")[busiest] = 200.0
    row = _decide(m, busiest, Tactic.misleading_claims)
    assert c.col("ladder")[busiest] == pytest.approx(120.0)
    assert m.governance.enforcer.log.col("milestone")[row] == 0  # the 150 milestone
    assert c.col("campaign_until")[busiest] >= m.day + 29
    for _ in range(20):
        m.step()
    assert c.col("ladder")[busiest] > 120.0  # clean orders restored some score


def test_tiers_reset_every_quarter():
    """Shopee-style tier points all return to zero on the reset day."""
    policy = {"detection": {"enabled": False}, "enforcement": {"kind": "tiers", "reset_days": 20}}
    m = _model(_enforced(policy, days=25))
    m.step()
    _decide(m, 1, Tactic.counterfeit)
    assert m.creators.col("ladder")[1] >= 1
    while m.day < 20:
        m.step()
    assert m.creators.col("ladder")[1] == 0.0


# ------------------------------------------------------------------ appeals


def test_successful_appeal_restores_points_and_lifts_sanctions():
    """Overturning a decision gives the points back and lifts the sanctions it imposed."""
    policy = {"detection": {"enabled": False},
              "enforcement": {"kind": "points", "points": {"offplatform_diversion": [30.0, 30.0]}}}
    m = _model(_enforced(policy, days=30))
    m.step()
    c = m.creators
    row = _decide(m, 5, Tactic.offplatform_diversion, real=False)
    assert c.col("ladder")[5] == 30.0
    assert c.col("suspended_until")[5] >= m.day + 7
    m.governance.enforcer.overturn(np.array([row]), m.day)
    assert c.col("ladder")[5] == 0.0
    assert c.col("suspended_until")[5] < m.day
    assert not c.col("suspended")[5] and c.col("state")[5] == CreatorState.active
    assert c.col("traffic_multiplier")[5] == 1.0


def test_overturned_forfeit_is_paid_back_and_money_still_balances():
    """A wrongful ban that forfeited commission is reversed on appeal: the creator gets the money back."""
    policy = {"detection": {"enabled": False},
              "enforcement": {"kind": "points", "points": {"counterfeit": [48.0, 48.0]}}}
    m = _model(_enforced(policy, days=40, n_buyers=8_000))
    for _ in range(20):
        m.step()
    c = m.creators
    richest = int(np.argmax(m.income_30d.values[: c.n]))
    before = c.col("earnings")[richest]
    row = _decide(m, richest, Tactic.counterfeit, real=False)  # 48 points: ban + forfeit
    log = m.governance.enforcer.log
    taken = log.col("frozen")[row]
    assert log.col("ban")[row] and taken > 0
    assert c.col("earnings")[richest] == pytest.approx(before - taken)
    assert m.ledger.forfeited.sum() == pytest.approx(taken)
    m.governance.enforcer.overturn(np.array([row]), m.day)
    assert c.col("state")[richest] == CreatorState.active
    assert c.col("earnings")[richest] == pytest.approx(before)
    assert m.ledger.forfeited.sum() == pytest.approx(0.0, abs=1e-9)
    led = m.ledger.as_dict()
    booked = led["commissions"] + led["platform_fees"] + led["forfeited"] + led["seller_revenue"]
    assert led["buyer_paid"] - led["buyer_refunded"] == pytest.approx(booked, rel=1e-12)


def test_wrongful_decisions_are_appealed_more_and_overturned():
    """Wrong decisions are appealed more often than right ones, and overturned at the configured rate."""
    policy = {"detection": {"threshold": 1.5},
              "appeals": {"rate_if_wrong": 0.9, "rate_if_right": 0.1, "overturn_if_wrong": 1.0,
                          "overturn_if_right": 0.0, "decision_days": 2},
              "review": {"capacity_per_day": 100_000, "specificity": 0.8}}
    res = run(scenario_from_dict(_enforced(policy, days=60, n_buyers=8_000)))
    s = res.sanctions
    filed = s[s["appeal"].isin(["pending", "upheld", "overturned"])]
    early = s[s["day"] <= 40]  # appeal windows (30 days) closed before the end
    rate_wrong = early.loc[~early["real"], "appeal"].isin(["pending", "upheld", "overturned"]).mean()
    rate_right = early.loc[early["real"], "appeal"].isin(["pending", "upheld", "overturned"]).mean()
    assert rate_wrong > 0.8 and rate_right < 0.2
    decided = filed[filed["appeal"].isin(["upheld", "overturned"])]
    assert (decided["overturned"] == ~decided["real"]).all()
    assert (decided["appeal_decided_day"] - decided["appeal_day"] >= 2).all()


def test_appeal_window_zero_means_no_appeals():
    """A market with no appeal window gets no appeals."""
    policy = {"detection": {"threshold": 1.5}, "appeals": {"window_days": 0}}
    res = run(scenario_from_dict(_enforced(policy, days=30)))
    assert len(res.sanctions) > 0
    assert res.summary["appeals"] == 0


# ------------------------------------------------------------------ review capacity


def test_capacity_shortfall_grows_backlog_and_time_to_action():
    """Too few reviewers: the queue backs up, and violations wait longer to be actioned."""

    def summary(capacity: int) -> dict[str, float]:
        policy = {"review": {"capacity_per_day": capacity, "priority": "fifo", "auto_action": False, "sla_days": 30}}
        return run(scenario_from_dict(_enforced(policy, days=50, n_buyers=8_000))).summary

    plenty, short = summary(100_000), summary(3)
    assert plenty["queue_backlog"] == 0
    assert short["queue_backlog"] > 20
    assert short["time_to_action"] > plenty["time_to_action"] + 2


def test_auto_actions_skip_review():
    """Flags above the auto-action threshold are actioned without using review capacity."""
    policy = {"detection": _classifier_only({"threshold": 2.0}),
              "review": {"capacity_per_day": 0, "auto_action_threshold": 2.0}}
    m = _run(_model(_enforced(policy, days=20)))
    assert m.totals["auto_actions"].sum() > 0
    assert m.totals["actions"].sum() == m.totals["auto_actions"].sum()
    assert m.totals["reviews"].sum() == 0


def test_live_interruption_cuts_views_of_violating_streams():
    """Cutting confidently-flagged live streams removes views and lowers prevalence."""

    def prevalence(interrupt: bool) -> tuple[float, float]:
        dprime = dict.fromkeys(PERFECT_DPRIME, 4.0)
        policy = {"detection": {"interrupt_live": interrupt, "interrupt_threshold": 2.5, "dprime": dprime}}
        m = _run(_model(_enforced(policy, days=20, n_buyers=8_000)))
        t = m.totals
        return t["violating_views"].sum() / t["views"].sum(), t["interrupted_views"].sum()

    prev_on, cut_on = prevalence(True)
    prev_off, cut_off = prevalence(False)
    assert cut_off == 0 and cut_on > 0
    assert prev_on < 0.8 * prev_off


# ------------------------------------------------------------------ onboarding


def test_ban_evaders_are_caught_at_the_kyc_rate():
    """Re-registrations of banned evaders are refused with probability kyc_strictness (binomial tolerance)."""
    policy = {"detection": {"enabled": False}, "onboarding": {"kyc_strictness": 0.4}}
    data = _enforced(policy, days=10, n_creators=1_500,
                     creators={"mix": EVADERS_ONLY, "arrival_rate": 0.0, "entry_response": 0.0},
                     adaptation={"reentry_days": [2, 2], "reentry_attempts": 1})
    m = _model(data)
    m.step()
    n = ban_everyone(m)
    for _ in range(4):
        m.step()
    caught = m.totals["ban_evasions_caught"].sum()
    passed = m.totals["ban_evasions"].sum()
    assert caught + passed == n
    sd = (0.4 * 0.6 / n) ** 0.5
    assert abs(caught / n - 0.4) < 4 * sd
    new = m.creators.col("joined_day") > 0
    assert new.sum() == passed
    assert np.all(m.creators.col("ctype")[new] == CreatorType.ban_evader)
    old_actor = m.creators.col("actor")[new]
    assert np.all(old_actor < n)  # same people behind the new accounts


def test_pilot_graduation_needs_a_clean_record():
    """A pilot creator with a confirmed violation stays in the pilot until pilot_days pass cleanly."""
    policy = {"detection": {"enabled": False}, "pilot_days": 10}
    data = _enforced(policy, days=30, creators={"arrival_rate": 0.05})
    m = _model(data)
    for _ in range(3):
        m.step()
    c = m.creators
    pilots = np.flatnonzero(c.col("state") == CreatorState.pilot)
    assert pilots.size >= 2
    bad, good = int(pilots[0]), int(pilots[1])
    joined = c.col("joined_day")[[bad, good]]
    while m.day < joined.max() + 5:
        m.step()
    _decide(m, bad, Tactic.minor)
    sanction_day = m.day
    while m.day < joined.max() + 11:
        m.step()
    if c.col("state")[good] != CreatorState.churned:
        assert c.col("state")[good] == CreatorState.active
    assert c.col("state")[bad] in (CreatorState.pilot, CreatorState.churned)
    while m.day < sanction_day + 11:
        m.step()
    assert c.col("state")[bad] in (CreatorState.active, CreatorState.churned)


# ------------------------------------------------------------------ adaptation


def test_adversaries_shift_away_from_a_tactic_punished_harder():
    """Opportunists move off misleading claims when that tactic is detected and punished much harder."""
    mix = {"honest": 0.3, "opportunist": 0.7, "counterfeit": 0.0, "misleading_claims": 0.0, "fake_engagement": 0.0,
           "offplatform_diversion": 0.0, "incentive_fraud": 0.0, "ban_evader": 0.0}
    tactics = {"opportunist_weights": {"misleading_claims": 1.0, "offplatform_diversion": 1.0}}

    def share_misleading(harsh: bool) -> float:
        dprime = {"misleading_claims": 6.0 if harsh else 0.5, "offplatform_diversion": 0.5}
        points = {"misleading_claims": [40.0, 48.0] if harsh else [2.0, 4.0], "offplatform_diversion": [2.0, 4.0]}
        policy = {"detection": _classifier_only({"dprime": dprime}),
                  "review": {"capacity_per_day": 100_000},
                  "enforcement": {"kind": "points", "points": points}}
        data = _enforced(policy, days=120, n_buyers=10_000, n_creators=400, creators={"mix": mix}, tactics=tactics)
        m = _run(_model(data))
        shares = m.learner.action_shares(CreatorType.opportunist)
        on = [i for i, (t, lv) in enumerate(m.learner.actions) if t == Tactic.misleading_claims and lv > 0]
        return float(shares[on].sum())

    assert share_misleading(harsh=True) < share_misleading(harsh=False) - 0.1


def test_honest_creators_leave_more_after_sanctions():
    """Wrongly sanctioned honest creators churn faster than unsanctioned ones."""
    policy = {"detection": {"enabled": False}, "enforcement": {"kind": "points"}}
    data = _enforced(policy, days=40, n_creators=600, adaptation={"sanction_churn_rate": 0.05},
                     creators={"low_income_churn_rate": 0.0})
    m = _model(data)
    m.step()
    c = m.creators
    honest = np.flatnonzero(c.col("ctype") == CreatorType.honest)
    hit, spared = honest[: honest.size // 2], honest[honest.size // 2:]
    for cr in hit.tolist():
        _decide(m, cr, Tactic.minor, real=False)
    _run(m)
    gone_hit = (c.col("state")[hit] == CreatorState.churned).mean()
    gone_spared = (c.col("state")[spared] == CreatorState.churned).mean()
    assert gone_hit > gone_spared + 0.3


# ------------------------------------------------------------------ launches, ramps, output


def test_policy_launched_on_day_n_changes_nothing_before_day_n():
    """A go-to-market launch on day 15 leaves days 1-14 identical and changes what follows."""
    base = _enforced({}, days=30, n_buyers=6_000)
    launched = _enforced({}, days=30, n_buyers=6_000)
    launched["timeline"] = [{"kind": "policy", "name": "go", "markets": ["aa"], "start_day": 15,
                             "set": {"detection.threshold": 1.0, "review.capacity_per_day": 5}}]
    a = run(scenario_from_dict(base)).daily
    b = run(scenario_from_dict(launched)).daily
    pd.testing.assert_frame_equal(a[a["day"] < 15].reset_index(drop=True), b[b["day"] < 15].reset_index(drop=True))
    # The lower threshold flags more from day 15 (actions are capped by the small review team).
    after_a = a[(a["day"] >= 15) & (a["market"] == "aa")]["flags"].sum()
    after_b = b[(b["day"] >= 15) & (b["market"] == "aa")]["flags"].sum()
    assert after_b > after_a


def test_ramp_moves_a_lever_linearly():
    """A localisation ramp sets d' scale from its start to its end value over its days."""
    data = _enforced({}, days=20)
    data["timeline"] = [{"kind": "ramp", "name": "loc", "markets": ["bb"], "start_day": 5, "days": 10,
                         "path": "detection.dprime_scale", "start_value": 0.2, "end_value": 1.2}]
    m = _model(data)
    seen = {}
    while m.running:
        m.step()
        seen[m.day] = (m.policies[0].detection.dprime_scale, m.policies[1].detection.dprime_scale)
    assert seen[4] == (1.0, 1.0)
    assert seen[5][1] == pytest.approx(0.2)
    assert seen[10][1] == pytest.approx(0.7)
    assert seen[15][1] == pytest.approx(1.2) and seen[20][1] == pytest.approx(1.2)
    assert all(v[0] == 1.0 for v in seen.values())


def test_sanctions_log_records_every_decision():
    """sanctions has one row per decision with reason, severity, ground truth and detection source."""
    res = run(scenario_from_dict(_enforced({"detection": {"threshold": 2.0}}, days=40, n_buyers=8_000)))
    s = res.sanctions
    assert len(s) == res.summary["actions"]
    for col in ("creator_id", "day", "reason", "points", "real", "source", "sanction", "appeal"):
        assert col in s.columns
    assert set(s["source"].unique()) <= {"classifier", "report", "complaint"}
    assert s["real"].mean() == pytest.approx(res.summary["enforcement_precision"])
    assert (s["day"] >= s["violation_day"]).all()


def test_presets_load_by_name_and_scenario_values_win():
    """A scenario includes a preset by name; its own [policy] values override the preset's."""
    data = _enforced({"review": {"capacity_per_day": 7}})
    data["policy_preset"] = "shopee_tiers"
    s = scenario_from_dict(data)
    assert s.policy.enforcement.kind == "tiers"
    assert s.policy.review.capacity_per_day == 7
    for name in ("tiktok_health_score", "tiktok_points_sea", "shopee_tiers", "eu_dsa", "lenient", "strict"):
        data["policy_preset"] = name
        assert scenario_from_dict(data).policy_preset == name


def test_bundled_governance_scenarios_validate():
    """The ban-evasion, market-launch and moderation-shortfall scenarios load."""
    for name in ("ban_evasion", "market_launch", "moderation_shortfall"):
        s = load_scenario(ROOT / "scenarios" / f"{name}.toml")
        assert s.world.n_buyers >= 100_000


def test_per_market_overrides_apply_to_one_market():
    """policy_overrides.<market> changes that market's policy only."""
    data = _enforced({})
    data["policy_overrides"] = {"bb": {"review": {"capacity_per_day": 3}, "enforcement.expiry_days": 90}}
    s = scenario_from_dict(data)
    assert s.market_policy("bb").review.capacity_per_day == 3
    assert s.market_policy("bb").enforcement.expiry_days == 90
    assert s.market_policy("aa").review.capacity_per_day == s.policy.review.capacity_per_day
    with pytest.raises(ScenarioError, match=r"policy_overrides\.bb\.review\.capacity_per_dy"):
        scenario_from_dict({**data, "policy_overrides": {"bb": {"review": {"capacity_per_dy": 3}}}})
