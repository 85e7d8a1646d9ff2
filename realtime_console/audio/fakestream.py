"""Clock-driven stand-ins for ``sounddevice.OutputStream`` and ``sounddevice.InputStream``.

Shipped in the package so tests and benchmarks run without a sound card or PortAudio. They take
the same constructor keywords and expose the same ``start/stop/abort/close``, ``active``,
``stopped``, ``closed``, ``latency``, ``samplerate``, ``blocksize`` and context-manager surface.

Instead of a PortAudio thread, time moves when you call ``advance(n_blocks)``: each block calls the
callback synchronously, exactly as PortAudio would (numpy arrays shaped ``(frames, channels)``, a
time-info struct, callback flags), and records what was written (output) or fed (input). With
``realtime=True`` a thread calls the callback at block rate instead, for benchmarks and for tests
that need the callback on a foreign thread. A realtime fake counts its own CPU apart from its
callback's (``rig_cpu_s``), so a benchmark can take the rig out of a process's CPU exactly.

``CallbackQuirks`` makes the callbacks' times behave like real devices' (measured through
PulseAudio, docs/echo-cancellation.md): the speaker called back twice in a row, single late
callbacks. ``FakeOutputStream.underflow`` and ``FakeInputStream.overflow`` make the device lose
whole periods (it played silence nobody wrote; it dropped captured audio) while its clock runs
on, the next callback carrying ``output_underflow`` / ``input_overflow``: the breaks an echo
canceller's reference must survive.

``EchoCoupling`` joins an output and an input fake through a simulated acoustic echo path
(``audio/echo/path.py``: delay, room, attenuation): what the output plays is heard by the input
after both streams' reported latencies and the path's own delay, so tests can put a laptop's
speaker next to its microphone.

Like PortAudio, one buffer is reused for every block and output buffers are *not* zeroed before
the callback (they are filled with ``GARBAGE``), so a callback that forgets to write every sample,
or keeps a reference to a buffer instead of copying it, is caught.
"""

from __future__ import annotations

import dataclasses
import threading
import time as _time
from collections.abc import Callable
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from realtime_console.audio.echo.path import EchoPathSpec

GARBAGE = -21846  # 0xAAAA: what a fresh output buffer holds before the callback writes it
_NAMED_LATENCY = {"low": 0.02, "high": 0.1}  # what the fake reports for latency="low"/"high"

AudioArray = npt.NDArray[Any]
_S = TypeVar("_S", bound="_FakeStream")
_FULL_SCALE = 32768.0
StreamCallback = Callable[[AudioArray, int, "FakeTimeInfo", "FakeCallbackFlags"], None]


@dataclass(frozen=True)
class FakeCallbackFlags:
    """Same attributes and truthiness as ``sounddevice.CallbackFlags``."""

    input_underflow: bool = False
    input_overflow: bool = False
    output_underflow: bool = False
    output_overflow: bool = False
    priming_output: bool = False

    def __bool__(self) -> bool:
        return (
            self.input_underflow
            or self.input_overflow
            or self.output_underflow
            or self.output_overflow
            or self.priming_output
        )


@dataclass(frozen=True)
class CallbackQuirks:
    """When a device calls back, as real ones do; only the reported ``currentTime`` (and the
    DAC/ADC times with it) moves: what is played and captured stays on the sample clock.

    ``doubled_every``: PulseAudio's pattern, every that many periods (4-12 s of them measured):
    the callbacks fall steadily behind the sample count until a whole period late, then two run
    back to back (a fraction of a millisecond apart) and the lag starts again from nothing.
    ``late_every``/``late_s``: one callback in every ``late_every`` (periods ``late_phase``,
    ``late_phase + late_every``, …; by default the last of each group) comes ``late_s`` late (a
    loaded machine), the next one is on time again."""

    doubled_every: int | None = None
    late_every: int | None = None
    late_s: float = 0.0
    late_phase: int | None = None

    def lag(self, period: int, period_s: float) -> float:
        """How late the callback of period ``period`` reports it is, in seconds."""
        lag = 0.0
        if self.doubled_every:
            lag += period_s * (period % self.doubled_every) / self.doubled_every
        if self.late_every:
            phase = self.late_every - 1 if self.late_phase is None else self.late_phase
            if period % self.late_every == phase % self.late_every:
                lag += self.late_s
        return lag


