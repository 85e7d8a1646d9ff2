"""The assistant audio of HTTP exchanges as PCM16 pieces (24 kHz mono), in arrival order.

A stream's chunks carry pcm16 pieces (base64, decoded here). A whole reply carries one file in
the format the request asked for: ``pcm16`` is used as is and ``wav`` when it holds 24 kHz mono
16-bit PCM; anything else (mp3, opus, …) would need a decoder, so it is skipped and counted.
Bad base64 or an odd PCM16 length raises ``pcm.PcmError``, for the caller to count.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass, field
from typing import Any

from realtime_console.eventlog import LogRecord
from realtime_console.protocol import pcm
from realtime_console.replay import http_shapes as shapes

# A WAV reply's header, when the log kept only the file's size (--log-audio none): what the
# service writes before the samples (RIFF + fmt + data chunk headers).
_WAV_HEADER_BYTES = 44


@dataclass(frozen=True)
class ReplyAudio:
    request_id: str
    pcm: bytes | None  # PCM16 24 kHz mono; None when the log kept only the size
    missing_bytes: int = 0  # PCM16 bytes the piece held, when ``pcm`` is None


def wav_pcm(data: bytes) -> bytes:
    """The samples of a 24 kHz mono 16-bit WAV file; ``PcmError`` when it is not one."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            shape = (wav.getnchannels(), wav.getsampwidth(), wav.getframerate())
            frames: bytes = wav.readframes(wav.getnframes())
    except (wave.Error, EOFError, ValueError) as exc:
        raise pcm.PcmError(f"not a WAV file: {exc}") from None
    if shape != (pcm.CHANNELS, pcm.SAMPLE_WIDTH, pcm.SAMPLE_RATE):
        raise pcm.PcmError(f"WAV is {shape[0]} ch, {8 * shape[1]} bit, {shape[2]} Hz")
    return frames[: len(frames) - len(frames) % pcm.SAMPLE_WIDTH]


@dataclass
class HttpAudio:
    formats: dict[str, str] = field(default_factory=dict)  # request id → reply format asked
    skipped: dict[str, int] = field(default_factory=dict)  # format → whole replies not rendered

    def feed(self, record: LogRecord) -> ReplyAudio | None:
        """The piece of assistant audio this record carries, if any."""
        if record.dir != "http":
            return None
        event = record.event
        kind = event.get("type")
        if kind == shapes.REQUEST:
            fmt = shapes.request_format(event)
            if fmt is not None:
                self.formats.setdefault(shapes.request_id(event), fmt)
            return None
        if kind == shapes.CHUNK:
            return self._piece(event, shapes.chunk_delta(event), "pcm16")
        if kind == shapes.RESPONSE:
            fmt = self.formats.get(shapes.request_id(event), "unknown")
            return self._piece(event, shapes.reply_message(event), fmt)
        return None

    def _piece(self, event: dict[str, Any], holder: Any, fmt: str) -> ReplyAudio | None:
        audio = shapes.mapping(shapes.mapping(holder).get("audio"))
        data = audio.get("data")
        size = shapes.encoded_bytes(audio)
        if not isinstance(data, str) and not size:
            return None  # a piece without audio (a transcript-only chunk)
        request_id = shapes.request_id(event)
        if fmt not in ("pcm16", "wav"):
            self.skipped[fmt] = self.skipped.get(fmt, 0) + 1
            return None
        if not isinstance(data, str):  # --log-audio none: the size, rendered as silence
            missing = size if fmt == "pcm16" else max(0, size - _WAV_HEADER_BYTES)
            return ReplyAudio(request_id, None, missing - missing % pcm.SAMPLE_WIDTH)
        if fmt == "pcm16":
            return ReplyAudio(request_id, pcm.decode_b64(data))
        decoded = shapes.decode_file(data)
        if decoded is None:
            raise pcm.PcmError("invalid base64 audio")
        return ReplyAudio(request_id, wav_pcm(decoded))
