"""Named random streams for one run, derived from the scenario seed and the replication.

Replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))`` whatever the variant, so variants
compared at the same replication see the same world (common random numbers). Inside a run each
component draws from its own child stream, spawned in a fixed order, so adding draws to one
phase never shifts another's. New streams are appended at the end of ``STREAMS``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["STREAMS", "run_seed_sequence", "spawn_streams"]

STREAMS: tuple[str, ...] = (
    "mesa",
    "world",
    "creators",
    "buyers",
    "plan",
    "recommend",
    "shop",
    "settle",
    "reward",
    "adapt",
    "arrivals",
    "detect",
    "review",
    "enforce",
    "appeal",
    "onboard",
    "learn",
)


def run_seed_sequence(seed: int | np.random.SeedSequence, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication ``replication`` of a scenario seeded with ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, replication))
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication),))


def spawn_streams(seq: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One independent Generator per name in ``STREAMS``."""
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, seq.spawn(len(STREAMS)), strict=False)}
