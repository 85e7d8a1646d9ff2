"""``--wav OUT.wav``: what the listener heard, as stereo 24 kHz PCM16.

Left is the user's microphone audio (``input_audio_buffer.append``) at the time it was captured:
a chunk sent at ``t`` ends at ``t`` (it was complete when sent), or right after the previous chunk
when that is later. Right is the assistant's audio (``response.output_audio.delta``) in playback
order: a chunk starts at its arrival or when the previous chunk ends, whichever is later; an item
the listener cut off (a ``conversation.item.truncate`` the client sent, else a ``barge_in`` meta
note) stops at its ``audio_end_ms`` and its later audio is not heard. The replies of audio chat
completions (``dir: http``) go on the right the same way (``http_audio``: streamed pcm16 pieces;
a whole reply when it is wav or pcm16). A chunk with bad base64 or an odd PCM16 length is
skipped and counted (``WavStats.bad_audio``), never fatal.

The file is written as the log is read: only a window of about a minute is held in memory, so an
hour-long session renders to its ~345 MB file in constant memory.
"""

from __future__ import annotations

import os
import wave
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from realtime_console.errors import ConfigError
from realtime_console.eventlog import LogRecord, audio_byte_count, audio_payload, whole_number
from realtime_console.protocol import pcm
from realtime_console.replay.bad_audio import BadAudio
from realtime_console.replay.http_audio import HttpAudio, ReplyAudio

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

LEFT, RIGHT = 0, 1
CUT_NEEDLES = ('"conversation.item.truncate"', '"barge_in"')
_MAX_LAG_S = 60.0  # a mic chunk may start this long before the event that carries it
_FLUSH_EVERY_S = 10.0
# A WAV file's sizes are 32-bit: it holds at most this many stereo PCM16 frames (about 12.4 h).
# A time past that (a corrupt t such as 1e308) is ignored like a missing one, and audio that
# would land past it is dropped and counted: otherwise the sample arithmetic overflows, or the
# file outgrows its header and ``wave`` fails at close.
MAX_FRAMES = (0xFFFFFFFF - 36) // (2 * pcm.SAMPLE_WIDTH)
_MAX_MS = MAX_FRAMES * 1000 // pcm.SAMPLE_RATE


def collect_cuts(records: Iterable[LogRecord]) -> dict[str, int]:
    """item_id → audio_end_ms heard. The client's truncate wins over the console's meta note."""
    truncated: dict[str, int] = {}
    noted: dict[str, int] = {}
    for record in records:
        event = record.event
        item_id, end = event.get("item_id"), whole_number(event.get("audio_end_ms"))
        if not isinstance(item_id, str) or end is None:
            continue
        kind = (record.dir, event.get("type"))
        if kind == ("client", "conversation.item.truncate"):
            truncated[item_id] = end
        elif kind == ("meta", "barge_in"):
            noted[item_id] = end
    return {**noted, **truncated}


@dataclass
class WavStats:
    frames: int = 0
    assistant_samples: int = 0
    user_samples: int = 0
    cut_samples: int = 0  # assistant audio received but not heard (after a cut)
    missing_audio_bytes: int = 0  # payloads dropped by --log-audio none (rendered as silence)
    late_samples: int = 0  # mic audio that arrived too late to place (longer than the window)
    past_end_samples: int = 0  # audio that would land past what a WAV can hold (MAX_FRAMES)
    bad_audio: BadAudio = field(default_factory=BadAudio)  # bad base64 / odd PCM16: skipped
    skipped_replies: dict[str, int] = field(default_factory=dict)  # format → HTTP replies

    def skipped_replies_notice(self, path: str | os.PathLike[str]) -> str | None:
        if not self.skipped_replies:
            return None
        counts = ", ".join(f"{n} {fmt}" for fmt, n in sorted(self.skipped_replies.items()))
        return (
            f"--wav {path}: left out the audio of whole replies in formats it cannot decode "
            f"({counts}); only wav and pcm16 replies are rendered"
        )


