"""The GCC-PHAT delay estimator: finds the echo's delay, says nothing without a clear one."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.echo.delay import DelayEstimator
from realtime_console.audio.echo.path import EchoPathSpec, render
from tests.audio.echo.rig import RATE, voice


def _estimates(mic: np.ndarray, far: np.ndarray) -> list[int]:
    estimator = DelayEstimator(RATE)
    found = []
    for i in range(0, len(mic) - 239, 240):
        got = estimator.push(mic[i : i + 240], far[i : i + 240])
        if got is not None:
            found.append(got)
    return found


@pytest.mark.parametrize("delay_ms", [20.0, 130.0, 420.0])
def test_finds_the_echo_delay_of_speech_within_one_and_a_half_milliseconds(delay_ms: float) -> None:
    far = np.frombuffer(voice(4.0), dtype="<i2") / 32768.0
    mic = render(far.astype(np.float32), EchoPathSpec(delay_ms=delay_ms, gain_db=-6))
    found = _estimates(mic.astype(np.float64), far)
    assert len(found) >= 8  # every 0.25 s once the windows are full
    assert all(abs(d - delay_ms * 24) <= 36 for d in found[-6:])  # 1.5 ms


def test_near_end_talking_over_the_echo_does_not_move_the_estimate() -> None:
    far = np.frombuffer(voice(4.0), dtype="<i2") / 32768.0
    near = np.frombuffer(voice(4.0, "ash"), dtype="<i2") / 32768.0
    mic = render(far.astype(np.float32), EchoPathSpec(delay_ms=80, gain_db=-6)) + near
    found = _estimates(mic.astype(np.float64), far)
    assert found and all(abs(d - 80 * 24) <= 36 for d in found[-6:])


def test_no_estimate_without_playback_or_without_an_echo() -> None:
    noise = np.random.default_rng(4).standard_normal(RATE * 3) * 0.05
    assert _estimates(noise, np.zeros_like(noise)) == []  # nothing played
    far = np.frombuffer(voice(3.0), dtype="<i2") / 32768.0
    unrelated = np.random.default_rng(5).standard_normal(len(far)) * 0.05
    assert _estimates(unrelated, far) == []  # the microphone does not hear it
