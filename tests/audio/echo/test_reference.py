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
