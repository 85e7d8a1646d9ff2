"""The residual echo suppressor: transparent without echo, suppresses what explains the echo."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.residual import ResidualSuppressor

FRAME = 240


def _spectrum_power(x: np.ndarray) -> np.ndarray:
    spectrum = np.fft.rfft(x, 2 * FRAME)
    return spectrum.real**2 + spectrum.imag**2


def test_without_a_far_end_the_signal_passes_exactly_one_frame_late() -> None:
    rng = np.random.default_rng(1)
    signal = rng.standard_normal(FRAME * 50) * 0.1
    s = ResidualSuppressor(FRAME)
    silent = np.zeros(FRAME + 1)
    out = np.concatenate(
        [
            s.process(signal[i : i + FRAME], np.zeros(FRAME), silent)
            for i in range(0, len(signal), FRAME)
        ]
    )
    np.testing.assert_allclose(out[FRAME:], signal[:-FRAME], atol=1e-9)


def test_a_residual_that_follows_the_echo_estimate_is_suppressed_and_speech_is_not() -> None:
    rng = np.random.default_rng(2)
    s = ResidualSuppressor(FRAME)
    frames = 600  # 6 s
    envelope = np.repeat(rng.uniform(0.05, 1.0, frames // 10), 10)  # syllable-like level changes
    echo_in, echo_out, near_in, near_out = 0.0, 0.0, 0.0, 0.0
    for t in range(frames):
        echo = rng.standard_normal(FRAME) * 0.1 * envelope[t]
        residual = 0.1 * echo  # the linear filter left 20 dB of it
        near = rng.standard_normal(FRAME) * 0.05 if t >= 450 else np.zeros(FRAME)
        out = s.process(residual + near, echo, _spectrum_power(echo) * 4)
        if 300 <= t < 450:  # echo alone, after the first 3 s
            echo_in, echo_out = echo_in + float(residual @ residual), echo_out + float(out @ out)
        elif t > 460:
            near_in, near_out = near_in + float(near @ near), near_out + float(out @ out)
    assert 10 * np.log10(echo_in / echo_out) > 10  # suppressed well beyond the filter's 20 dB
    assert abs(10 * np.log10(near_out / near_in)) < 1.5  # the user's level, within 1.5 dB


def test_restart_is_cautious_again_until_it_has_measured() -> None:
    """A converged filter (it leaves -60 dB of the echo), then the user talking: nothing to
    suppress. Once the path moves (``restart``) the user is not trusted until it is measured."""
    s = ResidualSuppressor(FRAME)
    rng = np.random.default_rng(3)

    def step(near_level: float) -> None:
        echo = rng.standard_normal(FRAME) * 0.1 * rng.uniform(0.05, 1.0)
        near = rng.standard_normal(FRAME) * near_level
        s.process(near + 0.001 * echo, echo, _spectrum_power(echo))

    for _ in range(900):  # 9 s: the cautious start hands over to the measurements gradually
        step(0.0)
    for _ in range(50):
        step(0.05)
    assert s.gain.mean() > 0.9
    s.restart()
    step(0.05)
    assert s.gain.mean() < 0.5