class StereoWavRenderer:
    def __init__(
        self,
        path: str | os.PathLike[str],
        cuts: Mapping[str, int],
        *,
        origin_t: float = 0.0,
        max_lag_s: float = _MAX_LAG_S,
        flush_every_s: float = _FLUSH_EVERY_S,
    ) -> None:
        import numpy as np

        self._np = np
        self.path = Path(path)
        try:
            self._wav = wave.open(str(self.path), "wb")
        except OSError as exc:
            raise ConfigError(f"--wav {path}: {exc.strerror or exc}") from None
        self._wav.setnchannels(2)
        self._wav.setsampwidth(pcm.SAMPLE_WIDTH)
        self._wav.setframerate(pcm.SAMPLE_RATE)
        self._cuts = dict(cuts)
        self._origin = origin_t
        self._lag = pcm.ms_to_samples(max_lag_s * 1000)
        self._flush_step = pcm.ms_to_samples(flush_every_s * 1000)
        self._buffer: npt.NDArray[np.int16] = np.zeros((2 * self._lag + self._flush_step, 2), "<i2")
        self._base = 0  # sample index of _buffer[0]
        self._end = 0  # one past the last sample written, any channel
        self._channel_end = [0, 0]
        self._item_start: dict[str, int] = {}
        self._item_written: dict[str, int] = {}
        self._now = 0
        self.stats = WavStats()
        self._http = HttpAudio()
        self._closed = False

    def _sample(self, t: float | None) -> int:
        if t is not None:
            ms = (t - self._origin) * 1000  # inf when t is far from the origin (1e308)
            if ms <= _MAX_MS:
                self._now = max(self._now, pcm.ms_to_samples(max(ms, -_MAX_MS)))
        return self._now

    def feed(self, record: LogRecord) -> None:
        now = self._sample(record.t)
        if now - self._lag - self._base >= self._flush_step:
            # Before placing this record's audio: after a long pause (an hour without events)
            # the window must slide first, or the buffer would grow to the whole pause.
            self._flush_to(now - self._lag)
        event_type = record.event.get("type")
        try:
            if record.dir == "client" and event_type == "input_audio_buffer.append":
                self._user_chunk(record, now)
            elif record.dir == "server" and event_type == "response.output_audio.delta":
                self._assistant_chunk(record, now)
            elif record.dir == "http":
                self._http_piece(self._http.feed(record), now)
        except pcm.PcmError:
            # One bad payload (a corrupt line, a hand-edited log) costs that chunk, not the file.
            self.stats.bad_audio.add(record.line)

    def _samples(self, record: LogRecord) -> npt.NDArray[np.int16]:
        data = audio_payload(record.event)
        if data is None:
            n = audio_byte_count(record.event)
            self.stats.missing_audio_bytes += n
            return self._np.zeros(n // pcm.SAMPLE_WIDTH, "<i2")
        return self._np.frombuffer(data, "<i2")

    def _http_piece(self, piece: ReplyAudio | None, now: int) -> None:
        """A reply of audio chat completions: played like a delta, never cut (no barge-in)."""
        self.stats.skipped_replies = self._http.skipped
        if piece is None:
            return
        if piece.pcm is None:
            self.stats.missing_audio_bytes += piece.missing_bytes
            samples = self._np.zeros(piece.missing_bytes // pcm.SAMPLE_WIDTH, "<i2")
        else:
            samples = self._np.frombuffer(piece.pcm, "<i2")
        if len(samples):
            self.stats.assistant_samples += len(samples)
            self._place(RIGHT, max(now, self._channel_end[RIGHT]), samples)

    def _user_chunk(self, record: LogRecord, now: int) -> None:
        samples = self._samples(record)
        start = max(now - len(samples), self._channel_end[LEFT])
        self.stats.user_samples += len(samples)
        self._place(LEFT, start, samples)

    def _assistant_chunk(self, record: LogRecord, now: int) -> None:
        samples = self._samples(record)
        item_id = str(record.event.get("item_id", ""))
        start = max(now, self._channel_end[RIGHT])
        cut = self._cuts.get(item_id)
        if cut is not None:
            written = self._item_written.get(item_id, 0)
            heard = pcm.ms_to_samples(max(0, min(cut, _MAX_MS)))  # past the file: nothing cut
            allowed = max(0, heard - written)
            if allowed < len(samples):
                self.stats.cut_samples += len(samples) - allowed
                samples = samples[:allowed]
            self._item_written[item_id] = written + len(samples)
        if len(samples):
            self.stats.assistant_samples += len(samples)
            self._place(RIGHT, start, samples)

    def _place(self, channel: int, start: int, samples: npt.NDArray[np.int16]) -> None:
        room = max(0, MAX_FRAMES - start)
        if room < len(samples):
            self.stats.past_end_samples += len(samples) - room
            samples = samples[:room]
        if start < self._base:  # older than the window (a chunk longer than max_lag)
            skip = min(len(samples), self._base - start)
            self.stats.late_samples += skip
            samples, start = samples[skip:], self._base
        end = start + len(samples)
        needed = end - self._base
        if needed > len(self._buffer):
            grown = self._np.zeros((max(needed, 2 * len(self._buffer)), 2), "<i2")
            grown[: len(self._buffer)] = self._buffer
            self._buffer = grown
        self._buffer[start - self._base : needed, channel] = samples
        self._channel_end[channel] = max(self._channel_end[channel], end)
        self._end = max(self._end, end)

    def _flush_to(self, sample: int) -> None:
        """Write frames before ``sample`` and slide the window forward."""
        n = sample - self._base
        if n <= 0:
            return
        buffer = self._buffer
        while n > 0:
            step = min(n, len(buffer))
            self._wav.writeframesraw(buffer[:step].tobytes())
            self.stats.frames += step
            keep = len(buffer) - step
            buffer[:keep] = buffer[step:]
            buffer[keep:] = 0
            self._base += step
            n -= step

    def close(self) -> WavStats:
        """Write the rest (up to the last event or the last sample, whichever is later)."""
        if not self._closed:
            self._closed = True
            self._flush_to(max(self._end, self._now))
            self._wav.close()
        return self.stats
