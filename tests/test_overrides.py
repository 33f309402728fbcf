"""Overrides mean what the same value in a file means: ``policy_preset`` applies the preset,
``policy_overrides.<market>.<path>`` reaches one market, timeline entries are checked against
the resolved run, and the largest allowed values still give finite results."""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import pytest

from sim.cli import main
from sim.config import load_scenario, scenario_from_dict, with_overrides
from sim.errors import ScenarioError, ScenarioWarning
from sim.model import LiveShopModel
from sim.runner import run
from sim.sweep import load_sweep

from .conftest import tiny_dict

FILE = """\
name = "small"
days = {days}
seed = 5
{preset}
[world]
n_buyers = 2500
n_creators = 100

[[world.markets]]
name = "sg"
buyer_share = 0.5
creator_share = 0.5

[[world.markets]]
name = "id"
buyer_share = 0.5
creator_share = 0.5
price_level = 0.35

[policy]
referral_fee = 0.07
{timeline}
"""


def _file(tmp_path: Path, name: str = "s.toml", days: int = 8, preset: str = "", timeline: str = "") -> Path:
    path = tmp_path / name
    path.write_text(FILE.format(days=days, preset=preset, timeline=timeline), encoding="utf-8")
    return path


# ---------------------------------------------------------------------------------------
# policy_preset as an override
# ---------------------------------------------------------------------------------------


def test_set_policy_preset_equals_the_same_line_in_the_file(tmp_path: Path) -> None:
    """`policy_preset=strict` as an override resolves to exactly the scenario whose file says it."""
    plain = load_scenario(_file(tmp_path))
    in_file = load_scenario(_file(tmp_path, "p.toml", preset='policy_preset = "strict"'))
    overridden = with_overrides(plain, {"policy_preset": "strict"})
    assert overridden == in_file
    assert overridden.policy != plain.policy
    assert overridden.policy.referral_fee == 0.07  # the file's own [policy] value still wins


def test_set_policy_preset_changes_results_like_the_file(tmp_path: Path) -> None:
    """On paired seeds, `--set policy_preset=strict` gives the file-preset results, not the baseline's."""
    plain, preset = _file(tmp_path), _file(tmp_path, "p.toml", preset='policy_preset = "strict"')
    summaries = {}
    for label, argv in {"set": [str(plain), "--set", "policy_preset=strict"], "file": [str(preset)],
                        "base": [str(plain)]}.items():
        out = tmp_path / label
        assert main(["run", *argv, "--out", str(out), "--quiet", "--no-plot"]) == 0
        doc = json.loads((out / "summary.json").read_text())
        summaries[label] = json.dumps({"metrics": doc["metrics"], "by_market": doc["by_market"]}, sort_keys=True)
    set_metrics, file_metrics, base_metrics = (summaries[k] for k in ("set", "file", "base"))
    assert set_metrics == file_metrics
    assert set_metrics != base_metrics


def test_model_keyword_policy_preset_is_applied(tmp_path: Path) -> None:
    """`LiveShopModel(policy_preset="strict")` runs the strict policy, not the baseline's."""
    path = _file(tmp_path)
    model = LiveShopModel(scenario=path, policy_preset="strict")
    expected = load_scenario(_file(tmp_path, "p.toml", preset='policy_preset = "strict"'))
    assert model.config.policy == expected.policy
    with pytest.raises(ScenarioError, match="policy_preset"):
        LiveShopModel(scenario=path, policy_preset="strickt")


def test_preset_then_policy_override_in_one_call(tmp_path: Path) -> None:
    """Other `policy.*` overrides in the same call apply on top of the new preset, and survive a later preset change."""
    plain = load_scenario(_file(tmp_path))
    s = with_overrides(plain, {"policy.review.capacity_per_day": 321, "policy_preset": "lenient"})
    assert s.policy.review.capacity_per_day == 321 and s.policy_preset == "lenient"
    t = with_overrides(s, {"policy_preset": "strict"})
    assert t.policy.review.capacity_per_day == 321 and t.policy.referral_fee == 0.07


