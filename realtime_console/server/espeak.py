"""Real speech from eSpeak NG (the ``espeak-ng`` program), resampled to 24 kHz with soxr.

eSpeak NG writes a 22 050 Hz PCM16 WAV to stdout; it is resampled to the protocol's 24 kHz.
Each voice name maps to its own eSpeak variant and pitch (``ESPEAK_VOICES``), so voices are
told apart. eSpeak does not report where each character is spoken, so character offsets are
spread over the audio in proportion to the synthetic voice's units (a letter one unit, a comma
two, a full stop three): good enough to interleave transcript deltas with the audio.

Synthesis runs in the calling thread (the core is synchronous); a sentence takes a few tens of
milliseconds and results are cached (replies repeat), keeping the event loop responsive.
``synthesizer_for`` picks the engine a ``ServerOptions.voice_engine`` asks for.
"""

from __future__ import annotations

import functools
import logging
import shutil
import subprocess
from itertools import accumulate

from realtime_console.errors import ConfigError
from realtime_console.protocol.pcm import SAMPLE_RATE, float32_to_pcm16, pcm16_to_float32
from realtime_console.server.voice import Speech, SpeechSynthesizer, SyntheticVoice, units_for

log = logging.getLogger(__name__)

ESPEAK = "espeak-ng"
BASE_WORDS_PER_MINUTE = 175  # eSpeak's default rate, scaled by the session's output speed
_TIMEOUT_S = 10.0

# Voice name → (eSpeak voice+variant, pitch 0..99): female/male variants and distinct pitches.
ESPEAK_VOICES: dict[str, tuple[str, int]] = {
    "alloy": ("en-us+f2", 50),
    "ash": ("en-us+m3", 35),
    "ballad": ("en-gb+m2", 45),
    "coral": ("en-us+f3", 60),
    "echo": ("en-us+m1", 40),
    "sage": ("en-gb+f2", 55),
    "shimmer": ("en-us+f4", 70),
    "verse": ("en-gb+m4", 50),
    "marin": ("en-us+f1", 55),
    "cedar": ("en-us+m7", 30),
}


def espeak_available() -> bool:
    return shutil.which(ESPEAK) is not None


def wav_pcm16(wav: bytes) -> tuple[bytes, int]:
    """The PCM16 samples and rate of eSpeak's streamed WAV (its size fields are placeholders,
    so the data chunk is taken to run to the end)."""
    if wav[:4] != b"RIFF" or wav[8:12] != b"WAVE":
        raise ValueError("espeak-ng did not write a WAV file")
    rate = int.from_bytes(wav[24:28], "little")
    data = wav.find(b"data", 12)
    if data < 0:
        raise ValueError("espeak-ng WAV has no data chunk")
    pcm = wav[data + 8 :]
    return pcm[: len(pcm) - len(pcm) % 2], rate


class EspeakVoice:
    """A ``SpeechSynthesizer`` backed by the ``espeak-ng`` program."""

    def __init__(self, executable: str = ESPEAK) -> None:
        self.executable = executable
        self._fallback = SyntheticVoice()

    def synthesize(self, text: str, *, voice: str, speed: float = 1.0) -> Speech:
        try:
            return _synthesize_cached(self.executable, text, voice, round(speed, 3))
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            # A reply must still be spoken: fall back rather than end the session.
            log.warning("espeak-ng failed (%s); using the synthetic voice", exc)
            return self._fallback.synthesize(text, voice=voice, speed=speed)


@functools.lru_cache(maxsize=128)
def _synthesize_cached(executable: str, text: str, voice: str, speed: float) -> Speech:
    import numpy as np
    import soxr

    variant, pitch = ESPEAK_VOICES.get(voice, ESPEAK_VOICES["marin"])
    words_per_minute = str(max(80, round(BASE_WORDS_PER_MINUTE * speed)))
    result = subprocess.run(
        [executable, "--stdout", "-v", variant, "-p", str(pitch), "-s", words_per_minute],
        input=text.encode("utf-8"),  # on stdin: text starting with "-" is not an option
        capture_output=True,
        timeout=_TIMEOUT_S,
        check=True,
    )
    pcm, rate = wav_pcm16(result.stdout)
    samples = pcm16_to_float32(pcm)
    if rate != SAMPLE_RATE:
        samples = soxr.resample(samples, rate, SAMPLE_RATE).astype(np.float32)
    audio = float32_to_pcm16(samples)
    return Speech(pcm=audio, char_offsets=_spread_offsets(text, len(audio) // 2))


def _spread_offsets(text: str, total: int) -> tuple[int, ...]:
    units = [units_for(char) for char in text]
    whole = sum(units) or 1
    starts = [0, *accumulate(units)][: len(text)]
    return tuple(start * total // whole for start in starts)


def synthesizer_for(engine: str) -> SpeechSynthesizer:
    """The synthesizer ``ServerOptions.voice_engine`` names ("synthetic", "espeak", "auto")."""
    if engine == "synthetic" or (engine == "auto" and not espeak_available()):
        return SyntheticVoice()
    if not espeak_available():
        raise ConfigError("voice engine 'espeak': espeak-ng is not installed (try 'auto')")
    return EspeakVoice()
