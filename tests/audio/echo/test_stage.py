"""The echo stage on a simulated laptop: the real speaker and microphone on fake streams joined by
an echo path, the far-end reference tapped from the speaker's callback with its DAC time, and the
microphone blocks with their ADC time. What the stage sends is judged by the local server's VAD."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.echo.canceller import open_echo_canceller
from realtime_console.audio.echo.guard import EchoGuard
from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.echo.stage import EchoStage
from realtime_console.server.vad import SpeechStarted, VadSettings, VoiceActivityDetector
from tests.audio.echo.rig import RATE, SimulatedLaptop, joined, level_db, near_speech, voice

pytest.importorskip("pywebrtc_audio", reason="the aec extra (pywebrtc-audio) is not installed")


def speech_starts(pcm: bytes) -> list[int]:
    """Sample positions where the local server's VAD hears speech start."""
    vad = VoiceActivityDetector(VadSettings())
    return [e.start_sample for e in vad.feed(pcm) if isinstance(e, SpeechStarted)]


async def test_aec_removes_the_reply_echo_so_the_vad_hears_nothing() -> None:
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6))
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, canceller=open_echo_canceller())
        laptop.play(voice(8.0))
        captured = await laptop.run(8.5, stage)
    finally:
        laptop.close()
    assert all(c.sent is not None for c in captured)  # no guard: every block goes out, cleaned
    raw, cleaned = joined(captured, raw=True), joined(captured)
    assert len(cleaned) == len(raw)
    after = RATE * 2  # bytes: the first second, while AEC3 converges
    assert level_db(raw[after:]) > -40  # the echo alone is loud enough for the VAD …
    assert speech_starts(raw)
    assert level_db(raw[after:]) - level_db(cleaned[after:]) >= 25  # … and AEC takes >= 25 dB
    assert speech_starts(cleaned) == []
    stats = stage.stats
    assert stats.echo_reduction_db is not None and stats.echo_reduction_db >= 25


async def test_with_aec_the_user_talking_over_the_reply_is_still_heard() -> None:
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6))
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, canceller=open_echo_canceller())
        laptop.play(voice(8.0))
        user = np.zeros(RATE * 8, dtype=np.float32)
        user[RATE * 5 : RATE * 7] = near_speech(2.0)  # a barge-in 5 s into the reply
        laptop.talk(user)
        captured = await laptop.run(8.0, stage)
    finally:
        laptop.close()
    cleaned = joined(captured)
    starts = speech_starts(cleaned)
    assert starts, "the barge-in was cancelled along with the echo"
    # The VAD's start includes its 300 ms prefix padding; it is the barge-in, not the echo.
    assert all(RATE * 4.5 <= s <= RATE * 5.5 for s in starts[:1])


async def test_the_guard_holds_back_the_echo_and_lets_a_louder_voice_through() -> None:
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6))
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, guard=EchoGuard())
        laptop.play(voice(8.0))
        user = np.zeros(RATE * 9, dtype=np.float32)
        user[RATE * 5 : RATE * 7] = near_speech(2.0, level=2.0)  # 12 dB over the echo
        laptop.talk(user)
        captured = await laptop.run(9.0, stage)
    finally:
        laptop.close()
    sent = [c.sent for c in captured]
    held = [i for i, s in enumerate(sent) if s is None]
    passed_during_reply = [i for i, s in enumerate(sent[:80]) if s is not None]
    echo_only = set(range(5, 48))  # 0.5-4.8 s: the reply plays, the user is silent
    assert echo_only <= set(held)
    assert any(50 <= i <= 70 for i in passed_during_reply)  # the barge-in went through
    assert stage.stats.barge_ins >= 1
    starts = speech_starts(joined(captured))
    assert starts and all(s >= RATE * 4.5 for s in starts)  # only the user starts speech
    assert sent[-1] is not None  # after the reply (and its echo) ended, audio flows again


async def test_where_the_microphone_never_hears_the_speaker_its_audio_goes_out_untouched() -> None:
    # Headphones: nothing of the reply reaches the microphone; the user talks over it.
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-120))
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, canceller=open_echo_canceller())
        laptop.play(voice(6.0))
        user = np.zeros(RATE * 6, dtype=np.float32)
        user[RATE * 2 : RATE * 5] = near_speech(3.0)
        laptop.talk(user)
        captured = await laptop.run(6.0, stage)
    finally:
        laptop.close()
    assert not stage.stats.echo_detected
    assert joined(captured) == joined(captured, raw=True)  # AEC3's double talk never applied


async def test_an_echo_is_detected_on_its_first_audible_block() -> None:
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6))
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, canceller=open_echo_canceller())
        laptop.play(voice(3.0))
        captured = await laptop.run(3.0, stage)
    finally:
        laptop.close()
    assert stage.stats.echo_detected
    # Every block loud enough for the VAD went out cleaned: none was sent raw first.
    sent = [level_db(c.sent or b"") for c in captured if level_db(c.raw) > -40]
    assert sent and max(sent) < -40


class _RecordingCanceller:
    """Records the reference each block is paired with; passes the microphone through."""

    def __init__(self) -> None:
        self.stream_delay_ms = 0
        self.references: list[np.ndarray] = []

    def process(self, near: np.ndarray, far: np.ndarray | None = None) -> np.ndarray:
        assert far is not None
        self.references.append(far.copy())
        return near


def test_the_reference_stays_one_unbroken_copy_when_the_callback_times_jump() -> None:
    """PulseAudio calls the speaker back twice in a row every few seconds: the hand-over times
    jump by a block while what plays does not move. The reference must not follow (stretching
    it even by 1 ms lets echo through while AEC3 re-learns): it stays an exact, contiguous copy
    of what was played, block after block."""
    from realtime_console.audio.echo.reference import FarEndTap

    tap, block, mic_block = FarEndTap(seconds=4.0), 480, 2400  # 20 ms out, 100 ms in
    played = (np.arange(RATE * 3) % 30_000).astype(np.int16)  # each sample names its index
    handed_at, t = [], 0.0
    for k in range(len(played) // block):
        if k % 40 == 20:
            t -= block / RATE  # a second callback at once: the times jump a block early
        handed_at.append(t)
        t += block / RATE
    canceller = _RecordingCanceller()
    stage = EchoStage(tap, canceller=canceller)
    written = 0
    for m in range(len(played) // mic_block - 2):
        end_time = (m + 1) * mic_block / RATE
        while written < len(played) // block and handed_at[written] <= end_time + 0.2:
            tap.write(played[written * block : (written + 1) * block], handed_at[written])
            written += 1
        stage.process_now(np.zeros(mic_block, dtype="<i2").tobytes(), m * mic_block / RATE)
    reference = np.concatenate(canceller.references)
    start = int(reference[0])
    assert stage.resyncs == 1  # only the first block placed the reference
    assert np.array_equal(reference, played[start : start + len(reference)])
