"""Server voice activity detection: pure, on the session's input-audio clock.

The clock is the number of samples appended to the input buffer since the session began (what
the service's ``audio_start_ms`` / ``audio_end_ms`` count), never wall time, so a client that
streams faster or slower than real time sees the same events.

Energy VAD, decided per 10 ms frame (240 samples): a frame is *voiced* when its RMS level is at or
above the level the ``threshold`` selects::

    level_dbfs = -70 + 60 * threshold        # 0 → -70 dBFS, 0.5 → -40 dBFS, 1 → -10 dBFS

so 0.5 detects ordinary speech (eSpeak NG at its default amplitude sits around -25 dBFS in its
voiced frames; a microphone at a normal level around -35..-20) and ignores silence and low noise
(a quiet room, -60..-50 dBFS). Raise it in a noisy room, lower it for a quiet microphone.

- Speech starts at the first voiced frame. ``audio_start_ms`` is that frame's start minus
  ``prefix_padding_ms``, but never before the audio not yet committed.
- Speech stops once ``silence_duration_ms`` of unvoiced frames in a row have been received.
  ``audio_end_ms`` is the end of the last voiced frame plus ``silence_duration_ms`` (the
  service's end includes the silence it waited for).
- Durations are counted in whole frames, so values are effective to the 10 ms (rounded up).

``idle_timeout_ms`` (server_vad): once a response has finished, if that much audio arrives
without speech starting, the core sends ``input_audio_buffer.timeout_triggered``, commits what
it holds and answers (see ``SessionCore``).

``semantic_vad`` behaves as server VAD with the default threshold and padding, its silence
duration chosen by ``eagerness`` (see ``EAGERNESS_SILENCE_MS``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from realtime_console.protocol.pcm import SAMPLE_WIDTH, samples_to_ms

FRAME_SAMPLES = 240  # 10 ms at 24 kHz
FRAME_MS = 10
_FLOOR_DBFS = -70.0
_SPAN_DB = 60.0

# How long semantic_vad waits, by eagerness ("auto" is the service's "medium").
EAGERNESS_SILENCE_MS: dict[str, int] = {"low": 800, "medium": 500, "auto": 500, "high": 250}


def threshold_dbfs(threshold: float) -> float:
    """The RMS level (dBFS) at which a 10 ms frame counts as speech."""
    return _FLOOR_DBFS + _SPAN_DB * threshold


@dataclass(frozen=True)
class VadSettings:
    threshold: float = 0.5
    prefix_padding_ms: int = 300
    silence_duration_ms: int = 200
    create_response: bool = True
    interrupt_response: bool = True
    idle_timeout_ms: int | None = None  # server_vad only: answer anyway after this much quiet

    @classmethod
    def from_turn_detection(cls, detection: object) -> VadSettings | None:
        """The settings a session's ``turn_detection`` asks for; None (manual commits only) for
        ``null``, or anything that is not an object (an absent one included)."""
        if not isinstance(detection, Mapping) or not detection:
            return None
        flags = {
            key: bool(detection.get(key, True)) for key in ("create_response", "interrupt_response")
        }
        if detection.get("type") == "semantic_vad":
            silence = EAGERNESS_SILENCE_MS.get(str(detection.get("eagerness") or "auto"), 500)
            return cls(silence_duration_ms=silence, **flags)
        defaults = cls()
        return cls(
            threshold=float(_number(detection.get("threshold"), defaults.threshold)),
            prefix_padding_ms=_duration_ms(
                detection.get("prefix_padding_ms"), defaults.prefix_padding_ms
            ),
            silence_duration_ms=_duration_ms(
                detection.get("silence_duration_ms"), defaults.silence_duration_ms
            ),
            idle_timeout_ms=_optional_int(detection.get("idle_timeout_ms")),
            **flags,
        )


MAX_DURATION_MS = 24 * 60 * 60 * 1000
"""Durations past a day are taken as a day: no session lasts that long, so nothing changes,
and the sample arithmetic stays in float range (the SDK allows any integer, ``10**309`` too)."""


def _optional_int(value: Any) -> int | None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0
    return min(int(value), MAX_DURATION_MS) if ok else None


def _number(value: Any, default: float) -> float:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value if ok else default


def _duration_ms(value: Any, default: int) -> int:
    return int(min(_number(value, default), MAX_DURATION_MS))


@dataclass(frozen=True)
class SpeechStarted:
    start_sample: int  # on the session clock, padding included


@dataclass(frozen=True)
class SpeechStopped:
    end_sample: int  # on the session clock, trailing silence included


VadEvent = SpeechStarted | SpeechStopped


def frame_levels_dbfs(pcm: bytes) -> list[float]:
    """RMS level of each whole 10 ms frame of ``pcm`` (silence reports -120)."""
    import numpy as np

    frames = len(pcm) // (FRAME_SAMPLES * SAMPLE_WIDTH)
    if frames == 0:
        return []
    x = np.frombuffer(pcm, dtype="<i2", count=frames * FRAME_SAMPLES).astype(np.float32)
    x = x.reshape(frames, FRAME_SAMPLES) / 32768.0
    rms = np.sqrt(np.mean(x * x, axis=1))
    levels = 20.0 * np.log10(np.maximum(rms, 1e-6))
    return [float(level) for level in levels]


class VoiceActivityDetector:
    """Feed it every appended PCM16 block; it returns speech start/stop events in order.

    ``position`` is the session clock in samples (everything fed so far). Only a partial frame
    (< 10 ms) is ever held, so memory is constant however long the session streams.
    """

    def __init__(self, settings: VadSettings, position: int = 0) -> None:
        self.settings = settings
        self.position = position  # VAD may be switched on mid-session: the clock carries on
        self._origin = position
        self._pending = b""  # the start of an incomplete frame
        self._frames_done = 0  # whole frames judged so far
        self._speaking = False
        self._silent_frames = 0
        self._floor = position  # speech may not start before this sample (committed audio)
        self._level = threshold_dbfs(settings.threshold)
        self._silence_frames_needed = max(1, math.ceil(settings.silence_duration_ms / FRAME_MS))
        self._padding_samples = round(settings.prefix_padding_ms * FRAME_SAMPLES / FRAME_MS)

    @property
    def speaking(self) -> bool:
        return self._speaking

    def reconfigure(self, settings: VadSettings) -> None:
        """New settings from ``session.update``; the clock and an ongoing utterance carry on."""
        self.settings = settings
        self._level = threshold_dbfs(settings.threshold)
        self._silence_frames_needed = max(1, math.ceil(settings.silence_duration_ms / FRAME_MS))
        self._padding_samples = round(settings.prefix_padding_ms * FRAME_SAMPLES / FRAME_MS)

    def reset(self, floor_sample: int | None = None) -> None:
        """Forget an ongoing utterance (the buffer was committed or cleared by the client)."""
        self._speaking = False
        self._silent_frames = 0
        self._floor = self.position if floor_sample is None else floor_sample

    def feed(self, pcm: bytes) -> list[VadEvent]:
        self.position += len(pcm) // SAMPLE_WIDTH
        data = self._pending + pcm
        whole = len(data) - len(data) % (FRAME_SAMPLES * SAMPLE_WIDTH)
        self._pending = data[whole:]
        events: list[VadEvent] = []
        for level in frame_levels_dbfs(data[:whole]):
            start = self._origin + self._frames_done * FRAME_SAMPLES
            self._frames_done += 1
            end = start + FRAME_SAMPLES  # frames are judged at their end
            if level >= self._level:
                if not self._speaking:
                    self._speaking = True
                    events.append(SpeechStarted(max(self._floor, start - self._padding_samples)))
                self._silent_frames = 0
            elif self._speaking:
                self._silent_frames += 1
                if self._silent_frames >= self._silence_frames_needed:
                    self._speaking = False
                    self._silent_frames = 0
                    events.append(SpeechStopped(end))
                    self._floor = end
        return events


def sample_ms(sample: int) -> int:
    """A session-clock sample position as the whole milliseconds the events carry."""
    return int(samples_to_ms(sample))


def is_speech(pcm: bytes, threshold: float = 0.5) -> bool:
    """Whether any 10 ms frame of ``pcm`` is voiced at ``threshold`` (for transcripts)."""
    level = threshold_dbfs(threshold)
    return any(frame >= level for frame in frame_levels_dbfs(pcm))
