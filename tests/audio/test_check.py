from __future__ import annotations

from typing import Any

import numpy as np

from realtime_console.audio.check import check_devices
from realtime_console.audio.fakestream import FakeInputStream, FakeOutputStream


async def test_plays_the_tone_and_measures_the_input() -> None:
    outputs: list[FakeOutputStream] = []

    def output(**kwargs: Any) -> FakeOutputStream:
        outputs.append(FakeOutputStream(**kwargs, realtime=True, reported_latency=0.03))
        return outputs[-1]

    def input_(**kwargs: Any) -> FakeInputStream:
        loud = np.full(24000 * 3, 3277, dtype="<i2")  # -20 dBFS
        return FakeInputStream(**kwargs, realtime=True, source=loud)

    check = await check_devices(seconds=0.5, output_factory=output, input_factory=input_)
    assert check.played_ms == 250.0
    assert check.output_latency_ms == 30.0
    assert 400 <= check.input_ms <= 520
    assert round(check.input_peak_dbfs) == -20
    assert check.input_startup_ms is not None and check.input_startup_ms < 500
    assert outputs[0].closed
    tone = outputs[0].recorded()[:, 0]
    assert np.count_nonzero(tone) > 0.9 * 6000  # the tone reached the device
    text = "\n".join(check.lines())
    assert "played 250 ms" in text and "peak level -20 dBFS" in text


async def test_a_silent_microphone_reports_the_floor() -> None:
    check = await check_devices(
        seconds=0.2,
        output_factory=lambda **kw: FakeOutputStream(**kw, realtime=True),
        input_factory=lambda **kw: FakeInputStream(**kw, realtime=True),
    )
    assert check.input_peak_dbfs == -120.0
    assert not check.resampled and check.input_samplerate == 24000
