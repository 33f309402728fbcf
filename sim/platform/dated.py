"""A dated timeline entry in force from its start day to its end day in some markets.

Campaigns (``sim/platform/timeline.py``) and incentive programmes
(``sim/platform/programmes/``) share this: which markets they cover, and the two events that
switch them on before ``start_day`` begins and off after ``end_day`` ends.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["DatedRun"]


class DatedRun:
    """One dated entry of the timeline while the model runs (``active`` while in force)."""

    def __init__(self, model: LiveShopModel, cfg: Any) -> None:
        self.model = model
        self.cfg = cfg
        names = [m.name for m in model.config.world.markets]
        chosen = cfg.markets or names
        self.market_mask = np.array([n in chosen for n in names])
        self.active = False

    def schedule(self) -> None:
        """Put the start (and the end, if inside the run) on the model's event list."""
        self.model.schedule_event(self.start, at=self.cfg.start_day - 0.5)
        end = self.cfg.end_day + 0.5
        if end < self.model.config.days + 1:
            self.model.schedule_event(self.end, at=end)

    def start(self) -> None:
        """The entry comes into force (before the day ``start_day`` begins)."""
        self.active = True

    def end(self) -> None:
        """The entry stops (a programme's payouts still due may follow)."""
        self.active = False
