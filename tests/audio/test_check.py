"""The audio doctor (``devices --test``) on fake streams: a silent room, a laptop whose speaker
leaks into its microphone (a simulated echo path), a monitor source and a hands-free rate."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from realtime_console.audio import check as check_module
from realtime_console.audio.check import check_devices
from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.fakestream import (
    EchoCoupling,
    FakeInputStream,
    FakeOutputStream,
    FakeTimeInfo,
)


def devices(
    coupling: EchoCoupling | None = None, noise_dbfs: float | None = None
) -> dict[str, Any]:
    outputs: list[FakeOutputStream] = []

    def output(**kwargs: Any) -> FakeOutputStream:
        outputs.append(
            FakeOutputStream(**kwargs, realtime=True, reported_latency=0.03, echo=coupling)
        )
        return outputs[-1]

    def input_(**kwargs: Any) -> FakeInputStream:
        source = None
        if noise_dbfs is not None:
            rng = np.random.default_rng(1)
            source = (rng.standard_normal(24000 * 8) * 32768 * 10 ** (noise_dbfs / 20)).astype(
                "<i2"
            )
        return FakeInputStream(
            **kwargs, realtime=True, reported_latency=0.01, echo=coupling, source=source
        )

    return {"output_factory": output, "input_factory": input_, "outputs": outputs}


async def test_a_quiet_microphone_that_does_not_hear_the_speaker_is_ready() -> None:
    fakes = devices(noise_dbfs=-70)
    outputs = fakes.pop("outputs")
    check = await check_devices(**fakes)
    assert check.played_ms == 2500.0  # 500 ms of silence, then the 2 s probe
    assert outputs[0].closed
    assert check.output_latency_ms == 30.0 and check.input_latency_ms == 10.0
    assert not check.resampled and check.input_samplerate == 24000
    assert check.input_startup_ms is not None and check.input_startup_ms < 1000
    assert check.output_first_callback_ms is not None
    assert check.noise_floor_dbfs is not None and -73 < check.noise_floor_dbfs < -67
    assert not check.echo_found and check.clipped_samples == 0
    assert check.verdict == "ready for talk: the microphone does not hear the speaker"
    text = "\n".join(check.lines())
    assert "echo: none heard" in text and "(24000 Hz native)" in text
    assert text.splitlines()[-1].startswith("verdict: ready for talk")


async def test_a_laptop_echo_is_measured_with_its_round_trip_and_what_aec_leaves() -> None:
    coupling = EchoCoupling(EchoPathSpec(delay_ms=40, gain_db=-10))
    fakes = devices(coupling, noise_dbfs=-75)
    fakes.pop("outputs")
    check = await check_devices(**fakes)
    assert check.echo_found
    assert check.echo_gain_db is not None and -13 < check.echo_gain_db < -7
    # Speaker hand-over to microphone hand-over: the fakes' reported 30 + 10 ms and the path's
    # 40 ms, less the clocks' few ms of start-up skew (the realtime fakes tick on two threads).
    assert check.reported_round_trip_ms == 40.0
    assert check.round_trip_ms is not None and 60 <= check.round_trip_ms <= 100
    data = check.as_json()
    assert data["echo_found"] is True and isinstance(data["hints"], list)
    if check.aec_installed:
        assert check.aec_reduction_db is not None and check.aec_reduction_db >= 20
        assert check.verdict.startswith("ready for talk on speakers: echo cancellation lowers")
    else:
        assert "pip install 'realtime-console[aec]'" in check.verdict


async def test_without_the_aec_extra_a_loud_echo_means_headphones(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(check_module, "aec_installed", lambda engine="kalman": False)
    fakes = devices(EchoCoupling(EchoPathSpec(delay_ms=20, gain_db=-3)))
    fakes.pop("outputs")
    check = await check_devices(**fakes)
    assert check.echo_found and check.aec_reduction_db is None
    assert any("use headphones, or install echo cancellation" in h for h in check.hints)
    assert check.verdict == (
        "talk will interrupt itself on these speakers: use headphones or "
        "pip install 'realtime-console[aec]'"
    )


async def test_a_monitor_source_and_a_hands_free_rate_get_their_hints() -> None:
    fakes = devices()
    fakes.pop("outputs")
    check = await check_devices(
        **fakes, native_rate=lambda device: 16000.0, names=("Monitor of spk", "spk")
    )
    assert check.input_name == "Monitor of spk"
    assert any("monitor source" in h for h in check.hints)
    # The fake opened at 24 kHz; the hands-free hint follows the rate the input runs at.
    assert not any("8/16 kHz" in h for h in check.hints)
    low = check_module._with(check, input_samplerate=16000.0)
    assert any("8/16 kHz" in hint for test, hint in check_module.HINTS if test(low))


async def test_a_microphone_that_never_delivers_is_the_verdict(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(check_module, "STARTUP_WAIT_S", 0.3)

    def dead_input(**kwargs: Any) -> FakeInputStream:
        return FakeInputStream(**kwargs)  # not realtime and never advanced: no blocks

    check = await check_devices(
        output_factory=lambda **kw: FakeOutputStream(**kw, realtime=True),
        input_factory=dead_input,
    )
    assert check.input_startup_ms is None and check.input_ms == 0
    assert check.verdict.startswith("the microphone delivers no audio")


async def test_the_output_delay_is_measured_from_the_dac_times_not_the_reported_latency() -> None:
    """Through PulseAudio a stream reports 30-40 ms while its blocks sit ~57 ms from the DAC:
    the check shows both, and the late output gets its hint."""
    opened: list[FakeOutputStream] = []

    def late_output(**kwargs: Any) -> FakeOutputStream:
        speaker_callback = kwargs.pop("callback")

        def callback(out: Any, frames: int, time: Any, status: Any) -> None:
            true = FakeTimeInfo(0.0, time.currentTime, time.currentTime + 0.057)
            speaker_callback(out, frames, true, status)

        opened.append(
            FakeOutputStream(**kwargs, callback=callback, realtime=True, reported_latency=0.03)
        )
        return opened[-1]

    fakes = devices(noise_dbfs=-70)
    fakes.pop("outputs")
    fakes["output_factory"] = late_output
    check = await check_devices(**fakes, block_ms=5, output_latency="low")
    assert opened[0].blocksize == 120  # audio.block_ms reaches the speaker, as in talk
    assert check.output_latency_ms == 30.0
    assert check.output_delay_ms == pytest.approx(57.0, abs=0.05)
    assert "reported latency 30 ms, measured 57 ms to the DAC" in check.lines()[0]
    assert any("audio.output_latency" in hint for hint in check.hints)
    assert check.as_json()["output_delay_ms"] == check.output_delay_ms


async def test_an_output_on_time_gets_no_late_playback_hint() -> None:
    fakes = devices(noise_dbfs=-70)
    fakes.pop("outputs")
    check = await check_devices(**fakes)
    assert check.output_delay_ms == pytest.approx(30.0, abs=0.05)
    assert not any("audio.output_latency" in hint for hint in check.hints)
