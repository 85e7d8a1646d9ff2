"""The synthetic voice: its length rule, timing marks, determinism and per-voice pitch."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from realtime_console.protocol.pcm import SAMPLE_RATE, pcm16_to_float32
from realtime_console.server.voice import BASE_PITCH_HZ, VOICES, Speech, SyntheticVoice

UNIT = SAMPLE_RATE * 60 // 1000  # 60 ms at speed 1.0 = 1440 samples


def dominant_hz(speech: Speech) -> float:
    """Strongest frequency of the first syllable (zero-padded FFT for fine resolution)."""
    samples = pcm16_to_float32(speech.pcm)[:UNIT]
    size = 1 << 18
    spectrum = np.abs(np.fft.rfft(samples, n=size))
    return float(np.argmax(spectrum)) * SAMPLE_RATE / size


def test_length_follows_the_unit_rule() -> None:
    # a, b: 1 voiced unit each; space: 1; c: 1; ",": 2; "d": 1; ".": 3  → 10 units
    speech = SyntheticVoice().synthesize("ab c,d.", voice="alloy")
    assert speech.sample_count == 10 * UNIT
    assert len(speech.pcm) == 2 * 10 * UNIT
    assert SyntheticVoice().sample_count("ab c,d.") == 10 * UNIT


def test_character_offsets_mark_where_each_character_starts() -> None:
    speech = SyntheticVoice().synthesize("a, b", voice="ash")
    assert speech.char_offsets == (0, UNIT, 3 * UNIT, 4 * UNIT)


def test_voiced_characters_sound_and_pauses_are_silent() -> None:
    speech = SyntheticVoice().synthesize("a.b", voice="coral")
    samples = pcm16_to_float32(speech.pcm)
    assert np.max(np.abs(samples[:UNIT])) > 0.1  # "a"
    assert np.max(np.abs(samples[UNIT : 4 * UNIT])) == 0.0  # "." = 3 silent units
    assert np.max(np.abs(samples[4 * UNIT :])) > 0.1  # "b"
    assert np.max(np.abs(samples)) < 0.5  # headroom, no clipping


def test_speed_scales_duration() -> None:
    voice = SyntheticVoice()
    assert voice.sample_count("hello", speed=1.5) == 5 * round(UNIT / 1.5)
    assert voice.synthesize("hello", voice="sage", speed=0.5).sample_count == 5 * 2 * UNIT


def test_same_text_and_voice_give_identical_audio() -> None:
    a = SyntheticVoice().synthesize("Deterministic, please.", voice="verse")
    b = SyntheticVoice().synthesize("Deterministic, please.", voice="verse")
    assert a == b


def test_each_voice_has_its_own_pitch() -> None:
    pitches = {v: dominant_hz(SyntheticVoice().synthesize("a", voice=v)) for v in VOICES}
    for name, measured in pitches.items():
        # "a" is sung 3 quarter-tones below the voice's base pitch: (97 * 7) % 13 - 6 = -3.
        assert measured == pytest.approx(BASE_PITCH_HZ[name] * 2 ** (-3 / 24), rel=0.01)
    assert len({round(p) for p in pitches.values()}) == len(VOICES)


@given(st.text(max_size=60))
def test_any_text_synthesizes_to_its_predicted_length(text: str) -> None:
    voice = SyntheticVoice(unit_ms=10.0)  # short units keep the property test fast
    speech = voice.synthesize(text, voice="marin")
    assert speech.sample_count == voice.sample_count(text)
    assert len(speech.char_offsets) == len(text)
    assert list(speech.char_offsets) == sorted(speech.char_offsets)
