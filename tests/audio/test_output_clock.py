"""The output clock alone: PortAudio's per-block DAC times in, the device's position out
(through the speaker: tests/audio/test_speaker.py)."""

from __future__ import annotations

import pytest

from realtime_console.audio.fakestream import FakeTimeInfo
from realtime_console.audio.output_clock import HISTORY, OutputClock

BLOCK = 480
EPOCH = 1_796_620_180.0  # PortAudio's ALSA host API stamps wall-clock seconds


def feed(clock: OutputClock, blocks: int, delay_s: float, *, start: int = 0) -> float:
    """``blocks`` 20 ms blocks handed over on time, each ``delay_s`` from the DAC; returns the
    last block's hand-over time."""
    handed_at = EPOCH
    for k in range(start, start + blocks):
        handed_at = EPOCH + k * BLOCK / 24000
        clock.mark((k + 1) * BLOCK, BLOCK, FakeTimeInfo(0.0, handed_at, handed_at + delay_s))
    return handed_at


def test_frames_in_flight_follow_the_clock_between_blocks() -> None:
    clock = OutputClock()
    last = feed(clock, 20, 0.045)
    # Right at the last hand-over: that block and 45 ms before it are still on their way.
    assert clock.in_flight(last) == BLOCK + round(0.045 * 24000)
    assert clock.in_flight(last + 0.010) == BLOCK + round(0.035 * 24000)
    assert clock.in_flight(last + 1.0) == 0  # the device has played everything
    assert clock.delay_s == pytest.approx(0.045, abs=1e-6)
    assert clock.timed and clock.handed_frames == 20 * BLOCK


def test_callbacks_that_come_late_do_not_move_the_position() -> None:
    """A late callback gets a nearer DAC time: the DAC times agree, the delays do not."""
    clock = OutputClock()
    for k in range(HISTORY):
        late = 0.004 * (k % 3)  # 0, 4 or 8 ms late
        handed_at = EPOCH + k * BLOCK / 24000 + late
        dac = EPOCH + k * BLOCK / 24000 + 0.045
        clock.mark((k + 1) * BLOCK, BLOCK, FakeTimeInfo(0.0, handed_at, dac))
    now = EPOCH + (HISTORY - 1) * BLOCK / 24000
    assert clock.in_flight(now) == BLOCK + round(0.045 * 24000)


def test_odd_stamps_are_outvoted() -> None:
    clock = OutputClock()
    clock.mark(BLOCK, BLOCK, FakeTimeInfo(0.0, EPOCH, EPOCH))  # the first block: 0 ms
    last = feed(clock, 10, 0.057, start=1)
    clock.mark(12 * BLOCK, BLOCK, FakeTimeInfo(0.0, last + 0.02, last + 0.02 + 0.4))
    assert clock.delay_s == pytest.approx(0.057, abs=1e-6)
    assert clock.in_flight(last + 0.02) == BLOCK + round(0.057 * 24000)  # at its hand-over


def test_without_times_the_reported_latency_stands_in() -> None:
    clock = OutputClock()
    clock.reported_s = 0.1
    clock.mark(BLOCK, BLOCK, FakeTimeInfo(0.0, 0.0, 0.0))
    assert not clock.timed and clock.handed_frames is None
    assert clock.delay_s == 0.1
    assert clock.in_flight(EPOCH) == 2400
    assert clock.in_flight(None) == 2400


def test_an_unreadable_clock_falls_back_to_the_delay() -> None:
    clock = OutputClock()
    feed(clock, 5, 0.03)
    assert clock.in_flight(None) == round(0.03 * 24000)
    assert clock.in_flight(0.0) == round(0.03 * 24000)
