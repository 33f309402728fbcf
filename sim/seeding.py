"""Named random streams for one run, derived from the scenario seed and the replication.

Replication ``r`` uses ``SeedSequence(seed, spawn_key=(r,))`` whatever the variant, so variants
compared at the same replication see the same world (common random numbers). Inside a run each
component draws from its own child stream, spawned in a fixed order, so adding draws to one
phase never shifts another's. New streams are appended at the end of ``STREAMS``.

The daily phases get a fresh generator per (stream, day): when two policy variants make a
phase draw different amounts on one day, the next day's draws are still paired. A run holds its
streams in a :class:`RunStreams`, which derives a daily stream only when a phase first asks for it
that day (most days leave several streams unused; deriving one costs a seed-sequence hash).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

__all__ = ["DAILY_STREAMS", "STREAMS", "RunStreams", "day_stream", "day_streams", "run_seed_sequence",
           "spawn_streams"]

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


_INDEX = {name: i for i, name in enumerate(STREAMS)}
_BUILD = tuple(name for name in STREAMS if name not in DAILY_STREAMS)


def day_stream(seq: np.random.SeedSequence, name: str, day: int) -> np.random.Generator:
    """The generator of daily stream ``name`` on ``day``."""
    return np.random.default_rng(np.random.SeedSequence(seq.entropy, spawn_key=(*seq.spawn_key, _INDEX[name], day)))


def day_streams(seq: np.random.SeedSequence, day: int) -> dict[str, np.random.Generator]:
    """The daily phases' generators for ``day``: one per name in ``DAILY_STREAMS``."""
    return {name: day_stream(seq, name, day) for name in DAILY_STREAMS}


class RunStreams(Mapping[str, np.random.Generator]):
    """A run's named generators: the spawned streams until the first day, then each daily stream
    derived on first use on each day (``new_day``), so a stream no phase reads costs nothing.

    ``streams[name]`` on day ``d`` is the same generator, draw for draw, as ``day_streams(seq,
    d)[name]``; the build streams ("mesa", "world", "creators", "buyers") stay the spawned ones.
    """

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self._seq = seq
        self._current = spawn_streams(seq)
        self._day: int | None = None  # None: before the first day (the spawned streams serve)
        self._fresh: set[str] = set(STREAMS)  # daily streams already derived for the current day

    def new_day(self, day: int) -> None:
        """From now on, each daily stream is ``day``'s (derived when first asked for)."""
        self._day = day
        self._fresh = set(_BUILD)

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._fresh:
            if name not in self._current:
                raise KeyError(name)
            assert self._day is not None
            self._current[name] = day_stream(self._seq, name, self._day)
            self._fresh.add(name)
        return self._current[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current)

    def __len__(self) -> int:
        return len(self._current)