def test_preset_name_is_never_a_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A preset given as a path (absolute or relative) is refused before any file named after it is read."""
    evil = tmp_path / "evil.toml"
    evil.write_text("[policy]\nreferral_fee = 0.5\n", encoding="utf-8")
    read: list[str] = []
    original = Path.read_text

    def spy(self: Path, *args: object, **kwargs: object) -> str:
        read.append(str(self))
        return original(self, *args, **kwargs)

    monkeypatch.setattr(Path, "read_text", spy)
    for attempt in (str(tmp_path / "evil"), "../evil"):
        with pytest.raises(ScenarioError, match="not a path"):
            scenario_from_dict({"name": "x", "policy_preset": attempt}, base_dir=tmp_path / "sub")
        with pytest.raises(ScenarioError, match="not a path"):
            with_overrides(scenario_from_dict({"name": "x"}), {"policy_preset": attempt})
    assert str(evil) not in read and not any(p.endswith("evil.toml") for p in read)


# ---------------------------------------------------------------------------------------
# per-market overrides
# ---------------------------------------------------------------------------------------


def test_set_policy_overrides_reaches_one_market(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--set policy_overrides.id.review.capacity_per_day=300` changes id only."""
    path = _file(tmp_path)
    assert main(["validate", str(path), "--set", "policy_overrides.id.review.capacity_per_day=300"]) == 0
    doc = json.loads(capsys.readouterr().out.split("\n", 1)[1])
    s = scenario_from_dict(doc)
    assert s.market_policy("id").review.capacity_per_day == 300
    assert s.market_policy("sg").review.capacity_per_day == load_scenario(path).policy.review.capacity_per_day


def test_model_keyword_policy_overrides(tmp_path: Path) -> None:
    """`LiveShopModel(**{"policy_overrides.id.review.capacity_per_day": 300})` sets id's capacity."""
    model = LiveShopModel(scenario=_file(tmp_path), **{"policy_overrides.id.review.capacity_per_day": 300})
    assert model.config.market_policy("id").review.capacity_per_day == 300
    assert model.config.market_policy("sg").review.capacity_per_day != 300


def test_policy_overrides_keep_existing_per_market_values(tmp_path: Path) -> None:
    """A per-market override adds to the market's existing overrides instead of replacing them."""
    s = scenario_from_dict({**tiny_dict(), "policy_overrides": {"bb": {"review": {"sla_days": 3}}}})
    t = with_overrides(s, {"policy_overrides.bb.review.capacity_per_day": 42})
    assert (t.market_policy("bb").review.sla_days, t.market_policy("bb").review.capacity_per_day) == (3, 42)
    assert t.market_policy("aa").review == s.policy.review


SWEEP = """\
name = "per_market"
scenario = "s.toml"
replications = 1
days = 6
{body}
"""


@pytest.mark.parametrize("variant", [
    '[variants.big]\n"policy_overrides.id.review.capacity_per_day" = 300',
    "[variants.big.policy_overrides.id.review]\ncapacity_per_day = 300",
    '[variants.big]\npolicy_overrides = { id = { "review.capacity_per_day" = 300 } }',
], ids=["dotted", "nested", "inline"])
def test_sweep_variant_policy_overrides(tmp_path: Path, variant: str) -> None:
    """A sweep variant sets one market's lever with dotted keys or nested tables."""
    _file(tmp_path)
    (tmp_path / "w.toml").write_text(SWEEP.format(body=variant), encoding="utf-8")
    sweep = load_sweep(tmp_path / "w.toml")
    big = sweep.variants["big"]
    assert big.market_policy("id").review.capacity_per_day == 300
    assert big.market_policy("sg").review == sweep.variants["baseline"].market_policy("sg").review


def test_sweep_grid_over_one_market_changes_that_market(tmp_path: Path) -> None:
    """A grid over `policy_overrides.id.review.capacity_per_day` changes id's policy only, and id's results."""
    _file(tmp_path)
    (tmp_path / "w.toml").write_text(
        SWEEP.format(body='[levers.grid]\n"policy_overrides.id.review.capacity_per_day" = [0, 5000]'), encoding="utf-8")
    sweep = load_sweep(tmp_path / "w.toml")
    runs = sweep.runs()
    # The grid, then the base's own id capacity (its platform-wide value) as the reference point.
    own = sweep.base.policy.review.capacity_per_day
    assert [r.scenario.market_policy("id").review.capacity_per_day for r in runs] == [0, 5000, own]
    assert runs[0].scenario.market_policy("sg") == runs[1].scenario.market_policy("sg") == sweep.base.policy
    low, high = (run(r.scenario, r.replication) for r in runs[:2])
    assert low.summary_by_market["id"]["actions"] != high.summary_by_market["id"]["actions"]


