"""The microphone: a mono PCM16 input stream whose callback hands blocks to the event loop.

PortAudio's thread runs ``_callback``, which copies the block (``bytes(indata)``: PortAudio reuses
its buffer), counts status flags and hands the copy over with ``loop.call_soon_threadsafe``.
Nothing there blocks, logs or waits. On the loop, blocks go into a bounded queue: when the reader
falls behind, the *oldest* block is dropped and counted, so a stall never turns into seconds of
stale speech sent late, and memory stays bounded. Each block keeps its time on PortAudio's stream
clock (``echo/clock.py``), which the echo canceller needs to find what the speaker had been handed
by then (``read_timed``/``timed_blocks``).

The stream opens at the API's 24 kHz. A device that refuses 24 kHz is opened at its native rate
and resampled on the loop side with ``audio.resample.StreamResampler`` (never in the callback).

``sounddevice`` is imported only by the default stream factory; tests and benchmarks inject
``FakeInputStream``.
"""

from __future__ import annotations

import asyncio
import collections
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Protocol

from realtime_console.audio import devices
from realtime_console.audio.echo.clock import CaptureClock
from realtime_console.audio.echo.reference import stream_time
from realtime_console.audio.resample import StreamResampler
from realtime_console.errors import AudioDeviceError
from realtime_console.protocol.pcm import CHANNELS, SAMPLE_RATE, ms_to_samples


class InputStreamLike(devices.StreamLike, Protocol):
    """What the microphone needs of ``sounddevice.InputStream`` (and ``FakeInputStream``)."""


InputStreamFactory = Callable[..., InputStreamLike]
NativeRate = Callable[[int | str | None], float]


@dataclass(frozen=True)
class MicBlock:
    pcm: bytes  # 24 kHz mono PCM16
    # Its first sample's time on PortAudio's stream clock, the block ending at its hand-over
    # (echo/clock.py): what the echo canceller aligns the speaker's reference with.
    start_time: float


@dataclass(frozen=True)
class MicrophoneStats:
    blocks: int  # blocks the callback delivered
    dropped_blocks: int  # oldest blocks dropped because the reader fell behind
    input_overflows: int  # PortAudio status flags: the device overran its own buffer
    input_underflows: int
    samplerate: float  # what the device was opened at
    resampled: bool


def open_sounddevice_input(**kwargs: Any) -> InputStreamLike:
    """The default factory: a real ``sounddevice.InputStream`` (names resolved to indexes)."""
    sd = devices.import_sounddevice()
    if isinstance(kwargs.get("device"), str):
        kwargs["device"] = devices.resolve_device(kwargs["device"], "input")
    stream: InputStreamLike = sd.InputStream(**kwargs)
    return stream


def device_native_rate(device: int | str | None) -> float:
    """The input device's default sample rate, as PortAudio reports it."""
    sd = devices.import_sounddevice()
    if isinstance(device, str):
        device = devices.resolve_device(device, "input")
    info = sd.query_devices(device, "input")
    return float(info["default_samplerate"])


