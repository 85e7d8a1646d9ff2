"""When each sample of the audio sent to the server was captured, on the microphone's clock.

The server counts the input audio it has received: ``speech_started.audio_start_ms`` is a point in
*all the audio appended since its session began*, not a time. That sent audio has gaps against
the microphone: blocks the mic gate drops (muted, push-to-talk released) and blocks the echo
guard holds back are never sent. So for every block that is sent, in the order sent, the
timeline keeps one mark: the block's first sample's offset in the sent audio and its capture
time (``MicBlock.start_time``: PortAudio's stream clock, ``echo/clock.py``). A sample of the sent
audio is then placed in the mark it falls in, at its offset from that block's start. Within a
block the samples are contiguous at the sample rate; between marks, nothing is assumed.

The marks are a ring of preallocated numbers (``array``): ``seconds`` of audio in blocks of the
size the caller names (the microphone's), so recording a block allocates nothing and a long
session holds the last two minutes or so, never more. ``adc_time`` answers None for what it
cannot place: before the first block, older than the ring, past the audio sent, or a block
recorded without a time.

The server's clock restarts at 0 with every new server session (a reconnect, a renewal):
``restart`` starts the timeline again, keeping the blocks from a given offset on (renumbered from
0) for audio recorded but not yet sent to the old session.

Everything runs on the event loop thread.
"""

from __future__ import annotations

import math
from array import array

from realtime_console.protocol.pcm import SAMPLE_RATE

DEFAULT_SECONDS = 120.0  # what the ring covers in blocks of the size named


class InputTimeline:
    """Marks of the sent input audio: (offset in samples, capture time of that sample)."""

    def __init__(
        self, *, block_ms: float, seconds: float = DEFAULT_SECONDS, rate: int = SAMPLE_RATE
    ) -> None:
        """``block_ms``: the block the microphone hands over; the ring holds ``seconds`` of
        such blocks (smaller ones, as a resampler may hand out, cover a little less)."""
        if block_ms <= 0 or seconds <= 0:
            raise ValueError("block_ms and seconds must be positive")
        self.rate = rate
        self.capacity = math.ceil(seconds * 1000 / block_ms) + 1
        self._offsets = array("q", bytes(8 * self.capacity))  # first sample, in the sent audio
        self._times = array("d", bytes(8 * self.capacity))  # its capture time (NaN: unknown)
        # Marks are numbered from the last restart; ``_first`` … ``_count - 1`` are in the ring
        # (mark i in slot i % capacity).
        self._first = 0
        self._count = 0
        self._end = 0  # samples recorded: the next block's offset

    @property
    def samples(self) -> int:
        """Samples recorded since the server's session (as this timeline knows it) began."""
        return self._end

    def record(self, samples: int, start_time: float | None) -> None:
        """A block of ``samples`` goes to the server next, its first sample captured at
        ``start_time`` (None: unknown)."""
        if samples <= 0:
            return
        slot = self._count % self.capacity
        self._offsets[slot] = self._end
        self._times[slot] = math.nan if start_time is None else start_time
        self._count += 1
        if self._count - self._first > self.capacity:
            self._first += 1  # the oldest mark was just overwritten
        self._end += samples

    def unrecord(self, samples: int) -> None:
        """The last ``samples`` recorded were never sent after all (the pending audio was thrown
        away): forget them, so the next block takes their offset."""
        self._end = max(0, self._end - max(0, samples))
        while self._count > self._first and self._offsets[self._last_slot] >= self._end:
            self._count -= 1

    def restart(self, keep_from: int | None = None) -> None:
        """The server's timeline began again (a new server session counts from 0). Blocks
        recorded from sample ``keep_from`` on (audio not sent to the old session) are kept,
        renumbered from 0; by default nothing is kept."""
        shift = self._end if keep_from is None else min(max(0, keep_from), self._end)
        # A restart is rare (a reconnect, a renewal): this short list is no per-block cost.
        kept = [
            (self._offsets[i % self.capacity], self._times[i % self.capacity])
            for i in range(self._first, self._count)
            if self._offsets[i % self.capacity] >= shift
        ]
        end = self._end - shift
        self._first = self._count = 0
        for offset, at in kept:  # fewer than capacity: they were in the ring
            self._offsets[self._count] = offset - shift
            self._times[self._count] = at
            self._count += 1
        self._end = end

    def adc_time(self, audio_ms: float) -> float | None:
        """When the sample ``audio_ms`` into the sent audio was captured, on the microphone's
        stream clock; None when the timeline cannot say (see the module's docstring)."""
        try:
            if not math.isfinite(audio_ms):
                return None
        except OverflowError:  # an integer too large for a float: no place in any timeline
            return None
        sample = math.floor(audio_ms * self.rate / 1000)
        if self._count == self._first or sample < 0 or sample >= self._end:
            return None
        lo, hi = self._first, self._count - 1  # find the last mark whose offset is <= sample
        if sample < self._offsets[lo % self.capacity]:
            return None  # older than the ring
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._offsets[mid % self.capacity] <= sample:
                lo = mid
            else:
                hi = mid - 1
        slot = lo % self.capacity
        at = self._times[slot]
        if math.isnan(at):
            return None
        return at + (sample - self._offsets[slot]) / self.rate

    @property
    def _last_slot(self) -> int:
        return (self._count - 1) % self.capacity
