"""The values that cross the completions package's seams: one request, one reply.

Pure data: the client turns an ``AudioRequest`` into SDK parameters and a service answer into an
``AudioReply``; the commands build requests and write, play and print replies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from realtime_console.audio.formats import AudioFormat

Modality = Literal["text", "audio"]


@dataclass(frozen=True)
class AudioRequest:
    """One chat-completions call. ``messages`` are JSON-ready dicts as the service takes them."""

    messages: tuple[dict[str, Any], ...]
    voice: str = "alloy"
    format: AudioFormat = "wav"  # the reply audio's format; must be pcm16 when ``stream``
    audio_out: bool = True  # modalities ["text", "audio"]; False: ["text"] (needs audio input)
    stream: bool = False

    @property
    def modalities(self) -> list[Modality]:
        return ["text", "audio"] if self.audio_out else ["text"]


@dataclass(frozen=True)
class AudioReply:
    """What one call answered. ``audio`` is the reply audio in ``format`` (for a streamed reply:
    the pcm16 pieces joined); empty when the reply has no audio."""

    request_id: str  # the console's id for the exchange (event log), not the service's
    completion_id: str  # the service's ``chatcmpl-…`` id
    text: str  # what the assistant said: the audio's transcript, or the text content
    audio: bytes = b""
    format: AudioFormat = "wav"
    audio_id: str | None = None  # refer to this reply in a later turn while it has not expired
    expires_at: int | None = None  # unix seconds
    usage: dict[str, Any] = field(default_factory=dict)
    elapsed_s: float = 0.0  # request sent → last byte
    first_audio_s: float | None = None  # request sent → first audio byte (streams, or whole reply)
    retries: int = 0  # how many 429 / 5xx answers were retried before this one

    @property
    def has_audio(self) -> bool:
        return bool(self.audio)
