"""Plug-ins by name: one registry for every family of registered kinds, and the config blocks
whose class a registered kind's name picks.

Tactics, ladder kinds, signal sources, incentive programme types, trend kinds and monitoring
observables, detectors and controllers are each a class registered under its ``name``; one
:class:`Registry` holds one family. A family whose kinds bring their own config class names
the base block and the field that names the kind (``Incentive.program``, ``DetectorConfig.kind``),
and a registration must type that field ``Literal[name]``; validating the base block
(:class:`ByKind`) then hands an entry to its kind's class, so a scenario names a kind and its
parameters and nothing else.
"""

from __future__ import annotations

import importlib
import typing
from collections.abc import Callable, Iterator
from typing import Any, ClassVar

from pydantic import BaseModel, ModelWrapValidatorHandler, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from sim.errors import unknown_name_message
from sim.schema import StrictModel

__all__ = ["ByKind", "Registry"]


class Registry[T]:
    """The kinds of one plug-in family by name (``what`` names one in messages: "trend kind").

    ``builtin`` kinds ship with livesim and are never unregistered; ``package`` is imported on
    first lookup (the built-in kinds register themselves on import, and a scenario may be
    validated before anything imported them). ``config`` and ``field``: each kind's ``config``
    must subclass ``config``, with ``field`` (if any) typed ``Literal[name]``. ``base``: a kind must
    subclass it. ``instances``: the registry holds one instance per kind instead of the class.
    ``sort``: names are listed sorted, else the built-in ones first then in order of registration.
    A family with further conditions subclasses this and overrides :meth:`check`.
    """

    missing: ClassVar[type[Exception]] = ValueError  # what an unknown name raises

    def __init__(self, what: str, builtin: tuple[str, ...] = (), *, package: str | None = None,
                 config: type[BaseModel] | None = None, field: str | None = "kind", base: type | None = None,
                 instances: bool = False, sort: bool = True) -> None:
        self.what = what
        self.builtin = builtin
        self.config = config
        self.field = field
        self._package = package
        self._base = base
        self._instances = instances
        self._sort = sort
        self._classes: dict[str, type] = {}
        self._held: dict[str, T] = {}
        self._listeners: list[Callable[[], None]] = []

    def register[K: type](self, kind: K) -> K:
        """Register ``kind`` under ``kind.name`` (usable as a class decorator)."""
        base = self._base
        if base is not None and not (isinstance(kind, type) and issubclass(kind, base)):
            raise ValueError(f"{kind!r} is not a subclass of {base.__module__}.{base.__qualname__}")
        name = self.name_of(kind)
        if self.config is not None:
            self._check_config(kind, name, self.config)
        current = self._classes.get(name)
        if current is not None and current is not kind:
            raise ValueError(f"{self.what} {name!r} is already registered ({current.__name__})")
        self.check(kind, name)
        self._classes[name] = kind
        self._held[name] = kind() if self._instances else kind  # type: ignore[assignment]
        self._changed()
        return kind

    def name_of(self, kind: type) -> str:
        """The name ``kind`` registers under (ValueError if it has none)."""
        name = getattr(kind, "name", None)
        if not isinstance(name, str) or not name:
            hint = f" (its config's {self.field})" if self.config is not None and self.field else ""
            raise ValueError(f"{self.what} {kind.__name__} needs a class attribute name{hint}")
        return name

    def check(self, kind: type, name: str) -> None:
        """A family's own conditions on a registration (none here); raise ValueError to refuse it."""

    def _check_config(self, kind: type, name: str, base: type[BaseModel]) -> None:
        config = getattr(kind, "config", None)
        if not (isinstance(config, type) and issubclass(config, base) and (config is not base or self.field is None)):
            raise ValueError(f"{self.what} {name!r}: config must be a subclass of "
                             f"{base.__module__}.{base.__qualname__}")
        if self.field is None:
            return  # no field names the kind (a tactic's block is keyed by its name)
        field = config.model_fields.get(self.field)
        if field is None or typing.get_args(field.annotation) != (name,):
            raise ValueError(f"{self.what} {name!r}: {config.__name__}.{self.field} must be Literal[{name!r}]")

    def unregister(self, name: str) -> None:
        """Remove a kind registered from outside livesim (the built-in kinds stay)."""
        if name in self.builtin:
            raise ValueError(f"{self.what} {name!r} is built in and cannot be unregistered")
        self._classes.pop(name, None)
        self._held.pop(name, None)
        self._changed()

    def on_change(self, listener: Callable[[], None]) -> None:
        """Call ``listener()`` now and after every later registration or removal (so a module that
        keeps something per kind follows the registry)."""
        if listener not in self._listeners:
            self._listeners.append(listener)
        listener()

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    def names(self) -> tuple[str, ...]:
        """Every registered kind: sorted, or the built-in ones first and then in order of registration."""
        self._load()
        if self._sort:
            return tuple(sorted(self._classes))
        return (*(n for n in self.builtin if n in self._classes), *(n for n in self._classes if n not in self.builtin))

    def get(self, name: str) -> T:
        """The kind registered as ``name`` (``missing``, naming the registered kinds, if none)."""
        self._load()
        try:
            return self._held[name]
        except KeyError:
            raise self.unknown(name) from None

    def unknown(self, name: str) -> Exception:
        """The error for a name no kind is registered under: it lists the registered ones."""
        return self.missing(f"{self.what} {name!r} is not registered; registered: {', '.join(self.names())}")

    def config_class(self, name: str) -> Any:
        """The config class of kind ``name``, or None if no such kind is registered."""
        self._load()
        kind = self._classes.get(name)
        return None if kind is None else kind.config

    def __contains__(self, name: object) -> bool:
        return name in self._classes

    def __iter__(self) -> Iterator[T]:
        """The registered kinds (classes, or instances for ``instances``) in order of registration."""
        return iter(self._held.values())

    def __len__(self) -> int:
        return len(self._classes)

    def _load(self) -> None:
        if self._package is not None and not all(n in self._classes for n in self.builtin):
            importlib.import_module(self._package)


