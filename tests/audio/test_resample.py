from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.resample import StreamResampler


@pytest.mark.parametrize("rate", [44100, 48000, 16000])
def test_block_by_block_output_matches_the_rate_ratio(rate: int) -> None:
    resampler = StreamResampler(rate)
    block = np.zeros(rate // 50, dtype="<i2").tobytes()
    out = b"".join(resampler.process(block) for _ in range(100)) + resampler.flush()
    assert abs(len(out) // 2 - 48000) <= 2  # two seconds at 24 kHz


def test_continuity_across_blocks_leaves_no_clicks() -> None:
    resampler = StreamResampler(48000)
    t = np.arange(48000) / 48000
    tone = (np.sin(2 * np.pi * 300 * t) * 10000).astype("<i2")
    out = b"".join(resampler.process(tone[i : i + 960].tobytes()) for i in range(0, 48000, 960))
    y = np.frombuffer(out, dtype="<i2").astype(np.float64)[500:]
    # A 300 Hz tone at 24 kHz moves at most 2π·300/24000·10000 ≈ 785 per sample; a seam would jump.
    assert np.max(np.abs(np.diff(y))) < 850


def test_rejects_nonsense_rates() -> None:
    with pytest.raises(ValueError):
        StreamResampler(0)
