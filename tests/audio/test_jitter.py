from __future__ import annotations

import threading

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from realtime_console.audio.jitter import JitterBuffer
from realtime_console.protocol.pcm import ms_to_samples

from .helpers import const_pcm, counting_pcm, samples

BLOCK = 480  # 20 ms at 24 kHz


def test_prebuffer_delays_start_until_enough_is_queued() -> None:
    jb = JitterBuffer(prebuffer_ms=120)
    jb.push(const_pcm(1000, 100), "r1", "i1")
    for _ in range(3):
        assert not samples(jb.read(BLOCK)).any()
    assert not jb.is_playing
    jb.push(const_pcm(1000, 20), "r1", "i1")  # now 120 ms queued
    assert (samples(jb.read(BLOCK)) == 1000).all()
    assert jb.played_samples("i1") == BLOCK
    assert jb.stats.underruns == 0  # waiting for the prebuffer is not an underrun


def test_end_response_plays_a_short_response_without_waiting_for_the_prebuffer() -> None:
    jb = JitterBuffer(prebuffer_ms=120)
    jb.push(const_pcm(7, 30), "r1", "i1")
    assert not samples(jb.read(BLOCK)).any()
    jb.end_response("r1")
    out = samples(jb.read(BLOCK * 2))
    assert (out[:720] == 7).all() and not out[720:].any()
    assert jb.is_empty and jb.stats.underruns == 0


def test_flush_starts_playback_below_the_prebuffer() -> None:
    jb = JitterBuffer(prebuffer_ms=120)
    jb.push(const_pcm(7, 20), "r1", "i1")
    jb.flush()
    assert (samples(jb.read(BLOCK)) == 7).all()


def test_underrun_mid_response_plays_silence_is_counted_and_prebuffers_again() -> None:
    jb = JitterBuffer(prebuffer_ms=40)
    jb.push(const_pcm(5, 50), "r1", "i1")  # 1200 samples
    out = samples(jb.read(BLOCK * 3))  # wants 1440
    assert (out[:1200] == 5).all() and not out[1200:].any()
    stats = jb.stats
    assert stats.underruns == 1 and stats.underrun_samples == 240
    jb.push(const_pcm(6, 20), "r1", "i1")  # below the 40 ms prebuffer: keep waiting
    assert not samples(jb.read(BLOCK)).any()
    assert jb.stats.underrun_samples == 240 + BLOCK  # still starved: the gap keeps counting
    jb.push(const_pcm(6, 20), "r1", "i1")
    assert (samples(jb.read(BLOCK)) == 6).all()
    assert jb.stats.underruns == 1


def test_running_dry_after_the_response_ended_is_not_an_underrun() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    for _ in range(10):
        jb.read(BLOCK)  # idle from the start
    jb.push(const_pcm(5, 30), "r1", "i1")
    jb.end_response("r1")
    for _ in range(10):
        jb.read(BLOCK)
    stats = jb.stats
    assert stats.underruns == 0 and stats.underrun_samples == 0


def test_played_clock_is_exact_across_odd_chunks_reads_and_items() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    for n in (7, 333, 1, 1000):
        jb.push(counting_pcm(1, n), "r1", "a")
    jb.push(counting_pcm(1, 500), "r2", "b")
    total_a = 7 + 333 + 1 + 1000
    played = 0
    for frames in (5, 300, 77, 1000, 13):
        jb.read(frames)
        played += frames
        assert jb.played_samples("a") == min(played, total_a)
        assert jb.played_samples("b") == max(0, min(played - total_a, 500))
    assert jb.received_samples("a") == total_a and jb.received_samples("b") == 500
    assert jb.played_samples("nope") == 0 and jb.received_samples("nope") == 0


def test_output_is_the_input_in_order() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    pcm = counting_pcm(1, 3000)
    for start in range(0, len(pcm), 998):
        jb.push(pcm[start : start + 998], "r", "i")
    out = b"".join(jb.read(n) for n in (1, 479, 480, 2000, 40))
    assert out == pcm


def test_interrupt_fades_out_within_the_next_read_then_silence() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(10_000, 500), "r1", "i1")
    jb.read(BLOCK)
    jb.interrupt(fade_ms=5)  # 120 samples
    fade = samples(jb.read(BLOCK))
    ramp = fade[:120].astype(int)
    assert 9_000 < ramp[0] < 10_000  # starts just below the signal
    assert (np.diff(ramp) <= 0).all() and ramp[-1] == 0  # falls monotonically to zero
    assert not fade[120:].any()
    assert not samples(jb.read(BLOCK)).any()
    assert jb.is_empty and jb.played_samples("i1") == BLOCK + 120