class ByKind(StrictModel):
    """A config block whose class is picked by a field naming a registered kind.

    The base block (``Incentive``, ``Trend``, ``DetectorConfig``...) defines ``registry()``,
    returning its family's :class:`Registry`; each kind's config subclasses it with the field
    typed ``Literal["<name>"]``. Validating the base hands the entry to the registered kind's
    class; a missing or unknown name is an error listing the registered ones, and an unknown key
    lists the kind's own fields. ``bare_name``: a bare string is the kind with its defaults.
    """

    bare_name: ClassVar[bool] = False

    @staticmethod
    def registry() -> Registry[Any]:
        """The family whose kinds this base block picks (defined by each base block)."""
        raise NotImplementedError

    def __init__(self, /, **data: Any) -> None:
        cls = type(self)
        if "registry" in vars(cls):  # validation would hand back another object: say so instead
            kinds = cls.registry()
            example = kinds.config_class(kinds.names()[0]).__name__
            raise TypeError(f"{cls.__name__} is the base of the {kinds.what}s: build a {kinds.what}'s config class "
                            f"(e.g. {example}) or use {cls.__name__}.model_validate(...)")
        super().__init__(**data)

    @model_validator(mode="wrap")
    @classmethod
    def _by_kind(cls, value: Any, handler: ModelWrapValidatorHandler[Any]) -> Any:
        if "registry" not in vars(cls):  # a kind's own class: validate its fields
            return handler(value)
        if isinstance(value, cls) and type(value) is not cls:
            return value
        kinds = cls.registry()
        field = kinds.field
        if cls.bare_name and isinstance(value, str):
            value = {field: value}
        declared = cls.model_fields[field]
        default = None if declared.is_required() else declared.default
        kind = value.get(field, default) if isinstance(value, dict) else None
        config = kinds.config_class(kind) if isinstance(kind, str) else None
        if config is None:
            if not isinstance(value, dict):
                return handler(value)  # pydantic's own message for a block that is not a table
            names = ", ".join(repr(n) for n in kinds.names())
            if kind is None:
                error = PydanticCustomError(f"missing_{field}", "required field is missing; allowed {what}s: {names}",
                                            {"what": kinds.what, "names": names})
            else:
                error = PydanticCustomError(f"unknown_{field}", "unknown {what}; allowed: {names}",
                                            {"what": kinds.what, "names": names})
            raise ValidationError.from_exception_data(cls.__name__, [InitErrorDetails(
                type=error, loc=(field,), input=kind)])
        try:
            return config.model_validate(value)
        except ValidationError as exc:
            extra = [e for e in exc.errors(include_url=False) if e["type"] == "extra_forbidden" and len(e["loc"]) == 1]
            if not extra:
                raise
            # The scenario's error walks the block's declared fields, which are this base
            # class's: name the kind's own fields instead.
            key = str(extra[0]["loc"][0])
            raise ValidationError.from_exception_data(cls.__name__, [InitErrorDetails(
                type=PydanticCustomError("unknown_key", "{msg}",
                                         {"msg": unknown_name_message(key, list(config.model_fields), "key")}),
                loc=(key,), input=None)]) from None
