"""What the rest of the console sees of echo cancellation: a protocol, its settings, a factory.

The microphone block and the far-end block (what was handed to the speaker over the same span)
go in together, 24 kHz int16 mono, any length; the cleaned microphone block of the same length
comes out. Which library does the work, at which rate, in which frame size, stays inside.

Threading: build and call a canceller off the PortAudio callback thread (it allocates and a
block costs a fraction of a millisecond, more than a callback may spend), from one thread at a
time: a worker thread fed by the microphone pump, or the event loop's thread. It holds no lock
and is not thread-safe. The WebRTC call releases the GIL, so a worker thread does not stall the
loop while it runs.

``stream_delay_ms`` is how much later the echo of a far-end block reaches ``process`` than the
block itself. ``talk`` aligns the reference with the device clocks itself (``stage.py``), so the
hint stays 0 and AEC3's own delay estimator finds the rest: benchmarks/aec_erle.py measured
41-42 dB ERLE at an 80 ms echo delay with and without an exact hint.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    from realtime_console.audio.echo.framing import Pcm

# AEC3 at the API's own 24 kHz (WebRTC resamples internally) measured 42 dB ERLE against 46 dB
# at 16 kHz through soxr, but the soxr round trip in 20 ms blocks adds ~40 ms to every turn,
# loses 8-12 kHz and lowered the near end's correlation in double talk: no resampling by default
# (benchmarks/aec_erle.py, docs/echo-cancellation.md).
DEFAULT_PROCESSING_RATE = SAMPLE_RATE


@dataclass(frozen=True)
class EchoSettings:
    """How the canceller treats the microphone signal besides removing the echo."""

    # Off by default: the Realtime API has its own input noise reduction and server VAD, and a
    # second suppressor in front of them only adds artefacts they were not tuned for.
    noise_suppression: bool = False
    # Off by default: AGC2 raises quiet rooms' noise too and fights the user's own mic level.
    auto_gain: bool = False
    # 0: leave the delay to AEC3's own estimator (see the module docstring).
    stream_delay_ms: int = 0


class EchoCanceller(Protocol):
    """Removes the far end's echo from the microphone signal, block by block (24 kHz int16)."""

    stream_delay_ms: int

    def process(self, near: Pcm, far: Pcm | None = None) -> Pcm:
        """``near``: the microphone block; ``far``: what was played over the same span, same
        length (``None``: silence). Returns ``len(near)`` cleaned samples."""
        ...


def open_echo_canceller(
    settings: EchoSettings | None = None, *, processing_rate: int = DEFAULT_PROCESSING_RATE
) -> EchoCanceller:
    """A WebRTC AEC3 canceller at 24 kHz in and out.

    Raises ``EchoCancellerUnavailable`` (exit 2, one line with the pip command) when the
    optional ``pywebrtc-audio`` package is not installed; nothing is imported before this call.
    """
    from realtime_console.audio.echo.framing import FramedCanceller
    from realtime_console.audio.echo.webrtc import WebRtcProcessor

    settings = settings or EchoSettings()
    processor = WebRtcProcessor(
        processing_rate,
        noise_suppression=settings.noise_suppression,
        auto_gain=settings.auto_gain,
        stream_delay_ms=settings.stream_delay_ms,
    )
    return FramedCanceller(processor, rate=SAMPLE_RATE)
