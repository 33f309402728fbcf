"""The warm-up: run summaries leave out its days exactly; the daily table keeps and marks them;
after it the baseline's populations are stationary."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from sim import LiveShopModel, run
from sim.config import load_scenario, scenario_from_dict, with_overrides
from sim.errors import ScenarioWarning
from sim.metrics import LAST_DAY, MEAN, METRICS, TOTAL
from tests.conftest import BASELINE, tiny_dict

WARMUP = 12


@pytest.fixture(scope="module")
def warm_run():
    scen = scenario_from_dict({**tiny_dict(enforced=True), "warmup_days": WARMUP})
    return run(scen)


def test_the_daily_table_marks_the_warmup_days(warm_run):
    d = warm_run.platform_daily
    assert d.index[d["warmup"]].tolist() == list(range(1, WARMUP + 1))
    assert len(d) == warm_run.scenario.days  # the warm-up days stay in the table


def test_summaries_aggregate_exactly_the_days_after_the_warmup(warm_run):
    """TOTAL, MEAN and LAST_DAY summaries equal the rule applied to the daily values after the
    warm-up (bit for bit); ratio summaries equal the ratio of the post-warm-up day totals."""
    d = warm_run.platform_daily
    after = d[~d["warmup"]]
    s = warm_run.summary
    checked = set()
    for name, metric in METRICS.items():
        values = after[name].to_numpy()
        if metric.summarize is TOTAL:
            assert s[name] == float(np.nansum(values.tolist())), name
        elif metric.summarize is MEAN:
            assert s[name] == float(np.nanmean(values.tolist())), name
        elif metric.summarize is LAST_DAY:
            assert s[name] == d[name].iloc[-1], name
        else:
            continue
        checked.add(name)
    assert {"gmv", "orders", "buyer_harm", "queue_backlog", "active_buyers", "buyer_trust"} <= checked
    assert s["gmv"] < d["gmv"].sum()  # the warm-up had sales: they are really left out
    assert s["net_gmv"] == pytest.approx(after["net_gmv"].sum(), rel=1e-12)
    assert s["orders"] == after["orders"].sum()


def test_ratio_and_run_value_summaries_leave_out_the_warmup():
    """Ratios of totals use the post-warm-up counters; the median time to action counts only
    decisions taken after the warm-up; creator run values count income after it."""
    data = {**tiny_dict(enforced=True), "days": 40, "warmup_days": 15}
    m = LiveShopModel(scenario=scenario_from_dict(data))
    counts = []
    while m.running:
        m.step()
        counts.append({f: getattr(m.counts, f).sum() for f in ("refunded", "settled")})
    post = counts[15:]
    from sim.runner import _result

    s = _result(m, 0.0).summary
    assert s["refund_rate"] == pytest.approx(sum(c["refunded"] for c in post) / sum(c["settled"] for c in post),
                                             rel=1e-12)
    log = m.governance.enforcer.log
    late = log.col("day") > 15
    assert late.any() and (~late).any()
    assert s["time_to_action"] == float(np.median((log.col("day") - log.col("violation_day"))[late]))


def test_no_warmup_summarises_every_day(tiny):
    """warmup_days = 0 (the default): every day is summarised, none marked."""
    r = run(tiny)
    d = r.platform_daily
    assert not d["warmup"].any()
    assert r.summary["gmv"] == float(np.nansum(d["gmv"].tolist()))


def test_a_warmup_as_long_as_the_run_counts_as_none():
    """A warm-up not shorter than the run (e.g. a shortened run) warns and summarises every day."""
    with pytest.warns(ScenarioWarning, match="warmup_days"):
        scen = scenario_from_dict({**tiny_dict(), "days": 10, "warmup_days": 10})
    assert scen.effective_warmup == 0
    r = run(scen)
    assert not r.platform_daily["warmup"].any()
    assert r.summary["orders"] == r.platform_daily["orders"].sum()


@pytest.mark.parametrize("bad", [-1, 4000, 2.5, "60"])
def test_warmup_days_is_validated(bad):
    """0 and a warm-up shorter than the run are accepted; a negative, huge, fractional or text value is not."""
    assert scenario_from_dict({**tiny_dict(), "warmup_days": 0}).effective_warmup == 0
    assert scenario_from_dict({**tiny_dict(), "warmup_days": 29}).effective_warmup == 29
    with pytest.raises(Exception, match="warmup_days"):
        scenario_from_dict({**tiny_dict(), "warmup_days": bad})


def test_baseline_warms_up_for_60_days():
    assert load_scenario(BASELINE).warmup_days == 60


def _present(creators, day: int) -> int:
    left = creators["left_day"].to_numpy()
    return int(((creators["joined_day"].to_numpy() <= day) & ((left < 0) | (left > day))).sum())


@pytest.mark.slow
def test_baseline_populations_are_stationary_after_the_warmup():
    """At baseline size (enforced), active buyers and present creators stay within +-5 % of their
    end-of-warm-up values over days 60-180 and over a year; honest income starts level (days 1-30
    within 25 % of the median of days 31-90) instead of climbing from zero."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ScenarioWarning)
        scen = with_overrides(load_scenario(BASELINE), {"days": 365})
    r = run(scen, 0)
    d = r.platform_daily
    w = scen.warmup_days
    buyers = d["active_buyers"]
    creators = np.array([_present(r.creators, t) for t in range(w, 366)])
    for last in (180, 365):
        b = buyers.loc[w:last].to_numpy() / buyers.loc[w]
        c = creators[: last - w + 1] / creators[0]
        assert b.min() > 0.95 and b.max() < 1.05, (last, b.min(), b.max())
        assert c.min() > 0.95 and c.max() < 1.05, (last, c.min(), c.max())
    # No ramp from zero: the first days sit at the level of days 31-90 (up to the days before
    # the first payday sale, which lifts trailing income for the 30 days after it).
    income = d["honest_creator_income"]
    level = income.loc[31:90].median()
    first_sale = min(e.start_day for e in scen.timeline if e.kind == "campaign")
    early = income.loc[1:min(30, first_sale - 1)]
    assert early.min() > 0.75 * level and early.max() < 1.25 * level, (early.min(), early.max(), level)
