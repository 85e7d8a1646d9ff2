"""The input timeline: which capture time each sample of the sent audio had."""

from __future__ import annotations

import math

import pytest

from realtime_console.audio.input_timeline import InputTimeline

RATE = 24000
BLOCK = 2400  # 100 ms


def test_a_sample_is_placed_in_its_block_at_the_sample_rate() -> None:
    timeline = InputTimeline(block_ms=100)
    timeline.record(BLOCK, 10.0)
    timeline.record(BLOCK, 10.1)
    assert timeline.adc_time(0) == 10.0
    assert timeline.adc_time(50) == pytest.approx(10.05)
    assert timeline.adc_time(150) == pytest.approx(10.15)
    assert timeline.adc_time(199.99) == pytest.approx(10.1 + 2399 / RATE)


def test_gaps_in_what_was_sent_are_not_time_in_the_sent_audio() -> None:
    """Blocks the gate dropped or the echo guard held back were never sent: the block sent
    after them follows the previous one in the server's count but not on the clock."""
    timeline = InputTimeline(block_ms=100)
    timeline.record(BLOCK, 10.0)
    timeline.record(BLOCK, 12.5)  # 2.4 s of capture never sent in between
    timeline.record(BLOCK, 12.6)
    assert timeline.adc_time(99) == pytest.approx(10.099)
    assert timeline.adc_time(100) == pytest.approx(12.5)
    assert timeline.adc_time(210) == pytest.approx(12.61)


def test_blocks_of_several_sizes_sent_in_one_append_each_keep_their_time() -> None:
    """Pending can hold several microphone blocks (a resampler's are uneven): each block is
    recorded when added, in the order sent, so each keeps its own time."""
    timeline = InputTimeline(block_ms=10)
    sizes_and_times = [(240, 1.0), (100, 1.01), (380, 1.5), (240, 1.6)]
    for size, at in sizes_and_times:
        timeline.record(size, at)
    assert timeline.samples == 960
    assert timeline.adc_time(10) == pytest.approx(1.01)  # sample 240: the second block
    assert timeline.adc_time(340 * 1000 / RATE) == pytest.approx(1.5)  # the third
    assert timeline.adc_time(700 * 1000 / RATE) == pytest.approx(1.5 + 360 / RATE)
    assert timeline.adc_time(720 * 1000 / RATE) == pytest.approx(1.6)


def test_unknown_before_the_first_block_past_the_end_and_for_nonsense() -> None:
    timeline = InputTimeline(block_ms=100)
    assert timeline.adc_time(0) is None
    timeline.record(BLOCK, 5.0)
    assert timeline.adc_time(-1) is None
    assert timeline.adc_time(100) is None  # not sent yet
    assert timeline.adc_time(math.nan) is None
    assert timeline.adc_time(math.inf) is None


def test_a_block_without_a_time_is_unknown_and_its_neighbours_are_not() -> None:
    """A host API that stamps no times: its blocks are recorded as unknown, never guessed."""
    timeline = InputTimeline(block_ms=100)
    timeline.record(BLOCK, 1.0)
    timeline.record(BLOCK, None)
    timeline.record(BLOCK, 1.2)
    assert timeline.adc_time(150) is None
    assert timeline.adc_time(50) == pytest.approx(1.05)
    assert timeline.adc_time(250) == pytest.approx(1.25)


def test_the_ring_keeps_the_last_seconds_and_forgets_older_audio() -> None:
    timeline = InputTimeline(block_ms=100, seconds=60)
    assert timeline.capacity == 601
    blocks = 1000  # 100 s
    for i in range(blocks):
        timeline.record(BLOCK, 100.0 + i * 0.1)
    assert timeline.samples == blocks * BLOCK
    newest_ms = (blocks - 1) * 100
    assert timeline.adc_time(newest_ms + 10) == pytest.approx(100.0 + newest_ms / 1000 + 0.01)
    oldest_kept = blocks - timeline.capacity
    assert timeline.adc_time(oldest_kept * 100) == pytest.approx(100.0 + oldest_kept * 0.1)
    assert timeline.adc_time(oldest_kept * 100 - 1) is None  # overwritten
    assert timeline.adc_time(0) is None
    # At least a minute back is always there.
    assert timeline.adc_time(newest_ms - 60_000) is not None
    # Its storage never grows: two preallocated arrays of ``capacity`` numbers.
    assert len(timeline._offsets) == len(timeline._times) == timeline.capacity


