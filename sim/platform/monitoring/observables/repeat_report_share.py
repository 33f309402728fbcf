"""``repeat_report_share``: share of the accounts that went live today whose streams drew at least
``min_reports`` buyer reports today (account-days, summed over the window).

A trust-and-safety queue's "accounts with repeated reports": buyers' reports on a market's
streams are few and scattered (in the emerging-trend example, sg's 1.1 reports per 1,000 views
before the onset fall on about 0.4 accounts a day with two or more), while a stream that visibly
breaks the rules draws several from its own viewers on the same day. Counting accounts over the
line instead of reports keeps the scattered reports out of the numerator, so a few new offenders
move it more than they move their whole market's reports per 1,000 views (docs/model.md §7.29).
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observables.base import RateObservable, per_group
from sim.platform.monitoring.observed import Observed
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["RepeatReportShare", "RepeatReportShareConfig"]


class RepeatReportShareConfig(ObservableConfig):
    kind: Literal["repeat_report_share"]
    min_reports: Annotated[int, Strict(), Field(ge=1, le=1000)] = 2


@OBSERVABLES.register
class RepeatReportShare(RateObservable):
    name = "repeat_report_share"
    config = RepeatReportShareConfig
    cfg: RepeatReportShareConfig
    unit = "share of live accounts"

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        code = grouping.of_creators(obs)
        live = obs.flows["streams"] > 0
        hit = live & (obs.flows["reports"] >= self.cfg.min_reports)
        return {"num": per_group(hit.astype(np.float64), code, grouping.n),
                "den": per_group(live.astype(np.float64), code, grouping.n)}