def test_interrupt_while_prebuffering_drops_without_a_sound() -> None:
    jb = JitterBuffer(prebuffer_ms=120)
    jb.push(const_pcm(1000, 60), "r1", "i1")
    jb.read(BLOCK)
    jb.interrupt(fade_ms=5)
    jb.push(const_pcm(1000, 200), "r1", "i1")  # a late delta of the cut response
    assert not samples(jb.read(BLOCK * 20)).any()
    assert jb.played_samples("i1") == 0 and jb.stats.late_chunks == 1


def test_interrupt_refuses_late_chunks_of_every_cut_response_but_not_new_ones() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(1, 100), "r1", "i1")
    jb.end_response("r1")
    jb.push(const_pcm(2, 100), "r2", "i2")  # queued behind r1, still streaming
    jb.read(BLOCK)
    jb.interrupt(fade_ms=0)
    assert not jb.push(const_pcm(1, 20), "r1", "i1")
    assert not jb.push(const_pcm(2, 20), "r2", "i2")
    assert jb.push(const_pcm(3, 20), "r3", "i3")
    out = samples(jb.read(BLOCK * 3))
    assert set(np.unique(out)) == {0, 3}
    assert jb.stats.late_chunks == 2


def test_second_interrupt_does_not_restart_a_running_fade() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(10_000, 500), "r1", "i1")
    jb.read(BLOCK)
    jb.interrupt(fade_ms=10)  # 240 samples
    first = samples(jb.read(100)).astype(int)
    jb.interrupt(fade_ms=10)
    rest = samples(jb.read(BLOCK)).astype(int)
    ramp = np.concatenate([first, rest[:140]])
    assert (np.diff(ramp) <= 0).all() and not rest[140:].any()


def test_drop_response_refuses_late_chunks_and_keeps_other_responses_intact() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(1, 40), "r1", "i1")
    jb.push(const_pcm(2, 40), "r2", "i2")
    jb.push(const_pcm(1, 40), "r1", "i1")
    jb.drop_response("r1")  # not playing yet: nothing to fade
    assert not jb.push(const_pcm(1, 40), "r1", "i1")
    out = samples(jb.read(BLOCK * 4))
    assert (out[:960] == 2).all() and not out[960:].any()
    assert jb.played_samples("i1") == 0


def test_drop_response_fades_the_audible_response_then_plays_the_next() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(10_000, 100), "r1", "i1")
    jb.push(const_pcm(3, 40), "r2", "i2")
    jb.read(BLOCK)
    jb.drop_response("r1", fade_ms=5)
    out = samples(jb.read(BLOCK * 3)).astype(int)
    assert (np.diff(out[:120]) <= 0).all() and out[119] == 0
    assert (out[120 : 120 + 960] == 3).all() and not out[120 + 960 :].any()


def test_overflow_refuses_the_chunk_and_keeps_item_positions_true() -> None:
    jb = JitterBuffer(prebuffer_ms=0, max_buffer_ms=100)  # 2400 samples
    assert jb.push(counting_pcm(1, 2000), "r", "i")
    assert not jb.push(counting_pcm(2001, 1000), "r", "i")  # would reach 3000
    assert jb.push(counting_pcm(3001, 400), "r", "i")  # fits exactly
    stats = jb.stats
    assert stats.overflows == 1 and stats.overflow_samples == 1000
    assert stats.max_buffered_samples == 2400
    assert jb.received_samples("i") == 3400
    out = samples(jb.read(2400))
    assert out[1999] == 2000 and out[2000] == 3001  # the refused chunk is a gap, not a shift
    assert jb.played_samples("i") == 3400  # position in the item's timeline


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.integers(0, 3000)),
            st.tuples(st.just("read"), st.integers(1, 2000)),
        ),
        max_size=60,
    )
)
def test_buffer_never_exceeds_its_bound(ops: list[tuple[str, int]]) -> None:
    bound = ms_to_samples(150)
    jb = JitterBuffer(prebuffer_ms=50, max_buffer_ms=150)
    refused = 0
    for op, n in ops:
        if op == "push":
            refused += not jb.push(counting_pcm(1, n), "r", "i")
        else:
            assert len(jb.read(n)) == 2 * n
        assert jb.buffered_samples <= bound
    stats = jb.stats
    assert stats.max_buffered_samples <= bound
    assert stats.overflows == refused


def test_heard_samples_subtracts_latency_only_while_the_item_is_at_the_device() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(1, 100), "r", "i")  # 2400 samples
    jb.end_response("r")
    jb.read(1000)
    assert jb.heard_samples("i", latency_frames=600) == 400
    assert jb.heard_samples("i", latency_frames=5000) == 0  # clamped at zero
    jb.read(1400)
    jb.read(300)  # silence after the item
    assert jb.heard_samples("i", latency_frames=600) == 2100
    jb.read(300)
    assert jb.heard_samples("i", latency_frames=600) == 2400  # clamped to what was received
    assert jb.heard_samples("unknown", latency_frames=0) == 0


