"""Onboarding: identity checks (KYC) at the door, and banned ban-evaders trying to come back.

A banned creator of type ``ban_evader`` re-registers a new account after a delay. The
market's KYC strictness is the chance the check recognises the person (the same ``actor``)
and refuses the account; a refused evader tries again later, up to ``reentry_attempts``
times. A re-entry that passes is a *ban evasion*: a new account, small again (so it starts in
the pilot), with the same tactic. The same checks deter a share of all newcomers
(``kyc_friction x kyc_strictness``), which is their cost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.labels import CreatorType

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

    def daily(self) -> None:
        """Today's re-entry attempts: caught by KYC, or let in as a new account."""
        model = self.model
        day = model.day
        due = [p for p in self.pending if p[0] <= day]
        if not due:
            return
        self.pending = [p for p in self.pending if p[0] > day]
        rng = model.rngs["onboard"]
        adapt = model.config.world.adaptation
        lv = model.levers
        for _when, actor, market, tactic, attempts in due:  # rare events: one per banned evader
            if rng.random() < lv.kyc_strictness[market]:
                model.counts.ban_evasions_caught[market] += 1
                if attempts + 1 < adapt.reentry_attempts:
                    lo, hi = adapt.reentry_days
                    self.pending.append((day + int(rng.integers(lo, max(hi, lo) + 1)), actor, market, tactic,
                                         attempts + 1))
                continue
            model.counts.ban_evasions[market] += 1
            model.add_reentry(market, actor, tactic, rng)
