from __future__ import annotations

import asyncio
import subprocess
import sys
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from realtime_console.audio import devices
from realtime_console.audio.fakestream import FakeCallbackFlags, FakeOutputStream, FakeTimeInfo
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker
from realtime_console.errors import AudioDeviceError

from .helpers import Rig, const_pcm, settle, speaker_rig

BLOCK = 480  # the default 20 ms block at 24 kHz


def test_stream_is_opened_as_24khz_mono_int16_with_the_block_size() -> None:
    rig = speaker_rig(block_ms=10)
    stream = rig.stream
    assert (stream.samplerate, stream.channels, stream.dtype, stream.blocksize) == (
        24_000,
        1,
        np.dtype("int16"),
        240,
    )
    assert stream.active


def test_idle_speaker_writes_silence_into_every_sample() -> None:
    rig = speaker_rig()
    rig.stream.advance(3)  # the fake hands over garbage-filled buffers, like PortAudio
    assert not rig.output().any()


def test_prebuffer_delays_start_then_plays_the_audio_exactly() -> None:
    rig = speaker_rig(prebuffer_ms=120)
    pcm = np.arange(1, 4801, dtype="<i2").tobytes()  # 200 ms, every sample distinct
    rig.speaker.enqueue(pcm[:4800], "r1", "i1")  # 100 ms: below the prebuffer
    rig.stream.advance(4)
    assert not rig.output().any()
    rig.speaker.enqueue(pcm[4800:], "r1", "i1")
    rig.speaker.end_response("r1")
    rig.stream.advance(12)
    out = rig.output()
    assert out[: 4 * BLOCK].tobytes() == bytes(4 * BLOCK * 2)
    assert out[4 * BLOCK : 4 * BLOCK + 4800].tobytes() == pcm
    assert not out[4 * BLOCK + 4800 :].any()
    assert rig.speaker.played_ms("i1") == 200.0 and rig.speaker.received_ms("i1") == 200.0


def test_underrun_plays_silence_and_is_counted() -> None:
    rig = speaker_rig(prebuffer_ms=0)  # no playout delay: the reply starts at the first block
    rig.speaker.enqueue(const_pcm(500, 60), "r1", "i1")
    rig.stream.advance(4)  # 60 ms of audio, then 20 ms of nothing mid-response
    out = rig.output()
    assert (out[:1440] == 500).all() and not out[1440:].any()
    assert rig.speaker.stats.underruns == 1
    assert rig.speaker.stats.buffer.underrun_samples == BLOCK
    rig.speaker.enqueue(const_pcm(600, 40), "r1", "i1")
    rig.speaker.end_response("r1")
    rig.stream.advance(5)
    assert (rig.output()[4 * BLOCK : 6 * BLOCK] == 600).all()
    assert rig.speaker.stats.underruns == 1  # running dry after the end is not an underrun


def test_status_flags_are_counted() -> None:
    rig = speaker_rig()
    rig.stream.advance(2, status=FakeCallbackFlags(output_underflow=True))
    rig.stream.advance(1, status=FakeCallbackFlags(priming_output=True))
    rig.stream.advance(1)
    stats = rig.speaker.stats
    assert (stats.output_underflows, stats.output_overflows, stats.priming_outputs) == (2, 0, 1)
    assert stats.callbacks == 4


@pytest.mark.parametrize("block_ms, fade_ms", [(20, 10), (5, 50)])
def test_output_is_silent_within_one_block_of_interrupt(block_ms: float, fade_ms: float) -> None:
    rig = speaker_rig(block_ms=block_ms, prebuffer_ms=0, fade_ms=fade_ms)
    block = round(block_ms * 24)
    rig.speaker.enqueue(const_pcm(8000, 1000), "r1", "i1")
    rig.stream.advance(5)
    assert rig.speaker.is_playing
    rig.speaker.interrupt()
    cut = len(rig.stream.blocks)
    rig.stream.advance(10)
    assert rig.stream.silent_from_block() == cut + 1
    fade = rig.stream.blocks[cut][:, 0].astype(int)
    audible = fade[fade != 0]
    assert 0 < len(audible) <= block  # a short ramp, not a click...
    assert (np.diff(fade) <= 0).all() and audible[0] < 8000  # ...falling from the signal level
    assert not rig.speaker.is_playing