def test_odd_byte_chunks_are_rejected() -> None:
    with pytest.raises(ValueError, match="even number of bytes"):
        JitterBuffer().push(b"\x00\x01\x02", "r", "i")


def test_concurrent_writer_and_reader_keep_every_sample_in_order() -> None:
    jb = JitterBuffer(prebuffer_ms=5)
    n_total = 30_000
    source = counting_pcm(1, n_total)
    got: list[bytes] = []
    done = threading.Event()

    def reader() -> None:
        while not done.is_set() or not jb.is_empty:
            got.append(jb.read(97))

    thread = threading.Thread(target=reader)
    thread.start()
    for start in range(0, len(source), 202):
        jb.push(source[start : start + 202], "r", "i")
    jb.end_response("r")
    done.set()
    thread.join(timeout=10)
    out = samples(b"".join(got))
    assert (out[out != 0] == samples(source)).all()
    assert jb.played_samples("i") == n_total


def test_dropping_another_response_keeps_a_running_fade() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    jb.push(const_pcm(10_000, 100), "r1", "i1")
    jb.read(BLOCK)
    jb.interrupt(fade_ms=10)  # 240-sample fade of r1
    jb.push(const_pcm(3, 40), "r2", "i2")
    first = samples(jb.read(100)).astype(int)
    jb.drop_response("r2")
    rest = samples(jb.read(BLOCK)).astype(int)
    ramp = np.concatenate([first, rest[:140]])
    assert (np.diff(ramp) <= 0).all() and ramp[-1] == 0 and not rest[140:].any()


def test_clocks_of_a_flood_of_new_items_stay_bounded_and_playback_is_undisturbed() -> None:
    jb = JitterBuffer(prebuffer_ms=0)
    items = [f"item_{n}" for n in range(100_000)]
    for item in items:
        jb.push((7).to_bytes(2, "little"), "r1", item)  # one sample each
    assert jb.received_samples(items[0]) == 0  # long forgotten
    assert all(jb.received_samples(item) == 1 for item in items[-256:])
    assert jb.received_samples(items[-257]) == 0
    # Every queued sample still plays, forgotten item or not.
    assert (samples(jb.read(100_000)) == 7).all()
    assert jb.played_samples(items[-1]) == 1 and jb.is_empty


def test_tiny_chunks_cost_little_more_memory_than_their_audio() -> None:
    import tracemalloc

    jb = JitterBuffer(prebuffer_ms=0)
    pcm = counting_pcm(1, 24_000)  # 1 s as 24,000 one-sample deltas
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for start in range(0, len(pcm), 2):
            jb.push(pcm[start : start + 2], "r", "i")
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    # Unmerged, each chunk's headers (~460 bytes) would make this ~11 MB for 48 kB of audio.
    assert held < 1.2 * len(pcm)
    jb.end_response("r")
    assert jb.read(24_000) == pcm  # merged, but every sample in order
    assert jb.played_samples("i") == 24_000 and jb.is_empty


def test_merging_never_joins_different_items_or_bridges_a_refused_gap() -> None:
    jb = JitterBuffer(prebuffer_ms=0, max_buffer_ms=50)  # 1200 samples
    jb.push(counting_pcm(1, 100), "r", "a")
    jb.push(counting_pcm(101, 100), "r", "b")
    assert not jb.push(counting_pcm(201, 1100), "r", "b")  # refused: b's timeline has a gap
    jb.push(counting_pcm(1301, 100), "r", "b")
    jb.read(150)
    assert jb.played_samples("a") == 100 and jb.played_samples("b") == 50
    out = samples(jb.read(150))
    assert out[49] == 200 and out[50] == 1301
    assert jb.played_samples("b") == 1300  # 100 played, 1100 refused, 100 played


def test_overflow_is_counted_per_response_until_taken() -> None:
    jb = JitterBuffer(prebuffer_ms=0, max_buffer_ms=100)  # 2400 samples
    jb.push(const_pcm(1, 100), "r1", "i1")
    assert not jb.push(const_pcm(1, 30), "r1", "i1")
    assert not jb.push(const_pcm(2, 20), "r2", "i2")
    assert not jb.push(const_pcm(1, 10), "r1", "i1")
    assert jb.take_overflow("r1") == ms_to_samples(40)
    assert jb.take_overflow("r1") == 0  # taken once
    assert jb.take_all_overflows() == {"r2": ms_to_samples(20)}
    assert jb.take_all_overflows() == {}
    assert jb.stats.overflow_samples == ms_to_samples(60)  # the total is never forgotten
