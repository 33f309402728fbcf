"""Caches and running indexes that keep a day's fixed cost low agree with recomputing from scratch."""

from __future__ import annotations

import numpy as np

from sim.seeding import DAILY_STREAMS, STREAMS, RunStreams, day_streams, run_seed_sequence, spawn_streams


def _draws(rng: np.random.Generator) -> list[float]:
    return rng.random(5).tolist()


def test_run_streams_before_the_first_day_are_the_spawned_ones():
    """Until the first day, every stream is the one spawned from the run's seed sequence."""
    lazy = RunStreams(run_seed_sequence(11, 2))
    eager = spawn_streams(run_seed_sequence(11, 2))
    assert list(lazy) == list(STREAMS)
    for name in STREAMS:
        assert _draws(lazy[name]) == _draws(eager[name])


def test_run_streams_derive_each_days_streams_draw_for_draw():
    """On day d a daily stream, derived on first use, draws exactly as day_streams(seq, d) does,
    whichever streams were used on earlier days; build streams carry on undisturbed."""
    seq = run_seed_sequence(11, 2)
    lazy = RunStreams(seq)
    build = spawn_streams(run_seed_sequence(11, 2))
    for day in (1, 2, 5):
        lazy.new_day(day)
        eager = day_streams(seq, day)
        used = DAILY_STREAMS[day % 3::3]  # a different subset each day
        for name in used:
            assert _draws(lazy[name]) == _draws(eager[name])
            assert lazy[name] is lazy[name]  # the same generator all day: draws continue
            assert _draws(lazy[name]) == _draws(eager[name])
        assert _draws(lazy["world"]) == _draws(build["world"])
