"""The far-end tap: samples handed to the device, found again by their DAC time."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.reference import FarEndTap


def fill(tap: FarEndTap, total: int, t0: float = 1.0) -> np.ndarray:
    x = (np.arange(total) % 30_000 + 1).astype(np.int16)
    for i in range(0, total, 480):
        tap.write(x[i : i + 480].reshape(-1, 1), t0 + i / 24_000)
    return x


def test_a_read_by_dac_time_returns_exactly_the_samples_played_then() -> None:
    tap = FarEndTap(seconds=1.0)
    x = fill(tap, 48_000)
    got = tap.read(1.0 + 40_000 / 24_000, 2_400)
    np.testing.assert_array_equal(got, x[40_000:42_400])


def test_unplayed_and_overwritten_samples_read_as_silence() -> None:
    tap = FarEndTap(seconds=0.1)  # 2400 samples
    x = fill(tap, 9_600)
    ahead = tap.read(1.0 + 9_000 / 24_000, 1_000)
    np.testing.assert_array_equal(ahead[:600], x[9_000:9_600])
    assert not np.any(ahead[600:])
    old = tap.read(1.0 + 6_000 / 24_000, 2_000)
    assert not np.any(old[:1_201])
    np.testing.assert_array_equal(old[1_201:], x[7_201:8_000])


def test_nothing_played_yet_is_silence() -> None:
    assert not np.any(FarEndTap().read(5.0, 480))


def on_grid(tap: FarEndTap, blocks: int, lag: list[float] | None = None, t0: float = 1.0) -> None:
    """``blocks`` 20 ms blocks handed over on a steady clock, each ``lag[k]`` late."""
    for k in range(blocks):
        late = lag[k] if lag else 0.0
        tap.write(np.zeros(480, dtype=np.int16), t0 + k * 0.02 + late)


def test_a_late_last_callback_does_not_move_the_pairing() -> None:
    tap = FarEndTap()
    lag = [0.0] * 50
    lag[-1] = 0.06  # the last callback before the echo stage asks came 60 ms late
    on_grid(tap, 50, lag)
    # Sample 48 * 480 was handed over at 1.96 s: so it stays, whatever the last callback said.
    assert tap.index_at(1.0 + 48 * 0.02) == 48 * 480


def test_pulseaudio_doubled_callbacks_do_not_move_the_pairing() -> None:
    """PulseAudio: the callbacks fall behind the sample count by up to a block over a few
    seconds, then two come back to back and the lag starts again. Wherever in that cycle the
    stage asks, the same time maps to nearly the same sample."""
    cycle = 300  # 6 s
    lag = [0.02 * (k % cycle) / cycle for k in range(900)]
    tap = FarEndTap(seconds=20.0)
    answers: list[int] = []
    for k in range(900):
        tap.write(np.zeros(480, dtype=np.int16), 1.0 + k * 0.02 + lag[k])
        index = tap.index_at(5.0)
        if k >= 400 and index is not None:
            answers.append(index)
    assert max(answers) - min(answers) <= 96  # 4 ms (the last callback alone: 20 ms)


def test_an_underflow_or_a_stall_starts_the_fit_afresh() -> None:
    tap = FarEndTap()
    on_grid(tap, 50)
    assert tap.index_at(2.0) == 50 * 480
    # The device ran dry for 60 ms: everything after is handed over (and plays) that much later.
    tap.write(np.zeros(480, dtype=np.int16), 1.0 + 50 * 0.02 + 0.06, underflow=True)
    assert tap.underflows == 1
    assert tap.index_at(1.0 + 50 * 0.02 + 0.06) == 50 * 480  # at once, not after seconds
    # The stream starting: a burst of callbacks, then the device's clock runs from a second on.
    tap = FarEndTap()
    on_grid(tap, 3, [0.0, -0.02, -0.04])
    on_grid(tap, 10, t0=3.0)
    assert tap.index_at(3.0) == 3 * 480
