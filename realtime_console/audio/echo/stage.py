"""The echo stage of ``talk``: each microphone block, cleaned (AEC) and/or guarded, off the loop.

``talk``'s microphone pump hands every block with its time to ``EchoStage.process``; the
work runs on one worker thread (the WebRTC call releases the GIL, so the event loop carries on
meanwhile), never on PortAudio's callback threads. For each block the stage reads from the
``FarEndTap`` what the speaker had been handed by the time the block was (``echo/clock.py``),
``lead_ms`` more to absorb the two callbacks' scheduling jitter: a canceller can only remove an
echo whose reference it has already seen, so the reference must lead, never lag. AEC3's own delay
estimator then finds the true round trip (output buffer, air, input buffer: 0 to ~500 ms,
benchmarks/aec_erle.py). The latencies PortAudio reports are not added: through PulseAudio the
input reported 200 ms while the echo came 61 ms after the speaker was handed the sound, so moving
the reference by them would have put it behind the echo. A number for ``audio.aec_delay_ms``
(``extra_delay_ms``) moves the reference later by that much, for a round trip beyond AEC3's
range (Bluetooth speakers); ``devices --test`` measures the round trip.

The canceller's output is sent only once the microphone was seen hearing the speaker
(``_echo_in``); until then its own audio goes out, so a microphone that hears no echo never
meets AEC3's double-talk suppression.

It also measures what it achieves, for the status bar: ``echo_reduction_db`` is the microphone's
energy over the canceller's output while the speaker played, over the last few seconds (the
double talk of a barge-in lowers it, honestly).
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.audio.echo.guard import EchoGuard, peak_frame_dbfs
from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    from realtime_console.audio.echo.canceller import EchoCanceller
    from realtime_console.audio.echo.reference import FarEndTap, Pcm

# The reference leads the hand-over alignment by this much (see the module docstring): under
# one speaker block (20 ms), which is as far ahead as the speaker has surely been handed audio.
DEFAULT_LEAD_MS = 10.0
# The reference a block needs may not all have been handed to the speaker when the block arrives
# (the two callbacks tick independently): the worker waits for it this long at most. Reading
# early would leave holes in the reference that no later block fills.
MAX_WAIT_S = 0.15
_POLL_S = 0.002
# Consecutive blocks take consecutive reference samples (``_reference_span``), an exact copy,
# never stretched: AEC3 learns the echo path and any shift of the reference against it, even
# 1 ms, lets echo through until it re-learns (measured on a PulseAudio loopback). The callbacks'
# times are not a steady clock: every few seconds PulseAudio calls the speaker back twice in a
# row, so the hand-over times jump by a block (20 ms) while what plays does not move; following
# those jumps, even smoothly (2 % per block), caused every leak and every false barge-in
# measured there. The two devices' real drift (tens of ppm) stays far below a block for a
# session's length. Only an error over ``RESYNC_SAMPLES`` (a stall, a restart) is a jump.
RESYNC_SAMPLES = 2400  # 100 ms
_SMOOTHING = 0.9  # per block (100 ms): the reduction figure covers about the last second
_FAR_ACTIVE_DBFS = -50.0
_AUDIBLE_DBFS = -55.0  # a quieter block cannot start the VAD (-40 dBFS at threshold 0.5)
ECHO_SEARCH_S = 0.5  # how far back an echo of the playback is looked for (AEC3's own reach)
ECHO_CORRELATION = 0.5  # normalised: a simulated echo measured 0.83, a voice over the reply <= 0.37


@dataclass(frozen=True)
class EchoStats:
    blocks: int
    held_blocks: int  # blocks the echo guard kept back
    barge_ins: int  # times the guard let the user through over playback
    echo_reduction_db: float | None  # None until the canceller has worked on some playback
    late_reference: int  # blocks whose reference was still incomplete after MAX_WAIT_S
    resyncs: int  # times the reference was re-aligned to the clocks (the first block included)
    echo_detected: bool  # since when the canceller's output is sent (``_echo_in``)


class EchoStage:
    """Microphone block in (PCM16 bytes, its ADC time), the block to send out (or None: held)."""

    def __init__(
        self,
        tap: FarEndTap,
        *,
        canceller: EchoCanceller | None = None,
        guard: EchoGuard | None = None,
        lead_ms: float = DEFAULT_LEAD_MS,
        extra_delay_ms: float | None = None,
    ) -> None:
        import numpy as np

        self._np = np
        self.tap = tap
        self.canceller = canceller
        self.guard = guard
        self.lead_ms = lead_ms
        self.extra_delay_ms = extra_delay_ms or 0.0  # None: "auto", the hand-over alignment
        self._executor: ThreadPoolExecutor | None = None
        self._blocks = 0
        self._in_energy = 0.0
        self._out_energy = 0.0
        self._late_reference = 0  # blocks processed before their reference was all there
        self._next_index: int | None = None  # where the next block's reference starts
        self.resyncs = 0  # times the reference jumped to where the clocks put it
        self.echo_detected = False  # the microphone was seen hearing the speaker (_echo_in)

    @property
    def shift_s(self) -> float:
        """How far before the block's ADC time the reference is read (negative: after)."""
        return (self.extra_delay_ms - self.lead_ms) / 1000

    @property
    def active(self) -> bool:
        return self.canceller is not None or self.guard is not None

    def process_now(self, block: bytes, start_time: float) -> bytes | None:
        """The synchronous work: for the worker thread, tests and benchmarks."""
        np = self._np
        near = np.frombuffer(block, dtype="<i2")
        n = len(near)
        span = self.guard.span_samples if self.guard is not None else 0
        first, take = self._reference_span(start_time - self.shift_s, n)
        window = self.tap.read_index(first - span, take + span)
        far = window[span:]
        out = near
        if self.canceller is not None:
            cleaned = self.canceller.process(near.astype(np.int16), far)
            self._measure(near, cleaned, far)
            if self.echo_detected or self._echo_in(near, far, first, take):
                out = cleaned
        self._blocks += 1
        if self.guard is not None and not self.guard.admit(out, window):
            return None
        return out.astype("<i2").tobytes() if out is not near else block

    def _reference_span(self, start: float, n: int) -> tuple[int, int]:
        """Where this block's reference starts in the tap and how many samples it spans.

        It continues right after the previous block's, so AEC3 sees one unbroken signal (see
        ``RESYNC_SAMPLES``); only when the clocks put it more than that elsewhere (a stall, a
        restart) does it jump there. Then it waits (this worker thread, ``MAX_WAIT_S`` at most:
        a stopped speaker never gets there) until the speaker has been handed all of it."""
        target = self.tap.index_at(start)
        if target is None:
            return 0, n
        index, take = self._next_index, n
        if index is None or abs(target - index) > RESYNC_SAMPLES:
            index = target
            self.resyncs += 1
        self._next_index = index + take
        deadline = time.monotonic() + MAX_WAIT_S
        while self.tap.written < index + take and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        if self.tap.written < index + take:
            self._late_reference += 1
        return index, take

    async def process(self, block: bytes, start_time: float) -> bytes | None:
        """``process_now`` on the worker thread (one at a time: the canceller is not
        thread-safe, and the caller awaits each block before the next)."""
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="echo")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self.process_now, block, start_time)

    def close(self) -> None:
        executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)

    def _echo_in(self, near: Pcm, far: Pcm, first: int, take: int) -> bool:
        """Whether this block shows the microphone hearing the speaker: while it played, the
        block was audible and correlates with what was played over the last ``ECHO_SEARCH_S``
        (an echo is a delayed, filtered copy of it; the user's voice is not). From the first
        such block on, the canceller's output is what is sent; until then the microphone's own
        audio is (AEC3 still learns from it), so where no echo exists (headphones, a second
        microphone) AEC3's double-talk suppression never touches the user's voice: through
        PulseAudio with a microphone that did not hear the speaker, it split a barge-in into two
        turns in one run of two."""
        np = self._np
        if peak_frame_dbfs(far) < _FAR_ACTIVE_DBFS or peak_frame_dbfs(near) < _AUDIBLE_DBFS:
            return False
        back = round(ECHO_SEARCH_S * SAMPLE_RATE)
        played = self.tap.read_index(first - back, take + back).astype(np.float64)
        x = near.astype(np.float64)
        size = 1 << (len(played) + len(x)).bit_length()
        xcorr = np.fft.irfft(np.fft.rfft(played, size) * np.conj(np.fft.rfft(x, size)), size)
        # Lag k pairs the block with played[k : k + n]; each lag normalised by its own window
        # (a reply's first block is mostly silence before it), ignoring near-silent windows.
        lags = np.abs(xcorr[: len(played) - len(x) + 1])
        windows = np.sqrt(np.convolve(played * played, np.ones(len(x)), mode="valid"))
        usable = windows >= 0.1 * float(np.max(windows))
        norm = float(np.sqrt(np.sum(x * x)))
        rho = float(np.max(lags[usable] / (windows[usable] * norm))) if norm else 0.0
        if rho < ECHO_CORRELATION:
            return False
        self.echo_detected = True
        return True

    def _measure(self, near: object, out: object, far: object) -> None:
        np = self._np
        if peak_frame_dbfs(far) < _FAR_ACTIVE_DBFS:  # type: ignore[arg-type]
            return
        x = np.asarray(near, dtype=np.float64)
        y = np.asarray(out, dtype=np.float64)
        self._in_energy = _SMOOTHING * self._in_energy + float(np.sum(x * x))
        self._out_energy = _SMOOTHING * self._out_energy + float(np.sum(y * y))

    @property
    def stats(self) -> EchoStats:
        reduction = None
        if self._in_energy > 0:
            ratio = self._in_energy / max(self._out_energy, 1e-9)
            reduction = round(10 * float(self._np.log10(ratio)), 1)
        return EchoStats(
            blocks=self._blocks,
            held_blocks=self.guard.held_blocks if self.guard else 0,
            barge_ins=self.guard.barge_ins if self.guard else 0,
            echo_reduction_db=reduction,
            late_reference=self._late_reference,
            resyncs=self.resyncs,
            echo_detected=self.echo_detected,
        )
