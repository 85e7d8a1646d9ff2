"""The speaker: a 24 kHz mono PCM16 output stream whose callback pulls from a jitter buffer.

The event loop calls ``enqueue``/``end_response``/``interrupt``/``drain``; PortAudio's thread runs
``_callback``, which only copies one block out of the buffer, counts status flags and, when a
drain is waiting and the buffer has run empty, hands that news to the loop with
``call_soon_threadsafe``. Nothing in the callback prints, logs, blocks or polls.

What the listener has heard (``heard_ms``, the barge-in's ``audio_end_ms``) is what the device
has played by its own clock: the callback hands each block's PortAudio times to an
``OutputClock`` (``audio/output_clock.py``), not the latency the stream reports on opening.

``sounddevice`` is imported only when the default stream factory opens a real device; tests and
benchmarks inject ``FakeOutputStream`` as ``stream_factory``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from time import monotonic
from types import TracebackType
from typing import Any, Protocol

from realtime_console.audio import devices
from realtime_console.audio.echo.reference import FarEndTap, stream_time
from realtime_console.audio.jitter import (
    DEFAULT_MAX_BUFFER_MS,
    DEFAULT_MAX_PREBUFFER_MS,
    JitterBuffer,
    JitterStats,
)
from realtime_console.audio.output_clock import OutputClock
from realtime_console.errors import AudioDeviceError
from realtime_console.protocol.pcm import CHANNELS, SAMPLE_RATE, ms_to_samples, samples_to_ms


class OutputStreamLike(devices.StreamLike, Protocol):
    """What the speaker needs of ``sounddevice.OutputStream`` (and ``FakeOutputStream``)."""

    @property
    def latency(self) -> float: ...  # seconds from handing a sample over to hearing it


StreamFactory = Callable[..., OutputStreamLike]


@dataclass(frozen=True)
class PlaybackPosition:
    """Where playback of an item stood when it was interrupted."""

    response_id: str
    item_id: str
    heard_ms: int  # audio the listener heard, floored: ``audio_end_ms`` for the truncate event
    played_ms: float  # audio handed to the device (includes what was still in its buffer)
    received_ms: float  # audio received for the item


@dataclass(frozen=True)
class SpeakerStats:
    buffer: JitterStats
    callbacks: int
    output_underflows: int  # PortAudio status flags seen by the callback
    output_overflows: int
    priming_outputs: int

    @property
    def underruns(self) -> int:
        return self.buffer.underruns

    @property
    def overflows(self) -> int:
        return self.buffer.overflows

    @property
    def target_ms(self) -> float:
        """The jitter buffer's current (adaptive) playout delay."""
        return self.buffer.target_ms

    @property
    def dropped_ms(self) -> float:
        """Reply audio refused because the buffer was full: received, never played."""
        return samples_to_ms(self.buffer.overflow_samples)


def open_sounddevice_stream(**kwargs: Any) -> OutputStreamLike:
    """The default stream factory: a real ``sounddevice.OutputStream``.

    A device given by name is resolved here, so the name's errors list the candidates.
    """
    sd = devices.import_sounddevice()
    if isinstance(kwargs.get("device"), str):
        kwargs["device"] = devices.resolve_device(kwargs["device"], "output")
    stream: OutputStreamLike = sd.OutputStream(**kwargs)
    return stream


DropNotice = Callable[[str], None]


def drop_notice(response_id: str, samples: int) -> str:
    """The one line that says a reply lost audio to a full buffer."""
    ms = samples_to_ms(samples)
    amount = f"{ms / 1000:.1f} s" if ms >= 1000 else f"{ms:.0f} ms"
    return f"playback buffer full: dropped {amount} of reply {response_id}"


