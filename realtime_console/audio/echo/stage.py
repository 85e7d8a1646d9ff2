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
(``_follow_echo``); until then its own audio goes out, so a microphone that hears no echo never
meets AEC3's double-talk suppression.

The same cross-correlation (``echo/align.py``) keeps the reference's lead on the echo: at a real
break (the speaker underflowed, the microphone lost samples) the echo moves in the reference,
and the reference is moved back by exactly the measured change once two blocks agree on it.
Blocks are measured one by one for ``WATCH_BLOCKS`` after a sign of a break (the tap counted an
underflow, a microphone block did not start where the last one ended, a measurement disagreed)
and every ``PROBE_EVERY`` blocks otherwise (a break no device reported).

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

from realtime_console.audio.echo.align import Correlation, LeadTracker, locate_echo
from realtime_console.audio.echo.guard import EchoGuard, peak_frame_dbfs
from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    from realtime_console.audio.echo.canceller import EchoCanceller
    from realtime_console.audio.echo.reference import FarEndTap, Pcm

# The reference leads the hand-over alignment by this much (see the module docstring): at most
# one speaker block (10 ms by default), which the speaker has been handed, or soon will be: the
# worker waits for what is not handed over yet (MAX_WAIT_S) rather than reading zeros.
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
# row, so the hand-over times jump by a block (10-20 ms) while what plays does not move; following
# those jumps, even smoothly (2 % per block), caused every leak and every false barge-in
# measured there. The two devices' real drift (tens of ppm) stays far below a block for a
# session's length. Real breaks are measured and followed exactly (``_follow_echo``); beyond
# that, only a disagreement with the clocks over ``RESYNC_SAMPLES`` (a stall, a restart) is a
# jump, measured against the clocks' relation to the pairing when the echo last confirmed it.
RESYNC_SAMPLES = 2400  # 100 ms
_SMOOTHING = 0.9  # per block (100 ms): the reduction figure covers about the last second
_FAR_ACTIVE_DBFS = -50.0
_AUDIBLE_DBFS = -55.0  # a quieter block cannot start the VAD (-40 dBFS at threshold 0.5)
ECHO_SEARCH_S = 0.5  # how far back an echo of the playback is looked for (AEC3's own reach)
ECHO_CORRELATION = 0.5  # normalised: a simulated echo measured 0.83, a voice over the reply <= 0.37
ALIGN_CORRELATION = 0.6  # a measurement surer than this may move the reference (align.py)
ECHO_FORWARD_S = 0.2  # how far past the block's reference: the echo of lost microphone samples
PROBE_EVERY = 5  # blocks: how often the lead is measured while nothing suggests a break
WATCH_BLOCKS = 20  # blocks measured one by one after a sign of a break
GAP_S = 0.005  # a microphone block starting this far from where the last one ended