@dataclass(frozen=True)
class FakeTimeInfo:
    """Same fields as the PortAudio time-info struct; seconds on the stream's own clock."""

    inputBufferAdcTime: float  # PortAudio's field names
    currentTime: float
    outputBufferDacTime: float


class _FakeStream:
    """Shared clock, lifecycle and recording for the input and output fakes."""

    _kind = "stream"
    _lost_flag = ""  # the status flag of the callback after lost periods

    def __init__(
        self,
        samplerate: float | None = None,
        blocksize: int | None = None,
        device: int | str | None = None,
        channels: int | None = None,
        dtype: str | None = None,
        latency: float | str | None = None,
        extra_settings: object = None,
        callback: StreamCallback | None = None,
        finished_callback: Callable[[], None] | None = None,
        clip_off: bool | None = None,
        dither_off: bool | None = None,
        never_drop_input: bool | None = None,
        prime_output_buffers_using_stream_callback: bool | None = None,
        *,
        reported_latency: float | None = None,
        realtime: bool = False,
        record: bool = True,
        echo: EchoCoupling | None = None,
        quirks: CallbackQuirks | None = None,
    ) -> None:
        if callback is None:
            raise TypeError(f"Fake{self._kind.title()}Stream only supports callback mode")
        self.samplerate = float(samplerate or 24_000)
        # PortAudio's blocksize=0 means "whatever suits the host"; the fake picks 20 ms.
        self.blocksize = int(blocksize) if blocksize else round(self.samplerate / 50)
        self.device = device
        self.channels = int(channels or 1)
        self.dtype = np.dtype(dtype or "float32")
        if reported_latency is not None:
            self.latency = float(reported_latency)
        elif isinstance(latency, str):
            self.latency = _NAMED_LATENCY[latency]
        else:
            self.latency = _NAMED_LATENCY["high"] if latency is None else float(latency)
        self.callback = callback
        self.finished_callback = finished_callback
        self.realtime = realtime
        self.record = record
        self.echo = echo
        self.quirks = quirks or CallbackQuirks()
        self._lost_pending = 0  # periods the device will lose (underflow / overflow)
        self._flag_next = False  # the callback after lost periods reports them
        self.lost_periods = 0
        self.cpu_load = 0.0
        self.callback_error: BaseException | None = None  # set if a realtime tick raised
        self.blocks: list[AudioArray] = []  # per block: what was written (out) / fed (in)
        self._buffer: AudioArray = np.zeros((self.blocksize, self.channels), dtype=self.dtype)
        self._frames = 0
        self._active = False
        self._closed = False
        self._ticker: threading.Thread | None = None
        self._stop_ticking = threading.Event()
        # CPU accounting of a realtime ticker (``rig_cpu_s``): (the CPU of the ticker threads
        # that have ended, the running one's CPU clock or None), replaced whole so a reader on
        # another thread never sees half an update; and the CPU spent inside the callback.
        self._ticker_cpu: tuple[float, int | None] = (0.0, None)
        self._callback_cpu_s = 0.0

    # ------------------------------------------------------------------ sounddevice interface

    @property
    def active(self) -> bool:
        return self._active

    @property
    def stopped(self) -> bool:
        return not self._active

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def time(self) -> float:
        """The stream clock: seconds of blocks processed since the stream was created."""
        return self._frames / self.samplerate

    def start(self) -> None:
        if self._closed:
            raise RuntimeError("stream is closed")
        if self._active:
            return
        self._active = True
        ended = self._ticker  # a ticker that stopped itself (CallbackStop) may still be ending
        if ended is not None and ended is not threading.current_thread():
            ended.join()
        if self.realtime:
            self._stop_ticking.clear()
            self._ticker = threading.Thread(target=self._tick_in_real_time, daemon=True)
            self._ticker.start()

    def stop(self, ignore_errors: bool = True) -> None:
        self._deactivate()

    def abort(self, ignore_errors: bool = True) -> None:
        self._deactivate()

    def close(self, ignore_errors: bool = True) -> None:
        self._deactivate()
        self._closed = True

    def __enter__(self: _S) -> _S:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # ------------------------------------------------------------------ the clock

    @property
    def frames(self) -> int:
        """Frames processed (blocks advanced × blocksize)."""
        return self._frames

    def advance(self, n_blocks: int = 1, *, status: FakeCallbackFlags | None = None) -> None:
        """Run ``n_blocks`` device periods now, on the calling thread.

        ``status`` is passed to every callback of this call (default: no flags).
        """
        if self.realtime:
            raise RuntimeError("a realtime fake stream is driven by its own thread")
        for _ in range(n_blocks):
            if not self._active:
                raise RuntimeError("stream is not active (call start(), or it was stopped)")
            self._tick(status or FakeCallbackFlags())

    def _lose(self, periods: int) -> None:
        if periods < 1:
            raise ValueError("periods must be >= 1")
        self._lost_pending += periods

    def _tick(self, status: FakeCallbackFlags) -> None:
        if self._lost_pending:
            # No callback this period: the device's clock runs on over audio nobody handled.
            self._lost_pending -= 1
            self.lost_periods += 1
            self._lose_period()
            self._frames += self.blocksize
            self._flag_next = True
            return
        if self._flag_next:
            self._flag_next = False
            status = dataclasses.replace(status, **{self._lost_flag: True})
        period_s = self.blocksize / self.samplerate
        now = self.time + self.quirks.lag(self._frames // self.blocksize, period_s)
        # As PortAudio: an input block is handed over once all of it has been captured, so its
        # first sample reached the ADC a block (and the input latency) before the callback.
        block_s = self.blocksize / self.samplerate if self._kind == "input" else 0.0
        info = FakeTimeInfo(
            inputBufferAdcTime=now - self.latency - block_s,
            currentTime=now,
            outputBufferDacTime=now + self.latency,
        )
        self._before_callback()
        timed = self.realtime  # a realtime ticker counts its callbacks' CPU apart (rig_cpu_s)
        started = _time.thread_time() if timed else 0.0
        try:
            self.callback(self._buffer, self.blocksize, info, status)
        except Exception as exc:
            # sounddevice's own control-flow exceptions, matched by name: the fake never imports
            # sounddevice. CallbackStop keeps this block; CallbackAbort discards it.
            name = type(exc).__name__
            if name not in ("CallbackStop", "CallbackAbort"):
                raise
            if timed:
                self._callback_cpu_s += _time.thread_time() - started
            if name == "CallbackStop":
                self._after_callback()
            self._frames += self.blocksize
            self._active = False
            self._notify_finished()
            return
        if timed:
            self._callback_cpu_s += _time.thread_time() - started
        self._after_callback()
        self._frames += self.blocksize

    def _lose_period(self) -> None:
        """What the device does over a period with no callback."""

    def _before_callback(self) -> None:
        """Prepare ``self._buffer`` for the callback."""

    def _after_callback(self) -> None:
        """Record what the callback left in ``self._buffer``."""

    def _deactivate(self) -> None:
        was_active = self._active
        self._active = False
        ticker, self._ticker = self._ticker, None
        if ticker is not None:
            self._stop_ticking.set()
            if ticker is not threading.current_thread():
                ticker.join()
        if was_active:
            self._notify_finished()

    def _notify_finished(self) -> None:
        if self.finished_callback is not None:
            self.finished_callback()

    def _tick_in_real_time(self) -> None:
        ended, _ = self._ticker_cpu
        # Not on every platform (macOS, Windows): there the figure is only final at the end.
        clock_of = getattr(_time, "pthread_getcpuclockid", None)
        if clock_of is not None:
            self._ticker_cpu = (ended, clock_of(threading.get_ident()))
        try:
            self._tick_until_stopped()
        finally:
            # The thread's clock dies with it: its total joins the ended ones, in one step.
            self._ticker_cpu = (ended + _time.thread_time(), None)

    def _tick_until_stopped(self) -> None:
        # Deadlines on a monotonic schedule, so the tick rate does not drift with callback cost.
        period = self.blocksize / self.samplerate
        deadline = _time.perf_counter()
        while not self._stop_ticking.is_set() and self._active:
            try:
                self._tick(FakeCallbackFlags())
            except Exception as exc:  # PortAudio would print it and abort the stream
                self.callback_error = exc
                self._active = False
                self._notify_finished()
                return
            deadline += period
            delay = deadline - _time.perf_counter()
            if delay > 0:
                self._stop_ticking.wait(delay)
            else:
                deadline = _time.perf_counter()  # fell behind: carry on without bursting

    def rig_cpu_s(self) -> float:
        """CPU seconds this realtime fake's ticker threads have spent on anything but the
        callback: the rig's own cost (waking on time, building time-info, recording), which
        PortAudio's thread would spend instead. A process's CPU less this is the code under
        test's. Read from any thread; a callback running at that moment counts as the rig's
        until it returns (an error of one callback at most). Garbage collections the ticker's
        own allocations trigger count as the rig's too, though they walk everyone's objects:
        if anything, the code under test's figure reads a little low."""
        ended, clock = self._ticker_cpu
        total = ended
        if clock is not None:
            try:
                total += _time.clock_gettime(clock)
            except OSError:  # the ticker ended after the read: its total is in the new pair
                total = self._ticker_cpu[0]
        return max(0.0, total - self._callback_cpu_s)

    # ------------------------------------------------------------------ recordings

    def recorded(self) -> AudioArray:
        """Every recorded block, concatenated: shape ``(frames, channels)``."""
        if not self.blocks:
            return np.zeros((0, self.channels), dtype=self.dtype)
        return np.concatenate(self.blocks)


class FakeOutputStream(_FakeStream):
    """``sounddevice.OutputStream`` on a test clock; records every block the callback writes."""

    _kind = "output"
    _lost_flag = "output_underflow"

    def underflow(self, periods: int = 1) -> None:
        """The next ``periods`` periods run dry: the device plays silence the callback never
        wrote (so everything after plays that much later), and the callback after them has
        ``output_underflow`` set."""
        self._lose(periods)

    def _lose_period(self) -> None:
        if self.echo is not None:
            silence = np.zeros(self.blocksize, dtype=np.float32)
            self.echo.played(self._frames + self.latency_frames, silence)

    def _before_callback(self) -> None:
        self._buffer.fill(GARBAGE if self.dtype.kind == "i" else np.nan)

    def _after_callback(self) -> None:
        if self.record:
            self.blocks.append(self._buffer.copy())
        if self.echo is not None:
            # Written now, heard at the DAC ``latency`` later (the time-info's outputBufferDacTime).
            self.echo.played(self._frames + self.latency_frames, _as_float(self._buffer))

    @property
    def latency_frames(self) -> int:
        return round(self.latency * self.samplerate)

    def recorded_bytes(self) -> bytes:
        """What was written, as interleaved bytes (PCM16 for an int16 stream)."""
        return self.recorded().tobytes()

    def block_is_silent(self, index: int) -> bool:
        return not np.any(self.blocks[index])

    def silent_from_block(self) -> int | None:
        """Index of the first block from which every recorded block is all zeros.

        ``len(blocks)`` if the last block made sound; None if nothing was recorded.
        """
        if not self.blocks:
            return None
        index = len(self.blocks)
        while index > 0 and self.block_is_silent(index - 1):
            index -= 1
        return index

    @property
    def dac_frames(self) -> int:
        """Frames the simulated device has actually played out by now.

        Sample ``j`` is written at ``j / samplerate`` and reaches the DAC ``latency`` later, so
        at the current stream time the device has played all but the last ``latency`` seconds.
        """
        return max(0, self._frames - round(self.latency * self.samplerate))


class FakeInputStream(_FakeStream):
    """``sounddevice.InputStream`` on a test clock, fed from ``source`` and ``feed()``.

    Each block takes the next ``blocksize`` frames of the source; once it is exhausted the
    callback gets silence. ``blocks`` records what each callback was given.
    """

    _kind = "input"
    _lost_flag = "input_overflow"

    def __init__(self, *args: Any, source: bytes | AudioArray | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending: AudioArray = np.zeros((0, self.channels), dtype=self.dtype)
        self._feed_lock = threading.Lock()  # feed() may race a realtime ticker
        if source is not None:
            self.feed(source)

    def feed(self, source: bytes | AudioArray) -> None:
        """Append input: raw bytes in the stream's dtype, or an array of frames."""
        if isinstance(source, (bytes, bytearray, memoryview)):
            frames = np.frombuffer(bytes(source), dtype=self.dtype)
        else:
            frames = np.asarray(source, dtype=self.dtype)
        frames = frames.reshape(-1, self.channels)
        with self._feed_lock:
            self._pending = np.concatenate([self._pending, frames])

    def overflow(self, periods: int = 1) -> None:
        """The next ``periods`` periods of captured sound are lost (the device overran its
        buffer): their source and echo are dropped unseen, and the callback after them has
        ``input_overflow`` set."""
        self._lose(periods)

    def _lose_period(self) -> None:
        with self._feed_lock:
            self._pending = self._pending[self.blocksize :]
        if self.echo is not None:
            self.echo.heard(self._heard_from(), self.blocksize)

    def _heard_from(self) -> int:
        """The acoustic sample the block handed over now began at: captured over the period
        before, ``latency`` ago (the time-info's inputBufferAdcTime)."""
        return self._frames - round(self.latency * self.samplerate) - self.blocksize

    @property
    def pending_frames(self) -> int:
        """Source frames not yet delivered to the callback."""
        return len(self._pending)

    def _before_callback(self) -> None:
        with self._feed_lock:
            take = min(self.blocksize, len(self._pending))
            self._buffer[:take] = self._pending[:take]
            self._buffer[take:] = 0
            self._pending = self._pending[take:]
        if self.echo is not None:
            echo = self.echo.heard(self._heard_from(), self.blocksize)
            heard = (echo + _as_float(self._buffer))[:, None]
            if self.dtype.kind == "i":
                heard = np.clip(np.round(heard * _FULL_SCALE), -_FULL_SCALE, _FULL_SCALE - 1)
            self._buffer[:] = heard.astype(self.dtype)
        if self.record:
            self.blocks.append(self._buffer.copy())


def _as_float(block: AudioArray) -> AudioArray:
    """A block as float32 in [-1, 1), whatever the stream's dtype (mono: first channel)."""
    if block.dtype.kind == "i":
        return block[:, 0].astype(np.float32) / _FULL_SCALE
    return block[:, 0].astype(np.float32)


class EchoCoupling:
    """A speaker and a microphone in one room: output fakes ``played`` into it, input fakes
    hear from it, on a shared acoustic sample clock (both streams' frame counters, which start
    together when the streams are created together and advanced in step)."""

    def __init__(self, spec: EchoPathSpec | None = None, rate: int = 24_000) -> None:
        from realtime_console.audio.echo.path import EchoPath

        self.path = EchoPath(spec, rate)
        self._lock = threading.Lock()  # a realtime output ticker races a realtime input ticker
        self._air: AudioArray = np.zeros(0, dtype=np.float32)  # echo not yet heard
        self._origin = 0  # acoustic sample index of _air[0]
        self.played_frames = 0

    def played(self, start: int, block: AudioArray) -> None:
        """A block that reaches the speaker at acoustic sample ``start`` (blocks in order)."""
        echo = self.path.process(block)
        with self._lock:
            end = start + len(echo) - self._origin
            if end <= 0:
                return  # heard already: the microphone ran ahead of the speaker
            if end > len(self._air):
                self._air = np.concatenate((self._air, np.zeros(end - len(self._air), np.float32)))
            lo = max(0, start - self._origin)
            self._air[lo:end] += echo[len(echo) - (end - lo) :]
            self.played_frames += len(block)

    def heard(self, start: int, n: int) -> AudioArray:
        """The echo reaching the microphone over ``n`` samples from acoustic sample ``start``;
        what is before ``start`` is forgotten (the microphone only moves forward)."""
        out = np.zeros(n, dtype=np.float32)
        with self._lock:
            lo, hi = max(start, self._origin), min(start + n, self._origin + len(self._air))
            if hi > lo:
                out[lo - start : hi - start] = self._air[lo - self._origin : hi - self._origin]
            drop = max(0, min(start + n, self._origin + len(self._air)) - self._origin)
            self._air = self._air[drop:]
            self._origin += drop
        return out
