"""Speech for the server's replies: the synthesizer seam and a deterministic synthetic voice.

``SpeechSynthesizer`` is what the response planner needs: PCM16 at 24 kHz for a text, plus where
each character starts in it (so transcript deltas can travel with the audio that speaks them).
``SyntheticVoice`` is the always-available implementation; a real text-to-speech engine (eSpeak NG)
can implement the same protocol and be passed to ``SessionCore``.

The synthetic voice is a rule, not a recording, so tests can predict it exactly:
- every character takes whole *units* of ``unit_ms`` (60 ms at speed 1.0, divided by ``speed``):
  letters and digits 1 voiced unit (a short tone, a "syllable"), whitespace and other symbols 1
  silent unit, ``, ; :`` 2 silent units, ``. ! ?`` 3 silent units;
- a voiced unit is a tone with a raised-cosine envelope; its pitch is the voice's base pitch
  moved by up to ±3 semitones depending on the character; vowels are louder and rounder;
- each voice name has its own base pitch, so voices are told apart by ear and by spectrum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from realtime_console.protocol.pcm import SAMPLE_RATE, float32_to_pcm16, ms_to_samples

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

VOICES: tuple[str, ...] = (
    "alloy", "ash", "ballad", "coral", "echo", "sage", "shimmer", "verse", "marin", "cedar",
)  # fmt: skip

# Base pitch per voice, Hz: spread over a speaking range so each voice sounds different.
BASE_PITCH_HZ: dict[str, float] = {
    "alloy": 180.0,
    "ash": 110.0,
    "ballad": 130.0,
    "coral": 220.0,
    "echo": 120.0,
    "sage": 200.0,
    "shimmer": 240.0,
    "verse": 150.0,
    "marin": 210.0,
    "cedar": 100.0,
}

_PAUSE_UNITS = {",": 2, ";": 2, ":": 2, ".": 3, "!": 3, "?": 3}
_VOWELS = frozenset("aeiouy")
_FADE_MS = 8.0  # long enough to avoid clicks at unit edges, short enough to keep units distinct


@dataclass(frozen=True)
class Speech:
    """Synthesized audio for one text."""

    pcm: bytes  # PCM16 little-endian, 24 kHz mono
    char_offsets: tuple[int, ...]  # sample index at which each character of the text starts

    @property
    def sample_count(self) -> int:
        return len(self.pcm) // 2


class SpeechSynthesizer(Protocol):
    """Turns reply text into speech; the seam where a real TTS engine plugs in."""

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0) -> Speech: ...


def units_for(char: str) -> int:
    """How many time units ``char`` lasts."""
    return _PAUSE_UNITS.get(char, 1)


def is_voiced(char: str) -> bool:
    return char.isalnum()


class SyntheticVoice:
    """Deterministic tone-syllable speech; see the module docstring for the exact rule."""

    def __init__(self, unit_ms: float = 60.0) -> None:
        self.unit_ms = unit_ms

    def unit_samples(self, speed: float = 1.0) -> int:
        return ms_to_samples(self.unit_ms / speed)

    def sample_count(self, text: str, speed: float = 1.0) -> int:
        """Length of ``synthesize(text)`` in samples, without synthesizing."""
        return sum(units_for(c) for c in text) * self.unit_samples(speed)

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0) -> Speech:
        import numpy as np

        unit = self.unit_samples(speed)
        offsets: list[int] = []
        position = 0
        for char in text:
            offsets.append(position)
            position += units_for(char) * unit
        samples = np.zeros(position, dtype=np.float32)
        base = BASE_PITCH_HZ.get(voice, BASE_PITCH_HZ["alloy"])
        syllable = _syllable_shape(unit)
        for char, start in zip(text, offsets, strict=True):
            if is_voiced(char):
                samples[start : start + unit] = _syllable(char, base, unit) * syllable
        return Speech(pcm=float32_to_pcm16(samples), char_offsets=tuple(offsets))


def _syllable_shape(length: int) -> npt.NDArray[np.float32]:
    """Raised-cosine attack and release around a flat middle."""
    import numpy as np

    fade = min(ms_to_samples(_FADE_MS), length // 2)
    envelope = np.ones(length, dtype=np.float32)
    if fade:
        ramp = 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, fade, dtype=np.float32))
        envelope[:fade] = ramp
        envelope[length - fade :] = ramp[::-1]
    return envelope


def _syllable(char: str, base_hz: float, length: int) -> npt.NDArray[np.float32]:
    import numpy as np

    lower = char.lower()
    # ±3 semitones in quarter-tone steps, chosen by the character so each word has a contour.
    step = (ord(lower) * 7) % 13 - 6
    pitch = base_hz * 2.0 ** (step / 24.0)
    t = np.arange(length, dtype=np.float32) / SAMPLE_RATE
    phase = 2.0 * np.pi * pitch * t
    if lower in _VOWELS:
        wave = np.sin(phase) + 0.5 * np.sin(2 * phase) + 0.25 * np.sin(3 * phase)
        gain = 0.32
    else:
        wave = np.sin(phase) + 0.6 * np.sin(3 * phase) + 0.3 * np.sin(5 * phase)
        gain = 0.16
    shaped: npt.NDArray[np.float32] = (gain / 1.9 * wave).astype(np.float32)
    return shaped
