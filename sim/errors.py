"""Errors a user can act on: each names the file, the field, the bad value and what is allowed."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

__all__ = ["ScenarioError", "ScenarioWarning", "format_validation_error", "unknown_name_message"]


def unknown_name_message(name: str, allowed: list[str], what: str = "key") -> str:
    """``unknown key (did you mean 'x'?); allowed keys: ...`` with the closest valid names first."""
    import difflib

    close = difflib.get_close_matches(name, allowed, n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    listed = ", ".join(allowed) if allowed else "none"
    return f"unknown {what}{hint}; allowed {what}s: {listed}"


class ScenarioError(ValueError):
    """A scenario (or override) that cannot be used, with where and why."""

    def __init__(self, source: str, field: str | None, value: Any, allowed: str) -> None:
        self.source = source
        self.field = field
        self.value = value
        self.allowed = allowed
        super().__init__(self.message)

    @property
    def message(self) -> str:
        """One line: ``file: field: got value; allowed``."""
        where = f"{self.source}: {self.field}" if self.field else self.source
        shown = repr(self.value)
        if len(shown) > 120:  # a pasted blob is named, not echoed
            shown = shown[:100] + f"... ({len(shown)} characters)"
        got = "" if self.value is None else f"got {shown}; "
        return f"{where}: {got}{self.allowed}"


def format_validation_error(exc: ValidationError, source: str, root: type[BaseModel]) -> ScenarioError:
    """Turn pydantic's first error into a ScenarioError with a dotted field path."""
    errors = exc.errors(include_url=False)
    # A misspelt key also makes its real name "missing": report the misspelling first.
    err = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = list(err["loc"])
    # Discriminated unions add the tag to the path (timeline.0.campaign.x): drop it.
    path = _dotted(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed_names = _allowed_fields(root, loc[:-1])
        allowed = unknown_name_message(str(loc[-1]), allowed_names, "key")
        return ScenarioError(source, path, None, allowed)
    if kind == "union_tag_not_found":  # a timeline entry or a ladder without its kind
        kinds = "campaign, incentive, policy, ramp, trend" if path.startswith("timeline") else "health_score, points, tiers"
        return ScenarioError(source, f"{path}.kind" if path else "kind", None,
                             f"required field is missing; allowed kinds: {kinds}")
    if kind == "missing":
        return ScenarioError(source, path, None, "required field is missing")
    msg = err["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    if msg.startswith("@") and "|" in msg:  # cross-field checks name their own field
        field, msg = msg[1:].split("|", 1)
        return ScenarioError(source, ".".join(p for p in (path, field) if p), None, msg)
    value = err.get("input")
    if isinstance(value, dict | list):
        value = None  # the message already says what is wrong with a whole block
    return ScenarioError(source, path or "(top level)", value, msg)


def _dotted(loc: list[Any]) -> str:
    out = ""
    after_index = False
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
            after_index = True
            continue
        if part in ("campaign", "incentive", "policy", "ramp", "trend") and after_index:
            after_index = False
            continue  # the tag of a timeline entry's kind (once: a trend entry has a field "trend")
        after_index = False
        out += ("." if out else "") + str(part)
    return out


def _allowed_fields(root: type[BaseModel], loc: list[Any]) -> list[str]:
    """Field names of the config block found by walking ``loc`` from ``root``."""
    node: Any = root
    for part in loc:
        node = _unwrap(node)
        if isinstance(part, int):
            continue
        if isinstance(node, type) and issubclass(node, BaseModel):
            field = node.model_fields.get(str(part))
            if field is None:
                return []
            node = field.annotation
        else:
            node = _union_member(node, part)
    node = _unwrap(node)
    if isinstance(node, type) and issubclass(node, BaseModel):
        return list(node.model_fields)
    return []


def _unwrap(tp: Any) -> Any:
    """Strip Annotated/list/Optional wrappers down to a model class or a union."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin is list:
            tp = typing.get_args(tp)[0]
        else:
            return tp


def _union_member(tp: Any, tag: Any) -> Any:
    for member in typing.get_args(tp):
        member = _unwrap(member)
        if isinstance(member, type) and issubclass(member, BaseModel):
            kind = member.model_fields.get("kind")
            if kind is not None and tag in typing.get_args(kind.annotation):
                return member
    return None


class ScenarioWarning(UserWarning):
    """Something in a scenario that livesim can run but the user should know about, e.g. a
    timeline entry that runs past the last day (its remaining days are ignored). The CLI prints
    each as one ``livesim: warning: ...`` line and continues."""
