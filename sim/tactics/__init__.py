"""Adversary tactics (violation typologies): one file per tactic, registered by name.

Each tactic declares its config block, its detection defaults and its array hooks
(``sim.tactics.base.TacticKind``); the phases call the hooks for the views, streams and orders
that use it and hold no branch on a tactic. To add one, subclass ``TacticKind`` with a
``TacticConfig`` subclass as its ``config`` and decorate it with ``register`` (see
docs/extending.md).
"""

from __future__ import annotations

from sim.tactics.base import TacticConfig, TacticKind
from sim.tactics.registry import (
    BUILTIN,
    CLEAN,
    TacticArrays,
    accidental,
    adversary_type_codes,
    by_name,
    code,
    creator_type_code,
    creator_type_names,
    goods_quality,
    kinds,
    kinds_with,
    names,
    on_change,
    register,
    typologies,
    unregister,
)

# The built-in tactics register themselves on import, after the registry (their codes are
# sim.labels.Tactic's).
# isort: off
from sim.tactics import counterfeit, fake_engagement, incentive_fraud, minor, misleading_claims  # noqa: F401
from sim.tactics import offplatform_diversion  # noqa: F401
# isort: on

__all__ = [
    "BUILTIN",
    "CLEAN",
    "TacticArrays",
    "TacticConfig",
    "TacticKind",
    "accidental",
    "adversary_type_codes",
    "by_name",
    "code",
    "creator_type_code",
    "creator_type_names",
    "goods_quality",
    "kinds",
    "kinds_with",
    "names",
    "on_change",
    "register",
    "typologies",
    "unregister",
]
