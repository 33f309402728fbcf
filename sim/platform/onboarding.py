"""Onboarding: identity checks (KYC) at the door, and banned ban-evaders trying to come back.

A banned creator of type ``ban_evader`` re-registers a new account after a delay. The
market's KYC strictness is the chance the check recognises the person (the same ``actor``)
and refuses the account; a refused evader tries again later, up to ``reentry_attempts``
times. A re-entry that passes is a *ban evasion*: a new account, small again (so it starts in
the pilot), with the same tactic. The same checks deter a share of all newcomers
(``kyc_friction x kyc_strictness``), which is their cost.

A market may check new accounts of some categories more strictly
(``kyc_strictness_by_category``): an account of category k then faces
S = max(kyc_strictness, by-category k). The category is known only once the account's traits
are drawn, so the market's check runs first (its draws as ever) and the category's check then
refuses the accounts that passed it with the chance that makes the whole refusal S (times the
friction for newcomers), from the ``kyc`` stream, so the other streams draw as without the
lever. Accounts of a cohort trend skip the door unless their market sets the lever for their
category; then they face the whole door, S x friction (docs/model.md §7.22).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorType
from sim.platform.lifecycle import add_reentry
from sim.seeding import day_stream

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["Onboarding"]


class Onboarding:
    """Pending re-entries of banned evaders, checked at the door each day."""

    def __init__(self, model: LiveShopModel) -> None:
        self.model = model
        # (day, actor, market, tactic, attempts so far)
        self.pending: list[tuple[int, int, int, int, int]] = []

    def banned(self, creator: int, day: int) -> None:
        """A ban: ban evaders plan to come back."""
        c = self.model.creators
        if c.col("ctype")[creator] != CreatorType.ban_evader:
            return
        adapt = self.model.config.world.adaptation
        if adapt.reentry_attempts <= 0:
            return
        rng = self.model.rngs["onboard"]
        lo, hi = adapt.reentry_days
        when = day + int(rng.integers(lo, max(hi, lo) + 1))
        self.pending.append((when, int(c.col("actor")[creator]), int(c.col("market")[creator]),
                             int(c.col("tactic")[creator]), 0))

    def reinstated(self, creator: int) -> None:
        """An overturned ban: the creator is back, so no new account is needed."""
        actor = int(self.model.creators.col("actor")[creator])
        self.pending = [p for p in self.pending if p[1] != actor]

    def newcomers_admitted(self, markets: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Which arriving newcomers go through the checks (the rest are deterred)."""
        lv = self.model.levers
        deterred = lv.kyc_friction[markets] * lv.kyc_strictness[markets]
        return rng.random(markets.size) >= deterred

    def newcomers_pass(self, traits: dict[str, np.ndarray]) -> np.ndarray | None:
        """Which newcomers, admitted by their market's check, also pass their category's
        (None: no market checks a category more strictly)."""
        return self._category_check(traits, self.model.rngs["kyc"], friction=True, checked=True)

    def cohort_pass(self, traits: dict[str, np.ndarray], trend: int, day: int) -> np.ndarray | None:
        """Which accounts of cohort trend ``trend`` arriving for ``day`` pass the door: those whose
        market sets no stricter check for their category skip it; the others face all of it
        (None: all pass). Each trend and day draws from its own sub-stream of ``kyc``."""
        if self.model.levers.kyc_category_set is None:
            return None
        rng = day_stream(self.model.seed_sequence, "kyc", day, 1 + trend)
        return self._category_check(traits, rng, friction=True, checked=False)

    def _category_check(self, traits: dict[str, np.ndarray], rng: np.random.Generator, *, friction: bool,
                        checked: bool) -> np.ndarray | None:
        """Which accounts pass their category's check: overall refused with chance S (x the
        friction), where S = max(market's, category's) strictness; for accounts ``checked``
        already by the market's strictness s, the chance given that they passed it."""
        lv = self.model.levers
        if lv.kyc_category_set is None:
            return None
        market = traits["market"].astype(np.intp)
        category = traits["category"].astype(np.intp)
        f = lv.kyc_friction[market] if friction else 1.0
        refused = f * lv.kyc_category_strictness[market, category]
        if checked:
            before = f * lv.kyc_strictness[market]
            refused = np.where(before < 1.0, (refused - before) / np.maximum(1.0 - before, 1e-300), 0.0)
        else:
            refused = np.where(lv.kyc_category_set[market, category], refused, 0.0)
        return rng.random(market.size) >= refused

    def daily(self) -> None:
        """Today's re-entry attempts: caught by KYC, or let in as a new account."""
        model = self.model
        day = model.day
        due = [p for p in self.pending if p[0] <= day]
        if not due:
            return
        self.pending = [p for p in self.pending if p[0] > day]
        rng = model.rngs["onboard"]
        lv = model.levers
        for _when, actor, market, tactic, attempts in due:  # rare events: one per banned evader
            if rng.random() < lv.kyc_strictness[market]:
                self._caught(actor, market, tactic, attempts, rng)
                continue
            admit = None if lv.kyc_category_set is None else self._reentry_pass
            if add_reentry(model, market, actor, tactic, rng, admit) is None:
                # Caught by the category's check: the retry's delay from its stream, not onboard's.
                self._caught(actor, market, tactic, attempts, model.rngs["kyc"])
                continue
            model.counts.ban_evasions[market] += 1

    def _reentry_pass(self, traits: dict[str, np.ndarray]) -> np.ndarray | None:
        """Whether a re-entry that passed the market's check passes its category's."""
        return self._category_check(traits, self.model.rngs["kyc"], friction=False, checked=True)

    def _caught(self, actor: int, market: int, tactic: int, attempts: int, rng: np.random.Generator) -> None:
        """A re-entry caught: counted, and tried again later while attempts remain."""
        model = self.model
        adapt = model.config.world.adaptation
        model.counts.ban_evasions_caught[market] += 1
        if attempts + 1 < adapt.reentry_attempts:
            lo, hi = adapt.reentry_days
            self.pending.append((model.day + int(rng.integers(lo, max(hi, lo) + 1)), actor, market, tactic,
                                 attempts + 1))
