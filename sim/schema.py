"""Shared building blocks of the config schema: the strict base class and typed aliases.

Every float is finite (``allow_inf_nan=False``: TOML's ``inf`` and ``nan`` are refused), and
every quantity has an upper bound: generous, physically meaningful, and low enough that the
largest allowed value still gives finite arithmetic everywhere in the model.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = [
    "Budget",
    "Count",
    "Days",
    "Followers",
    "Money",
    "Multiplier",
    "Name",
    "NonNegative",
    "Positive",
    "Share",
    "StrictModel",
    "Weight",
    "WeightOrZero",
]

# The catch-all bound of an unnamed positive quantity: far beyond any real value, far below
# where products and sums of such quantities stop being finite.
LARGEST = 1e12

Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Strict(), Field(gt=0.0, le=LARGEST)]
NonNegative = Annotated[float, Strict(), Field(ge=0.0, le=LARGEST)]
Multiplier = Annotated[float, Strict(), Field(ge=0.0, le=100.0)]
Days = Annotated[int, Strict(), Field(ge=0, le=3650)]
# Counts per day (reviews, ...): a billion a day is beyond any platform.
Count = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
# One amount of money at price level 1 (an order value, a fee, a cost per item): up to a million.
Money = Annotated[float, Strict(), Field(ge=0.0, le=1e6)]
# Totals of money over a period (budgets, monthly GMV thresholds): up to 10^12.
Budget = Annotated[float, Strict(), Field(ge=0.0, le=1e12)]
# Relative weights (market and category shares, exposures): only ratios matter, so 10^6 to 1
# is already more contrast than any real market shows.
Weight = Annotated[float, Strict(), Field(gt=0.0, le=1e6)]
WeightOrZero = Annotated[float, Strict(), Field(ge=0.0, le=1e6)]
# Follower counts: the largest accounts anywhere have a few hundred million followers.
Followers = Annotated[int, Strict(), Field(ge=0, le=1_000_000_000)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class StrictModel(BaseModel):
    """Base for every config block: unknown keys are errors, values are frozen.

    Numbers are strict (``Strict()`` on every numeric type): ``true`` or ``"3000"`` where a
    number belongs is a wrong type, not silently 1 or 3000. ``inf`` and ``nan`` are refused in
    every float field of every block (scenario, sweep and targets files alike).
    """

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
