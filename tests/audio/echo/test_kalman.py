"""The linear echo filter: learns a room, follows clock drift, keeps its taps when moved."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.kalman import KalmanEchoFilter
from realtime_console.audio.echo.path import EchoPathSpec, render
from tests.audio.echo.rig import RATE, voice

FRAME = 240


def _speech(seconds: float, name: str = "marin") -> np.ndarray:
    return np.frombuffer(voice(seconds, name), dtype="<i2") / 32768.0


def _run(f: KalmanEchoFilter, mic: np.ndarray, far: np.ndarray) -> np.ndarray:
    out = [f.filter(mic[i : i + FRAME], far[i : i + FRAME])[0] for i in range(0, len(mic), FRAME)]
    return np.concatenate(out)


def _erle(mic: np.ndarray, out: np.ndarray) -> float:
    return float(10 * np.log10(np.sum(mic**2) / max(np.sum(out**2), 1e-20)))


def test_learns_a_room_within_the_span_and_removes_its_echo() -> None:
    far = _speech(8.0)
    # 20 ms delay inside the 100 ms span, a 60 ms tail.
    mic = render(far.astype(np.float32), EchoPathSpec(delay_ms=20, gain_db=-6)).astype(float)
    out = _run(KalmanEchoFilter(RATE, FRAME, 10), mic, far)
    assert _erle(mic[5 * RATE :], out[5 * RATE :]) > 25


def test_follows_clock_drift_and_measures_it() -> None:
    far = _speech(20.0)
    spec = EchoPathSpec(delay_ms=20, gain_db=-6, drift_ms=4.0)  # 200 ppm
    mic = render(far.astype(np.float32), spec).astype(float)
    f = KalmanEchoFilter(RATE, FRAME, 10)
    out = _run(f, mic, far)
    expected = 4e-3 * RATE / len(far)  # 2e-4 samples per sample
    assert abs(f.drift - expected) < 3e-5
    assert 60 < f.slide < 110  # it moved its taps most of the 96 samples itself
    assert _erle(mic[10 * RATE :], out[10 * RATE :]) > 25


def test_drift_is_what_it_takes_without_tracking() -> None:
    """The same drifting room with the tracking off: the adaptation alone lags behind."""
    import realtime_console.audio.echo.kalman as kalman

    far = _speech(20.0)
    spec = EchoPathSpec(delay_ms=20, gain_db=-6, drift_ms=4.0)
    mic = render(far.astype(np.float32), spec).astype(float)
    saved, kalman.MAX_DRIFT = kalman.MAX_DRIFT, 0.0
    try:
        out = _run(KalmanEchoFilter(RATE, FRAME, 10), mic, far)
    finally:
        kalman.MAX_DRIFT = saved
    assert _erle(mic[10 * RATE :], out[10 * RATE :]) < 20


def test_double_talk_leaves_the_near_end_and_the_learnt_path_alone() -> None:
    far = _speech(12.0)
    near = np.zeros_like(far)
    near[8 * RATE :] = _speech(4.0, "ash")[: len(far) - 8 * RATE]
    echo = render(far.astype(np.float32), EchoPathSpec(delay_ms=20, gain_db=-6)).astype(float)
    out = _run(KalmanEchoFilter(RATE, FRAME, 10), echo + near, far)
    dt = slice(8 * RATE, None)
    assert np.corrcoef(out[dt], near[dt])[0, 1] > 0.95
    residual = out[dt] - near[dt]
    assert _erle(echo[dt], residual) > 15  # the echo is still being removed


def test_shift_keeps_the_learnt_path_when_the_far_end_is_delayed_instead() -> None:
    far = _speech(8.0)
    mic = render(far.astype(np.float32), EchoPathSpec(delay_ms=60, gain_db=-6)).astype(float)
    f = KalmanEchoFilter(RATE, FRAME, 10)
    half = 6 * RATE
    _run(f, mic[:half], far[:half])
    # From now on the far end reaches the filter 40 ms later; the taps move 40 ms earlier.
    moved = 40 * 24
    delayed = np.concatenate((np.zeros(moved), far))[: len(far)]
    span = 11 * FRAME
    f.shift(-moved, delayed[half - span : half])
    out = _run(f, mic[half : half + RATE // 2], delayed[half : half + RATE // 2])
    assert _erle(mic[half : half + RATE // 2], out) > 25  # no re-learning needed


def test_an_idle_frame_is_a_silent_frame_at_a_fraction_of_the_cost() -> None:
    """``idle`` (nothing played over the whole span) leaves the filter exactly where ``filter``
    with a silent far end would: the canceller relies on it while the user alone speaks."""
    far = _speech(3.0)
    pause_end = RATE + 40 * FRAME
    far[RATE:pause_end] = 0  # a 400 ms pause, longer than the span
    spec = EchoPathSpec(delay_ms=20, gain_db=-6, drift_ms=2.0)
    mic = render(far.astype(np.float32), spec).astype(float)
    a, b = KalmanEchoFilter(RATE, FRAME, 10), KalmanEchoFilter(RATE, FRAME, 10)
    out_a, out_b = [], []
    silent_from = RATE + 10 * FRAME  # the far end of all partitions is zero from here
    for i in range(0, len(mic), FRAME):
        near, played = mic[i : i + FRAME], far[i : i + FRAME]
        out_a.append(a.filter(near, played)[0])
        if silent_from <= i < pause_end:
            b.idle(float(near @ near))
            out_b.append(near)
        else:
            out_b.append(b.filter(near, played)[0])
    np.testing.assert_allclose(np.concatenate(out_b), np.concatenate(out_a), atol=1e-12)
    np.testing.assert_allclose(b._paths, a._paths, atol=1e-12)
    assert b.slide == a.slide
