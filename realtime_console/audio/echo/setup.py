"""What the settings ask of echo handling in ``talk``: a canceller, a guard, or nothing.

``audio.aec = "auto"`` turns cancellation on when the output device does not look like a headset
(headphones do not leak into the microphone, and cancelling an echo that is not there only risks
the user's voice) and the engine is there: ``audio.aec_engine = "kalman"`` (the console's own,
numpy only) always is, ``"webrtc"`` (AEC3) needs the optional extra. ``"on"`` insists (a missing
library is exit 2 with the pip command); ``"off"`` never. ``audio.echo_guard`` adds the guard.
``EchoPlan.status`` is the one line ``talk`` shows at the start, saying which and why.
"""

from __future__ import annotations

import importlib.util
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.audio.echo.canceller import EchoSettings, open_echo_canceller
from realtime_console.audio.echo.errors import EXTRA
from realtime_console.audio.echo.webrtc import MODULE

if TYPE_CHECKING:
    from realtime_console.audio.echo.reference import FarEndTap
    from realtime_console.audio.echo.stage import EchoStage
    from realtime_console.config import AudioSettings

# Words in a device name that mean the sound goes into the user's ears, not the room.
_HEADSET = re.compile(
    r"head(set|phone)|ear(phone|bud|pod)|airpods|\bbuds|hands[- ]?free|\bhfp\b|\bhsp\b",
    re.IGNORECASE,
)


def looks_like_headset(device_name: str | None) -> bool:
    return bool(device_name and _HEADSET.search(device_name))


def aec_installed(engine: str = "kalman") -> bool:
    """The engine can run: the console's own always; AEC3 with its optional library."""
    return engine != "webrtc" or importlib.util.find_spec(MODULE) is not None


@dataclass(frozen=True)
class EchoPlan:
    cancel: bool
    guard: bool
    status: str  # e.g. "echo cancellation on (output: Built-in Speakers)"
    extra_delay_ms: float | None = None  # None: "auto"

    def stage(self, tap: FarEndTap, settings: AudioSettings) -> EchoStage | None:
        """The stage for ``talk`` (None when neither is on); builds the canceller now, so a
        missing library fails before the session opens."""
        if not (self.cancel or self.guard):
            return None
        from realtime_console.audio.echo.guard import EchoGuard
        from realtime_console.audio.echo.stage import EchoStage

        canceller = None
        if self.cancel:
            canceller = open_echo_canceller(
                EchoSettings(
                    noise_suppression=settings.noise_suppression,
                    auto_gain=settings.auto_gain,
                    engine=settings.aec_engine,
                )
            )
        return EchoStage(
            tap,
            canceller=canceller,
            guard=EchoGuard() if self.guard else None,
            extra_delay_ms=self.extra_delay_ms,
        )


def plan_echo(
    settings: AudioSettings, output_name: str | None, *, installed: bool | None = None
) -> EchoPlan:
    """Decide from ``audio.aec``/``audio.echo_guard``, the output device's name (None: unknown,
    taken as speakers) and whether the library is installed (None: look)."""
    installed = aec_installed(settings.aec_engine) if installed is None else installed
    text = settings.aec_delay_ms.strip()
    delay = None if text == "auto" else float(text)
    where = f" (output: {output_name})" if output_name else ""
    if settings.aec == "on":
        cancel, status = True, f"echo cancellation on{where}"
    elif settings.aec == "off":
        cancel, status = False, "echo cancellation off (audio.aec = off)"
    elif looks_like_headset(output_name):
        cancel, status = False, f"echo cancellation off: {output_name} looks like a headset"
    elif not installed:
        cancel = False
        status = (
            "echo cancellation off: not installed (on speakers the assistant may interrupt "
            f"itself; pip install 'realtime-console[{EXTRA}]' or use headphones)"
        )
    else:
        cancel, status = True, f"echo cancellation on{where}"
    if settings.echo_guard:
        status += "; echo guard on"
    return EchoPlan(cancel=cancel, guard=settings.echo_guard, status=status, extra_delay_ms=delay)
