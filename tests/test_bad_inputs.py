"""Malformed inputs and misuse: every case exits 2 with one line naming the file (or the
argument), the field and what is wrong, leaves no traceback and writes nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from sim.cli import main

SCENARIO = """\
name = "tiny"
days = 5
seed = 3

[world]
n_buyers = 1500
n_creators = 60

[[world.markets]]
name = "sg"
buyer_share = 0.4
creator_share = 0.4

[[world.markets]]
name = "id"
buyer_share = 0.6
creator_share = 0.6
price_level = 0.35

[policy]
referral_fee = 0.06

[[timeline]]
kind = "campaign"
name = "sale"
start_day = 2
days = 2
"""

SWEEP = """\
name = "sw"
scenario = "s.toml"
replications = 1
days = 3

[variants.strict]
policy_preset = "strict"

[levers.grid]
"policy.detection.threshold" = [2.0, 3.0]
"""

TARGETS = """\
[[targets]]
metric = "prevalence"
max = 0.01
"""


def _edit(text: str, old: str, new: str) -> str:
    assert old in text, f"test setup: {old!r} not in the text"
    return text.replace(old, new, 1)


def s_edit(old: str, new: str) -> str:
    """The scenario with one edit."""
    return _edit(SCENARIO, old, new)


def s_add(extra: str) -> str:
    """The scenario with TOML appended."""
    return SCENARIO + "\n" + extra


def w_edit(old: str, new: str) -> str:
    """The sweep with one edit."""
    return _edit(SWEEP, old, new)


def t_edit(old: str, new: str) -> str:
    """The targets file with one edit."""
    return _edit(TARGETS, old, new)


CAMPAIGN = '[[timeline]]\nkind = "campaign"\nname = "late"\n'
TREND = ('[[timeline]]\nkind = "trend"\ntrend = "adoption_wave"\nname = "wave"\nstart_day = 3\ndays = 2\n'
         'tactic = "counterfeit"\nshare = 0.3')
RUN = ["run", "s.toml", "--quiet", "--no-plot"]
VAL = ["validate", "s.toml", "--brief"]
SW = ["sweep", "w.toml", "--quiet", "--workers", "1"]
REP = ["report", "results_missing", "--targets", "t.toml"]

# (id, files written besides a valid s.toml, argv, substrings the one error line must hold)
CASES: list[tuple[str, dict[str, str | bytes | None], list[str], list[str]]] = [
    # --- scenario files: the file itself ---------------------------------------------------
    ("empty-file", {"s.toml": ""}, VAL, ["s.toml", "name", "required"]),
    ("binary-file", {"s.toml": b"\xff\xfe\x00\x01garbage\x80"}, VAL, ["s.toml", "UTF-8"]),
    ("nul-bytes", {"s.toml": "name = \"x\"\n\x00\x00"}, VAL, ["s.toml", "TOML"]),
    ("directory", {"s.toml": None}, VAL, ["s.toml", "directory"]),
    ("missing-file", {}, ["validate", "nope.toml"], ["nope.toml", "no such scenario"]),
    ("duplicate-key", {"s.toml": s_edit("days = 5", "days = 5\ndays = 6")}, VAL, ["s.toml", "TOML"]),
    ("unknown-top-key", {"s.toml": s_add("colour = 1")}, VAL, ["s.toml", "colour", "allowed keys"]),
    ("run-bad-file", {"s.toml": s_edit("days = 5", "days = -1")}, RUN, ["s.toml", "days", "-1"]),
    # --- infinities and NaN (TOML allows them) ----------------------------------------------
    ("buyer-share-inf", {"s.toml": s_edit("buyer_share = 0.4", "buyer_share = inf")}, VAL,
     ["s.toml", "world.markets[0].buyer_share", "inf", "finite"]),
    ("buyer-share-nan", {"s.toml": s_edit("buyer_share = 0.4", "buyer_share = nan")}, VAL,
     ["s.toml", "world.markets[0].buyer_share", "finite"]),
    ("creator-share-neg-inf", {"s.toml": s_edit("creator_share = 0.4", "creator_share = -inf")}, VAL,
     ["s.toml", "world.markets[0].creator_share"]),
    ("category-share-inf", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = inf\norder_value_median = 10.0')},
     VAL, ["s.toml", "world.categories[0].share", "finite"]),
    ("exposure-inf", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = 1.0\norder_value_median = 10.0\n'
                                      '[world.categories.exposure]\ncounterfeit = inf')},
     VAL, ["s.toml", "world.categories[0].exposure.counterfeit", "finite"]),
    ("order-value-inf", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = 1.0\norder_value_median = inf')},
     VAL, ["s.toml", "world.categories[0].order_value_median", "finite"]),
    ("order-value-1e300", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = 1.0\norder_value_median = 1e300')},
     VAL, ["s.toml", "world.categories[0].order_value_median", "1e+300", "less than or equal"]),
    ("order-value-zero", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = 1.0\norder_value_median = 0.0')},
     VAL, ["s.toml", "world.categories[0].order_value_median", "greater than or equal"]),
    ("category-share-huge", {"s.toml": s_add('[[world.categories]]\nname = "a"\nshare = 1e9\norder_value_median = 1.0')},
     VAL, ["s.toml", "world.categories[0].share", "less than or equal"]),
    ("quality-prior-inf", {"s.toml": s_edit("[policy]\n", "[policy]\nrecommender.quality_prior_orders = inf\n")}, VAL,
     ["s.toml", "policy.recommender.quality_prior_orders", "finite"]),
    ("quality-prior-huge", {"s.toml": s_edit("[policy]\n", "[policy]\nrecommender.quality_prior_orders = 1e200\n")},
     VAL, ["s.toml", "policy.recommender.quality_prior_orders", "less than or equal"]),
    ("quality-beta-inf", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\ncreators.quality_beta = [inf, 2.5]")},
     VAL, ["s.toml", "world.creators.quality_beta[0]", "finite"]),
    ("susceptibility-beta-huge", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\nbuyers.susceptibility_beta = [2.0, 1e9]")},
     VAL, ["s.toml", "world.buyers.susceptibility_beta[1]"]),
    ("cost-per-review-inf", {"s.toml": s_edit("[policy]\n", "[policy]\nreview.cost_per_review = inf\n")}, VAL,
     ["s.toml", "policy.review.cost_per_review", "finite"]),
    ("cost-per-review-huge", {"s.toml": s_edit("[policy]\n", "[policy]\nreview.cost_per_review = 1e300\n")}, VAL,
     ["s.toml", "policy.review.cost_per_review", "less than or equal"]),
    ("capacity-huge", {"s.toml": s_edit("[policy]\n", "[policy]\nreview.capacity_per_day = 9000000000000\n")}, VAL,
     ["s.toml", "policy.review.capacity_per_day"]),
    ("refund-cap-inf", {"s.toml": s_edit("[policy]\n", "[policy]\nrefund_admin_fee_cap = inf\n")}, VAL,
     ["s.toml", "policy.refund_admin_fee_cap"]),
    ("level-thresholds-inf", {"s.toml": s_edit("[policy]\n", "[policy]\nlevel_thresholds = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, inf]\n")},
     VAL, ["s.toml", "policy.level_thresholds[7]"]),
    ("followers-min-huge", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\ncreators.followers_min = 100000000000")},
     VAL, ["s.toml", "world.creators.followers_min"]),
    ("penalty-inf", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\nadaptation.penalty_per_point = inf")},
     VAL, ["s.toml", "world.adaptation.penalty_per_point"]),
    ("opportunist-weight-inf", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\ntactics.opportunist_weights = { counterfeit = inf }")},
     VAL, ["s.toml", "world.tactics.opportunist_weights.counterfeit"]),
    ("incentive-budget-inf", {"s.toml": s_add('[[timeline]]\nkind = "incentive"\nname = "b"\nstart_day = 1\ndays = 3\nbudget = inf')},
     VAL, ["s.toml", "timeline[1].budget", "finite"]),
    ("incentive-budget-huge", {"s.toml": s_add('[[timeline]]\nkind = "incentive"\nname = "b"\nstart_day = 1\ndays = 3\nbudget = 1e20')},
     VAL, ["s.toml", "timeline[1].budget"]),
    ("min-followers-huge", {"s.toml": s_edit("days = 2\n", "days = 2\neligibility.min_followers = 100000000000\n")},
     VAL, ["s.toml", "timeline[0].eligibility.min_followers"]),
    ("max-age-zero", {"s.toml": s_edit("days = 2\n", "days = 2\neligibility.max_age_days = 0\n")},
     VAL, ["s.toml", "timeline[0].eligibility.max_age_days"]),
    ("ramp-value-inf", {"s.toml": s_add('[[timeline]]\nkind = "ramp"\nname = "r"\nstart_day = 1\ndays = 2\n'
                                        'path = "detection.dprime_scale"\nstart_value = 0.5\nend_value = inf')},
     VAL, ["s.toml", "timeline[1].end_value", "finite"]),
    ("launch-set-inf", {"s.toml": s_add('[[timeline]]\nkind = "policy"\nname = "p"\nstart_day = 2\n'
                                        'set = { "review.cost_per_review" = inf }')},
     VAL, ["s.toml", "timeline[1].set.review.cost_per_review"]),
    ("target-max-nan", {"s.toml": s_add('[[targets]]\nmetric = "prevalence"\nmax = nan')}, VAL,
     ["s.toml", "targets[0].max", "finite"]),
    # --- wrong types -------------------------------------------------------------------------
    ("n-buyers-string", {"s.toml": s_edit("n_buyers = 1500", 'n_buyers = "many"')}, VAL, ["s.toml", "world.n_buyers", "'many'"]),
    ("n-buyers-bool", {"s.toml": s_edit("n_buyers = 1500", "n_buyers = true")}, VAL, ["s.toml", "world.n_buyers", "True"]),
    ("n-buyers-float", {"s.toml": s_edit("n_buyers = 1500", "n_buyers = 1500.5")}, VAL, ["s.toml", "world.n_buyers", "1500.5"]),
    ("n-buyers-array", {"s.toml": s_edit("n_buyers = 1500", "n_buyers = [1500]")}, VAL, ["s.toml", "world.n_buyers"]),
    ("n-buyers-table", {"s.toml": s_edit("n_buyers = 1500", "n_buyers = { a = 1 }")}, VAL, ["s.toml", "world.n_buyers"]),
    ("days-string", {"s.toml": s_edit("days = 5", 'days = "5"')}, VAL, ["s.toml", "days", "'5'"]),
    ("seed-negative", {"s.toml": s_edit("seed = 3", "seed = -3")}, VAL, ["s.toml", "seed", "-3"]),
    ("replications-zero", {"s.toml": s_add("replications = 0").replace("\nreplications = 0", "").replace(
        'seed = 3', 'seed = 3\nreplications = 0')}, VAL, ["s.toml", "replications", "0"]),
    ("referral-fee-string", {"s.toml": s_edit("referral_fee = 0.06", 'referral_fee = "6%"')}, VAL,
     ["s.toml", "policy.referral_fee", "'6%'"]),
    ("policy-not-table", {"s.toml": s_edit("[policy]\nreferral_fee = 0.06\n", "").replace("seed = 3", "seed = 3\npolicy = 5")},
     VAL, ["s.toml", "policy"]),
    ("policy-not-table-with-preset", {"s.toml": s_edit("[policy]\nreferral_fee = 0.06\n", "").replace(
        "seed = 3", 'seed = 3\npolicy = 5\npolicy_preset = "strict"')}, VAL, ["s.toml", "policy"]),
    ("markets-not-list", {"s.toml": "name = \"x\"\n[world]\nmarkets = 3\n"}, VAL, ["s.toml", "world.markets"]),
    ("markets-empty", {"s.toml": "name = \"x\"\n[world]\nmarkets = []\n"}, VAL, ["s.toml", "world.markets"]),
    ("market-duplicate", {"s.toml": s_edit('name = "id"', 'name = "sg"')}, VAL, ["s.toml", "world", "sg"]),
    ("delivery-days-reversed", {"s.toml": s_edit("price_level = 0.35", "price_level = 0.35\ndelivery_days = [6, 2]")},
     VAL, ["s.toml", "world.markets[1].delivery_days"]),
    ("mix-not-summing", {"s.toml": s_edit("n_creators = 60", "n_creators = 60\ncreators.mix.honest = 0.5")}, VAL,
     ["s.toml", "world.creators.mix", "sum to 1"]),
    ("enforcement-kind", {"s.toml": s_edit("[policy]\n", '[policy]\nenforcement = { kind = "stars" }\n')}, VAL,
     ["s.toml", "policy.enforcement"]),
    ("level-thresholds-short", {"s.toml": s_edit("[policy]\n", "[policy]\nlevel_thresholds = [1.0, 2.0]\n")}, VAL,
     ["s.toml", "policy.level_thresholds"]),
    ("commission-cap-unknown-category", {"s.toml": s_edit("[policy]\n", "[policy]\ncommission_cap_by_category = { toys = 0.2 }\n")},
     VAL, ["s.toml", "policy.commission_cap_by_category", "toys"]),
    # --- presets -----------------------------------------------------------------------------
    ("preset-unknown", {"s.toml": s_edit("seed = 3", 'seed = 3\npolicy_preset = "strickt"')}, VAL,
     ["s.toml", "policy_preset", "strict"]),
    ("preset-path", {"s.toml": s_edit("seed = 3", 'seed = 3\npolicy_preset = "../x"')}, VAL,
     ["s.toml", "policy_preset", "not a path"]),
    ("preset-number", {"s.toml": s_edit("seed = 3", "seed = 3\npolicy_preset = 5")}, VAL, ["s.toml", "policy_preset"]),
    # --- timeline ----------------------------------------------------------------------------
    ("campaign-after-run", {"s.toml": s_add(CAMPAIGN + "start_day = 500\ndays = 3")}, VAL,
     ["s.toml", "timeline[1].start_day", "500", "last day"]),
    ("campaign-after-run-run", {"s.toml": s_add(CAMPAIGN + "start_day = 6\ndays = 3")}, RUN,
     ["s.toml", "timeline[1].start_day", "6"]),
    ("launch-after-run", {"s.toml": s_add('[[timeline]]\nkind = "policy"\nname = "p"\nstart_day = 9\n'
                                          'set = { "review.capacity_per_day" = 10 }')}, VAL,
     ["s.toml", "timeline[1].start_day", "9"]),
    ("ramp-after-run", {"s.toml": s_add('[[timeline]]\nkind = "ramp"\nname = "r"\nstart_day = 50\ndays = 2\n'
                                        'path = "detection.dprime_scale"\nstart_value = 0.5\nend_value = 1.0')},
     VAL, ["s.toml", "timeline[1].start_day", "50"]),
    ("event-start-zero", {"s.toml": s_edit("start_day = 2", "start_day = 0")}, VAL, ["s.toml", "timeline[0].start_day", "0"]),
    ("event-start-huge", {"s.toml": s_edit("start_day = 2", "start_day = 99999999")}, VAL,
     ["s.toml", "timeline[0].start_day"]),
    ("event-days-huge", {"s.toml": s_edit("days = 2\n", "days = 99999999\n")}, VAL, ["s.toml", "timeline[0].days"]),
    ("event-unknown-kind", {"s.toml": s_edit('kind = "campaign"', 'kind = "party"')}, VAL, ["s.toml", "timeline[0]"]),
    ("event-unknown-market", {"s.toml": s_edit("days = 2\n", 'days = 2\nmarkets = ["xx"]\n')}, VAL,
     ["s.toml", "timeline[0].markets", "xx"]),
    ("event-duplicate-name", {"s.toml": s_add(CAMPAIGN.replace("late", "sale") + "start_day = 3\ndays = 1")}, VAL,
     ["s.toml", "timeline[1].name", "sale"]),
    ("ramp-bad-path", {"s.toml": s_add('[[timeline]]\nkind = "ramp"\nname = "r"\nstart_day = 1\ndays = 2\n'
                                       'path = "detection.nope"\nstart_value = 0.5\nend_value = 1.0')},
     VAL, ["s.toml", "timeline[1].path", "nope"]),
    ("event-missing-kind", {"s.toml": s_edit('kind = "campaign"\n', "")}, VAL, ["s.toml", "timeline[0].kind", "ramp"]),
    # --- abuse trends (kind = "trend") -------------------------------------------------------
    ("trend-unknown-kind", {"s.toml": s_add(TREND.replace("adoption_wave", "flood"))}, VAL,
     ["s.toml", "timeline[1].trend", "'flood'", "adoption_wave", "category_shock", "cohort", "evasion"]),
    ("trend-missing-kind", {"s.toml": s_add(TREND.replace('trend = "adoption_wave"\n', ""))}, VAL,
     ["s.toml", "timeline[1].trend", "required", "adoption_wave"]),
    ("trend-unknown-tactic", {"s.toml": s_add(TREND.replace('"counterfeit"', '"piracy"'))}, VAL,
     ["s.toml", "timeline[1].tactic", "'piracy'", "counterfeit"]),
    ("trend-share-too-big", {"s.toml": s_add(TREND.replace("share = 0.3", "share = 1.5"))}, VAL,
     ["s.toml", "timeline[1].share", "1.5", "less than or equal to 1"]),
    ("trend-unknown-key", {"s.toml": s_add(TREND + "\ncolour = 1")}, VAL,
     ["s.toml", "timeline[1].colour", "share"]),
    ("trend-unknown-category", {"s.toml": s_add(TREND + '\ncategories = ["toys"]')}, VAL,
     ["s.toml", "timeline[1].categories", "'toys'", "beauty"]),
    ("trend-unknown-creator-type", {"s.toml": s_add(TREND + '\ncreator_types = ["robot"]')}, VAL,
     ["s.toml", "timeline[1].creator_types", "'robot'", "opportunist"]),
    ("trend-after-run", {"s.toml": s_add(TREND.replace("start_day = 3", "start_day = 40"))}, VAL,
     ["s.toml", "timeline[1].start_day", "40", "last day"]),
    ("trend-drop-inf", {"s.toml": s_add('[[timeline]]\nkind = "trend"\ntrend = "evasion"\nname = "e"\nstart_day = 2\n'
                                        'tactic = "counterfeit"\ndprime_drop = inf')}, VAL,
     ["s.toml", "timeline[1].dprime_drop", "finite"]),
    ("trend-cohort-without-type", {"s.toml": s_add('[[timeline]]\nkind = "trend"\ntrend = "cohort"\nname = "c"\n'
                                                   'start_day = 2\ntactic = "minor"\naccounts_per_day = 2')}, VAL,
     ["s.toml", "timeline[1].creator_type", "minor", "ban_evader"]),
    ("trend-shock-float-days", {"s.toml": s_add('[[timeline]]\nkind = "trend"\ntrend = "category_shock"\nname = "k"\n'
                                                'start_day = 2\ndays = 2.5\ntactic = "counterfeit"\n'
                                                'category = "beauty"\nexposure_multiplier = 3.0')}, VAL,
     ["s.toml", "timeline[1].days", "2.5"]),
    ("enforcement-missing-kind", {"s.toml": s_edit("[policy]\n", "[policy]\nenforcement = { milestones = [] }\n")}, VAL,
     ["s.toml", "policy.enforcement.kind", "tiers"]),
    # --- targets inside a scenario ------------------------------------------------------------
    ("target-unknown-metric", {"s.toml": s_add('[[targets]]\nmetric = "happiness"\nmax = 1.0')}, VAL,
     ["s.toml", "targets[0].metric", "happiness"]),
    ("target-inverted", {"s.toml": s_add('[[targets]]\nmetric = "prevalence"\nmax = 0.0\nmin = 1.0')}, VAL,
     ["s.toml", "targets[0]", "above max"]),
    ("target-neither", {"s.toml": s_add('[[targets]]\nmetric = "prevalence"')}, VAL,
     ["s.toml", "targets[0]", "max and/or min"]),
    ("target-wrong-market", {"s.toml": s_add('[[targets]]\nmetric = "prevalence"\nmax = 1.0\nmarket = "us"')}, VAL,
     ["s.toml", "targets[0].market", "us"]),
    # --- per-market overrides in the file -----------------------------------------------------
    ("overrides-unknown-market", {"s.toml": s_add("[policy_overrides.xx]\nreferral_fee = 0.1")}, VAL,
     ["s.toml", "policy_overrides.xx", "sg"]),
    ("overrides-unknown-path", {"s.toml": s_add("[policy_overrides.id]\nreview.capacity_pr_day = 1")}, VAL,
     ["s.toml", "policy_overrides.id.review.capacity_pr_day", "capacity_per_day"]),
    ("overrides-inf", {"s.toml": s_add("[policy_overrides.id]\nreview.cost_per_review = inf")}, VAL,
     ["s.toml", "policy_overrides.id.review.cost_per_review"]),
    # --- command-line overrides ----------------------------------------------------------------
    ("set-no-equals", {}, [*VAL, "--set", "policy.referral_fee"], ["--set", "policy.referral_fee", "PATH=VALUE"]),
    ("set-empty-key", {}, [*VAL, "--set", "=5"], ["--set", "PATH=VALUE"]),
    ("set-empty-part", {}, [*VAL, "--set", "policy..referral_fee=5"], ["--set", "policy..referral_fee"]),
    ("set-bad-json", {}, [*VAL, "--set", "policy.referral_fee=[0.1"], ["s.toml", "policy.referral_fee", "[0.1"]),
    ("set-nan", {}, [*VAL, "--set", "policy.referral_fee=NaN"], ["s.toml", "policy.referral_fee", "finite"]),
    ("set-infinity", {}, [*VAL, "--set", "world.markets.sg.buyer_share=Infinity"],
     ["s.toml", "world.markets[0].buyer_share", "finite"]),
    ("set-index-out-of-range", {}, [*VAL, "--set", "world.markets.9.price_level=1.0"], ["s.toml", "world.markets", "9"]),
    ("set-list-index-out-of-range", {}, [*VAL, "--set", "policy.level_thresholds.9=1.0"],
     ["s.toml", "policy.level_thresholds.9", "0-7"]),
    ("set-unknown-market", {}, [*VAL, "--set", "world.markets.xx.price_level=1.0"], ["s.toml", "world.markets.xx", "sg"]),
    ("set-unknown-category", {}, [*VAL, "--set", "world.categories.toys.share=1.0"], ["s.toml", "world.categories.toys"]),
    ("set-unknown-event", {}, [*VAL, "--set", "timeline.nope.start_day=3"], ["s.toml", "timeline.nope", "sale"]),
    ("set-into-number", {}, [*VAL, "--set", "days.x=3"], ["s.toml", "days.x"]),
    ("set-suggest-policy", {}, [*VAL, "--set", "detection.threshold=3"], ["s.toml", "detection.threshold",
                                                                        "did you mean 'policy.detection.threshold'"]),
    ("set-suggest-world", {}, [*VAL, "--set", "n_buyers_x=3"], ["s.toml", "n_buyers_x"]),
    ("set-preset-unknown", {}, [*VAL, "--set", "policy_preset=strickt"], ["s.toml", "policy_preset", "strict"]),
    ("set-preset-path", {}, [*VAL, "--set", "policy_preset=../../etc/passwd"], ["s.toml", "policy_preset", "not a path"]),
    ("set-market-override-unknown-market", {}, [*VAL, "--set", "policy_overrides.xx.review.capacity_per_day=3"],
     ["s.toml", "policy_overrides.xx", "sg"]),
    ("set-market-override-unknown-path", {}, [*VAL, "--set", "policy_overrides.id.review.bogus=3"],
     ["s.toml", "policy_overrides.id.review.bogus"]),
    ("set-market-override-bad-value", {}, [*VAL, "--set", "policy_overrides.id.review.capacity_per_day=-3"],
     ["s.toml", "policy_overrides.id.review.capacity_per_day", "-3"]),
    ("set-days-float", {}, [*VAL, "--set", "days=1e3"], ["s.toml", "days", "1000.0"]),
    ("set-event-after-run", {}, [*VAL, "--set", "timeline.sale.start_day=50"], ["s.toml", "timeline[0].start_day", "50"]),
    # --- command-line numbers ---------------------------------------------------------------------
    ("days-zero", {}, [*RUN, "--days", "0"], ["s.toml", "days", "got 0"]),
    ("days-negative", {}, [*RUN, "--days", "-5"], ["s.toml", "days", "-5"]),
    ("days-huge", {}, [*RUN, "--days", "100000"], ["s.toml", "days", "100000"]),
    ("days-not-int", {}, [*RUN, "--days", "x"], ["--days", "'x'"]),
    ("seed-negative-cli", {}, [*RUN, "--seed", "-1"], ["s.toml", "seed", "-1"]),
    ("seed-huge", {}, [*RUN, "--seed", str(2**70)], ["s.toml", "seed"]),
    ("replication-negative", {}, [*RUN, "--replication", "-1"], ["--replication", "-1"]),
    ("replication-huge", {}, [*RUN, "--replication", "99999999999"], ["--replication", "99999999999"]),
    ("unknown-option", {}, [*RUN, "--colour"], ["--colour"]),
    ("unknown-command", {}, ["frobnicate"], ["frobnicate"]),
    ("no-command", {}, [], ["command"]),
    ("run-without-scenario", {}, ["run"], ["scenario"]),
    ("unknown-bundled", {}, ["run", "basline", "--quiet"], ["basline", "bundled"]),
    ("compare-replications-zero", {}, ["compare", "s.toml", "--variants", "strict", "--replications", "0"],
     ["s.toml", "--replications", "0"]),
    ("compare-replications-huge", {}, ["compare", "s.toml", "--variants", "strict", "--replications", "9999999"],
     ["s.toml", "--replications"]),
    ("compare-unknown-preset", {}, ["compare", "s.toml", "--variants", "strickt"], ["s.toml", "policy_preset", "strict"]),
    ("compare-no-variants", {}, ["compare", "s.toml", "--variants", ","], ["s.toml", "--variants"]),
    ("compare-days-zero", {}, ["compare", "s.toml", "--variants", "strict", "--days", "0"], ["s.toml", "days"]),
    # --- sweep files ------------------------------------------------------------------------------
    ("sweep-workers-zero", {"w.toml": SWEEP}, [*SW[:3], "--workers", "0"], ["--workers", "0"]),
    ("sweep-workers-negative", {"w.toml": SWEEP}, [*SW[:3], "--workers", "-2"], ["--workers", "-2"]),
    ("sweep-missing", {}, SW, ["w.toml", "no such sweep"]),
    ("sweep-empty", {"w.toml": ""}, SW, ["w.toml", "name"]),
    ("sweep-binary", {"w.toml": b"\x89PNG\r\n\x1a\n\x00\xff"}, SW, ["w.toml"]),
    ("sweep-duplicate-key", {"w.toml": w_edit("days = 3", "days = 3\ndays = 4")}, SW, ["w.toml", "TOML"]),
    ("sweep-scenario-missing", {"w.toml": w_edit('"s.toml"', '"gone.toml"')}, SW, ["w.toml", "scenario", "gone.toml"]),
    ("sweep-scenario-number", {"w.toml": w_edit('"s.toml"', "5")}, SW, ["w.toml", "scenario"]),
    ("sweep-replications-zero", {"w.toml": w_edit("replications = 1", "replications = 0")}, SW, ["w.toml", "replications", "0"]),
    ("sweep-days-zero", {"w.toml": w_edit("days = 3", "days = 0")}, SW, ["w.toml", "days", "0"]),
    ("sweep-days-string", {"w.toml": w_edit("days = 3", 'days = "3"')}, SW, ["w.toml", "days", "'3'"]),
    ("sweep-grid-empty", {"w.toml": w_edit("[2.0, 3.0]", "[]")}, SW, ["w.toml", "grid.policy.detection.threshold"]),
    ("sweep-grid-scalar", {"w.toml": w_edit("[2.0, 3.0]", "2.0")}, SW, ["w.toml", "grid.policy.detection.threshold"]),
    ("sweep-grid-wrong-type", {"w.toml": w_edit("[2.0, 3.0]", '[2.0, "high"]')}, SW,
     ["w.toml", "policy.detection.threshold", "'high'"]),
    ("sweep-grid-inf", {"w.toml": w_edit("[2.0, 3.0]", "[2.0, inf]")}, SW, ["w.toml", "policy.detection.threshold", "finite"]),
    ("sweep-grid-unknown-path", {"w.toml": w_edit('"policy.detection.threshold"', '"policy.detection.treshold"')}, SW,
     ["w.toml", "policy.detection.treshold", "threshold"]),
    ("sweep-grid-unknown-market", {"w.toml": w_edit('"policy.detection.threshold" = [2.0, 3.0]',
                                                     '"policy_overrides.xx.review.capacity_per_day" = [10, 20]')}, SW,
     ["w.toml", "policy_overrides.xx", "sg"]),
    ("sweep-grid-and-sample", {"w.toml": SWEEP + '[levers.sample]\nn = 2\nranges = { "policy.referral_fee" = [0.01, 0.1] }\n'}, SW,
     ["w.toml", "grid", "either"]),
    ("sweep-sample-min-gt-max", {"w.toml": w_edit('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]',
                                                   '[levers.sample]\nn = 2\nranges = { "policy.referral_fee" = [0.2, 0.1] }')},
     SW, ["w.toml", "sample.ranges", "min > max"]),
    ("sweep-sample-inf", {"w.toml": w_edit('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]',
                                            '[levers.sample]\nn = 2\nranges = { "policy.referral_fee" = [0.01, inf] }')},
     SW, ["w.toml", "sample.ranges", "finite"]),
    ("sweep-sample-bool", {"w.toml": w_edit('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]',
                                             '[levers.sample]\nn = 2\nranges = { "policy.referral_fee" = [false, true] }')},
     SW, ["w.toml", "sample.ranges"]),
    ("sweep-sample-n-zero", {"w.toml": w_edit('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]',
                                               '[levers.sample]\nn = 0\nranges = { "policy.referral_fee" = [0.01, 0.1] }')},
     SW, ["w.toml", "sample.n", "0"]),
    ("sweep-sample-out-of-range", {"w.toml": w_edit('[levers.grid]\n"policy.detection.threshold" = [2.0, 3.0]',
                                                     '[levers.sample]\nn = 2\nranges = { "policy.referral_fee" = [0.1, 0.9] }')},
     SW, ["w.toml", "policy.referral_fee"]),
    ("sweep-variant-not-table", {"w.toml": w_edit('[variants.strict]\npolicy_preset = "strict"', "[variants]\nstrict = 5")},
     SW, ["w.toml", "variants.strict"]),
    ("sweep-variant-unknown-path", {"w.toml": w_edit('policy_preset = "strict"', '"policy.nope" = 1')}, SW,
     ["w.toml", "variants.strict", "policy.nope"]),
    ("sweep-variant-unknown-preset", {"w.toml": w_edit('policy_preset = "strict"', 'policy_preset = "strickt"')}, SW,
     ["w.toml", "variants.strict", "policy_preset"]),
    ("sweep-variant-bad-name", {"w.toml": w_edit("[variants.strict]", '[variants."Strict Policy"]')}, SW,
     ["w.toml", "variants"]),
    ("sweep-variant-clash", {"w.toml": w_edit('policy_preset = "strict"', '"policy.detection.threshold" = 2.5')}, SW,
     ["w.toml", "variants.strict.policy.detection.threshold", "grid"]),
    ("sweep-variant-market-override-path", {"w.toml": w_edit('policy_preset = "strict"',
                                                              '"policy_overrides.id.review.bogus" = 3')}, SW,
     ["w.toml", "policy_overrides.id.review.bogus"]),
    ("sweep-event-after-days", {"w.toml": w_edit("days = 3", "days = 3\n[variants.late]\n\"timeline.sale.start_day\" = 40")},
     SW, ["w.toml", "timeline[0].start_day", "40"]),
    # --- targets files (livesim report --targets) -----------------------------------------------
    ("targets-missing", {}, REP, ["t.toml", "no such targets"]),
    ("targets-unknown-metric", {"t.toml": t_edit('"prevalence"', '"happiness"')}, REP, ["t.toml", "targets[0].metric", "happiness"]),
    ("targets-inverted", {"t.toml": TARGETS + "min = 0.5\n"}, REP, ["t.toml", "targets[0]", "above max"]),
    ("targets-half-band", {"t.toml": t_edit("max = 0.01\n", "value = 0.01\n")}, REP,
     ["t.toml", "targets[0]", "value and tolerance"]),
    ("targets-neither", {"t.toml": t_edit("max = 0.01\n", "")}, REP, ["t.toml", "targets[0]", "max and/or min"]),
    ("targets-nan", {"t.toml": t_edit("max = 0.01", "max = nan")}, REP, ["t.toml", "targets[0].max", "finite"]),
    ("targets-inf", {"t.toml": t_edit("max = 0.01", "max = inf")}, REP, ["t.toml", "targets[0].max", "finite"]),
    ("targets-string-bound", {"t.toml": t_edit("max = 0.01", 'max = "0.01"')}, REP, ["t.toml", "targets[0].max", "'0.01'"]),
    ("targets-bad-market", {"t.toml": TARGETS + 'market = "Not A Market"\n'}, REP, ["t.toml", "targets[0].market"]),
    ("targets-unknown-key", {"t.toml": TARGETS + "maximum = 3\n"}, REP, ["t.toml", "targets[0].maximum"]),
    ("targets-none", {"t.toml": 'name = "x"\n'}, REP, ["t.toml", "targets", "[[targets]]"]),
    ("targets-not-list", {"t.toml": "targets = 5\n"}, REP, ["t.toml", "targets"]),
    ("targets-item-not-table", {"t.toml": "targets = [5]\n"}, REP, ["t.toml", "targets[0]"]),
    ("targets-binary", {"t.toml": b"\xff\xfe\xfd"}, REP, ["t.toml", "UTF-8"]),
]


def _write(folder: Path, files: dict[str, str | bytes | None]) -> None:
    (folder / "s.toml").write_text(SCENARIO, encoding="utf-8")
    for name, content in files.items():
        path = folder / name
        if path.exists():
            path.unlink()
        if content is None:
            path.mkdir()
        elif isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")


def _tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


def test_case_ids_unique_and_enough() -> None:
    """The table holds at least 80 distinct cases."""
    ids = [c[0] for c in CASES]
    assert len(ids) == len(set(ids)) and len(ids) >= 80


@pytest.mark.parametrize(("files", "argv", "expected"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_bad_input_exits_2_with_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                         capsys: pytest.CaptureFixture[str], files: dict, argv: list[str],
                                         expected: list[str]) -> None:
    """Status 2, one `livesim: error:` line naming file and field, no traceback, nothing written."""
    monkeypatch.chdir(tmp_path)
    _write(tmp_path, files)
    before = _tree(tmp_path)
    status = main(list(argv))
    _, err = capsys.readouterr()
    assert status == 2, err
    assert "Traceback" not in err and "internal error" not in err
    assert err.endswith("\n") and err.count("\n") == 1, err
    assert err.startswith("livesim: error: "), err
    for s in expected:
        assert s in err, (s, err)
    assert _tree(tmp_path) == before


SUBPROCESS_CASES = [
    pytest.param({"s.toml": s_edit("buyer_share = 0.4", "buyer_share = inf")}, VAL,
                 ["s.toml", "world.markets[0].buyer_share"], id="inf"),
    pytest.param({}, [*RUN, "--set", "detection.threshold=3"], ["did you mean 'policy.detection.threshold'"],
                 id="suggest"),
    pytest.param({}, [*RUN, "--replication", "-1"], ["--replication"], id="argparse-number"),
    pytest.param({}, ["run"], ["scenario"], id="argparse-missing"),
    pytest.param({"s.toml": s_add(CAMPAIGN + "start_day = 500\ndays = 3")}, RUN, ["s.toml", "timeline[1].start_day"],
                 id="timeline"),
    pytest.param({"w.toml": w_edit("[2.0, 3.0]", "[]")}, SW, ["w.toml", "grid"], id="sweep"),
]


@pytest.mark.parametrize(("files", "argv", "expected"), SUBPROCESS_CASES)
def test_subprocess_bad_input(tmp_path: Path, files: dict, argv: list[str], expected: list[str]) -> None:
    """`python -m sim.cli` with bad input: exit 2, one stderr line, no traceback, nothing written."""
    _write(tmp_path, files)
    before = _tree(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "LIVESIM_DEBUG"}
    proc = subprocess.run([sys.executable, "-m", "sim.cli", *argv], capture_output=True, text=True, cwd=tmp_path,
                          timeout=120, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.count("\n") == 1 and proc.stderr.startswith("livesim: error: "), proc.stderr
    for s in expected:
        assert s in proc.stderr, (s, proc.stderr)
    assert _tree(tmp_path) == before


def test_unexpected_exception_is_one_line_status_1(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """A bug (not bad input) prints one `livesim: internal error:` line with the exception type and exits 1."""
    import sim.cli

    def boom(args: object) -> int:
        raise KeyError("oops")

    monkeypatch.delenv("LIVESIM_DEBUG", raising=False)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "s.toml").write_text(SCENARIO, encoding="utf-8")
    monkeypatch.setattr(sim.cli, "cmd_validate", boom)
    status = main(["validate", "s.toml"])
    _, err = capsys.readouterr()
    assert status == 1
    assert err.count("\n") == 1 and err.startswith("livesim: internal error: KeyError: 'oops'"), err
    assert "LIVESIM_DEBUG=1" in err
