"""The one plug-in registry and the config blocks a registered kind's name picks (sim.registry)."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from pydantic import ValidationError

from sim.registry import ByKind, Registry


class Shape(ByKind):
    """A toy base block: ``kind`` picks the shape's config class."""

    kind: str
    bare_name = True

    @staticmethod
    def registry() -> Registry[type]:
        return SHAPES


SHAPES: Registry[type] = Registry("shape kind", ("square",), config=Shape)


class SquareConfig(Shape):
    kind: Literal["square"]
    side: float = 1.0


class CircleConfig(Shape):
    kind: Literal["circle"]


@SHAPES.register
class Square:
    name = "square"
    config = SquareConfig


class Circle:
    name = "circle"
    config = CircleConfig


def test_names_lookup_and_the_one_error_text() -> None:
    """A registered kind is found by name; an unknown name raises the family's error listing the registered names."""
    SHAPES.register(Circle)
    try:
        assert SHAPES.names() == ("circle", "square") and SHAPES.get("circle") is Circle
        assert SHAPES.config_class("circle") is CircleConfig and SHAPES.config_class("oval") is None
        with pytest.raises(ValueError, match=r"^shape kind 'oval' is not registered; registered: circle, square$"):
            SHAPES.get("oval")
    finally:
        SHAPES.unregister("circle")
    assert SHAPES.names() == ("square",)


def test_registration_is_checked_and_builtins_stay() -> None:
    """A nameless kind, a config not naming the kind, a second class under a taken name and a built-in's removal are refused."""

    class Nameless:
        config = CircleConfig

    class Misnamed:
        name = "oval"
        config = CircleConfig

    class Square2:
        name = "square"
        config = SquareConfig

    with pytest.raises(ValueError, match=r"^shape kind Nameless needs a class attribute name \(its config's kind\)$"):
        SHAPES.register(Nameless)
    with pytest.raises(ValueError, match=r"CircleConfig\.kind must be Literal\['oval'\]$"):
        SHAPES.register(Misnamed)
    with pytest.raises(ValueError, match=r"^shape kind 'square' is already registered \(Square\)$"):
        SHAPES.register(Square2)
    with pytest.raises(ValueError, match="built in and cannot be unregistered"):
        SHAPES.unregister("square")
    assert SHAPES.names() == ("square",)


def test_registration_order_instances_and_change_listeners() -> None:
    """Unsorted names list the built-in ones first, then in order of registration; instances are held; listeners hear every change."""

    class Base:
        pass

    kinds: Registry[Base] = Registry("toy", ("b", "a"), config=None, base=Base, instances=True, sort=False)
    made = [type(n, (Base,), {"name": n}) for n in ("z", "a", "b")]
    heard: list[tuple[str, ...]] = []
    kinds.on_change(lambda: heard.append(tuple(k.name for k in kinds)))  # type: ignore[attr-defined]
    for kind in made:
        kinds.register(kind)
    kinds.unregister("z")
    assert kinds.names() == ("b", "a") and isinstance(kinds.get("a"), made[1])
    assert heard == [(), ("z",), ("z", "a"), ("z", "a", "b"), ("a", "b")]
    with pytest.raises(ValueError, match="is not a subclass of"):
        kinds.register(int)


def test_the_base_block_hands_an_entry_to_its_kinds_class() -> None:
    """Validating the base gives the kind's class (a bare name too); a missing or unknown kind and an unknown key are errors naming what is allowed."""
    assert Shape.model_validate({"kind": "square", "side": 2.0}) == SquareConfig(kind="square", side=2.0)
    assert type(Shape.model_validate("square")) is SquareConfig
    for value, words in [({}, "required field is missing; allowed shape kinds: 'square'"),
                         ({"kind": "oval"}, "unknown shape kind; allowed: 'square'"),
                         ({"kind": "square", "sides": 4}, "unknown key (did you mean 'side'?)")]:
        with pytest.raises(ValidationError, match=re.escape(words)):
            Shape.model_validate(value)
    with pytest.raises(TypeError, match="Shape is the base of the shape kinds"):
        Shape(kind="square")


def test_a_kinds_own_class_validates_only_its_fields() -> None:
    """A kind's config class validates as itself: another kind's name is a plain literal error, not a hand-over."""
    with pytest.raises(ValidationError, match="literal_error"):
        SquareConfig.model_validate({"kind": "circle"})
