"""The microphone's block clock: exact sample spacing, anchored on the earliest hand-over."""

from __future__ import annotations

import itertools

import pytest

from realtime_console.audio.echo.clock import CaptureClock

RATE = 24_000
BLOCK = 2_400  # 100 ms


def test_on_time_callbacks_give_blocks_exactly_one_block_apart() -> None:
    clock = CaptureClock(RATE)
    starts = [clock.block_start(10.0 + 0.1 * (k + 1), BLOCK) for k in range(20)]
    assert starts[0] == pytest.approx(10.0)
    assert all(b - a == pytest.approx(0.1) for a, b in itertools.pairwise(starts))


def test_a_late_burst_at_the_start_is_forgotten_at_the_first_block_on_time() -> None:
    clock = CaptureClock(RATE)
    # The first three blocks arrive together, 200 ms late; then the device keeps time.
    late = [clock.block_start(10.3, BLOCK) for _ in range(3)]
    assert late[0] == pytest.approx(10.2)  # taken at its word, for now
    on_time = clock.block_start(10.4, BLOCK)  # block 4 handed over on time: 10.0 + 0.4
    assert on_time == pytest.approx(10.3)
    assert clock.block_start(10.5, BLOCK) == pytest.approx(10.4)


def test_one_late_callback_moves_the_clock_only_a_fifth_of_its_lateness() -> None:
    clock = CaptureClock(RATE)
    for k in range(10):
        clock.block_start(10.0 + 0.1 * (k + 1), BLOCK)
    start = clock.block_start(10.0 + 1.1 + 0.05, BLOCK)  # 50 ms late
    assert start == pytest.approx(11.0 + 0.01)
    assert clock.block_start(10.0 + 1.2, BLOCK) == pytest.approx(11.1)  # back on time


def test_a_stall_of_over_half_a_second_re_anchors() -> None:
    clock = CaptureClock(RATE)
    clock.block_start(10.1, BLOCK)
    assert clock.block_start(11.2, BLOCK) == pytest.approx(11.1)  # input was lost: jump