class Microphone:
    """Captures 24 kHz mono PCM16 blocks; iterate ``blocks()`` (or ``await read()``) on the loop."""

    def __init__(
        self,
        *,
        device: int | str | None = None,
        block_ms: float = 20.0,
        queue_blocks: int = 25,
        latency: float | str | None = None,
        stream_factory: InputStreamFactory | None = None,
        native_rate: NativeRate | None = None,
    ) -> None:
        if block_ms <= 0:
            raise ValueError("block_ms must be positive")
        if queue_blocks < 1:
            raise ValueError("queue_blocks must be at least 1")
        self._device = device
        self._block_ms = block_ms
        self._requested_latency = latency
        self._factory = stream_factory or open_sounddevice_input
        self._native_rate = native_rate or device_native_rate
        self._queue: collections.deque[MicBlock] = collections.deque()
        self._queue_max = queue_blocks
        self._wakeup: asyncio.Future[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stream: InputStreamLike | None = None
        self._resampler: StreamResampler | None = None
        self._clock: CaptureClock | None = None  # made at the first block (needs the latency)
        self._samplerate = float(SAMPLE_RATE)
        self._closed = False
        # Written by the callback thread only (plain int increments), read by the loop.
        self._blocks = 0
        self._input_overflows = 0
        self._input_underflows = 0
        self._dropped = 0

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open and start the stream, on the event loop thread (AudioDeviceError on failure)."""
        if self._stream is not None:
            return
        self._loop = asyncio.get_running_loop()
        try:
            stream = self._open(SAMPLE_RATE)
        except Exception as exc:
            if not devices.is_portaudio_error(exc):
                raise
            stream = self._open_at_native_rate(exc)
        try:
            stream.start()
        except Exception as exc:
            stream.close()
            if not devices.is_portaudio_error(exc):
                raise
            raise self._device_error(exc) from None
        self._stream = stream

    def _open(self, rate: float) -> InputStreamLike:
        return self._factory(
            samplerate=rate,
            channels=CHANNELS,
            dtype=devices.STREAM_DTYPE,
            blocksize=ms_to_samples(self._block_ms, round(rate)),
            device=self._device,
            latency=self._requested_latency,
            callback=self._callback,
        )

    def _open_at_native_rate(self, first_error: Exception) -> InputStreamLike:
        try:
            rate = self._native_rate(self._device)
        except AudioDeviceError:
            raise
        except Exception as exc:
            if not devices.is_portaudio_error(exc):
                raise
            raise self._device_error(first_error) from None
        if round(rate) == SAMPLE_RATE:
            raise self._device_error(first_error)  # 24 kHz is native and still failed
        try:
            stream = self._open(rate)
        except Exception as exc:
            if not devices.is_portaudio_error(exc):
                raise
            raise self._device_error(exc) from None
        self._samplerate = rate
        self._resampler = StreamResampler(rate, SAMPLE_RATE)
        return stream

    def close(self) -> None:
        """Stop capturing at once (abort: pending input is worthless) and wake the reader."""
        self._closed = True
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                stream.abort()
            except Exception as exc:
                if not devices.is_portaudio_error(exc):
                    raise
            finally:
                stream.close()
        self._wake()

    def __enter__(self) -> Microphone:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def stream(self) -> InputStreamLike | None:
        return self._stream

    @property
    def latency_ms(self) -> float:
        """The input latency the stream reports (0 before start, or if it reports none)."""
        return 1000 * float(getattr(self._stream, "latency", 0.0) or 0.0)

    @property
    def samplerate(self) -> float:
        """The rate the device runs at (24000 unless it had to be resampled)."""
        return self._samplerate

    @property
    def stats(self) -> MicrophoneStats:
        return MicrophoneStats(
            blocks=self._blocks,
            dropped_blocks=self._dropped,
            input_overflows=self._input_overflows,
            input_underflows=self._input_underflows,
            samplerate=self._samplerate,
            resampled=self._resampler is not None,
        )

    @property
    def queued(self) -> int:
        return len(self._queue)

    # ------------------------------------------------------------------ reading

    def discard_queued(self) -> int:
        """Forget what was captured before the reader started (e.g. while connecting): stale
        audio, not a reader falling behind, so the drop count starts again from zero."""
        count = len(self._queue)
        self._queue.clear()
        self._dropped = 0
        return count

    async def read(self) -> bytes | None:
        """The next 24 kHz PCM16 block, or None once the microphone is closed."""
        block = await self.read_timed()
        return None if block is None else block.pcm

    async def read_timed(self) -> MicBlock | None:
        """The next block with its ADC time, or None once the microphone is closed."""
        while not self._queue:
            if self._closed:
                return None
            loop = asyncio.get_running_loop()
            self._wakeup = loop.create_future()
            try:
                await self._wakeup
            finally:
                self._wakeup = None
        return self._queue.popleft()

    async def blocks(self) -> AsyncIterator[bytes]:
        while (block := await self.read()) is not None:
            if block:  # the resampler's first blocks can be empty while its filter fills
                yield block

    async def timed_blocks(self) -> AsyncIterator[MicBlock]:
        while (block := await self.read_timed()) is not None:
            if block.pcm:
                yield block

    # ------------------------------------------------------------------ audio thread

    def _callback(self, indata: Any, frames: int, time: Any, status: Any) -> None:
        if status:
            self._input_overflows += bool(status.input_overflow)
            self._input_underflows += bool(status.input_underflow)
        self._blocks += 1
        loop = self._loop
        if loop is None:
            return
        now = stream_time(time, "currentTime")
        try:
            loop.call_soon_threadsafe(self._deliver, bytes(indata), now, frames)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            pass

    # ------------------------------------------------------------------ event loop side

    def _deliver(self, block: bytes, callback_time: float, frames: int) -> None:
        if self._closed:
            return
        if self._clock is None:
            self._clock = CaptureClock(self._samplerate)
        start_time = self._clock.block_start(callback_time, frames)
        if self._resampler is not None:
            native_s = len(block) / 2 / self._samplerate
            block = self._resampler.process(block)
            # The resampler hands out the newest samples it can: the output block ends where the
            # input block ended (its filter's delay only makes the reference lead a little more).
            start_time += native_s - len(block) / 2 / SAMPLE_RATE
        if len(self._queue) >= self._queue_max:
            self._queue.popleft()  # live audio: the newest block matters, the oldest is stale
            self._dropped += 1
        self._queue.append(MicBlock(block, start_time))
        self._wake()

    def _wake(self) -> None:
        if self._wakeup is not None and not self._wakeup.done():
            self._wakeup.set_result(None)

    def _device_error(self, exc: Exception) -> AudioDeviceError:
        return devices.open_failure("input", self._device, exc)