def test_interrupt_reports_none_before_any_audio() -> None:
    assert speaker_rig().speaker.interrupt() is None


@pytest.mark.parametrize("latency_s", [0.0, 0.045, 0.1, 0.25])
@pytest.mark.parametrize("blocks_before_cut", [9, 14, 22, 40])
def test_heard_ms_matches_the_audio_that_reached_the_listener(
    latency_s: float, blocks_before_cut: int
) -> None:
    rig = speaker_rig(latency_s, prebuffer_ms=120)
    speaker, stream = rig.speaker, rig.stream
    speaker.enqueue(const_pcm(1000, 60), "rA", "A")  # below the prebuffer: silence first
    stream.advance(3)
    speaker.enqueue(const_pcm(1000, 70), "rA", "A")
    speaker.end_response("rA")
    for _ in range(10):
        speaker.enqueue(const_pcm(2000, 37), "rB", "B")  # odd chunk sizes
    stream.advance(blocks_before_cut - 3)

    position = speaker.interrupt()

    reached_dac = rig.output()[: stream.dac_frames]  # what the simulated listener heard
    heard_b_ms = np.count_nonzero(reached_dac == 2000) / 24
    heard_a_ms = np.count_nonzero(reached_dac == 1000) / 24
    b_started = blocks_before_cut * 20 > 60 + 130  # 60 ms prebuffer silence, then 130 ms of A
    assert position is not None
    assert position.item_id == ("B" if b_started else "A")
    assert abs(position.heard_ms - (heard_b_ms if b_started else heard_a_ms)) <= 10
    assert abs(speaker.heard_ms("A") - heard_a_ms) <= 10
    assert abs(speaker.heard_ms("B") - heard_b_ms) <= 10
    assert 0 <= position.heard_ms <= position.received_ms
    assert speaker.latency_ms == pytest.approx(latency_s * 1000, abs=0.05)


def test_late_deltas_of_an_interrupted_response_are_never_played() -> None:
    rig = speaker_rig(prebuffer_ms=0)
    rig.speaker.enqueue(const_pcm(1000, 100), "r1", "i1")
    rig.stream.advance(2)
    rig.speaker.interrupt()
    for _ in range(5):
        assert not rig.speaker.enqueue(const_pcm(1000, 100), "r1", "i1")
    assert rig.speaker.enqueue(const_pcm(2000, 100), "r2", "i2")
    rig.speaker.end_response("r2")
    rig.stream.advance(20)
    after_cut = rig.output()[2 * BLOCK :]  # a 10 ms fade of r1, then r2 right behind it
    assert not (after_cut == 1000).any()
    assert (after_cut == 2000).sum() == 2400
    assert rig.speaker.stats.buffer.late_chunks == 5


def test_late_deltas_of_a_dropped_response_are_never_played() -> None:
    rig = speaker_rig(prebuffer_ms=120)
    rig.speaker.enqueue(const_pcm(1000, 100), "r1", "i1")  # still prebuffering
    rig.stream.advance(2)
    rig.speaker.drop_response("r1")
    assert not rig.speaker.enqueue(const_pcm(1000, 100), "r1", "i1")
    rig.speaker.enqueue(const_pcm(2000, 200), "r2", "i2")
    rig.stream.advance(20)
    assert not (rig.output() == 1000).any()
    assert (rig.output() == 2000).sum() == 4800


def test_buffer_bound_refuses_and_counts_overflow() -> None:
    rig = speaker_rig(prebuffer_ms=0, max_buffer_ms=100)
    accepted = [rig.speaker.enqueue(const_pcm(100 + i, 40), "r", "i") for i in range(5)]
    assert accepted == [True, True, False, False, False]
    stats = rig.speaker.stats
    assert stats.overflows == 3 and stats.buffer.max_buffered_samples <= 2400
    rig.speaker.end_response("r")
    rig.stream.advance(6)
    assert sorted(set(rig.output().tolist())) == [0, 100, 101]


