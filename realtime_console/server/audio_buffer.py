"""The input audio buffer: ``input_audio_buffer.append`` / ``commit`` / ``clear``.

Positions are on the session's input-audio clock: ``start_sample`` is the clock reading of the
first buffered sample, so server VAD can commit exactly the span it detected (``take_until``) and
drop silence it no longer needs (``discard_before``) instead of holding a whole session of it.
"""

from __future__ import annotations

from realtime_console.protocol.pcm import SAMPLE_WIDTH, PcmError, bytes_to_ms, decode_b64
from realtime_console.server.service_errors import ServiceError

MIN_COMMIT_MS = 100.0  # the service refuses to commit less than 100 ms of audio
DEFAULT_MAX_BUFFER_MS = 15 * 60 * 1000.0  # bounds memory per connection


class InputAudioBuffer:
    def __init__(self, max_ms: float = DEFAULT_MAX_BUFFER_MS) -> None:
        self._audio = bytearray()
        self._max_ms = max_ms
        self.start_sample = 0  # session-clock position of the first buffered sample

    @property
    def duration_ms(self) -> float:
        return bytes_to_ms(len(self._audio))

    @property
    def end_sample(self) -> int:
        return self.start_sample + len(self._audio) // SAMPLE_WIDTH

    def append(self, audio_b64: str) -> bytes:
        """Decode and buffer ``audio_b64``; returns the PCM (for VAD)."""
        try:
            pcm = decode_b64(audio_b64)
        except PcmError as exc:
            raise ServiceError("invalid_value", f"Invalid 'audio': {exc}.", param="audio") from None
        if bytes_to_ms(len(self._audio) + len(pcm)) > self._max_ms:
            raise ServiceError(
                "input_audio_buffer_full",
                f"The input audio buffer cannot hold more than {self._max_ms / 1000:.0f} s of "
                "audio; commit or clear it.",
                param="audio",
            )
        self._audio += pcm
        return pcm

    def commit(self) -> bytes:
        """The buffered audio, which the buffer then forgets; refuses less than 100 ms."""
        if self.duration_ms < MIN_COMMIT_MS:
            raise ServiceError(
                "input_audio_buffer_commit_empty",
                "Error committing input audio buffer: buffer too small. Expected at least "
                f"{MIN_COMMIT_MS:.0f}ms of audio, but buffer only has {self.duration_ms:.2f}ms "
                "of audio.",
            )
        audio = bytes(self._audio)
        self.clear()
        return audio

    def clear(self) -> None:
        self.start_sample = self.end_sample
        self._audio.clear()

    def take_until(self, sample: int) -> bytes:
        """Remove and return the audio before clock position ``sample`` (VAD's commit)."""
        cut = max(0, min(sample, self.end_sample) - self.start_sample) * SAMPLE_WIDTH
        audio = bytes(self._audio[:cut])
        del self._audio[:cut]
        self.start_sample += cut // SAMPLE_WIDTH
        return audio

    def discard_before(self, sample: int) -> None:
        """Forget audio before clock position ``sample`` (silence VAD will not commit)."""
        self.take_until(sample)
