"""``escalation``: when a signal fires in a group, apply a policy change in the group's market
for ``days`` days, then put the levers back.

``signal`` names one signal or several: with several, whichever fires first in a market
escalates it (a team watching a slow but quiet signal and a fast but noisier one acts on the
first alarm), and an alarm of any of them extends the escalation.

The change is any set of dotted policy paths (``set``; may be empty when ``demote`` or ``kyc``
is given), e.g. a lower classifier threshold
(``detection.threshold``), more review capacity (``review.capacity_per_day``, with
``cost_per_day`` added to the market's moderation cost on each escalated day), stricter checks
on new accounts (``onboarding.kyc_strictness``) or a shorter pilot. Levers are per market, so the
change applies to the whole market of the group that fired (a signal grouped without markets
escalates every market of the controller). A new alarm while escalated extends the escalation.
The change applies from the day after the alarm; the levers return to the values they had
before it on the day after the last escalated day.

``demote`` (a weight in (0, 1]) also demotes, in the recommender, the category of each group that
fired (signals grouped by category; a signal without categories demotes none): the market's
``recommender.category_exposure`` for that category is set to the weight while escalated, so
sessions of buyers who like it and another category shift to the other (docs/model.md §7.3). A
later alarm in another category of an escalated market demotes that one too; all return to their
earlier weights with the other levers.

``kyc`` (a strictness in [0, 1]) likewise requires stricter KYC for new accounts in the category of
each group that fired: the market's ``onboarding.kyc_strictness_by_category`` for it is set to
the strictness (or kept, if already stricter) while escalated, so newcomers of that category are
deterred with chance ``kyc_friction x max(market's, kyc)``, re-entering evaders caught with that
strictness, and a cohort of new accounts arriving in it passes the same door (docs/model.md §7.22).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import Field, Strict

from sim.platform.controllers.base import Controller, ControlPanel, policy_value
from sim.platform.monitoring.config import ControllerConfig
from sim.platform.monitoring.registry import CONTROLLERS
from sim.schema import Money, Name, Share

if TYPE_CHECKING:
    from sim.platform.monitoring.monitor import SignalToday
    from sim.platform.monitoring.observed import Observed

__all__ = ["Escalation", "EscalationConfig"]

EXPOSURE = "recommender.category_exposure"
KYC = "onboarding.kyc_strictness_by_category"


class EscalationConfig(ControllerConfig):
    kind: Literal["escalation"]
    signal: Name | list[Name]
    set: dict[str, Any] = Field(default_factory=dict)
    days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 14
    cost_per_day: Money = 0.0
    demote: Annotated[float, Strict(), Field(gt=0.0, le=1.0)] | None = None
    kyc: Share | None = None

    @property
    def signals(self) -> list[str]:
        """The signals watched, in the order given."""
        return [self.signal] if isinstance(self.signal, str) else list(self.signal)

    def check(self, scenario: Any, where: str) -> None:
        """The signals exist and every path is a policy lever with an allowed value."""
        from sim.config import _policy_with

        names = [s.name for s in scenario.signals]
        if not self.signals:
            raise ValueError(f"@{where}.signal|an empty list; name at least one of the scenario's signals: "
                             f"{', '.join(names) or 'none'}")
        for signal in self.signals:
            if signal not in names:
                raise ValueError(f"@{where}.signal|unknown signal {signal!r}; the scenario's signals: "
                                 f"{', '.join(names) or 'none'}")
        if not self.set and self.demote is None and self.kyc is None:
            raise ValueError(f"@{where}.set|no change given; set at least one policy lever, or demote or kyc")
        for option, path in (("demote", EXPOSURE), ("kyc", KYC)):
            if getattr(self, option) is not None and path in self.set:
                raise ValueError(f"@{where}.set.{path}|set by {option}; give either {option} or {path}, not both")
        for m in self.markets or [mk.name for mk in scenario.world.markets]:
            _policy_with(scenario.market_policy(m), self.set, f"{where}.set")


@CONTROLLERS.register
class Escalation(Controller):
    name = "escalation"
    config = EscalationConfig
    cfg: EscalationConfig

    def __init__(self, panel: ControlPanel, cfg: EscalationConfig) -> None:
        super().__init__(panel, cfg)
        self.until: dict[int, int] = {}  # market -> last escalated day
        self.before: dict[int, dict[str, Any]] = {}

    def begin_day(self, day: int) -> None:
        for m, last in self.until.items():
            if day <= last:
                self.panel.charge(m, self.cfg.cost_per_day)

    def act(self, obs: Observed, signals: dict[str, SignalToday]) -> None:
        cfg = self.cfg
        day = obs.day
        fired: dict[int, str] = {}
        categories: dict[int, list[str]] = {}  # market -> categories fired today, in order
        for name in cfg.signals:
            reading = signals.get(name)
            if reading is None:
                continue
            g = reading.run.grouping
            for k in reading.fired_groups():
                market = g.members["market"][k]
                category = g.members["category"][k]
                targets = self.markets if market is None else [obs.market_names.index(market)]
                for m in targets:
                    if m not in self.markets:
                        continue
                    if m not in fired:
                        fired[m] = f"{name} fired in {g.labels[k]} (value {reading.value[k]:.4g}, score " \
                                   f"{reading.score[k]:.3g})"
                    if category is not None and category not in categories.setdefault(m, []):
                        categories[m].append(category)
        for m in self.markets:
            if m in fired:
                by_category = self._by_category(m, categories.get(m, []))
                if m in self.until:
                    self.until[m] = day + cfg.days
                    if not by_category:
                        self.panel.log_only(cfg.name, m, day, f"extend to day {day + cfg.days}", fired[m])
                    else:
                        change = ", ".join(f"{p} -> {v!r}" for p, v in by_category.items())
                        self.panel.set(cfg.name, m, by_category, day, f"extend to day {day + cfg.days}: {change}",
                                       fired[m])
                else:
                    policy = self.panel.policy(m)
                    changes = dict(cfg.set)
                    for path, _weight, _combine, _default in self._category_levers():
                        changes[path] = by_category.get(path, dict(policy_value(policy, path)))
                    self.before[m] = {p: policy_value(policy, p) for p in changes}
                    self.until[m] = day + cfg.days
                    change = ", ".join(f"{p} {self.before[m][p]!r} -> {v!r}" for p, v in changes.items())
                    self.panel.set(cfg.name, m, changes, day, f"escalate until day {day + cfg.days}: {change}",
                                   fired[m])
            elif m in self.until and day >= self.until[m]:
                del self.until[m]
                old = self.before.pop(m)
                change = ", ".join(f"{p} -> {v!r}" for p, v in old.items())
                self.panel.set(cfg.name, m, old, day, f"revert: {change}", f"{cfg.days} days without a new alarm")

    def _category_levers(self) -> list[tuple[str, float, Callable[[float, float], float], float]]:
        """The per-category levers configured: (path, value, how it combines with the value in
        force, the value of a category not listed)."""
        cfg = self.cfg
        levers = []
        if cfg.demote is not None:  # a lower exposure demotes more
            levers.append((EXPOSURE, cfg.demote, min, 1.0))
        if cfg.kyc is not None:  # a higher strictness checks more
            levers.append((KYC, cfg.kyc, max, 0.0))
        return levers

    def _by_category(self, market: int, categories: list[str]) -> dict[str, dict[str, float]]:
        """The market's per-category levers with today's fired categories set, for each lever
        that this changes (none configured, or those categories already set: empty)."""
        out = {}
        for path, value, combine, default in self._category_levers():
            if not categories:
                continue
            now = dict(policy_value(self.panel.policy(market), path))
            new = now | {c: combine(now.get(c, default), value) for c in categories}
            if new != now:
                out[path] = new
        return out