async def test_drain_resolves_when_the_buffer_empties() -> None:
    rig = speaker_rig(prebuffer_ms=120)
    rig.speaker.enqueue(const_pcm(1000, 100), "r", "i")  # below the prebuffer: drain flushes it
    drained = asyncio.create_task(rig.speaker.drain())
    await settle()
    for _ in range(4):
        rig.stream.advance()
        await settle()
        assert not drained.done()
    rig.stream.advance()  # the last 20 ms leave the buffer
    await asyncio.wait_for(drained, 1)
    assert (rig.output() == 1000).sum() == 2400


async def test_drain_waits_for_audio_enqueued_while_draining() -> None:
    rig = speaker_rig(prebuffer_ms=0)
    rig.speaker.enqueue(const_pcm(1000, 20), "r", "i")
    drained = asyncio.create_task(rig.speaker.drain())
    await settle()
    rig.stream.advance()  # empty now; the loop hears of it on its next turn...
    rig.speaker.enqueue(const_pcm(1000, 20), "r", "i")  # ...after more audio has arrived
    await settle()
    assert not drained.done()
    rig.stream.advance(2)
    await asyncio.wait_for(drained, 1)


async def test_drain_returns_at_once_when_nothing_is_queued() -> None:
    rig = speaker_rig()
    await asyncio.wait_for(rig.speaker.drain(), 1)


async def test_drain_on_a_real_time_callback_thread() -> None:
    rig = speaker_rig(realtime=True, block_ms=5, prebuffer_ms=20)
    try:
        rig.speaker.enqueue(const_pcm(1000, 100), "r", "i")
        rig.speaker.end_response("r")
        await asyncio.wait_for(rig.speaker.drain(), 5)
        assert rig.speaker.played_ms("i") == 100.0
        assert rig.stream.callback_error is None
    finally:
        rig.speaker.close()
    assert (rig.output() == 1000).sum() == 2400


async def test_close_releases_pending_drains() -> None:
    rig = speaker_rig()
    rig.speaker.enqueue(const_pcm(1000, 100), "r", "i")
    drained = asyncio.create_task(rig.speaker.drain())
    await settle()
    rig.speaker.close()
    await asyncio.wait_for(drained, 1)
    assert rig.stream.closed


async def test_drain_needs_a_running_speaker() -> None:
    speaker = Speaker(stream_factory=FakeOutputStream)
    speaker.enqueue(const_pcm(1, 20), "r", "i")
    with pytest.raises(RuntimeError, match="running speaker"):
        await speaker.drain()


def test_context_manager_starts_and_closes() -> None:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FakeOutputStream(**kwargs))
        return streams[-1]

    with Speaker(stream_factory=factory) as speaker:
        assert streams[0].active and speaker.stream is streams[0]
    assert streams[0].closed and speaker.stream is None


class PortAudioError(Exception):
    """Stands in for sounddevice.PortAudioError (matched by name)."""


def test_missing_portaudio_becomes_audio_device_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def no_portaudio() -> Any:
        raise AudioDeviceError("PortAudio library not found")

    monkeypatch.setattr(devices, "import_sounddevice", no_portaudio)
    with pytest.raises(AudioDeviceError, match="PortAudio library not found"):
        Speaker().start()


def test_device_open_failure_is_one_clear_line(monkeypatch: pytest.MonkeyPatch) -> None:
    def output_stream(**kwargs: Any) -> Any:
        raise PortAudioError(
            "Error opening OutputStream:\n Invalid sample rate [PaErrorCode -9997]"
        )

    fake_sd = SimpleNamespace(OutputStream=output_stream)
    monkeypatch.setattr(devices, "import_sounddevice", lambda: fake_sd)
    with pytest.raises(AudioDeviceError) as caught:
        Speaker(device=3).start()
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("cannot open 3 output device") and "Invalid sample rate" in message


