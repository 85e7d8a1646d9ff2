"""The AEC3 adapter (pywebrtc-audio): removes an echo, carries the delay hint, frames in/out."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.path import EchoPathSpec, render
from realtime_console.audio.echo.webrtc import WebRtcProcessor, load_module
from tests.audio.echo.rig import RATE, voice


def test_removes_the_echo_of_speech_after_convergence() -> None:
    far = np.frombuffer(voice(4.0), dtype="<i2").copy()
    echo = render((far / 32768).astype(np.float32), EchoPathSpec(delay_ms=80, gain_db=-6))
    mic = np.round(echo * 32768).astype(np.int16)
    p = WebRtcProcessor(RATE)
    out = np.concatenate(
        [p.process_frames(mic[i : i + 480], far[i : i + 480]) for i in range(0, len(mic), 480)]
    )
    assert out.dtype == np.int16 and len(out) == len(mic)
    tail = slice(2 * RATE, None)
    mic_energy = np.sum(mic[tail].astype(float) ** 2)
    assert 10 * np.log10(mic_energy / max(np.sum(out[tail].astype(float) ** 2), 1.0)) > 25


def test_the_delay_hint_is_read_and_written_through() -> None:
    p = WebRtcProcessor(RATE, stream_delay_ms=40)
    assert (p.rate, p.stream_delay_ms) == (RATE, 40)
    p.stream_delay_ms = 90
    assert p.stream_delay_ms == 90


def test_the_module_loads() -> None:
    assert hasattr(load_module(), "AudioProcessor")
