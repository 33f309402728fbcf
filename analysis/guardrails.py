"""Guardrails: metrics a policy must not worsen by more than a margin.

A policy review rarely asks only "does the new policy lower buyer harm?"; it also asks "without
costing honest creators more than 2 % of their income?". Such a condition is a *guardrail*, and
the right test for it is a non-inferiority test: the policy passes when the upper end of the
one-sided 95 % interval of its paired worsening stays below the margin (see
:func:`analysis.stats.non_inferiority`). A guardrail the data cannot show to hold fails, so a
small experiment never passes a guardrail by being too noisy to see the harm.

Guardrails come from ``[[guardrails]]`` tables in a report's ``--targets`` file::

    [[guardrails]]
    metric = "honest_creator_income"
    max_worsening = 0.02          # 2 % of the reference's value (relative = true, the default)

    [[guardrails]]
    metric = "time_to_action_p50_h"
    max_worsening = 2.0           # hours
    relative = false
    market = "id"

or from ``--guardrail honest_creator_income=2%`` (relative) / ``--guardrail wrongful_bans=5``
(absolute, in the metric's units) on the command line. The direction of "worse" is the
metric's own (``higher_is_better``); a metric with no better direction cannot be a guardrail.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Annotated

from pydantic import Field, Strict, StrictBool, ValidationError, field_validator

from sim.errors import ScenarioError, format_validation_error, unknown_name_message
from sim.schema import Name, StrictModel

__all__ = ["DEFAULT_GUARDRAILS", "Guardrail", "load_guardrails", "parse_guardrail"]


class Guardrail(StrictModel):
    """``metric`` must not worsen by more than ``max_worsening`` (a fraction of the reference's
    value when ``relative``, else in the metric's units) in ``market``."""

    metric: str
    max_worsening: Annotated[float, Strict(), Field(ge=0)]
    relative: StrictBool = True
    market: Name = "all"

    @field_validator("metric")
    @classmethod
    def _known_directed_metric(cls, v: str) -> str:
        from sim.metrics import METRICS

        if v not in METRICS:
            raise ValueError(unknown_name_message(v, list(METRICS), "metric"))
        if METRICS[v].higher_is_better is None:
            directed = [m for m, spec in METRICS.items() if spec.higher_is_better is not None]
            raise ValueError(f"got {v!r}, which has no better direction; a guardrail needs a metric such as "
                             f"{', '.join(directed[:6])}, ...")
        return v

    @field_validator("max_worsening")
    @classmethod
    def _finite(cls, v: float) -> float:
        if not math.isfinite(v):
            raise ValueError(f"got {v}; the margin must be a finite number >= 0")
        return v

    def describe(self) -> str:
        """``honest_creator_income must not worsen by more than 2 %`` (and the market when not all)."""
        margin = f"{self.max_worsening * 100:.4g} %" if self.relative else f"{self.max_worsening:.4g}"
        where = "" if self.market == "all" else f" in {self.market}"
        return f"{self.metric} must not worsen by more than {margin}{where}"


# When no guardrail is given: a policy should not cost honest creators more than 2 % of their
# income (an assumption a team should replace with its own).
DEFAULT_GUARDRAILS = (Guardrail(metric="honest_creator_income", max_worsening=0.02),)


def load_guardrails(path: str | Path) -> list[Guardrail]:
    """The ``[[guardrails]]`` of a TOML file (none when it has no such tables)."""
    from sim.config import read_toml, validate_tables

    data = read_toml(path, "guardrails")
    items = data.get("guardrails", [])
    if not isinstance(items, list):
        raise ScenarioError(str(path), "guardrails", None, "expected [[guardrails]] tables")
    return validate_tables(items, Guardrail, path, "guardrails")


_SPEC = re.compile(r"^\s*([A-Za-z0-9_]+)\s*=\s*([0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?)\s*(%?)\s*$")


def parse_guardrail(text: str) -> Guardrail:
    """``METRIC=2%`` (relative) or ``METRIC=5`` (absolute): a guardrail from the command line."""
    m = _SPEC.match(text)
    if not m:
        raise ScenarioError("--guardrail", None, text, "expected METRIC=MARGIN, e.g. honest_creator_income=2% "
                            "(relative) or wrongful_bans=5 (absolute, in the metric's units)")
    metric, number, pct = m.groups()
    try:
        return Guardrail(metric=metric, max_worsening=float(number) / (100.0 if pct else 1.0), relative=bool(pct))
    except ValidationError as exc:
        err = format_validation_error(exc, "--guardrail", Guardrail)
        raise ScenarioError("--guardrail", err.field, err.value, err.allowed) from None
