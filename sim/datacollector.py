"""Mesa's DataCollector for livesim's day metrics, fed by the values the model already computed."""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING

import mesa

if TYPE_CHECKING:
    from sim.model import LiveShopModel

__all__ = ["DayMetricsCollector"]


def _today(name: str, model: LiveShopModel) -> float:
    """DataCollector reporter: one of today's platform-wide metrics (a scalar)."""
    return model.metrics_today["all"][name]


class DayMetricsCollector(mesa.DataCollector):
    """Mesa's DataCollector over the platform-wide day metrics, which the model has already
    computed when it collects.

    Its model reporters are the registered metrics (one column each in
    ``get_model_vars_dataframe``, which ``mesa.batch_run`` reads too), but ``collect`` only keeps
    the day's values (``model.metrics_today["all"]``, a dict nothing changes afterwards) instead
    of calling and deep-copying one reporter per metric; ``model_vars`` is built from those rows
    when it is read. Agent reporters and tables are not collected: build a plain
    ``mesa.DataCollector`` for those.
    """

    def __init__(self, names: list[str]) -> None:
        self._rows: list[dict[str, float]] = []
        self._vars: tuple[int, dict[str, list[float]]] = (-1, {})
        super().__init__(model_reporters={name: partial(_today, name) for name in names})

    @property
    def model_vars(self) -> dict[str, list[float]]:  # type: ignore[override]
        """One list per metric, one value per collected day (rebuilt when days were added)."""
        built, cols = self._vars
        if built != len(self._rows):
            cols = {name: [row[name] for row in self._rows] for name in self.model_reporters}
            self._vars = (len(self._rows), cols)
        return cols

    @model_vars.setter
    def model_vars(self, value: dict[str, list[float]]) -> None:
        """Mesa's constructor starts an empty dict; the lists are built from the collected rows."""

    def collect(self, model: LiveShopModel) -> None:  # type: ignore[override]
        """Record the day's platform-wide metrics (already computed by the model)."""
        self._collection_steps.append(model.time)
        self._rows.append(model.metrics_today["all"])
