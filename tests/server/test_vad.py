"""Energy VAD on the input-audio clock: threshold mapping, padding, silence duration, settings."""

from __future__ import annotations

import math

import numpy as np
import pytest

from realtime_console.protocol.pcm import float32_to_pcm16, ms_to_samples
from realtime_console.server.vad import (
    EAGERNESS_SILENCE_MS,
    MAX_DURATION_MS,
    SpeechStarted,
    SpeechStopped,
    VadSettings,
    VoiceActivityDetector,
    frame_levels_dbfs,
    is_speech,
    sample_ms,
    threshold_dbfs,
)


def tone(ms: float, dbfs: float = -20.0, hz: float = 220.0) -> bytes:
    """A sine whose RMS level is ``dbfs``."""
    t = np.arange(ms_to_samples(ms)) / 24_000
    amplitude = math.sqrt(2) * 10 ** (dbfs / 20)
    return float32_to_pcm16(amplitude * np.sin(2 * np.pi * hz * t))


def silence(ms: float) -> bytes:
    return bytes(2 * ms_to_samples(ms))


def noise(ms: float, dbfs: float) -> bytes:
    rng = np.random.default_rng(7)
    return float32_to_pcm16(rng.normal(0.0, 10 ** (dbfs / 20), ms_to_samples(ms)))


def feed_in_blocks(vad: VoiceActivityDetector, pcm: bytes, block_ms: float = 20.0) -> list[object]:
    step = 2 * ms_to_samples(block_ms)
    events: list[object] = []
    for start in range(0, len(pcm), step):
        events += vad.feed(pcm[start : start + step])
    return events


def test_threshold_maps_linearly_onto_dbfs() -> None:
    assert threshold_dbfs(0.0) == -70.0
    assert threshold_dbfs(0.5) == -40.0
    assert threshold_dbfs(1.0) == -10.0


def test_frame_levels_measure_rms_per_10_ms() -> None:
    levels = frame_levels_dbfs(tone(100, -20.0, hz=400.0) + silence(5))  # half a frame: not judged
    assert len(levels) == 10
    assert all(abs(level + 20.0) < 0.2 for level in levels)
    assert frame_levels_dbfs(silence(30)) == [pytest.approx(-120.0)] * 3


@pytest.mark.parametrize(("level", "voiced"), [(-20.0, True), (-39.0, True), (-45.0, False)])
def test_default_threshold_detects_speech_levels_not_quiet_noise(
    level: float, voiced: bool
) -> None:
    assert is_speech(tone(50, level)) is voiced
    assert is_speech(noise(500, -55.0)) is False


def test_start_and_stop_carry_padding_and_silence_on_the_audio_clock() -> None:
    vad = VoiceActivityDetector(VadSettings(prefix_padding_ms=300, silence_duration_ms=200))
    audio = silence(1000) + tone(500) + silence(600)
    events = feed_in_blocks(vad, audio)
    assert events == [
        SpeechStarted(ms_to_samples(1000 - 300)),
        SpeechStopped(ms_to_samples(1500 + 200)),
    ]
    assert vad.position == ms_to_samples(2100)
    assert not vad.speaking


def test_pauses_shorter_than_the_silence_duration_do_not_end_the_turn() -> None:
    vad = VoiceActivityDetector(VadSettings(silence_duration_ms=300))
    audio = tone(200) + silence(290) + tone(200) + silence(300)
    assert feed_in_blocks(vad, audio) == [SpeechStarted(0), SpeechStopped(ms_to_samples(990))]


def test_results_do_not_depend_on_block_sizes() -> None:
    audio = silence(730) + tone(410) + silence(250) + tone(120) + silence(400)
    expected = feed_in_blocks(VoiceActivityDetector(VadSettings()), audio, 20.0)
    for block_ms in (1.0, 7.5, 100.0, 5000.0):
        assert feed_in_blocks(VoiceActivityDetector(VadSettings()), audio, block_ms) == expected


def test_padding_never_reaches_before_committed_audio() -> None:
    vad = VoiceActivityDetector(VadSettings(prefix_padding_ms=500, silence_duration_ms=100))
    first = feed_in_blocks(vad, tone(200) + silence(100))
    assert first[-1] == SpeechStopped(ms_to_samples(300))
    second = feed_in_blocks(vad, silence(100) + tone(100))
    assert second == [SpeechStarted(ms_to_samples(300))]  # not 400 - 500 ms


def test_vad_switched_on_mid_session_keeps_the_session_clock() -> None:
    vad = VoiceActivityDetector(VadSettings(prefix_padding_ms=0), position=ms_to_samples(5000))
    assert feed_in_blocks(vad, silence(40) + tone(100)) == [SpeechStarted(ms_to_samples(5040))]
    assert sample_ms(ms_to_samples(5040)) == 5040


def test_higher_threshold_ignores_quieter_speech() -> None:
    loud_only = VoiceActivityDetector(VadSettings(threshold=0.8))  # -22 dBFS
    assert feed_in_blocks(loud_only, tone(300, -30.0) + silence(300)) == []
    assert feed_in_blocks(loud_only, tone(300, -15.0))[0] == SpeechStarted(ms_to_samples(300))


def test_reset_forgets_the_utterance() -> None:
    vad = VoiceActivityDetector(VadSettings(prefix_padding_ms=0))
    assert feed_in_blocks(vad, tone(100)) == [SpeechStarted(0)]
    vad.reset()
    assert not vad.speaking
    assert feed_in_blocks(vad, silence(1000)) == []


def test_settings_from_turn_detection() -> None:
    assert VadSettings.from_turn_detection(None) is None
    server = VadSettings.from_turn_detection(
        {
            "type": "server_vad",
            "threshold": 0.7,
            "prefix_padding_ms": 100,
            "silence_duration_ms": 650,
            "create_response": False,
            "interrupt_response": True,
        }
    )
    assert server == VadSettings(0.7, 100, 650, create_response=False, interrupt_response=True)
    semantic = VadSettings.from_turn_detection({"type": "semantic_vad", "eagerness": "high"})
    assert semantic is not None
    assert semantic.silence_duration_ms == EAGERNESS_SILENCE_MS["high"]
    assert semantic.threshold == 0.5


def test_memory_stays_constant_over_a_long_stream() -> None:
    vad = VoiceActivityDetector(VadSettings())
    for _ in range(500):
        vad.feed(silence(21))  # not a whole number of frames: a remainder is carried
    assert len(vad._pending) < 2 * 240


def test_settings_from_anything_but_an_object_mean_manual_commits() -> None:
    for detection in (None, {}, "server_vad", 3, [], object()):
        assert VadSettings.from_turn_detection(detection) is None


def test_durations_past_a_day_count_as_a_day() -> None:
    huge = 10**309
    settings = VadSettings.from_turn_detection(
        {
            "type": "server_vad",
            "prefix_padding_ms": huge,
            "silence_duration_ms": huge,
            "idle_timeout_ms": huge,
        }
    )
    assert settings is not None
    day = MAX_DURATION_MS
    assert (settings.prefix_padding_ms, settings.silence_duration_ms) == (day, day)
    assert settings.idle_timeout_ms == day
    VoiceActivityDetector(settings).feed(bytes(4800))  # the sample arithmetic holds