def test_variant_preset_with_nested_policy_table(tmp_path: Path) -> None:
    """A variant naming a preset and a nested [policy.*] table gets both (the preset's levers under it)."""
    _file(tmp_path)
    body = '[variants.strict]\npolicy_preset = "strict"\n[variants.strict.policy.appeals]\nwindow_days = 180'
    (tmp_path / "w.toml").write_text(SWEEP.format(body=body), encoding="utf-8")
    strict = load_sweep(tmp_path / "w.toml").variants["strict"]
    expected = with_overrides(load_scenario(tmp_path / "s.toml"), {"policy_preset": "strict"})
    assert strict.policy.appeals.window_days == 180
    assert strict.policy.review == expected.policy.review and strict.policy.referral_fee == 0.07


def test_sample_over_one_market(tmp_path: Path) -> None:
    """Sample ranges accept `policy_overrides.<market>.<path>` too."""
    _file(tmp_path)
    body = '[levers.sample]\nn = 3\nranges = { "policy_overrides.sg.review.capacity_per_day" = [10, 20] }'
    (tmp_path / "w.toml").write_text(SWEEP.format(body=body), encoding="utf-8")
    sweep = load_sweep(tmp_path / "w.toml")
    values = [r.scenario.market_policy("sg").review.capacity_per_day for r in sweep.runs()]
    assert len(sweep.points) == 3 and all(10 <= v <= 20 for v in values[:3])
    assert values[3:] == [sweep.base.policy.review.capacity_per_day]  # the base's own value, as the reference


def test_unknown_top_level_path_suggests_full_path(tmp_path: Path) -> None:
    """`detection.threshold` suggests `policy.detection.threshold`; `n_creators_x` stays a plain error."""
    s = load_scenario(_file(tmp_path))
    with pytest.raises(ScenarioError, match=r"did you mean 'policy\.detection\.threshold'\?") as info:
        with_overrides(s, {"detection.threshold": 3.0})
    assert info.value.field == "detection.threshold"
    with pytest.raises(ScenarioError, match=r"did you mean 'world\.creators\.churn_rate'\?"):
        with_overrides(s, {"creators.churn_rate": 0.01})


# ---------------------------------------------------------------------------------------
# timeline entries and the run length
# ---------------------------------------------------------------------------------------

CAMPAIGN = '\n[[timeline]]\nkind = "campaign"\nname = "sale"\nstart_day = {start}\ndays = {days}\n'
RAMP = ('\n[[timeline]]\nkind = "ramp"\nname = "tune"\nstart_day = {start}\ndays = {days}\n'
        'path = "detection.dprime_scale"\nstart_value = 0.5\nend_value = 1.0\n')


def _cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    status = main(argv)
    return status, capsys.readouterr().err


def test_campaign_past_last_day_warns_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A campaign running past the last day: one `livesim: warning:` line naming the ignored days, then it runs."""
    path = _file(tmp_path, days=8, timeline=CAMPAIGN.format(start=6, days=5))
    status, err = _cli(["validate", str(path), "--brief"], capsys)
    assert status == 0
    assert err == (f"livesim: warning: {path}: timeline[0] (sale): runs to day 10, past the last day (8); "
                   "days 9-10 are ignored\n")


def test_ramp_past_last_day_warns(tmp_path: Path) -> None:
    """A ramp that would reach its end value after the last day is a ScenarioWarning."""
    path = _file(tmp_path, days=8, timeline=RAMP.format(start=5, days=10))
    with pytest.warns(ScenarioWarning, match=r"timeline\[0\] \(tune\): runs to day 15, past the last day \(8\)"):
        load_scenario(path)


@pytest.mark.parametrize("timeline", [
    CAMPAIGN.format(start=500, days=3),
    RAMP.format(start=9, days=2),
    '\n[[timeline]]\nkind = "policy"\nname = "launch"\nstart_day = 9\nset = { "review.capacity_per_day" = 10 }\n',
], ids=["campaign", "ramp", "policy-launch"])
def test_entry_after_last_day_is_an_error(tmp_path: Path, timeline: str) -> None:
    """An entry starting after the last day of the file's own run is an error naming its start_day."""
    path = _file(tmp_path, days=8, timeline=timeline)
    with pytest.raises(ScenarioError, match=r"last day of the run \(8\)") as info:
        load_scenario(path)
    assert info.value.field == "timeline[0].start_day" and info.value.source == str(path)


