"""The creator mix as a composition: set some types' shares, the others fill what is left.

The creator mix (``world.creators.mix``) sums to one, so its shares cannot be set one by one.
When some shares are chosen (sampled by ``livesim explore``, searched by its red team, or set
by an EMA Workbench experiment through :mod:`sim.ema`), the types not chosen share what is left
(``1 - sum(chosen)``) in their scenario proportions: mostly honest creators. This is the one
place that completes a mix; every caller uses it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

from sim.errors import ScenarioError

__all__ = ["MIX_PATH", "mix_shares"]

MIX_PATH = "world.creators.mix"


def mix_shares(base: Mapping[str, float], sampled: Mapping[str, float], source: str = "<mix>") -> dict[str, float]:
    """The creator mix with the ``sampled`` types' shares set and the other types sharing what is
    left (``1 - sum(sampled)``) in their ``base`` proportions, in ``base``'s order.

    The sampled shares are kept exactly; the rounding error of the fill goes to the largest
    filled share, so the shares sum to one as closely as floats can. A ScenarioError names the
    type that is not in ``base``, or the shares that leave no room for a type not sampled with a
    positive share in ``base``."""
    unknown = sorted(set(sampled) - set(base))
    if unknown:
        raise ScenarioError(source, f"{MIX_PATH}.{unknown[0]}", None,
                            f"not a creator type; allowed: {', '.join(sorted(base))}")
    rest = [k for k in base if k not in sampled]
    room = 1.0 - math.fsum(float(v) for v in sampled.values())
    rest_total = math.fsum(float(base[k]) for k in rest)
    if not rest or room < 0.0 or (room > 0.0 and rest_total <= 0.0):
        raise ScenarioError(source, f"{MIX_PATH}.{','.join(sorted(sampled))}", dict(sampled),
                            "the sampled shares must leave room (sum below 1) for a type not sampled "
                            "with a positive share in the scenario")
    out = {k: float(v) for k, v in sampled.items()}
    for k in rest:
        out[k] = room * float(base[k]) / rest_total if rest_total > 0.0 else 0.0
    top = max(rest, key=lambda k: out[k])
    if out[top] > 0.0:
        out[top] = 1.0 - math.fsum(v for k, v in out.items() if k != top)
    return {k: out[k] for k in base}
