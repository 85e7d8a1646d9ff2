from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.fakestream import (
    GARBAGE,
    CallbackQuirks,
    EchoCoupling,
    FakeCallbackFlags,
    FakeInputStream,
    FakeOutputStream,
    FakeTimeInfo,
)


class Recorder:
    """A callback that remembers what it was called with."""

    def __init__(self, write: int | None = None) -> None:
        self.write = write
        self.calls: list[tuple[tuple[int, ...], int, FakeTimeInfo, FakeCallbackFlags]] = []
        self.seen: list[np.ndarray[Any, Any]] = []
        self.threads: set[int] = set()

    def __call__(self, data: Any, frames: int, info: Any, status: Any) -> None:
        self.calls.append((data.shape, frames, info, status))
        self.seen.append(data.copy())
        self.threads.add(threading.get_ident())
        if self.write is not None:
            data[:] = self.write


def test_output_callback_gets_blocks_like_portaudio() -> None:
    callback = Recorder(write=7)
    stream = FakeOutputStream(
        samplerate=24_000, blocksize=480, channels=2, dtype="int16", callback=callback, latency=0.05
    )
    stream.start()
    stream.advance(3)
    shapes = [c[0] for c in callback.calls]
    assert shapes == [(480, 2)] * 3 and [c[1] for c in callback.calls] == [480] * 3
    assert [c[2].currentTime for c in callback.calls] == [0.0, 0.02, 0.04]
    assert callback.calls[1][2].outputBufferDacTime == pytest.approx(0.07)
    assert not any(c[3] for c in callback.calls)
    assert all((seen == GARBAGE).all() for seen in callback.seen)  # buffers are not zeroed
    assert stream.recorded().shape == (1440, 2) and (stream.recorded() == 7).all()
    assert stream.frames == 1440 and stream.time == pytest.approx(0.06)


def test_status_flags_reach_the_callback() -> None:
    callback = Recorder()
    stream = FakeOutputStream(dtype="int16", callback=callback)
    stream.start()
    stream.advance(1, status=FakeCallbackFlags(output_underflow=True))
    status = callback.calls[0][3]
    assert status and status.output_underflow and not status.output_overflow


def test_latency_is_reported_as_requested_or_named() -> None:
    def latency_of(**kwargs: Any) -> float:
        return FakeOutputStream(callback=Recorder(), **kwargs).latency

    assert latency_of(latency=0.033) == 0.033
    assert latency_of(latency="low") < latency_of(latency="high") == latency_of()
    assert latency_of(latency="low", reported_latency=0.2) == 0.2


def test_dac_frames_lag_written_frames_by_the_latency() -> None:
    stream = FakeOutputStream(blocksize=240, dtype="int16", callback=Recorder(0), latency=0.025)
    stream.start()
    stream.advance(2)
    assert stream.dac_frames == 0
    stream.advance(2)
    assert stream.dac_frames == 960 - 600


def test_silent_from_block_finds_where_output_went_silent() -> None:
    level = [5, 5, 0, 5, 0, 0]
    blocks = iter(level)

    def callback(data: Any, frames: int, info: Any, status: Any) -> None:
        data[:] = next(blocks)

    stream = FakeOutputStream(dtype="int16", callback=callback)
    assert stream.silent_from_block() is None
    stream.start()
    stream.advance(4)
    assert stream.silent_from_block() == 4  # the last block made sound
    stream.advance(2)
    assert stream.silent_from_block() == 4
    assert stream.block_is_silent(2) and not stream.block_is_silent(3)


def test_advance_needs_an_active_stream_and_lifecycle_flags_follow() -> None:
    finished: list[bool] = []
    stream = FakeOutputStream(callback=Recorder(), finished_callback=lambda: finished.append(True))
    assert stream.stopped and not stream.active and not stream.closed
    with pytest.raises(RuntimeError, match="not active"):
        stream.advance()
    with stream:
        assert stream.active and not stream.stopped
        stream.advance()
    assert stream.closed and stream.stopped and finished == [True]
    with pytest.raises(RuntimeError, match="closed"):
        stream.start()


