"""Config blocks with one entry per registered tactic (``world.tactics``, ``creators.mix``, ...).

Such a block has no fixed field per tactic: its entries are the registered tactics (or only the
typologies), each validated by the tactic's own type and defaulted by the tactic, so a tactic
registered from outside livesim is configured exactly like a built-in one. Unknown names are
errors that list the registered ones; errors inside an entry keep its path
(``world.tactics.counterfeit.intensity``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import ConfigDict, TypeAdapter, ValidationError, model_validator
from pydantic_core import InitErrorDetails

from sim.schema import StrictModel
from sim.tactics import registry
from sim.tactics.base import TacticKind

__all__ = ["KeyedByTactic", "number_adapter"]


def number_adapter(tp: Any) -> TypeAdapter:
    """A validator for one number of a keyed block: strict and finite like every config field."""
    return TypeAdapter(tp, config=ConfigDict(allow_inf_nan=False))


class KeyedByTactic(StrictModel):
    """A block whose extra keys are registered tactics; subclasses say which and how."""

    model_config = ConfigDict(extra="allow", frozen=True, allow_inf_nan=False)

    # Only typologies (creator types) have entries, rather than every tactic.
    typologies_only: ClassVar[bool] = False

    @classmethod
    def entry(cls, kind: TacticKind, value: Any) -> Any:
        """Validate the entry of ``kind``."""
        raise NotImplementedError

    @classmethod
    def default(cls, kind: TacticKind) -> Any:
        """The entry of ``kind`` when the block does not name it."""
        raise NotImplementedError

    @classmethod
    def entry_names(cls) -> tuple[str, ...]:
        """The tactics with an entry, in code order."""
        kinds = registry.typologies() if cls.typologies_only else registry.kinds()
        return tuple(k.name for k in kinds)

    @model_validator(mode="before")
    @classmethod
    def _entries(cls, data: Any) -> Any:
        if isinstance(data, cls):
            return data
        if not isinstance(data, dict):
            return data  # the model's own type error
        allowed = cls.entry_names()
        out = {k: v for k, v in data.items() if k in cls.model_fields}
        unknown = [k for k in data if k not in cls.model_fields and k not in allowed]
        if unknown:
            what = "creator type" if cls.typologies_only else "tactic"
            fixed = [n for n in cls.model_fields]
            raise ValueError(f"unknown {what} {unknown[0]!r}; allowed: {', '.join([*fixed, *allowed])}")
        errors: list[InitErrorDetails] = []
        for name in allowed:
            kind = registry.by_name(name)
            if name not in data:
                out[name] = cls.default(kind)
                continue
            try:
                out[name] = cls.entry(kind, data[name])
            except ValidationError as e:
                for err in e.errors():
                    detail: dict[str, Any] = {"type": err["type"], "loc": (name, *err["loc"]), "input": err["input"]}
                    if "ctx" in err:
                        detail["ctx"] = err["ctx"]
                    errors.append(detail)  # type: ignore[arg-type]
        if errors:
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return out
