"""``young_gmv_share``: share of GMV placed with accounts younger than ``max_age_days`` days (a
ring of new sellers shows up as new accounts taking a share of sales)."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, Strict

from sim.platform.monitoring.config import ObservableConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observables.base import RateObservable, per_group
from sim.platform.monitoring.observed import Observed
from sim.platform.monitoring.registry import OBSERVABLES

__all__ = ["YoungGmvShare", "YoungGmvShareConfig"]


class YoungGmvShareConfig(ObservableConfig):
    kind: Literal["young_gmv_share"]
    # 30 days: TikTok Shop's pilot period for new creators (seller-us, H).
    max_age_days: Annotated[int, Strict(), Field(ge=1, le=3650)] = 30


@OBSERVABLES.register
class YoungGmvShare(RateObservable):
    name = "young_gmv_share"
    config = YoungGmvShareConfig
    cfg: YoungGmvShareConfig
    unit = "share"

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        code = grouping.of_creators(obs)
        gmv = obs.flows["gmv"]
        young = obs.age_days < self.cfg.max_age_days
        return {"num": per_group(gmv, code, grouping.n, young), "den": per_group(gmv, code, grouping.n)}
