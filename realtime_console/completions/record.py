"""What one chat-completions exchange writes to the event log (docs/event-log.md, dir ``http``).

Bodies are written as sent and received; the writer redacts secrets and, with
``--log-audio none``, swaps every base64 audio ``data`` for its ``audio_bytes``. Request headers
(where the key or token travels) are never written: only the body is.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from realtime_console.completions.errors import Failure
from realtime_console.completions.stream import decode_audio
from realtime_console.completions.types import AudioReply, AudioRequest

if TYPE_CHECKING:
    from realtime_console.eventlog import EventLogWriter


class ExchangeLog:
    """The lines of one exchange (``request_id``), or nothing at all without an event log."""

    def __init__(self, writer: EventLogWriter | None, request_id: str, api: str, model: str):
        self._writer = writer
        self.request_id = request_id
        self._api = api
        self._model = model

    def request(self, attempt: int, params: Mapping[str, Any], stream: bool) -> None:
        if self._writer is not None:
            self._writer.write(
                "http",
                {
                    "type": "chat.completions.request",
                    "request_id": self.request_id,
                    "attempt": attempt,
                    "api": self._api,
                    "model": self._model,
                    "stream": stream,
                    "body": dict(params),
                },
            )

    def response(self, body: Mapping[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write(
                "http",
                {
                    "type": "chat.completions.response",
                    "request_id": self.request_id,
                    "status": 200,  # the SDK returns only on a 2xx; anything else raised
                    "body": dict(body),
                },
            )

    def chunk(self, chunk: Mapping[str, Any]) -> None:
        if self._writer is not None:
            self._writer.write(
                "http",
                {"type": "chat.completions.chunk", "request_id": self.request_id, "chunk": chunk},
            )

    def error(self, attempt: int, failure: Failure, retry_in_s: float | None) -> None:
        if self._writer is not None:
            self._writer.write(
                "http",
                {
                    "type": "chat.completions.error",
                    "request_id": self.request_id,
                    "attempt": attempt,
                    "status": failure.status,
                    "code": failure.code,
                    "message": failure.message,
                    "retry_in_s": retry_in_s,
                },
            )

    async def completion(
        self,
        request: AudioRequest,
        reply: AudioReply | None,
        *,
        retries: int,
        elapsed_s: float,
    ) -> None:
        """The ``completion`` meta note closing the exchange (``reply`` None: it failed)."""
        if self._writer is None:
            return
        # Durations may need an FFmpeg decode (mp3 and friends): off the event loop, so a
        # reply that is playing does not stutter.
        input_s = await asyncio.to_thread(input_audio_s, request.messages)
        audio_s = None
        if reply is not None and reply.audio:
            audio_s = await asyncio.to_thread(_duration_s, reply.audio, reply.format)
        self._writer.note(
            "completion",
            request_id=self.request_id,
            model=self._model,
            stream=request.stream,
            status="completed" if reply is not None else "failed",
            first_audio_s=_rounded(reply.first_audio_s if reply else None),
            elapsed_s=_rounded(reply.elapsed_s if reply else elapsed_s),
            audio_s=_rounded(audio_s),
            input_audio_s=_rounded(input_s),
            format=request.format if request.audio_out else None,
            usage=reply.usage if reply else None,
            retries=retries,
            transcript=reply.text if reply else None,
        )


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _duration_s(data: bytes, fmt: Any) -> float | None:
    from realtime_console.audio import codec

    try:
        return codec.duration_s(data, fmt)
    except (codec.CodecError, ValueError):
        return None  # a log line is no place to fail an exchange that worked


def input_audio_s(messages: tuple[dict[str, Any], ...]) -> float | None:
    """Seconds of input audio in the last user message; None when it has none (or it cannot be
    read). Earlier turns' audio is re-sent in every request, but was counted when it was new."""
    last = next((m for m in reversed(messages) if m.get("role") == "user"), None)
    content = last.get("content") if last is not None else None
    if not isinstance(content, list):
        return None
    total, found = 0.0, False
    for part in content:
        audio = part.get("input_audio") if isinstance(part, dict) else None
        if not isinstance(audio, dict) or not isinstance(audio.get("data"), str):
            continue
        try:
            seconds = _duration_s(decode_audio(audio["data"]), audio.get("format", "wav"))
        except ValueError:
            seconds = None
        if seconds is None:
            return None
        total, found = total + seconds, True
    return total if found else None
