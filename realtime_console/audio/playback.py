"""Playback of assistant audio for ``chat``: an audio sink over ``Speaker``.

Playback is a convenience in ``chat`` (the transcript is the primary output), so a machine
without PortAudio or an output device gets one notice and carries on. A device the user named
explicitly but that cannot be opened is an error, because silently ignoring it would hide a typo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from realtime_console.audio import devices
from realtime_console.audio.speaker import Speaker
from realtime_console.errors import AudioDeviceError

if TYPE_CHECKING:
    from realtime_console.config import AudioSettings


def no_output(reason: str) -> str:
    """The notice when ``chat`` has no speaker, with ``reason`` from ``output_device_problem``."""
    return (
        f"no audio output device: replies are not played ({reason}; "
        "or keep them with --save-audio DIR)"
    )


class Playback:
    def __init__(self, speaker: Speaker, on_drop: Callable[[str], None] | None = None) -> None:
        """``on_drop`` (if given) replaces the speaker's: one line per reply that lost audio
        to a full buffer, e.g. ``playback buffer full: dropped 2.4 s of reply resp_…``."""
        self.speaker = speaker
        if on_drop is not None:
            speaker.on_drop = on_drop

    def audio(self, response_id: str, item_id: str, pcm16: bytes) -> None:
        self.speaker.enqueue(pcm16, response_id, item_id)

    def response_done(self, response_id: str) -> None:
        # Lets a reply shorter than the prebuffer start, and its end not count as an underrun.
        self.speaker.end_response(response_id)

    def drop_response(self, response_id: str) -> None:
        """Stop playing a reply that will not be finished (faded), and refuse its late audio."""
        self.speaker.drop_response(response_id)

    async def drain(self) -> None:
        await self.speaker.drain()

    def close(self) -> None:
        self.speaker.close()


def open_playback(settings: AudioSettings, notice: Callable[[str], None]) -> Playback | None:
    """A started ``Playback`` on the configured device, or None (with a notice) when none exists."""
    explicit = settings.output_device is not None
    problem = None if explicit else devices.output_device_problem()
    if problem is not None:
        notice(no_output(problem))
        return None
    speaker = Speaker(
        device=devices.resolve_device(settings.output_device, "output"),
        block_ms=settings.block_ms,
        prebuffer_ms=settings.prebuffer_ms,
        max_buffer_ms=settings.max_buffer_ms,
        max_prebuffer_ms=settings.max_prebuffer_ms,
        latency=settings.output_latency,  # as in talk: what an interrupt cuts is heard sooner
        on_drop=notice,  # audio the buffer could not hold is said, never silently lost
    )
    try:
        speaker.start()
    except AudioDeviceError as exc:
        if explicit:
            raise
        notice(f"audio output unavailable, replies are not played: {exc}")
        return None
    return Playback(speaker)