@dataclass(frozen=True)
class EchoStats:
    blocks: int
    held_blocks: int  # blocks the echo guard kept back
    barge_ins: int  # times the guard let the user through over playback
    echo_reduction_db: float | None  # None until the canceller has worked on some playback
    late_reference: int  # blocks whose reference was still incomplete after MAX_WAIT_S
    resyncs: int  # times the reference was re-aligned to the clocks (the first block included)
    echo_detected: bool  # since when the canceller's output is sent (``_follow_echo``)
    realignments: int = 0  # times a measured break moved the reference (``_follow_echo``)


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
        self._target = 0  # where the clocks put this block's reference
        self._bias = 0  # the pairing less the clocks' target when the echo last confirmed it
        self.resyncs = 0  # times the reference jumped to where the clocks put it
        self.echo_detected = False  # the microphone was seen hearing the speaker
        self.lead = LeadTracker(
            -round(ECHO_FORWARD_S * SAMPLE_RATE), round(ECHO_SEARCH_S * SAMPLE_RATE)
        )
        self.realignments = 0  # times a measured break moved the reference
        self._watch = 0  # blocks still to measure one by one
        self._underflows = 0  # the tap's underflow count already seen
        self._expected_start: float | None = None  # where the next block should start

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
        if self.canceller is not None:
            self._watch_for_breaks(start_time, n)
            first = self._follow_echo(near, first, take)
        window = self.tap.read_index(first - span, take + span)
        far = window[span:]
        out = near
        if self.canceller is not None:
            cleaned = self.canceller.process(near.astype(np.int16), far)
            self._measure(near, cleaned, far)
            if self.echo_detected:
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
        self._target = target
        index, take = self._next_index, n
        if index is None or abs(target + self._bias - index) > RESYNC_SAMPLES:
            index = target
            self._bias = 0
            self.resyncs += 1
            self.lead.moved()  # the lead AEC3 learned is still the one to keep
            self._watch = WATCH_BLOCKS
        self._next_index = index + take
        self._wait_for(index + take)
        return index, take

    def _wait_for(self, end: int) -> None:
        deadline = time.monotonic() + MAX_WAIT_S
        while self.tap.written < end and time.monotonic() < deadline:
            time.sleep(_POLL_S)
        if self.tap.written < end:
            self._late_reference += 1

    def _watch_for_breaks(self, start_time: float, n: int) -> None:
        """Measure the next blocks one by one if the devices show a break: the speaker reported
        an underflow, or this block does not start where the last one ended (the microphone
        lost samples, or blocks were dropped before they reached the stage)."""
        expected, self._expected_start = self._expected_start, start_time + n / SAMPLE_RATE
        underflows = self.tap.underflows
        gap = expected is not None and abs(start_time - expected) > GAP_S
        if underflows != self._underflows or gap:
            self._watch = WATCH_BLOCKS
        self._underflows = underflows

    def _follow_echo(self, near: Pcm, first: int, take: int) -> int:
        """Where this block's reference starts after measuring the echo, when a measurement is
        due (see the module docstring): the first echo seen starts sending the canceller's
        output; a confirmed break moves the reference by the change (``align.LeadTracker``)."""
        due = not self.echo_detected or self._watch > 0 or self._blocks % PROBE_EVERY == 0
        self._watch = max(0, self._watch - 1)
        if not due:
            return first
        found = self._locate(near, first, take)
        if found is None:
            return first
        correlation, lo = found
        if correlation.rho >= ECHO_CORRELATION:
            self.echo_detected = True
        if correlation.rho < ALIGN_CORRELATION:
            return first
        shift = self.lead.observe(correlation, first - lo)
        if self.lead.pending:
            self._watch = max(self._watch, 1)  # a second sighting confirms or dismisses it
        if shift:
            first += shift
            self._next_index = first + take
            self.realignments += 1
            self._watch = WATCH_BLOCKS
            self._wait_for(first + take)
        if not self.lead.pending:
            self._bias = first - self._target  # the clocks' relation to a confirmed pairing
        return first

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

    def _locate(self, near: Pcm, first: int, take: int) -> tuple[Correlation, int] | None:
        """How this block correlates with what was played (``locate_echo``) and the tap index
        of the correlation's lag 0, searching from ``ECHO_SEARCH_S`` before the block's
        reference to ``ECHO_FORWARD_S`` past it; None while nothing was played or the block is
        inaudible (a quieter one cannot start the VAD). An echo is a delayed, filtered copy of
        what was played; the user's voice is not, so it shows little correlation. Until a block
        shows an echo, the microphone's own audio is sent (AEC3 still learns from it), so where
        no echo exists (headphones, a second microphone) AEC3's double-talk suppression never
        touches the user's voice: through PulseAudio with a microphone that did not hear the
        speaker, it split a barge-in into two turns in one run of two."""
        np = self._np
        if peak_frame_dbfs(near) < _AUDIBLE_DBFS:
            return None
        lo = first - round(ECHO_SEARCH_S * SAMPLE_RATE)
        hi = min(self.tap.written, first + take + round(ECHO_FORWARD_S * SAMPLE_RATE))
        played = self.tap.read_index(lo, hi - lo)
        if len(played) < len(near) or peak_frame_dbfs(played) < _FAR_ACTIVE_DBFS:
            return None
        return locate_echo(played.astype(np.float64), near.astype(np.float64)), lo

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
            realignments=self.realignments,
        )
