"""Named random streams for one run, derived from the scenario seed and the replication.

Replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))`` whatever the variant, so variants
compared at the same replication see the same world (common random numbers). Inside a run each
component draws from its own child stream, spawned in a fixed order, so adding draws to one
phase never shifts another's. New streams are appended at the end of ``STREAMS``.

The daily phases get a fresh generator per (stream, day): when two policy variants make a
phase draw different amounts on one day, the next day's draws are still paired.
"""

from __future__ import annotations

import numpy as np

__all__ = ["DAILY_STREAMS", "STREAMS", "day_streams", "run_seed_sequence", "spawn_streams"]

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
    "learn_start",
)


def run_seed_sequence(seed: int | np.random.SeedSequence, replication: int) -> np.random.SeedSequence:
    """The seed sequence of replication ``replication`` of a scenario seeded with ``seed``."""
    if isinstance(seed, np.random.SeedSequence):
        return np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, replication))
    return np.random.SeedSequence(int(seed), spawn_key=(int(replication),))


def spawn_streams(seq: np.random.SeedSequence) -> dict[str, np.random.Generator]:
    """One independent Generator per name in ``STREAMS``."""
    return {name: np.random.default_rng(child) for name, child in zip(STREAMS, seq.spawn(len(STREAMS)), strict=False)}


# Streams re-derived every day (the build streams "mesa", "world", "creators", "buyers" are not).
DAILY_STREAMS: tuple[str, ...] = STREAMS[4:]


def day_streams(seq: np.random.SeedSequence, day: int) -> dict[str, np.random.Generator]:
    """The daily phases' generators for ``day``: one per name in ``DAILY_STREAMS``."""
    out = {}
    for name in DAILY_STREAMS:
        i = STREAMS.index(name)
        out[name] = np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, i, day)))
    return out
