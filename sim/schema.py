"""Shared building blocks of the config schema: the strict base class and typed aliases."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, Strict

__all__ = ["Count", "Days", "Multiplier", "Name", "NonNegative", "Positive", "Share", "StrictModel"]

Share = Annotated[float, Strict(), Field(ge=0.0, le=1.0)]
Positive = Annotated[float, Strict(), Field(gt=0.0)]
NonNegative = Annotated[float, Strict(), Field(ge=0.0)]
Multiplier = Annotated[float, Strict(), Field(ge=0.0, le=100.0)]
Days = Annotated[int, Strict(), Field(ge=0, le=3650)]
Count = Annotated[int, Strict(), Field(ge=0)]
Name = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)]


class StrictModel(BaseModel):
    """Base for every config block: unknown keys are errors, values are frozen.

    Numbers are strict (``Strict()`` on every numeric type): ``true`` or ``"3000"`` where a
    number belongs is a wrong type, not silently 1 or 3000.
    """

    model_config = ConfigDict(extra="forbid", frozen=True)