def test_unsent_audio_is_forgotten_and_the_next_block_takes_its_place() -> None:
    timeline = InputTimeline(block_ms=100)
    timeline.record(BLOCK, 1.0)
    timeline.record(BLOCK, 1.1)  # pending, then thrown away (mute, a dropped link)
    timeline.record(BLOCK, 1.2)
    timeline.unrecord(2 * BLOCK)
    assert timeline.samples == BLOCK
    assert timeline.adc_time(150) is None
    timeline.record(BLOCK, 7.0)
    assert timeline.adc_time(150) == pytest.approx(7.05)
    assert timeline.adc_time(50) == pytest.approx(1.05)


def test_unrecord_after_the_ring_wrapped_never_revives_overwritten_marks() -> None:
    timeline = InputTimeline(block_ms=100, seconds=0.3)  # 4 marks
    for i in range(6):
        timeline.record(BLOCK, float(i))
    timeline.unrecord(BLOCK)
    assert timeline.adc_time(550) is None  # the unsent block
    assert timeline.adc_time(150) is None  # its slot held the unsent one: gone for good
    assert timeline.adc_time(250) == pytest.approx(2.05)
    assert timeline.adc_time(450) == pytest.approx(4.05)
    timeline.record(BLOCK, 50.0)
    timeline.record(BLOCK, 60.0)  # overwrites mark 2
    assert timeline.adc_time(250) is None
    assert timeline.adc_time(550) == pytest.approx(50.05)
    assert timeline.adc_time(650) == pytest.approx(60.05)


def test_a_restart_counts_from_zero_again() -> None:
    """A new server session (a reconnect) counts its audio from 0: the old marks are gone."""
    timeline = InputTimeline(block_ms=100)
    for i in range(5):
        timeline.record(BLOCK, float(i))
    timeline.restart()
    assert timeline.samples == 0
    assert timeline.adc_time(50) is None
    timeline.record(BLOCK, 40.0)
    assert timeline.adc_time(50) == pytest.approx(40.05)


def test_a_restart_keeps_what_the_new_session_gets_first() -> None:
    """Audio recorded for the old session but sent to the new one (held during a renewal,
    pending at a reconnect) is the start of the new count."""
    timeline = InputTimeline(block_ms=100)
    for i in range(5):
        timeline.record(BLOCK, float(i))
    timeline.restart(keep_from=3 * BLOCK)
    assert timeline.samples == 2 * BLOCK
    assert timeline.adc_time(50) == pytest.approx(3.05)
    assert timeline.adc_time(150) == pytest.approx(4.05)
    assert timeline.adc_time(200) is None
    timeline.record(BLOCK, 9.0)
    assert timeline.adc_time(250) == pytest.approx(9.05)


def test_a_restart_after_the_ring_wrapped() -> None:
    timeline = InputTimeline(block_ms=100, seconds=0.3)  # 4 marks
    for i in range(10):
        timeline.record(BLOCK, float(i))
    timeline.restart(keep_from=8 * BLOCK)
    assert timeline.adc_time(50) == pytest.approx(8.05)
    assert timeline.adc_time(150) == pytest.approx(9.05)
    for i in range(6):  # wraps again over the renumbered marks
        timeline.record(BLOCK, 20.0 + i)
    assert timeline.adc_time(750) == pytest.approx(25.05)
    assert timeline.adc_time(50) is None


def test_sizes_must_be_positive() -> None:
    with pytest.raises(ValueError):
        InputTimeline(block_ms=0)
    with pytest.raises(ValueError):
        InputTimeline(block_ms=10, seconds=0)
