"""WebRTC's audio processing module (AEC3) through the ``pywebrtc-audio`` wheel.

The wheel is an optional extra: it is imported here, when a canceller is built, and a missing
one becomes ``EchoCancellerUnavailable`` with the install command. It is reached through
``importlib`` so that the type checker and the rest of the package never need it installed.

``AudioProcessor.process`` releases the GIL while it runs, so a worker thread doing the
cancelling does not hold up the event loop. An instance is not thread-safe (its docs say so):
one caller at a time.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from realtime_console.audio.echo.errors import EchoCancellerUnavailable

if TYPE_CHECKING:
    from realtime_console.audio.echo.framing import Pcm

PACKAGE = "pywebrtc-audio"
MODULE = "pywebrtc_audio"


def load_module() -> Any:
    """The imported ``pywebrtc_audio``, or the one-line error saying how to get it."""
    try:
        return importlib.import_module(MODULE)
    except ImportError as exc:
        raise EchoCancellerUnavailable.missing(PACKAGE, exc) from None


class WebRtcProcessor:
    """AEC3 with the high-pass filter it always applies, plus optional noise suppression and
    automatic gain control, at ``rate`` (WebRTC resamples internally to 16/32/48 kHz)."""

    def __init__(
        self,
        rate: int,
        *,
        noise_suppression: bool = False,
        auto_gain: bool = False,
        stream_delay_ms: int = 0,
    ) -> None:
        module = load_module()
        self._rate = rate
        self._apm: Any = module.AudioProcessor(
            sample_rate=rate,
            num_channels=1,
            echo_cancellation=True,
            noise_suppression=noise_suppression,
            auto_gain_control=auto_gain,
            stream_delay_ms=stream_delay_ms,
        )

    @property
    def rate(self) -> int:
        return self._rate

    @property
    def stream_delay_ms(self) -> int:
        return int(self._apm.stream_delay_ms)

    @stream_delay_ms.setter
    def stream_delay_ms(self, value: int) -> None:
        self._apm.stream_delay_ms = int(value)

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        # The wheel splits whole frames itself in one GIL-free loop: one call per block.
        cleaned: Pcm = self._apm.process(near, far)
        return cleaned