def test_days_override_is_checked_on_the_resolved_run(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--days` that cuts a campaign off warns and runs; `--days` that makes room for it clears the error."""
    inside = _file(tmp_path, days=8, timeline=CAMPAIGN.format(start=5, days=2))
    status, err = _cli(["validate", str(inside), "--brief", "--days", "3"], capsys)
    assert status == 0 and err.startswith("livesim: warning: ") and "starts on day 5" in err and err.count("\n") == 1
    status, err = _cli(["validate", str(inside), "--brief", "--days", "5"], capsys)
    assert status == 0 and "runs to day 6, past the last day (5); day 6 is ignored" in err
    outside = _file(tmp_path, "o.toml", days=8, timeline=CAMPAIGN.format(start=20, days=2))
    status, err = _cli(["validate", str(outside), "--brief"], capsys)
    assert status == 2 and "timeline[0].start_day" in err
    status, err = _cli(["validate", str(outside), "--brief", "--days", "30"], capsys)
    assert (status, err) == (0, "")


def test_sweep_days_are_checked(tmp_path: Path) -> None:
    """A sweep's `days` that cuts off a timeline entry gives a ScenarioWarning naming the sweep."""
    _file(tmp_path, days=20, timeline=CAMPAIGN.format(start=10, days=2))
    (tmp_path / "w.toml").write_text(SWEEP.format(body=""), encoding="utf-8")
    with pytest.warns(ScenarioWarning, match=r"w\.toml: timeline\[0\] \(sale\): starts on day 10"):
        load_sweep(tmp_path / "w.toml")


# ---------------------------------------------------------------------------------------
# the largest allowed values still give finite arithmetic
# ---------------------------------------------------------------------------------------

CATS = ("beauty", "fashion", "electronics", "home", "food", "health")
EXTREMES = {
    "weights": {"world.markets.aa.buyer_share": 1e6, "world.markets.aa.creator_share": 1e6,
                "world.categories.beauty.share": 1e6, "world.categories.beauty.exposure.counterfeit": 1e6,
                "world.tactics.opportunist_weights": {"counterfeit": 1e6}},
    "money": {**{f"world.categories.{c}.order_value_median": 1e6 for c in CATS},
              **{f"world.categories.{c}.order_value_sigma": 3.0 for c in CATS},
              "world.markets.aa.price_level": 100.0, "world.creators.low_income_monthly": 1e6,
              "world.adaptation.penalty_per_point": 1e6, "world.tactics.fake_engagement.cost_per_stream": 1e6,
              "policy.review.cost_per_review": 1e6, "policy.review.cost_per_auto_action": 1e6,
              "policy.appeals.cost_per_appeal": 1e6, "policy.refund_admin_fee_cap": 1e6},
    "budgets": {"timeline.bonus.gmv_threshold": 1e12, "timeline.bonus.bonus_cap": 1e12,
                "timeline.bonus.budget": 1e12,
                "policy.level_thresholds": [1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12]},
    "shapes": {"world.creators.quality_beta": [1e4, 0.01], "world.buyers.susceptibility_beta": [0.01, 1e4],
               "policy.recommender.quality_prior_orders": 1e6, "world.creators.followers_min": 1_000_000_000},
    "counts": {"policy.review.capacity_per_day": 1_000_000_000, "policy.pilot_followers_max": 1_000_000_000,
               "timeline.sale.eligibility.min_followers": 1_000_000_000,
               "timeline.sale.eligibility.max_age_days": 3650},
    "health_score": {"policy.enforcement": {"kind": "health_score", "score_per_point": 1000.0,
                                            "recovery_per_clean_order": 1000.0}},
}


@pytest.mark.parametrize("overrides", list(EXTREMES.values()), ids=list(EXTREMES))
def test_largest_allowed_values_run_finite(overrides: dict) -> None:
    """At the new upper bounds a short run finishes without RuntimeWarning and with no infinite metric."""
    data = tiny_dict(enforced=True)
    data.update(days=5)
    data["world"].update(n_buyers=1500, n_creators=80)
    data["timeline"] = [{"kind": "campaign", "name": "sale", "start_day": 2, "days": 3},
                        {"kind": "incentive", "name": "bonus", "start_day": 1, "days": 4, "period_days": 2}]
    scenario = with_overrides(scenario_from_dict(data), overrides)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        result = run(scenario, replication=0)
    values = [*result.summary.values(), *(v for m in result.summary_by_market.values() for v in m.values())]
    assert not [v for v in values if isinstance(v, float) and math.isinf(v)]
