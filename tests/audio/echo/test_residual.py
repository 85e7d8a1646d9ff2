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


def test_a_block_of_frames_is_exactly_its_frames_one_by_one() -> None:
    """``process_block`` (the canceller's path) against ``process``/``passthrough`` frame by
    frame: echo, then 1 s with nothing played (held powers decay, are dropped after
    ``SILENT_FRAMES``, then the frames pass unchanged), then echo again, a restart among it."""
    from realtime_console.audio.echo.residual import SILENT_FRAMES, Block

    rng = np.random.default_rng(4)
    frames = 260
    silent = [100 <= t < 200 for t in range(frames)]
    echoes = [
        np.zeros(FRAME) if silent[t] else rng.standard_normal(FRAME) * 0.1 for t in range(frames)
    ]
    errors = [rng.standard_normal(FRAME) * 0.02 + 0.1 * echoes[t] for t in range(frames)]
    far = [_spectrum_power(e) * 4 for e in echoes]
    restart_at = 230

    one = ResidualSuppressor(FRAME)
    expected, quiet_run = [], 0
    for t in range(frames):
        if t == restart_at:
            one.restart()
        if silent[t]:
            if one.quiet:
                expected.append(one.passthrough(errors[t]))
                continue
            quiet_run += 1
            if quiet_run >= SILENT_FRAMES:
                one.forget_echo()
        else:
            quiet_run = 0
        expected.append(one.process(errors[t], echoes[t], far[t], -30.0, 20.0, 0.5))

    block = ResidualSuppressor(FRAME)
    got = []
    for start in range(0, frames, 7):
        rows = range(start, min(start + 7, frames))
        got.append(
            block.process_block(
                Block(
                    errors=np.array([errors[t] for t in rows]),
                    echoes=np.array([echoes[t] for t in rows]),
                    far_powers=np.array([far[t] for t in rows]),
                    floor_dbs=[-30.0] * len(rows),
                    linear_dbs=[20.0] * len(rows),
                    path_gains=[0.5] * len(rows),
                    silent=[silent[t] for t in rows],
                    restarts={restart_at - start} if start <= restart_at < start + 7 else set(),
                )
            )
        )
    np.testing.assert_array_equal(np.concatenate(got), np.concatenate(expected))
    np.testing.assert_array_equal(block.gain, one.gain)
