"""A live run for the dashboard: a model stepped day by day, its levers, its daily metrics.

No user interface here (that is :mod:`livesim_dashboard.app`): a :class:`LiveRun` holds a scenario,
the lever values chosen so far (dotted override paths, as ``livesim run --set`` takes them)
and the model. A policy lever moved during a run applies from the next day, exactly as a
``kind = "policy"`` timeline launch would (``LiveShopModel.set_market_policy``); a lever of the
world or the timeline (an incentive's bonus rate) applies from the next reset. Reset builds a
new model with the current levers and the chosen seed.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from sim.config import Scenario, load_scenario, with_overrides
from sim.model import LiveShopModel

__all__ = ["LIVE_METRICS", "Lever", "LiveRun", "levers_of", "market_series"]

# The main metrics per market, in the order the dashboard offers them.
LIVE_METRICS = ("gmv", "prevalence", "buyer_harm", "buyer_trust", "honest_creator_income", "adversary_share",
                "queue_backlog", "review_utilisation", "time_to_action", "flags", "actions")


@dataclass(frozen=True)
class Lever:
    """One control: the dotted override path it sets, its label, range and starting value."""

    path: str
    label: str
    value: Any
    low: float = 0.0
    high: float = 1.0
    step: float = 0.01
    choices: tuple[str, ...] = ()
    live: bool = True  # applies from the next day (False: from the next reset)


def levers_of(scenario: Scenario) -> list[Lever]:
    """The main levers of ``scenario``: ladder preset, detection threshold per market, review
    capacity, KYC strictness, and the bonus rate of its first incentive programme (if any)."""
    from sim.bundled import preset_names

    first = scenario.market_policy(scenario.world.markets[0].name)
    presets = tuple(preset_names())
    current = scenario.policy_preset if scenario.policy_preset in presets else ""
    out = [Lever("policy_preset", "Policy preset (ladder)", current, choices=("", *presets))]
    for m in scenario.world.markets:
        p = scenario.market_policy(m.name)
        out.append(Lever(f"policy_overrides.{m.name}.detection.threshold", f"Detection threshold {m.name}",
                         float(p.detection.threshold), 0.5, 5.0, 0.1))
    out.append(Lever("policy.review.capacity_per_day", "Review capacity per day", int(first.review.capacity_per_day),
                     0, 2000, 5))
    out.append(Lever("policy.onboarding.kyc_strictness", "KYC strictness", float(first.onboarding.kyc_strictness),
                     0.0, 1.0, 0.05))
    for entry in scenario.timeline:
        if entry.kind == "incentive" and hasattr(entry, "bonus_rate"):
            out.append(Lever(f"timeline.{entry.name}.bonus_rate", f"Bonus rate ({entry.name}, on reset)",
                             float(entry.bonus_rate), 0.0, 0.5, 0.01, live=False))
            break
    return out


class LiveRun:
    """A scenario's model, stepped on request, with levers that can move between days."""

    def __init__(self, scenario: Scenario | str, seed: int | None = None) -> None:
        self.base = scenario if isinstance(scenario, Scenario) else load_scenario(scenario)
        self.levers = levers_of(self.base)
        self.overrides: dict[str, Any] = {}
        self.seed = int(self.base.seed if seed is None else seed)
        self.pending = False  # a lever waits for the next reset
        self.reset()

    @property
    def scenario(self) -> Scenario:
        """The base scenario with the levers as set now."""
        return with_overrides(self.base, self.overrides, source="dashboard levers")

    def reset(self, seed: int | None = None) -> None:
        """A new model of the scenario with the current levers, from day 0 (``seed``: a new seed)."""
        if seed is not None:
            self.seed = int(seed)
        self.model = LiveShopModel(scenario=self.scenario, rng=self.seed, events=True)
        self.pending = False

    @property
    def day(self) -> int:
        return int(self.model.day)

    @property
    def days(self) -> int:
        return int(self.model.config.days)

    @property
    def running(self) -> bool:
        return bool(self.model.running)

    def step(self, days: int = 1) -> None:
        """Simulate up to ``days`` more days (never past the scenario's last day)."""
        for _ in range(days):
            if not self.model.running:
                break
            self.model.step()

    def value(self, path: str) -> Any:
        """A lever's current value."""
        if path in self.overrides:
            return self.overrides[path]
        return next(lv.value for lv in self.levers if lv.path == path)

    def set_lever(self, path: str, value: Any) -> None:
        """Move a lever: a policy lever applies from the next day, others from the next reset."""
        lever = next(lv for lv in self.levers if lv.path == path)
        if not lever.choices and isinstance(value, float):
            value = round(round(value / lever.step) * lever.step, 10)  # a slider's float noise is no change
        if value == self.value(path):
            return
        if path == "policy_preset" and not value:
            self.overrides.pop(path, None)
        else:
            self.overrides[path] = value
        scenario = self.scenario  # validates the new value (ScenarioError names the lever)
        if not lever.live:
            self.pending = True
            return
        for m, market in enumerate(self.model.market_names):
            policy = scenario.market_policy(market)
            if policy != self.model.policies[m]:
                self.model.set_market_policy(m, policy)

    def daily(self) -> pd.DataFrame:
        """One row per (day, market) so far, ``market == "all"`` the whole platform (as daily.parquet)."""
        markets = ["all", *self.model.market_names]
        rows = [{"day": d, "market": m, **snap[m]} for d, snap in enumerate(self.model.history, start=1)
                for m in markets]
        return pd.DataFrame(rows)

    def campaigns(self) -> list[dict[str, Any]]:
        """The scenario's campaigns (name, first and last day, markets), for shading."""
        return [{"name": n, "first_day": a, "last_day": b, "markets": ms}
                for n, a, b, ms in self.model.timeline.campaign_days()]

    def events(self) -> pd.DataFrame:
        """The run's event log so far (case files)."""
        return self.model.events.frame(self.model)


def market_series(daily: pd.DataFrame, metric: str, markets: list[str], campaigns: list[dict[str, Any]],
                  days: int | None = None) -> Figure:
    """One metric's daily series, one line per market, campaign days shaded."""
    from analysis.plots import _shade_campaigns

    fig = Figure(figsize=(6.0, 2.6), dpi=90, layout="constrained")
    ax = fig.add_subplot()
    if not daily.empty:
        for market in markets:
            rows = daily[daily["market"] == market]
            ax.plot(rows["day"].to_numpy(), rows[metric].to_numpy(dtype=float), label=market, lw=1.4)
    _shade_campaigns(ax, campaigns, "all")
    ax.set_xlim(0.5, max(days or 0, int(daily["day"].max()) if not daily.empty else 1) + 0.5)
    ax.set_title(metric, fontsize=10)
    ax.set_xlabel("day", fontsize=8)
    ax.tick_params(labelsize=8)
    if markets and not daily.empty:
        ax.legend(fontsize=7, loc="upper left")
    if not daily.empty and np.all(~np.isfinite(daily[metric].to_numpy(dtype=float))):
        ax.text(0.5, 0.5, "no value yet", transform=ax.transAxes, ha="center", fontsize=8, color="0.4")
    return fig
