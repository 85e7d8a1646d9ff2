"""What the rest of the console sees of echo cancellation: a protocol, its settings, a factory.

The microphone block and the far-end block (what was handed to the speaker over the same span)
go in together, 24 kHz int16 mono, any length; the cleaned microphone block of the same length
comes out. Which library does the work, at which rate, in which frame size, stays inside.

Threading: build and call a canceller off the PortAudio callback thread (it allocates and a
block costs a fraction of a millisecond, more than a callback may spend), from one thread at a
time: a worker thread fed by the microphone pump, or the event loop's thread. It holds no lock
and is not thread-safe. The WebRTC call releases the GIL, so a worker thread does not stall the
loop while it runs.

Which canceller: the console's own (``fdkf.py``: a linear frequency-domain Kalman filter that
subtracts the echo, then a gentle residual suppressor), by default; WebRTC's AEC3
(``webrtc.py``) with ``engine="webrtc"``. Both remove the echo by 40 dB or more after about a
second, but while the user talks over the reply AEC3's suppressor takes much of their voice
with it (correlation with the clean voice 0.74-0.76, below the raw microphone's 0.86) where the
Kalman filter keeps it (0.96-0.97): benchmarks/aec_erle.py, docs/echo-cancellation.md.

``stream_delay_ms`` is how much later the echo of a far-end block reaches ``process`` than the
block itself, beyond what the canceller finds by itself (up to 500 ms). ``talk`` aligns the
reference with the device clocks itself (``stage.py``), so the hint stays 0.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    from realtime_console.audio.echo.framing import FrameProcessor, Pcm

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
    # 0: leave the delay to the canceller's own estimator (see the module docstring).
    stream_delay_ms: int = 0
    # "kalman": the console's own canceller (fdkf.py); "webrtc": WebRTC's AEC3 (webrtc.py).
    engine: str = "kalman"


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
    """A canceller at 24 kHz in and out (``processing_rate`` applies to AEC3 only; the Kalman
    canceller runs at 24 kHz).

    The Kalman canceller needs only numpy. AEC3, noise suppression and AGC2 come from the
    optional ``pywebrtc-audio`` package (the ``aec`` extra): asking for any of them without it
    raises ``EchoCancellerUnavailable`` (exit 2, one line with the pip command). Nothing is
    imported before this call.
    """
    from realtime_console.audio.echo.framing import FramedCanceller
    from realtime_console.audio.echo.webrtc import load_module

    settings = settings or EchoSettings()
    builders = {"kalman": _kalman, "webrtc": _webrtc}
    if settings.engine not in builders:
        raise ValueError(f"unknown echo canceller {settings.engine!r}: one of {sorted(builders)}")
    if settings.engine == "webrtc" or settings.noise_suppression or settings.auto_gain:
        load_module()  # the extra, or the one-line error with the pip command
    processor = builders[settings.engine](settings, processing_rate)
    return FramedCanceller(processor, rate=SAMPLE_RATE)


def _kalman(settings: EchoSettings, processing_rate: int) -> FrameProcessor:
    from realtime_console.audio.echo.fdkf import KalmanCanceller

    return KalmanCanceller(
        noise_suppression=settings.noise_suppression,
        auto_gain=settings.auto_gain,
        stream_delay_ms=settings.stream_delay_ms,
    )


def _webrtc(settings: EchoSettings, processing_rate: int) -> FrameProcessor:
    from realtime_console.audio.echo.webrtc import WebRtcProcessor

    return WebRtcProcessor(
        processing_rate,
        noise_suppression=settings.noise_suppression,
        auto_gain=settings.auto_gain,
        stream_delay_ms=settings.stream_delay_ms,
    )
