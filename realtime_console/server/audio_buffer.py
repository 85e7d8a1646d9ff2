"""The input audio buffer: ``input_audio_buffer.append`` / ``commit`` / ``clear``.

Server VAD (a later step) will read the same buffer; today commits are explicit.
"""

from __future__ import annotations

from realtime_console.protocol.pcm import PcmError, bytes_to_ms, decode_b64
from realtime_console.server.service_errors import ServiceError

MIN_COMMIT_MS = 100.0  # the service refuses to commit less than 100 ms of audio
DEFAULT_MAX_BUFFER_MS = 15 * 60 * 1000.0  # bounds memory per connection


class InputAudioBuffer:
    def __init__(self, max_ms: float = DEFAULT_MAX_BUFFER_MS) -> None:
        self._chunks: list[bytes] = []
        self._size = 0
        self._max_ms = max_ms

    @property
    def duration_ms(self) -> float:
        return bytes_to_ms(self._size)

    def append(self, audio_b64: str) -> None:
        try:
            pcm = decode_b64(audio_b64)
        except PcmError as exc:
            raise ServiceError("invalid_value", f"Invalid 'audio': {exc}.", param="audio") from None
        if bytes_to_ms(self._size + len(pcm)) > self._max_ms:
            raise ServiceError(
                "input_audio_buffer_full",
                f"The input audio buffer cannot hold more than {self._max_ms / 1000:.0f} s of "
                "audio; commit or clear it.",
                param="audio",
            )
        self._chunks.append(pcm)
        self._size += len(pcm)

    def commit(self) -> bytes:
        """The buffered audio, which the buffer then forgets; refuses less than 100 ms."""
        if self.duration_ms < MIN_COMMIT_MS:
            raise ServiceError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS:.0f}ms of audio, but buffer only has {self.duration_ms:.2f}ms "
                "of audio.",
            )
        audio = b"".join(self._chunks)
        self.clear()
        return audio

    def clear(self) -> None:
        self._chunks.clear()
        self._size = 0
