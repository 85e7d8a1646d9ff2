"""Framing: any block size in, as many samples out, in order; resampling keeps the length."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.echo.framing import FramedCanceller


class Identity:
    """A frame processor that returns the microphone: what framing does is all that shows."""

    def __init__(self, rate: int) -> None:
        self.rate = rate
        self.stream_delay_ms = 0
        self.frames: list[int] = []

    def process_frames(self, near: np.ndarray, far: np.ndarray) -> np.ndarray:
        assert len(near) % (self.rate // 100) == 0 and len(near) == len(far)
        self.frames.append(len(near))
        return near


def test_odd_blocks_come_back_whole_and_in_order_with_under_one_frame_of_padding() -> None:
    p = Identity(24_000)
    c = FramedCanceller(p)
    x = (np.arange(48_000) % 1000 + 1).astype(np.int16)
    sizes = [333, 480, 17, 1000, 250] * 20
    out, pos = [], 0
    for n in sizes:
        block = c.process(x[pos : pos + n], x[pos : pos + n])
        assert len(block) == n
        out.append(block)
        pos += n
    y = np.concatenate(out)
    # Silence is only ever inserted while the pipeline fills, less than one 10 ms frame in all;
    # every input sample comes out once, in order (the input has no zeros of its own).
    assert 0 < c.padded_samples < 240
    assert np.count_nonzero(y == 0) == c.padded_samples
    assert not np.any(y[-30_000:] == 0)  # settled: nothing inserted later
    np.testing.assert_array_equal(y[y != 0], x[: pos - c.padded_samples])


@pytest.mark.parametrize("rate", [16_000, 48_000])
def test_resampled_processing_returns_every_block_at_its_length(rate: int) -> None:
    c = FramedCanceller(Identity(rate))
    x = np.zeros(480, dtype=np.int16)
    assert all(len(c.process(x, x)) == 480 for _ in range(20))


def test_near_and_far_of_different_lengths_are_refused() -> None:
    c = FramedCanceller(Identity(24_000))
    with pytest.raises(ValueError, match="differ in length"):
        c.process(np.zeros(480, np.int16), np.zeros(400, np.int16))
