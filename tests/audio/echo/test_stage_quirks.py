"""The echo stage through what real devices do (measured through PulseAudio): the speaker called
back twice in a row, late callbacks, a speaker that runs dry, a microphone that loses a block.
The simulated laptop's fake streams do each (``fakestream.CallbackQuirks``, ``underflow``,
``overflow``); the canceller must keep the echo down through all of them."""

from __future__ import annotations

import dataclasses

import pytest

from realtime_console.audio.echo.canceller import EchoCanceller, EchoSettings, open_echo_canceller
from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.echo.stage import EchoStage
from realtime_console.audio.fakestream import CallbackQuirks
from tests.audio.echo.rig import RATE, Captured, SimulatedLaptop, joined, level_db, voice

pytest.importorskip("pywebrtc_audio", reason="the aec extra (pywebrtc-audio) is not installed")

BREAK_S = 4.0  # when the device misbehaves, well after the canceller converged
RECONVERGED_MS = 600  # by when after a break the echo must be down again


def aec3() -> EchoCanceller:
    """WebRTC's AEC3: it learns the echo path with the reference's exact lead, so any shift of
    the reference against the echo shows as leaked echo until it has re-learned (measured on a
    PulseAudio loopback): the strictest judge of the pairing."""
    if "engine" in {f.name for f in dataclasses.fields(EchoSettings)}:
        return open_echo_canceller(EchoSettings(engine="webrtc"))  # type: ignore[call-arg,unused-ignore]
    return open_echo_canceller()


def erle(captured: list[Captured], start_s: float, end_s: float) -> float:
    """Echo reduction over ``[start_s, end_s)``: the microphone's level over what was sent."""
    raw, sent = joined(captured, raw=True), joined(captured)
    lo, hi = round(start_s * RATE) * 2, round(end_s * RATE) * 2
    return level_db(raw[lo:hi]) - level_db(sent[lo:hi])


async def reply_with_a_break(
    laptop: SimulatedLaptop, seconds: float, misbehave: str | None = None
) -> tuple[EchoStage, list[Captured]]:
    """Play a reply of ``seconds``; at ``BREAK_S`` the device does ``misbehave``."""
    laptop.start()
    try:
        stage = EchoStage(laptop.tap, canceller=aec3())
        laptop.play(voice(seconds + 1))
        captured = await laptop.run(BREAK_S, stage)
        if misbehave == "underflow":  # the speaker ran dry for 60 ms
            laptop.speaker_stream.underflow(3)
        elif misbehave == "overflow":  # the microphone lost a 100 ms block
            laptop.mic_stream.overflow(1)
        captured += await laptop.run(seconds - BREAK_S, stage)
    finally:
        laptop.close()
    return stage, captured


async def test_doubled_and_late_speaker_callbacks_leave_the_cancellation_alone() -> None:
    """PulseAudio's cycle (the callbacks fall a block behind over 6 s, then two run back to
    back) plus a callback 12 ms late every 140 ms: what plays does not move, so neither may
    the reference."""
    quirks = CallbackQuirks(doubled_every=300, late_every=7, late_s=0.012)
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6), speaker_quirks=quirks)
    stage, captured = await reply_with_a_break(laptop, 14.0)
    assert erle(captured, 1.0, 14.0) >= 25
    assert stage.realignments == 0 and stage.resyncs == 1


async def test_a_late_speaker_callback_does_not_pair_the_reference_behind_the_echo() -> None:
    """A short echo path (the round trip is only the two buffers, 40 ms) and the speaker's
    callback before each microphone block 60 ms late: paired by that callback's time, the
    reference would trail the echo and no canceller could remove it."""
    quirks = CallbackQuirks(late_every=5, late_s=0.06, late_phase=2)
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=0, gain_db=-6), speaker_quirks=quirks)
    _, captured = await reply_with_a_break(laptop, 8.0)
    assert erle(captured, 1.0, 8.0) >= 25


@pytest.mark.parametrize("misbehave", ["underflow", "overflow"])
async def test_the_echo_is_down_again_soon_after_a_real_break(misbehave: str) -> None:
    """The speaker ran dry (60 ms of silence the reference never saw: everything after plays
    later) or the microphone lost a block (everything after is captured later in its count):
    the echo really moved. The reference follows it by the measured amount, so AEC3's learned
    echo path fits again within ``RECONVERGED_MS`` instead of being re-learned for seconds."""
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=60, gain_db=-6))
    stage, captured = await reply_with_a_break(laptop, 8.0, misbehave)
    assert erle(captured, 1.0, BREAK_S) >= 25
    assert erle(captured, BREAK_S + RECONVERGED_MS / 1000, 8.0) >= 25
    assert stage.realignments == 1
    if misbehave == "underflow":
        assert laptop.tap.underflows == 1  # the speaker told the tap
