"""open_echo_canceller: the console's Kalman canceller by default, AEC3 on request, settings."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.echo.canceller import (
    EchoCanceller,
    EchoSettings,
    open_echo_canceller,
)
from realtime_console.audio.echo.fdkf import KalmanCanceller
from realtime_console.audio.echo.framing import FramedCanceller
from realtime_console.audio.echo.path import EchoPathSpec, render
from realtime_console.audio.echo.webrtc import WebRtcProcessor
from tests.audio.echo.rig import RATE, voice


def _echo_pair(seconds: float) -> tuple[np.ndarray, np.ndarray]:
    far = np.frombuffer(voice(seconds), dtype="<i2")
    echo = render((far / 32768).astype(np.float32), EchoPathSpec(delay_ms=80, gain_db=-6))
    return np.round(echo * 32768).astype(np.int16), far.copy()


def _reduction_db(
    canceller: EchoCanceller, mic: np.ndarray, far: np.ndarray, skip_s: float
) -> float:
    block = 480  # 20 ms, any size works
    out = np.concatenate(
        [
            canceller.process(mic[i : i + block], far[i : i + block])
            for i in range(0, len(mic), block)
        ]
    ).astype(np.float64)
    skip = round(skip_s * RATE)
    m = mic[skip:].astype(np.float64)
    return float(10 * np.log10(np.sum(m**2) / max(np.sum(out[skip:] ** 2), 1.0)))


def test_the_default_is_the_consoles_kalman_canceller_at_24_khz() -> None:
    canceller = open_echo_canceller()
    assert isinstance(canceller, FramedCanceller)
    assert isinstance(canceller._processor, KalmanCanceller)
    mic, far = _echo_pair(6.0)
    assert _reduction_db(canceller, mic, far, skip_s=3.0) > 25


def test_webrtc_engine_is_aec3() -> None:
    canceller = open_echo_canceller(EchoSettings(engine="webrtc"))
    assert isinstance(canceller, FramedCanceller)
    assert isinstance(canceller._processor, WebRtcProcessor)
    mic, far = _echo_pair(4.0)
    assert _reduction_db(canceller, mic, far, skip_s=2.0) > 25


def _kalman(settings: EchoSettings) -> KalmanCanceller:
    canceller = open_echo_canceller(settings)
    assert isinstance(canceller, FramedCanceller)
    processor = canceller._processor
    assert isinstance(processor, KalmanCanceller)
    return processor


def _through(processor: KalmanCanceller, pcm: np.ndarray) -> np.ndarray:
    silent = np.zeros(2400, dtype=np.int16)  # nothing played
    return np.concatenate(
        [processor.process_frames(pcm[i : i + 2400], silent) for i in range(0, len(pcm), 2400)]
    )


def test_noise_suppression_and_agc_run_after_the_kalman_canceller() -> None:
    noise = (np.random.default_rng(1).standard_normal(RATE * 3) * 300).astype(np.int16)
    last = slice(2 * RATE, None)
    # Steady noise, nothing played: the canceller alone passes it exactly, 10 ms later ...
    same = _through(_kalman(EchoSettings()), noise)
    np.testing.assert_array_equal(same[240:], noise[:-240])
    # ... WebRTC's noise suppression after it lowers it ...
    quiet = _through(_kalman(EchoSettings(noise_suppression=True)), noise)
    assert np.std(quiet[last].astype(float)) < 0.6 * np.std(noise[last].astype(float))
    # ... and AGC2 raises a quiet signal at first.
    louder = _through(_kalman(EchoSettings(auto_gain=True)), noise)
    assert np.std(louder[: RATE // 2].astype(float)) > 1.5 * np.std(
        noise[: RATE // 2].astype(float)
    )


def test_the_delay_hint_reaches_the_canceller() -> None:
    canceller = open_echo_canceller(EchoSettings(stream_delay_ms=120))
    assert canceller.stream_delay_ms == 120
    canceller.stream_delay_ms = 60
    assert isinstance(canceller, FramedCanceller)
    assert canceller._processor.stream_delay_ms == 60


def test_an_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown echo canceller"):
        open_echo_canceller(EchoSettings(engine="speex"))
