"""The one plug-in registry (sim.registry.Registry), on a toy family; the config blocks a kind's name picks
(sim.registry.ByKind) are tested through the real ones in test_config, test_bad_inputs, test_trends and tests/plugins."""

from __future__ import annotations

from typing import Literal

import pytest

from sim.registry import Registry
from sim.schema import StrictModel


class Shape(StrictModel):
    kind: str


SHAPES: Registry[type] = Registry("shape kind", ("square",), config=Shape)


class SquareConfig(Shape):
    kind: Literal["square"]


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
