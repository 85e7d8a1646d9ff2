"""The console's canceller end to end, on a simulated room: delay, drift, double talk, a jump."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.fdkf import KalmanCanceller
from realtime_console.audio.echo.path import EchoPathSpec, render
from tests.audio.echo.rig import RATE, voice

BLOCK = 2400  # 100 ms, as talk's microphone delivers


def _speech(seconds: float, name: str = "marin") -> np.ndarray:
    return np.frombuffer(voice(seconds, name), dtype="<i2").astype(np.float32) / 32768


def _user(seconds: float) -> np.ndarray:
    """Another voice saying something else (the rig's voices read the same text in step)."""
    from realtime_console.server.voice import SyntheticVoice

    text = "Sorry, can I stop you there? What was the name of the island again? " * 10
    pcm = SyntheticVoice().synthesize(text, voice="ash").pcm[: round(seconds * RATE) * 2]
    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768


def _pcm(x: np.ndarray) -> np.ndarray:
    return np.clip(np.round(x * 32768), -32768, 32767).astype(np.int16)


def _run(c: KalmanCanceller, mic: np.ndarray, far: np.ndarray) -> np.ndarray:
    m, f = _pcm(mic), _pcm(far)
    out = [c.process_frames(m[i : i + BLOCK], f[i : i + BLOCK]) for i in range(0, len(m), BLOCK)]
    cleaned = np.concatenate(out).astype(np.float64) / 32768
    return cleaned[240:]  # the suppressor's one frame (10 ms) of latency


def _erle(mic: np.ndarray, out: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(mic**2) / max(np.sum(out**2), 1e-20)))


def test_removes_a_drifting_echo_and_keeps_the_user_in_double_talk() -> None:
    seconds = 18
    far = _speech(seconds)
    echo = render(far, EchoPathSpec(delay_ms=150, gain_db=-6, drift_ms=3.0))
    near = np.zeros_like(far)
    start = 12 * RATE
    near[start:] = _user(seconds - 12)[: len(far) - start]
    c = KalmanCanceller()
    out = _run(c, echo + near, far)
    mic = (echo + near)[: len(out)]
    assert _erle(mic[6 * RATE : start], out[6 * RATE : start]) > 25
    dt = slice(start, len(out))
    assert np.corrcoef(out[dt], near[: len(out)][dt])[0, 1] > 0.9
    assert abs(c.delay_samples - (150 + 3) * 24) < 3 * 24  # it found and followed the echo


def test_finds_the_echo_again_after_the_path_jumps() -> None:
    far = _speech(16.0)
    first = render(far, EchoPathSpec(delay_ms=60, gain_db=-6))
    second = render(far, EchoPathSpec(delay_ms=260, gain_db=-6))
    jump = 8 * RATE
    mic = np.concatenate((first[:jump], second[jump:]))
    c = KalmanCanceller()
    out = _run(c, mic, far)
    assert abs(c.delay_samples - 260 * 24) < 2 * 24
    assert _erle(mic[jump + 4 * RATE : len(out)], out[jump + 4 * RATE :]) > 25


def test_a_microphone_that_does_not_hear_the_speaker_passes_unchanged() -> None:
    far = _speech(10.0)
    near = _user(10.0) * 0.5
    c = KalmanCanceller()
    out = _run(c, near, far)
    assert c.offset == 0  # no echo located
    tail = slice(5 * RATE, len(out))
    assert np.corrcoef(out[tail], near[: len(out)][tail])[0, 1] > 0.97


def test_the_hint_delays_the_far_end_beyond_the_estimators_reach() -> None:
    far = _speech(10.0)
    mic = render(far, EchoPathSpec(delay_ms=700, gain_db=-6))  # beyond 500 ms
    c = KalmanCanceller(stream_delay_ms=400)
    assert c.stream_delay_ms == 400
    out = _run(c, mic, far)
    assert abs(c.delay_samples - 700 * 24) < 2 * 24
    assert _erle(mic[5 * RATE : len(out)], out[5 * RATE :]) > 25
    c.stream_delay_ms = 5000
    assert c.stream_delay_ms == 1000  # clamped to the history it keeps


def test_blocks_of_any_whole_number_of_frames_give_the_same_output() -> None:
    far = _speech(3.0)
    mic = render(far, EchoPathSpec(delay_ms=80, gain_db=-6))
    m, f = _pcm(mic), _pcm(far)
    a, b = KalmanCanceller(), KalmanCanceller()
    whole = a.process_frames(m, f)
    pieces = [b.process_frames(m[i : i + 720], f[i : i + 720]) for i in range(0, len(m), 720)]
    np.testing.assert_array_equal(whole, np.concatenate(pieces))
