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
    "trend",  # abuse trends (sim/platform/trends/): one sub-stream per timeline entry and day
    "kyc",  # checks of a category's stricter KYC (sim/platform/onboarding.py): drawn only when one is set
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


def day_stream(seq: np.random.SeedSequence, name: str, day: int, *key: int) -> np.random.Generator:
    """The generator of daily stream ``name`` on ``day`` (``key``: a sub-stream of it, e.g. one
    per timeline entry, so that adding an entry never shifts another's draws)."""
    return np.random.default_rng(np.random.SeedSequence(seq.entropy,
                                                        spawn_key=(*seq.spawn_key, _INDEX[name], day, *key)))


def day_streams(seq: np.random.SeedSequence, day: int) -> dict[str, np.random.Generator]:
    """The daily phases' generators for ``day``: one per name in ``DAILY_STREAMS``."""
    return {name: day_stream(seq, name, day) for name in DAILY_STREAMS}


# numpy's SeedSequence (bit_generator.pyx) and PCG64 seeding constants, replayed by _DaySeeds.
_MASK32 = 0xFFFFFFFF
_INIT_A, _MULT_A, _INIT_B, _MULT_B = 0x43B0D7E5, 0x931E8875, 0x8B51F9DD, 0x58F38DED
_MIX_L, _MIX_R = 0xCA01F9DD, 0x4973F715
_PCG_MULT = (2549297995355413924 << 64) + 4865540595714422341
_MASK128 = (1 << 128) - 1
_BLOCK = 64  # days whose seeds are hashed together


def _uint32_words(x: object) -> list[int]:
    """An int (or a sequence of ints) as numpy's SeedSequence reads it: 32-bit words, low first."""
    if isinstance(x, int | np.integer):
        v = int(x)
        if v < 0:
            raise ValueError("negative entropy")
        out = []
        while True:
            out.append(v & _MASK32)
            v >>= 32
            if not v:
                return out
    return [w for v in x for w in _uint32_words(v)]  # type: ignore[attr-defined]


def _hashmix(value: int, hc: int) -> tuple[int, int]:
    value = (value ^ hc) & _MASK32
    hc = (hc * _MULT_A) & _MASK32
    value = (value * hc) & _MASK32
    return value ^ (value >> 16), hc


def _mix(x: int, y: int) -> int:
    r = (_MIX_L * x - _MIX_R * y) & _MASK32
    return r ^ (r >> 16)


class _DaySeeds:
    """The PCG64 states of the daily streams, hashed for a block of days at once.

    ``SeedSequence(entropy, spawn_key=(*key, index, day))`` mixes the entropy words into a pool
    and then the day's word last; the pool before the day's word is the same every day, so it is
    kept per stream, and the day's word and the state words are hashed in array arithmetic over
    (stream, day). The PCG64 state follows from the state words as ``PCG64(seed_sequence)`` sets
    it. ``RunStreams`` checks the result against numpy once per run and otherwise falls back to
    ``day_stream``.
    """

    def __init__(self, seq: np.random.SeedSequence, names: tuple[str, ...]) -> None:
        self.names = names
        pools = []
        hc = _INIT_A
        for name in names:
            run = _uint32_words(seq.entropy)
            run += [0] * max(0, 4 - len(run))  # numpy pads the run entropy when a spawn key follows
            words = run + _uint32_words((*seq.spawn_key, _INDEX[name]))
            hc = _INIT_A
            pool = []
            for w in words[:4]:
                v, hc = _hashmix(w, hc)
                pool.append(v)
            for src in range(4):
                for dst in range(4):
                    if src != dst:
                        v, hc = _hashmix(pool[src], hc)
                        pool[dst] = _mix(pool[dst], v)
            for w in words[4:]:
                for dst in range(4):
                    v, hc = _hashmix(w, hc)
                    pool[dst] = _mix(pool[dst], v)
            pools.append(pool)
        self._pools = np.array(pools, dtype=np.uint64)  # (stream, 4)
        self._hc = hc  # the hash constant has moved as many times for every stream
        self._start = -2 * _BLOCK  # no block hashed yet
        self._words: list[list[list[int]]] = []

    def state(self, name: str, day: int) -> tuple[int, int]:
        """PCG64's (state, inc) for stream ``name`` on ``day``."""
        if not self._start <= day < self._start + _BLOCK:
            self._hash_block(day)
        w = self._words[self.names.index(name)][day - self._start]
        initstate = (w[0] | w[1] << 32) << 64 | (w[2] | w[3] << 32)
        initseq = (w[4] | w[5] << 32) << 64 | (w[6] | w[7] << 32)
        inc = ((initseq << 1) | 1) & _MASK128
        state = (((inc + initstate) & _MASK128) * _PCG_MULT + inc) & _MASK128
        return state, inc

    def _hash_block(self, first: int) -> None:
        days = np.arange(first, first + _BLOCK, dtype=np.uint64)
        pool = np.repeat(self._pools[:, None, :], _BLOCK, axis=1)  # (stream, day, 4)
        hc = self._hc
        for dst in range(4):  # the day's word, mixed into each pool word
            v = (days ^ np.uint64(hc)) & _MASK32
            hc = (hc * _MULT_A) & _MASK32
            v = (v * np.uint64(hc)) & _MASK32
            v ^= v >> np.uint64(16)
            r = (np.uint64(_MIX_L) * pool[..., dst] - np.uint64(_MIX_R) * v) & _MASK32
            pool[..., dst] = r ^ (r >> np.uint64(16))
        out = np.empty((*pool.shape[:2], 8), dtype=np.uint64)
        hb = _INIT_B
        for i in range(8):  # generate_state(4, uint64): eight 32-bit words from the pool, cycled
            v = pool[..., i & 3] ^ np.uint64(hb)
            hb = (hb * _MULT_B) & _MASK32
            v = (v * np.uint64(hb)) & _MASK32
            out[..., i] = v ^ (v >> np.uint64(16))
        self._words = out.tolist()
        self._start = first