def test_callback_stop_ends_the_stream_after_that_block() -> None:
    class CallbackStop(Exception):  # sounddevice's name
        pass

    def callback(data: Any, frames: int, info: Any, status: Any) -> None:
        data[:] = 3
        raise CallbackStop

    stream = FakeOutputStream(dtype="int16", callback=callback)
    stream.start()
    stream.advance()
    assert not stream.active and (stream.recorded() == 3).all()


def test_callback_errors_propagate_to_the_caller() -> None:
    def callback(data: Any, frames: int, info: Any, status: Any) -> None:
        raise ZeroDivisionError

    stream = FakeOutputStream(callback=callback)
    stream.start()
    with pytest.raises(ZeroDivisionError):
        stream.advance()


def test_callback_mode_is_required() -> None:
    with pytest.raises(TypeError, match="callback mode"):
        FakeOutputStream()


def test_input_stream_feeds_the_source_then_silence() -> None:
    callback = Recorder()
    source = np.arange(1, 1001, dtype="<i2")
    stream = FakeInputStream(blocksize=400, dtype="int16", callback=callback, source=source)
    stream.start()
    stream.advance(3)
    fed = np.concatenate(callback.seen)[:, 0]
    assert (fed[:1000] == source).all() and not fed[1000:].any()
    assert stream.pending_frames == 0 and (stream.recorded()[:, 0] == fed).all()
    stream.feed(np.full(400, 9, dtype="<i2").tobytes())
    stream.advance()
    assert (callback.seen[-1] == 9).all()
    assert callback.calls[0][2].inputBufferAdcTime < callback.calls[0][2].currentTime


def test_input_buffer_is_reused_so_callbacks_must_copy() -> None:
    kept: list[Any] = []

    def keeps_a_reference(data: Any, frames: int, info: Any, status: Any) -> None:
        kept.append(data)

    source = np.arange(1, 961, dtype="<i2")
    stream = FakeInputStream(dtype="int16", callback=keeps_a_reference, source=source)
    stream.start()
    stream.advance(2)
    assert kept[0] is kept[1]  # the first block's samples are gone, as with PortAudio


def test_realtime_stream_calls_back_on_its_own_thread_at_block_rate() -> None:
    callback = Recorder(write=0)
    stream = FakeOutputStream(blocksize=120, dtype="int16", callback=callback, realtime=True)
    with pytest.raises(RuntimeError, match="own thread"):
        stream.advance()
    stream.start()
    time.sleep(0.2)  # 5 ms blocks: about 40 ticks
    stream.stop()
    ticks = len(callback.calls)
    time.sleep(0.05)
    assert ticks >= 5 and len(callback.calls) == ticks  # ticked, and stopped ticking
    assert threading.get_ident() not in callback.threads


def _spin_cpu(seconds: float) -> None:
    """Burn this thread's CPU for ``seconds`` (its own clock, so load elsewhere does not matter)."""
    until = time.thread_time() + seconds
    while time.thread_time() < until:
        pass


def test_rig_cpu_counts_the_ticker_but_not_the_callback() -> None:
    """A callback that burns 2 ms of CPU every 5 ms block: ~40 % of a core that belongs to the
    code under test. The fake's own share (waking on time, building the time-info) stays a
    small fraction of it, and its total survives the ticker thread's end."""

    def busy(data: Any, frames: int, info: Any, status: Any) -> None:
        data.fill(0)
        _spin_cpu(0.002)

    stream = FakeOutputStream(blocksize=120, dtype="int16", callback=busy, realtime=True)
    assert stream.rig_cpu_s() == 0.0  # never ticked
    stream.start()
    time.sleep(0.5)
    stream.close()
    rig = stream.rig_cpu_s()
    assert 0.0 < rig < 0.04  # the callbacks' ~0.2 s of CPU is not in it
    assert stream.rig_cpu_s() == rig  # the ticker has ended: its figure is final


