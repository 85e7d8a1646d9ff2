"""eSpeak NG voice: WAV parsing, offsets, real speech when espeak-ng exists, and the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.errors import ConfigError
from realtime_console.protocol.pcm import pcm16_to_float32
from realtime_console.server import ServerOptions, espeak
from realtime_console.server.espeak import (
    ESPEAK_VOICES,
    EspeakVoice,
    espeak_available,
    synthesizer_for,
    wav_pcm16,
)
from realtime_console.server.vad import frame_levels_dbfs, threshold_dbfs
from realtime_console.server.voice import VOICES, SyntheticVoice

needs_espeak = pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
GREETING = "Hello, this is the local realtime server."


def streamed_wav(pcm: bytes, rate: int = 22050) -> bytes:
    """A WAV as eSpeak streams it: placeholder sizes (0x7ffff000) in the headers."""
    placeholder = (0x7FFFF000).to_bytes(4, "little")
    fmt = (
        b"fmt \x10\x00\x00\x00\x01\x00\x01\x00"
        + rate.to_bytes(4, "little")
        + (2 * rate).to_bytes(4, "little")
        + b"\x02\x00\x10\x00"
    )
    return b"RIFF" + placeholder + b"WAVE" + fmt + b"data" + placeholder + pcm


def test_streamed_wav_is_read_to_the_end() -> None:
    assert wav_pcm16(streamed_wav(b"\x01\x00\x02\x00\x03")) == (b"\x01\x00\x02\x00", 22050)
    with pytest.raises(ValueError):
        wav_pcm16(b"not a wav file at all, not even close")


def test_offsets_spread_by_units_and_start_at_zero() -> None:
    offsets = espeak._spread_offsets("ab. c", 1000)
    assert offsets[0] == 0
    assert list(offsets) == sorted(offsets)
    # units: a1 b1 .3 space1 c1 = 7; the full stop takes three units
    assert offsets == (0, 142, 285, 714, 857)


def test_every_voice_has_its_own_espeak_voice() -> None:
    assert set(ESPEAK_VOICES) == set(VOICES)
    assert len(set(ESPEAK_VOICES.values())) == len(VOICES)


def test_synthetic_engine_and_missing_espeak(monkeypatch: pytest.MonkeyPatch) -> None:
    assert isinstance(synthesizer_for("synthetic"), SyntheticVoice)
    monkeypatch.setattr(espeak, "ESPEAK", "no-such-espeak-ng-here")
    assert isinstance(synthesizer_for("auto"), SyntheticVoice)
    with pytest.raises(ConfigError, match="espeak-ng is not installed"):
        synthesizer_for("espeak")


def test_a_failing_espeak_falls_back_to_the_synthetic_voice() -> None:
    speech = EspeakVoice(executable="/nonexistent/espeak-ng").synthesize("hi", voice="ash")
    assert speech == SyntheticVoice().synthesize("hi", voice="ash")


@needs_espeak
def test_espeak_speech_is_speech_like() -> None:
    assert isinstance(synthesizer_for("auto"), EspeakVoice)
    speech = EspeakVoice().synthesize(GREETING, voice="marin")
    seconds = speech.sample_count / 24_000
    assert 1.5 < seconds < 5.0  # ~40 characters at ~175 words per minute
    levels = np.array(frame_levels_dbfs(speech.pcm))
    voiced = float(np.mean(levels >= threshold_dbfs(0.5)))
    assert 0.4 < voiced < 0.95  # mostly voiced, with pauses between words
    assert -35.0 < float(np.median(levels[levels > -60])) < -5.0
    assert len(speech.char_offsets) == len(GREETING)
    assert speech.char_offsets[-1] < speech.sample_count


@needs_espeak
def test_espeak_voices_differ_and_speed_shortens() -> None:
    voice = EspeakVoice()
    low = voice.synthesize(GREETING, voice="cedar")
    high = voice.synthesize(GREETING, voice="shimmer")
    assert low.pcm != high.pcm
    assert _centroid_hz(low.pcm) < _centroid_hz(high.pcm)
    fast = voice.synthesize(GREETING, voice="cedar", speed=1.5)
    assert fast.sample_count < 0.85 * low.sample_count


def _centroid_hz(pcm: bytes) -> float:
    x = pcm16_to_float32(pcm)
    spectrum = np.abs(np.fft.rfft(x))
    freqs = np.fft.rfftfreq(len(x), 1 / 24_000)
    return float(np.sum(freqs * spectrum) / np.sum(spectrum))


def test_server_options_check_the_engine_name() -> None:
    with pytest.raises(ConfigError, match="voice_engine must be one of"):
        ServerOptions(api_key="k", voice_engine="opera")  # type: ignore[arg-type]