class Speaker:
    """Plays assistant audio; tracks what the listener heard; cuts it on barge-in.

    Audio refused because the buffer is full is never dropped silently: it is counted in
    ``stats`` and, once the response is over (ended, dropped, interrupted, or the speaker
    closed), ``on_drop`` gets one line per response saying how much was lost.
    """

    def __init__(
        self,
        *,
        device: int | str | None = None,
        block_ms: float = 20.0,
        prebuffer_ms: float = 120.0,
        max_buffer_ms: float = DEFAULT_MAX_BUFFER_MS,
        max_prebuffer_ms: float = DEFAULT_MAX_PREBUFFER_MS,  # cap of the adaptive playout delay
        # 5 ms (120 samples) removes the click of a hard cut; longer only delays the silence.
        fade_ms: float = 5.0,
        latency: float | str | None = None,
        stream_factory: StreamFactory | None = None,
        on_drop: DropNotice | None = None,
        far_end: FarEndTap | None = None,
    ) -> None:
        """``far_end``: where every block handed to the device is also copied, with the time it
        was handed over, as the echo canceller's reference (``audio/echo/reference.py``)."""
        if block_ms <= 0:
            raise ValueError("block_ms must be positive")
        self._device = device
        self._block_frames = ms_to_samples(block_ms)
        self._fade_ms = min(fade_ms, block_ms)  # the cut must finish within one device block
        self._requested_latency = latency
        self._factory = stream_factory or open_sounddevice_stream
        self._buffer = JitterBuffer(
            prebuffer_ms=prebuffer_ms,
            max_buffer_ms=max_buffer_ms,
            max_prebuffer_ms=max(max_prebuffer_ms, prebuffer_ms),
        )
        self._stream: OutputStreamLike | None = None
        self._latency_frames = 0  # the reported latency
        self._clock = OutputClock()  # the measured one, from PortAudio's DAC times
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_waiters: list[asyncio.Future[None]] = []
        self._drain_wanted = False  # read by the callback: tell the loop when the buffer empties
        self._callbacks = 0
        self._output_underflows = 0
        self._output_overflows = 0
        self._priming_outputs = 0
        self._far_end = far_end
        self.first_callback_at: float | None = None  # time.monotonic() of the first callback
        self.on_drop = on_drop  # called on the event loop thread, never the audio thread

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Open and start the output stream (AudioDeviceError if the device cannot open)."""
        if self._stream is not None:
            return
        try:
            stream = self._factory(
                samplerate=SAMPLE_RATE,
                channels=CHANNELS,
                dtype=devices.STREAM_DTYPE,
                blocksize=self._block_frames,
                device=self._device,
                latency=self._requested_latency,
                callback=self._callback,
                finished_callback=self._on_finished,
            )
        except Exception as exc:
            if not devices.is_portaudio_error(exc):
                raise
            raise self._device_error(exc) from None
        try:
            stream.start()
        except Exception as exc:
            stream.close()
            if not devices.is_portaudio_error(exc):
                raise
            raise self._device_error(exc) from None
        self._stream = stream
        self._latency_frames = round(float(stream.latency) * SAMPLE_RATE)
        self._clock.reported_s = float(stream.latency)

    def close(self, *, discard: bool = False) -> None:
        """Stop and close the stream, letting the device play out its buffer unless ``discard``.

        Call from the event loop thread; pending ``drain()`` calls return.
        """
        stream, self._stream = self._stream, None
        if stream is not None:
            try:
                if discard:
                    stream.abort()
                else:
                    stream.stop()
            except Exception as exc:
                if not devices.is_portaudio_error(exc):
                    raise
            finally:
                stream.close()
        self._resolve_drains(force=True)
        self._report_drops(self._buffer.take_all_overflows())

    def __enter__(self) -> Speaker:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close(discard=exc is not None)

    @property
    def stream(self) -> OutputStreamLike | None:
        return self._stream

    # ------------------------------------------------------------------ feeding and cutting

    def enqueue(self, pcm: bytes, response_id: str, item_id: str) -> bool:
        """Queue PCM16 audio of an item; False if refused (dropped response, buffer full)."""
        return self._buffer.push(pcm, response_id, item_id)

    def end_response(self, response_id: str) -> None:
        """The response sent its last audio: play out the rest without waiting to prebuffer."""
        self._buffer.end_response(response_id)
        self._report_drops({response_id: self._buffer.take_overflow(response_id)})

    def drop_response(self, response_id: str) -> None:
        """Discard a cancelled response's queued audio (faded if audible) and its late deltas."""
        self._buffer.drop_response(response_id, self._fade_ms)
        self._report_drops({response_id: self._buffer.take_overflow(response_id)})

    def interrupt(self) -> PlaybackPosition | None:
        """Barge-in: fade out within one block, drop everything queued, refuse late deltas.

        Returns how far the current (or last played) item got, as heard by the listener, or None
        if no audio was ever queued.
        """
        current = self._buffer.current_item
        position = None if current is None else self.position(*current)
        self._buffer.interrupt(self._fade_ms)
        self._report_drops(self._buffer.take_all_overflows())
        return position

    async def drain(self) -> None:
        """Return once everything queued has been handed to the device.

        Queued audio below the prebuffer is played out rather than waited on. The callback tells
        the loop (``call_soon_threadsafe``) when the buffer empties; there is no polling.
        """
        if self._buffer.is_empty:
            return
        if self._stream is None or not self._stream.active:
            raise RuntimeError("Speaker.drain() needs a running speaker")
        self._loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = self._loop.create_future()
        self._drain_waiters.append(waiter)
        self._buffer.flush()
        self._drain_wanted = True
        await waiter

    # ------------------------------------------------------------------ positions and stats

    @property
    def is_playing(self) -> bool:
        """Audio is queued or still being faded out."""
        return not self._buffer.is_empty

    @property
    def latency_ms(self) -> float:
        """The output latency: measured from PortAudio's DAC times once blocks have been played
        (``audio/output_clock.py``), else what the stream reports (0 before start)."""
        return self._clock.delay_s * 1000

    @property
    def reported_latency_ms(self) -> float:
        """The output latency the stream reported when it opened (0 before start)."""
        return samples_to_ms(self._latency_frames)

    @property
    def latency_measured(self) -> bool:
        """``latency_ms`` comes from the device's DAC times, not the reported figure."""
        return self._clock.timed

    def heard_ms(self, item_id: str) -> float:
        """Audio of the item the listener has heard: played less what is still in flight to
        the DAC right now."""
        return samples_to_ms(self._heard_samples(item_id))

    def played_ms(self, item_id: str) -> float:
        return samples_to_ms(self._buffer.played_samples(item_id))

    def received_ms(self, item_id: str) -> float:
        return samples_to_ms(self._buffer.received_samples(item_id))

    def position(self, response_id: str, item_id: str) -> PlaybackPosition:
        heard = self._heard_samples(item_id)
        return PlaybackPosition(
            response_id=response_id,
            item_id=item_id,
            heard_ms=heard * 1000 // SAMPLE_RATE,
            played_ms=self.played_ms(item_id),
            received_ms=self.received_ms(item_id),
        )

    def _heard_samples(self, item_id: str) -> int:
        """Samples of the item whose DAC time has passed, by the device's own clock.

        The clock knows the frames handed over as of the last timed block; frames the buffer
        handed over since (a callback ran in between) are all still in flight. A callback
        between reading the buffer's count and asking it is caught by reading the count again.
        """
        now = self.stream_now()
        heard = 0
        for _ in range(4):
            handed = self._buffer.stream_frames
            marked = self._clock.handed_frames
            later = 0 if marked is None else max(0, handed - marked)
            heard = self._buffer.heard_samples(item_id, self._clock.in_flight(now) + later)
            if self._buffer.stream_frames == handed:
                break
        return heard

    def stream_now(self) -> float | None:
        """The stream's clock (the one its callbacks' times are on, and the microphone's
        blocks'); None once closed, or where the host API reports no times (the clock then
        stands still at 0)."""
        stream = self._stream
        if stream is None or not self._clock.timed:
            return None
        try:
            return float(getattr(stream, "time", 0.0))  # not in every test double
        except Exception as exc:
            if not devices.is_portaudio_error(exc):
                raise
            return None

    @property
    def stats(self) -> SpeakerStats:
        return SpeakerStats(
            buffer=self._buffer.stats,
            callbacks=self._callbacks,
            output_underflows=self._output_underflows,
            output_overflows=self._output_overflows,
            priming_outputs=self._priming_outputs,
        )

    # ------------------------------------------------------------------ audio thread

    def _callback(self, outdata: Any, frames: int, time: Any, status: Any) -> None:
        if status:
            self._output_underflows += bool(status.output_underflow)
            self._output_overflows += bool(status.output_overflow)
            self._priming_outputs += bool(status.priming_output)
        self._buffer.read_into(memoryview(outdata))
        self._clock.mark(self._buffer.stream_frames, frames, time)
        if self._far_end is not None:  # a copy into a preallocated ring: no allocation
            underflow = bool(status and status.output_underflow)  # the echo path moved
            self._far_end.write(outdata, stream_time(time, "currentTime"), underflow=underflow)
        if self.first_callback_at is None:  # once: the start-up delay `devices --test` reports
            self.first_callback_at = monotonic()
        self._callbacks += 1
        if self._drain_wanted and self._buffer.is_empty:
            self._drain_wanted = False
            self._call_in_loop(self._resolve_drains)

    def _on_finished(self) -> None:
        # PortAudio's thread, when the stream stops for any reason: nothing more will drain.
        self._call_in_loop(self._resolve_drains_forced)

    def _call_in_loop(self, callback: Callable[[], None]) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            loop.call_soon_threadsafe(callback)
        except RuntimeError:  # the loop is closed; nobody is waiting any more
            pass

    # ------------------------------------------------------------------ event loop side

    def _resolve_drains_forced(self) -> None:
        self._resolve_drains(force=True)

    def _resolve_drains(self, force: bool = False) -> None:
        if not force and not self._buffer.is_empty:
            self._drain_wanted = True  # audio arrived after the callback saw it empty: re-arm
            return
        waiters, self._drain_waiters = self._drain_waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    def _report_drops(self, dropped: dict[str, int]) -> None:
        if self.on_drop is None:
            return
        for response_id, samples in dropped.items():
            if samples:
                self.on_drop(drop_notice(response_id, samples))

    def _device_error(self, exc: Exception) -> AudioDeviceError:
        return devices.open_failure("output", self._device, exc)