def test_rig_cpu_adds_up_over_restarts_and_a_non_realtime_stream_has_none() -> None:
    stream = FakeOutputStream(blocksize=120, dtype="int16", callback=Recorder(0), realtime=True)
    stream.start()
    time.sleep(0.1)
    stream.stop()
    first = stream.rig_cpu_s()
    stream.start()
    time.sleep(0.1)
    stream.stop()
    assert stream.rig_cpu_s() > first > 0.0  # the second ticker's CPU adds to the first's
    manual = FakeOutputStream(blocksize=120, dtype="int16", callback=Recorder(0))
    manual.start()
    manual.advance(100)
    assert manual.rig_cpu_s() == 0.0  # no ticker thread: the caller's CPU, not the rig's


def test_doubled_callbacks_lag_a_block_over_the_cycle_then_run_back_to_back() -> None:
    """PulseAudio's pattern: the callbacks fall behind the sample count until a whole period
    late, then two run back to back; every period still gets exactly one callback."""
    callback = Recorder(write=0)
    quirks = CallbackQuirks(doubled_every=10)
    stream = FakeOutputStream(blocksize=480, dtype="int16", callback=callback, quirks=quirks)
    stream.start()
    stream.advance(30)
    times = [c[2].currentTime for c in callback.calls]
    assert len(times) == 30
    gaps = np.diff(times)
    assert gaps[9] == pytest.approx(0.002) and gaps[19] == pytest.approx(0.002)  # 0.02 / 10
    assert np.allclose(np.delete(gaps, [9, 19]), 0.022)  # otherwise they fall behind
    assert times[10] == pytest.approx(0.2) and times[20] == pytest.approx(0.4)  # on time again


def test_late_callbacks_come_late_once_and_the_next_is_on_time() -> None:
    callback = Recorder(write=0)
    quirks = CallbackQuirks(late_every=4, late_s=0.05, late_phase=1)
    stream = FakeOutputStream(blocksize=480, dtype="int16", callback=callback, quirks=quirks)
    stream.start()
    stream.advance(8)
    lateness = [c[2].currentTime - k * 0.02 for k, c in enumerate(callback.calls)]
    assert lateness == pytest.approx([0, 0.05, 0, 0, 0, 0.05, 0, 0])


def test_an_output_underflow_plays_silence_nobody_wrote_and_is_flagged() -> None:
    """The device runs dry for two periods: no callback, silence in the room, the clock runs
    on; the next callback is flagged and what it writes is heard two periods later."""
    coupling = EchoCoupling(rate=24_000)
    callback = Recorder(write=1000)
    stream = FakeOutputStream(
        blocksize=480, dtype="int16", callback=callback, echo=coupling, latency=0.0
    )
    stream.start()
    stream.advance(2)
    stream.underflow(2)
    stream.advance(3)
    assert len(callback.calls) == 3 and stream.lost_periods == 2 and stream.frames == 5 * 480
    statuses = [c[3] for c in callback.calls]
    assert statuses[2].output_underflow and not statuses[1] and not statuses[0]
    assert callback.calls[2][2].currentTime == pytest.approx(0.08)  # periods 0, 1, lost 2, 3: 4
    assert len(stream.recorded()) == 3 * 480  # only what callbacks wrote
    assert coupling.played_frames == 5 * 480  # the room heard the silence too


def test_an_input_overflow_loses_a_block_of_sound_and_is_flagged() -> None:
    callback = Recorder()
    source = np.arange(1, 4801, dtype="<i2")
    stream = FakeInputStream(blocksize=480, dtype="int16", callback=callback, source=source)
    stream.start()
    stream.advance(1)
    stream.overflow()
    stream.advance(2)
    assert len(callback.calls) == 2 and stream.lost_periods == 1
    assert callback.calls[1][3].input_overflow and not callback.calls[0][3]
    assert callback.seen[1][0, 0] == 961  # the block after the lost one
    assert callback.calls[1][2].currentTime == pytest.approx(0.04)
