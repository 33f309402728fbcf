"""Rewards: incentive programmes close their periods and pay bonuses (design §3 phase 9).

The programmes themselves (enrolment, what they record, periods, budgets) are the registered
programme types in ``sim/platform/programmes/``; this phase books what they pay out: to the
creators' earnings and profit, the day's incentive spend (and the type's own spend counter,
if it declares one), and the ledger.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from sim.day import Day
    from sim.model import LiveShopModel

__all__ = ["reward"]


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
            by_market = np.bincount(c.col("market")[: paid.size], weights=paid, minlength=model.n_markets)
            model.counts.incentive_spend += by_market
            model.ledger.incentive_paid += by_market
            if run.spend_counter is not None and run.spend_counter in model.counts.fields:
                getattr(model.counts, run.spend_counter)[:] += by_market
