"""Rewards: incentive programmes close their periods and pay bonuses (design §3 phase 9).

The programmes themselves (enrolment, what they record, periods, budgets) are the registered
programme types in ``sim/platform/programmes/``; this phase books what they pay out: to the
creators' earnings, profit and ``bonus_paid``, the day's incentive spend (and the type's own
spend counter, if it declares one; the part paid to adversarial creators in
``adversary_bonus_spend``), and the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from sim.state import CREATORS, Column, declare
from sim.tactics import adversary_type_codes

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["reward"]

# The creator column the payout phase owns.
declare(CREATORS, __name__,
        Column("bonus_paid", np.float64, doc="incentive bonuses paid to the creator over the run"))


def reward(model: LiveShopModel, day: Day) -> None:
    """Incentive programmes close periods and pay bonuses within their budgets.

    Uses no field of ``day``: the programmes kept what they pay on themselves (``shop``, ``settle``).
    """
    c = model.creators
    for run in model.timeline.incentives:
        paid = run.close_day(model.day)
        if paid.size and paid.any():
            c.col("earnings")[: paid.size] += paid
            c.col("profit")[: paid.size] += paid
            c.col("bonus_paid")[: paid.size] += paid
            market = c.col("market")[: paid.size]
            by_market = np.bincount(market, weights=paid, minlength=model.n_markets)
            model.counts.incentive_spend += by_market
            model.ledger.incentive_paid += by_market
            if run.spend_counter is not None and run.spend_counter in model.counts.fields:
                getattr(model.counts, run.spend_counter)[:] += by_market
            if "adversary_bonus_spend" in model.counts.fields:
                adversary = np.isin(c.col("ctype")[: paid.size], adversary_type_codes())
                model.counts.adversary_bonus_spend += np.bincount(market, weights=np.where(adversary, paid, 0.0),
                                                                  minlength=model.n_markets)
