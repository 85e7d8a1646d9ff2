"""The simulated echo path: the streaming form equals the whole-signal one; gain and delay."""

from __future__ import annotations

import numpy as np

from realtime_console.audio.echo.path import EchoPath, EchoPathSpec, render


def test_streaming_blocks_give_the_same_echo_as_rendering_the_whole_signal() -> None:
    x = np.random.default_rng(1).standard_normal(24_000).astype(np.float32) * 0.1
    spec = EchoPathSpec(delay_ms=50, gain_db=-6)
    path = EchoPath(spec)
    streamed = np.concatenate([path.process(x[i : i + 480]) for i in range(0, len(x), 480)])
    np.testing.assert_allclose(streamed, render(x, spec), atol=1e-6)


def test_the_echo_starts_after_the_delay_at_the_configured_level() -> None:
    x = np.random.default_rng(2).standard_normal(48_000).astype(np.float32) * 0.1
    echo = render(x, EchoPathSpec(delay_ms=100, gain_db=-12))
    assert not np.any(echo[:2400])
    assert np.any(echo[2400:2410])
    gain = 10 * np.log10(np.sum(echo[2400:] ** 2) / np.sum(x[:-2400] ** 2))
    assert abs(gain + 12) < 1.0


def test_drift_slides_the_echo_later_by_the_given_amount() -> None:
    n = 240_000  # 10 s
    x = np.zeros(n, dtype=np.float32)
    x[-24_000] = 1.0  # a click 1 s before the end
    spec = EchoPathSpec(delay_ms=0, gain_db=0, tail_ms=0.1, drift_ms=10)
    echo = render(x, spec)
    moved = int(np.argmax(np.abs(echo))) - (n - 24_000)
    assert 180 <= moved <= 240  # ~9 ms of 10 ms total drift by 90 % of the run
