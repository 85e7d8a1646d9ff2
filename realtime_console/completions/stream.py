"""Gathers a streamed audio reply chunk by chunk, handing each audio piece on as it arrives.

A streamed reply's ``delta.audio`` pieces carry base64 pcm16 (``data``), the reply's ``id``, its
``transcript`` in pieces, and (last) ``expires_at``; the final chunk carries ``usage`` and no
choices (``stream_options.include_usage``).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from realtime_console.completions.types import AudioReply
from realtime_console.protocol import pcm

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionChunk

AudioSink = Callable[[bytes], None]


class BadAudio(ValueError):
    """The service sent audio that is not base64."""


def decode_audio(data: str) -> bytes:
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadAudio(f"the service sent audio that is not valid base64 ({exc})") from None


class StreamedReply:
    """One stream's state. ``add()`` every chunk in order; ``reply()`` once the stream ended."""

    def __init__(
        self, on_audio: AudioSink | None, clock: Callable[[], float], started: float
    ) -> None:
        self._on_audio = on_audio
        self._clock = clock
        self._started = started
        self.completion_id = ""
        self.audio_id: str | None = None
        self.expires_at: int | None = None
        self.usage: dict[str, Any] = {}
        self.first_audio_s: float | None = None
        self._pieces: list[bytes] = []
        self._odd = b""  # a byte left over from a piece cut mid-sample, for the next one
        self._transcript: list[str] = []
        self._text: list[str] = []
        self.chunks = 0

    def add(self, chunk: ChatCompletionChunk) -> None:
        self.chunks += 1
        self.completion_id = self.completion_id or chunk.id
        if chunk.usage is not None:
            self.usage = chunk.usage.model_dump(exclude_unset=True)
        for choice in chunk.choices:
            if choice.index != 0:  # n > 1 is never asked for
                continue
            if choice.delta.content:
                self._text.append(choice.delta.content)
            audio = choice.delta.audio
            if audio is None:
                continue
            self.audio_id = audio.id or self.audio_id
            self.expires_at = audio.expires_at or self.expires_at
            if audio.transcript:
                self._transcript.append(audio.transcript)
            if audio.data:
                self._audio(decode_audio(audio.data))

    def _audio(self, piece: bytes) -> None:
        # The sink plays whole samples; base64 pieces need not end on one.
        piece = self._odd + piece
        cut = len(piece) - len(piece) % pcm.SAMPLE_WIDTH
        piece, self._odd = piece[:cut], piece[cut:]
        if not piece:
            return
        if self.first_audio_s is None:
            self.first_audio_s = self._clock() - self._started
        self._pieces.append(piece)
        if self._on_audio is not None:
            self._on_audio(piece)  # now, not at the end: playback starts within one chunk

    @property
    def received_audio(self) -> bool:
        return bool(self._pieces)

    def reply(self, *, request_id: str, retries: int) -> AudioReply:
        return AudioReply(
            request_id=request_id,
            completion_id=self.completion_id,
            text="".join(self._transcript) or "".join(self._text),
            audio=b"".join(self._pieces),
            format="pcm16",
            audio_id=self.audio_id,
            expires_at=self.expires_at,
            usage=self.usage,
            elapsed_s=self._clock() - self._started,
            first_audio_s=self.first_audio_s,
            retries=retries,
        )
