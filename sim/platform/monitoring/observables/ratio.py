"""``ratio``: one observable over another, each over the window (e.g. complaints per refund:
``of = ["complaint_rate", "refund_rate"]``); both must allow the signal's grouping."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from pydantic import Field, field_validator

from sim.errors import unknown_name_message
from sim.platform.monitoring.config import DIMENSIONS, ObservableConfig
from sim.platform.monitoring.groups import Grouping
from sim.platform.monitoring.observables.base import Observable
from sim.platform.monitoring.observed import Observed
from sim.platform.monitoring.registry import OBSERVABLES
from sim.schema import Name

__all__ = ["Ratio", "RatioConfig"]


class RatioConfig(ObservableConfig):
    kind: Literal["ratio"]
    of: Annotated[list[Name], Field(min_length=2, max_length=2)]

    @field_validator("of")
    @classmethod
    def _known(cls, v: list[str]) -> list[str]:
        allowed = [n for n in OBSERVABLES.names() if n != "ratio"]
        for name in v:
            if name not in allowed:
                raise ValueError(unknown_name_message(name, allowed, "observable"))
        return v


@OBSERVABLES.register
class Ratio(Observable):
    name = "ratio"
    config = RatioConfig
    cfg: RatioConfig
    dimensions = DIMENSIONS

    def __init__(self, cfg: RatioConfig) -> None:
        super().__init__(cfg)
        self.inner = [OBSERVABLES.get(n)(OBSERVABLES.get(n).config.model_validate({"kind": n})) for n in cfg.of]

    def parts(self, obs: Observed, grouping: Grouping) -> dict[str, np.ndarray]:
        out = {}
        for i, inner in enumerate(self.inner):
            out |= {f"{i}.{k}": v for k, v in inner.parts(obs, grouping).items()}
        return out

    def value(self, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        (a, na), (b, nb) = (inner.value({k.split(".", 1)[1]: v for k, v in parts.items() if k.startswith(f"{i}.")})
                            for i, inner in enumerate(self.inner))
        out = np.full(a.shape, np.nan)
        np.divide(a, b, out=out, where=(b != 0) & ~np.isnan(b) & ~np.isnan(a))
        return out, np.minimum(na, nb)