def _set_state(rng: np.random.Generator, state: int, inc: int) -> None:
    rng.bit_generator.state = {"bit_generator": "PCG64", "state": {"state": state, "inc": inc},
                               "has_uint32": 0, "uinteger": 0}


class RunStreams(Mapping[str, np.random.Generator]):
    """A run's named generators: the spawned streams until the first day, then each daily stream
    set to that day's seed on first use each day (``new_day``), so a stream no phase reads costs
    nothing.

    ``streams[name]`` on day ``d`` draws exactly as ``day_streams(seq, d)[name]``; the build
    streams ("mesa", "world", "creators", "buyers") stay the spawned ones. A daily stream is one
    Generator object for the whole run, reseeded each day: take it from the mapping on the day
    you draw from it rather than keeping it across days.
    """

    def __init__(self, seq: np.random.SeedSequence) -> None:
        self._seq = seq
        self._current = spawn_streams(seq)
        self._day: int | None = None  # None: before the first day (the spawned streams serve)
        self._fresh: set[str] = set(STREAMS)  # daily streams already set for the current day
        self._seeds = self._fast_seeds(seq)
        self._daily = {name: np.random.Generator(np.random.PCG64(0)) for name in DAILY_STREAMS} if self._seeds else {}

    @staticmethod
    def _fast_seeds(seq: np.random.SeedSequence) -> _DaySeeds | None:
        """The block hasher, if it reproduces numpy's seeding for this run (checked on day 1)."""
        try:
            seeds = _DaySeeds(seq, DAILY_STREAMS)
            for name in DAILY_STREAMS:
                expected = day_stream(seq, name, 1).bit_generator.state["state"]
                if seeds.state(name, 1) != (expected["state"], expected["inc"]):
                    return None
        except (TypeError, ValueError):
            return None
        return seeds

    def new_day(self, day: int) -> None:
        """From now on, each daily stream is ``day``'s (set when first asked for)."""
        self._day = day
        self._fresh = set(_BUILD)

    def __getitem__(self, name: str) -> np.random.Generator:
        if name not in self._fresh:
            if name not in self._current:
                raise KeyError(name)
            assert self._day is not None
            if self._seeds is not None and 0 <= self._day <= _MASK32:
                rng = self._daily[name]
                _set_state(rng, *self._seeds.state(name, self._day))
                self._current[name] = rng
            else:
                self._current[name] = day_stream(self._seq, name, self._day)
            self._fresh.add(name)
        return self._current[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._current)

    def __len__(self) -> int:
        return len(self._current)