def test_start_failure_closes_the_stream_and_maps_the_error() -> None:
    streams: list[FakeOutputStream] = []

    class FailingStream(FakeOutputStream):
        def start(self) -> None:
            raise PortAudioError("Device unavailable")

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FailingStream(**kwargs))
        return streams[-1]

    with pytest.raises(AudioDeviceError, match="Device unavailable"):
        Speaker(stream_factory=factory).start()
    assert streams[0].closed


def test_other_errors_are_not_disguised_as_device_errors() -> None:
    def factory(**kwargs: Any) -> FakeOutputStream:
        raise TypeError("bug")

    with pytest.raises(TypeError, match="bug"):
        Speaker(stream_factory=factory).start()


def test_importing_the_audio_layer_loads_neither_sounddevice_nor_numpy() -> None:
    code = (
        "import sys, realtime_console.audio.speaker, realtime_console.audio.devices, "
        "realtime_console.audio.jitter; "
        "print(sorted(m for m in ('sounddevice', 'numpy') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=30
    )
    assert result.stdout.strip() == "[]"


# ---- replies longer than the buffer's old 30 s bound, and what is said when audio is lost -------


def _stream_reply(rig: Rig, seconds: int, *, pace: int, chunk_ms: int = 200) -> bytes:
    """Enqueue a ``seconds`` reply ``pace`` times faster than real time (one device block of
    20 ms brings ``pace * 20 ms`` of audio), then end it and play everything out. Chunk ``k``
    holds the value ``k + 1`` so the output can be matched sample for sample."""
    per_block = pace * 20 // chunk_ms or 1
    chunks = [const_pcm(k % 30_000 + 1, chunk_ms) for k in range(seconds * 1000 // chunk_ms)]
    for start in range(0, len(chunks), per_block):
        for chunk in chunks[start : start + per_block]:
            rig.speaker.enqueue(chunk, "resp_long", "item_long")
        rig.stream.advance()
    rig.speaker.end_response("resp_long")
    while rig.speaker.is_playing:
        rig.stream.advance(50)
    return b"".join(chunks)


@pytest.mark.parametrize("chunk_ms", [200, 20])
def test_a_60_s_reply_streamed_at_10x_is_played_whole(chunk_ms: int) -> None:
    notices: list[str] = []
    rig = speaker_rig(prebuffer_ms=40, on_drop=notices.append)  # default buffer bound
    sent = _stream_reply(rig, 60, pace=10, chunk_ms=chunk_ms)
    out = rig.output()
    played = out[out != 0]
    assert len(played) == 60 * 24_000
    assert played.tobytes() == sent
    stats = rig.speaker.stats
    assert stats.overflows == 0 and stats.dropped_ms == 0.0 and stats.underruns == 0
    assert stats.buffer.max_buffered_samples > 50 * 24_000  # it really was held far ahead
    assert notices == []


def test_a_reply_over_the_bound_is_one_notice_and_counted_exactly() -> None:
    notices: list[str] = []
    rig = speaker_rig(prebuffer_ms=0, max_buffer_ms=1000, on_drop=notices.append)
    accepted = [rig.speaker.enqueue(const_pcm(100 + k, 200), "resp_big", "i") for k in range(15)]
    assert accepted == [True] * 5 + [False] * 10  # 1 s fits, 2 s does not
    assert notices == []  # not while the reply may still be streaming
    rig.speaker.end_response("resp_big")
    assert notices == ["playback buffer full: dropped 2.0 s of reply resp_big"]
    stats = rig.speaker.stats
    assert stats.overflows == 10 and stats.buffer.overflow_samples == 48_000
    assert stats.dropped_ms == 2000.0
    rig.stream.advance(60)
    assert np.count_nonzero(rig.output()) == 24_000  # exactly the second that fitted
    rig.speaker.enqueue(const_pcm(7, 300), "resp_next", "i2")  # a reply that fits: no notice
    rig.speaker.end_response("resp_next")
    rig.speaker.end_response("resp_big")  # ending it again says nothing more
    rig.speaker.close()
    assert len(notices) == 1


@pytest.mark.parametrize("ending", ["drop_response", "interrupt", "close"])
def test_a_reply_cut_short_still_reports_what_the_buffer_refused(ending: str) -> None:
    notices: list[str] = []
    rig = speaker_rig(prebuffer_ms=0, max_buffer_ms=100, on_drop=notices.append)
    for _ in range(4):
        rig.speaker.enqueue(const_pcm(9, 40), "resp_cut", "i")  # 80 ms fit, 80 ms refused
    rig.stream.advance()
    if ending == "drop_response":
        rig.speaker.drop_response("resp_cut")
    elif ending == "interrupt":
        rig.speaker.interrupt()
    else:
        rig.speaker.close()
    assert notices == ["playback buffer full: dropped 80 ms of reply resp_cut"]
    rig.speaker.close()
    assert len(notices) == 1


def test_playback_hands_its_notice_to_the_speaker() -> None:
    notices: list[str] = []
    rig = speaker_rig(prebuffer_ms=0, max_buffer_ms=100)
    sink = Playback(rig.speaker, on_drop=notices.append)
    sink.audio("resp_p", "i", const_pcm(5, 150))
    sink.response_done("resp_p")
    assert notices == ["playback buffer full: dropped 150 ms of reply resp_p"]
    assert rig.speaker.stats.dropped_ms == 150.0


# ---- the device-true position: PortAudio's DAC times, not the latency the stream reports -------


class _DacStream(FakeOutputStream):
    """A fake whose time-info puts each block ``dac_s`` from the DAC whatever ``latency`` it
    reports (PulseAudio's reported latency is not where its blocks really are), with a few odd
    stamps (``odd``: block index -> the delay that block claims), a clock that can be read
    between blocks (``offset_s`` past the last block's hand-over), or no times at all."""

    def __init__(
        self,
        *args: Any,
        dac_s: float,
        odd: dict[int, float] | None = None,
        timed: bool = True,
        **kwargs: Any,
    ) -> None:
        speaker_callback = kwargs.pop("callback")
        self.dac_s = dac_s
        self.offset_s: float | None = None  # None: the fake's own clock (the block's end)
        self.timed_clock = timed  # a host API without times reads its clock as 0 too
        self._index = 0
        odd = odd or {}

        def callback(out: Any, frames: int, time: Any, status: Any) -> None:
            delay = odd.get(self._index, self.dac_s)
            self._index += 1
            if timed:
                info = FakeTimeInfo(0.0, time.currentTime, time.currentTime + delay)
            else:
                info = FakeTimeInfo(0.0, 0.0, 0.0)
            speaker_callback(out, frames, info, status)

        kwargs["callback"] = callback
        super().__init__(*args, **kwargs)

    @property
    def time(self) -> float:
        if not self.timed_clock:
            return 0.0
        if self.offset_s is None:
            return self.frames / self.samplerate
        return (self.frames - self.blocksize) / self.samplerate + self.offset_s

    def dac_reached(self) -> int:
        """Frames that have truly reached the DAC by ``time``."""
        return max(0, min(self.frames, round((self.time - self.dac_s) * self.samplerate)))


def _dac_rig(reported_s: float, dac_s: float, **kwargs: Any) -> Rig:
    streams: list[_DacStream] = []
    timed = kwargs.pop("timed", True)
    odd = kwargs.pop("odd", None)

    def factory(**stream_kwargs: Any) -> _DacStream:
        stream = _DacStream(
            **stream_kwargs, reported_latency=reported_s, dac_s=dac_s, odd=odd, timed=timed
        )
        streams.append(stream)
        return stream

    speaker = Speaker(stream_factory=factory, **kwargs)
    speaker.start()
    return Rig(speaker, streams[0])


def _heard_truly_ms(rig: Rig, value: int, reached: int) -> float:
    return float(np.count_nonzero(rig.output()[:reached] == value)) / 24


@pytest.mark.parametrize("reported_s, dac_s", [(0.2, 0.045), (0.04, 0.057), (0.02, 0.0)])
def test_heard_follows_the_dac_times_not_the_reported_latency(
    reported_s: float, dac_s: float
) -> None:
    rig = _dac_rig(reported_s, dac_s, prebuffer_ms=0)
    rig.speaker.enqueue(const_pcm(1000, 2000), "r1", "i1")
    rig.stream.advance(30)  # 600 ms handed over

    stream = rig.stream
    assert isinstance(stream, _DacStream)
    truly = _heard_truly_ms(rig, 1000, stream.dac_reached())
    assert abs(rig.speaker.heard_ms("i1") - truly) <= 0.1
    position = rig.speaker.interrupt()
    assert position is not None
    assert truly - 1 <= position.heard_ms <= truly  # floored to whole ms, never more
    assert rig.speaker.latency_ms == pytest.approx(dac_s * 1000, abs=0.01)
    assert rig.speaker.reported_latency_ms == pytest.approx(reported_s * 1000, abs=0.05)
    assert rig.speaker.latency_measured


@pytest.mark.parametrize("offset_ms", [0.0, 7.5, 13.0, 20.0])
def test_heard_counts_the_time_since_the_last_block(offset_ms: float) -> None:
    """Between callbacks the DAC plays on: asked 7.5 ms after a block was handed over, 7.5 ms
    more has been heard than right at the hand-over."""
    rig = _dac_rig(0.2, 0.045, prebuffer_ms=0)
    stream = rig.stream
    assert isinstance(stream, _DacStream)
    rig.speaker.enqueue(const_pcm(1000, 2000), "r1", "i1")
    stream.advance(30)
    stream.offset_s = 0.0
    at_hand_over = rig.speaker.heard_ms("i1")
    stream.offset_s = offset_ms / 1000
    assert rig.speaker.heard_ms("i1") == pytest.approx(at_hand_over + offset_ms, abs=0.05)
    assert rig.speaker.heard_ms("i1") == pytest.approx(
        _heard_truly_ms(rig, 1000, stream.dac_reached()), abs=0.05
    )


def test_the_median_delay_ignores_odd_stamps_at_the_start_and_later() -> None:
    # Through PulseAudio the first block says 0 ms and the next ones ramp up while the device
    # buffer fills; now and then one block is stamped far off.
    odd = {0: 0.0, 1: 0.02, 2: 0.04, 25: 0.15}
    rig = _dac_rig(0.04, 0.057, prebuffer_ms=0, odd=odd)
    stream = rig.stream
    assert isinstance(stream, _DacStream)
    rig.speaker.enqueue(const_pcm(1000, 2000), "r1", "i1")
    stream.advance(27)  # the 0.15 s stamp is two blocks old
    assert rig.speaker.latency_ms == pytest.approx(57.0, abs=0.01)
    truly = _heard_truly_ms(rig, 1000, stream.dac_reached())
    assert abs(rig.speaker.heard_ms("i1") - truly) <= 0.1


def test_a_host_api_without_times_falls_back_to_the_reported_latency() -> None:
    rig = _dac_rig(0.1, 0.045, prebuffer_ms=0, timed=False)
    rig.speaker.enqueue(const_pcm(1000, 2000), "r1", "i1")
    rig.stream.advance(30)
    assert not rig.speaker.latency_measured
    assert rig.speaker.latency_ms == pytest.approx(100.0, abs=0.05)
    assert rig.speaker.heard_ms("i1") == pytest.approx(600 - 100, abs=0.05)


def test_before_any_block_the_latency_is_the_reported_one() -> None:
    rig = _dac_rig(0.1, 0.045)
    assert rig.speaker.latency_ms == pytest.approx(100.0, abs=0.05)
    assert not rig.speaker.latency_measured


def test_after_close_heard_still_counts_the_measured_delay() -> None:
    rig = _dac_rig(0.2, 0.045, prebuffer_ms=0)
    rig.speaker.enqueue(const_pcm(1000, 2000), "r1", "i1")
    rig.stream.advance(30)
    rig.speaker.close(discard=True)
    assert rig.speaker.heard_ms("i1") == pytest.approx(600 - 45, abs=0.05)
