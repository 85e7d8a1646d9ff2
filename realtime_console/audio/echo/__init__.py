"""Acoustic echo cancellation and the echo guard, for ``talk`` on open speakers.

``open_echo_canceller()`` builds a canceller, 24 kHz int16 blocks of any size in and out: the
console's own (``fdkf.py``, numpy only) or WebRTC's AEC3 from the optional ``pywebrtc-audio``
package (``realtime-console[aec]``, which also brings noise suppression and AGC). Importing this
package imports neither numpy nor the library; asking for AEC3, NS or AGC without the library
raises ``EchoCancellerUnavailable``. ``reference.FarEndTap`` is the speaker's copy of what it
played, ``guard.EchoGuard`` the level-based fallback, ``stage.EchoStage`` what ``talk`` calls per
microphone block, ``setup.plan_echo`` what the settings ask for. ``path`` simulates an echo
path for the fake streams and the benchmarks. Choice, figures and threading:
docs/echo-cancellation.md.
"""

from __future__ import annotations

from realtime_console.audio.echo.canceller import (
    DEFAULT_PROCESSING_RATE,
    EchoCanceller,
    EchoSettings,
    open_echo_canceller,
)
from realtime_console.audio.echo.errors import EchoCancellerUnavailable

__all__ = [
    "DEFAULT_PROCESSING_RATE",
    "EchoCanceller",
    "EchoCancellerUnavailable",
    "EchoSettings",
    "open_echo_canceller",
]
