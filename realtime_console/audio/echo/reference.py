"""The far-end reference: exactly the samples handed to the output device, on PortAudio's clock.

An echo canceller needs, beside each microphone block, what the speaker was playing when that
block was captured, never later. The speaker's callback writes every block it hands to PortAudio
(reply audio, fades and silence alike) into a preallocated ring, with the callback's
``time.currentTime``: the block's samples count as handed over from then on, one sample period
apart. The echo stage asks for the samples handed over up to a microphone block's hand-over
(``echo/clock.py`` says why hand-over times, not the reported latencies, align the two).

Which sample was handed over when comes from a fit, not from the last callback alone: each
callback implies an anchor (its time less its first sample's index over the rate), and the
anchor used is a low quantile (``ANCHOR_QUANTILE``) of those of the last ``ANCHOR_WINDOW_S``. The
callbacks' times are not a steady clock: through PulseAudio they fall behind the sample count by
up to a block (20 ms) over 4-12 s, then the speaker is called back twice in a row and the lag
starts again, and under load single callbacks come 5-70 ms late. A late callback implies a late
anchor and a doubled one an early one; a quantile over a whole cycle ignores both, while the
last callback's time moved the pairing by their lateness (a reference 50 ms behind the echo, on
a short echo path, never converged). A low quantile, because a callback can be late but not
early: the low side is the device's own pace. An underflow (``write(..., underflow=True)``: the
device ran dry and played silence the tap never saw) or a gap of ``REANCHOR_S`` between two
callbacks (the stream starting, a stall) starts the fit afresh: what came before is on another
line.

Threading: ``write`` runs on PortAudio's output thread and only copies into preallocated rings
(no allocation, no lock); ``read`` and ``index_at`` run on the echo worker. A block's mark (its
position and time) is published by bumping the mark count after its samples and mark are in
place, so a reader never sees a mark ahead of the data. The ring holds ``seconds`` (2 s): far
more than any device latency, so the samples a reader asks for are never being overwritten
while it copies them.
"""

from __future__ import annotations

import time as _time
from typing import TYPE_CHECKING, Any

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]

ANCHOR_WINDOW_S = 8.0  # a whole cycle of PulseAudio's lag, whatever the block size
ANCHOR_QUANTILE = 0.2
REANCHOR_S = 0.5
# The marks ring: 8 s of 2.5 ms blocks, and a margin the writer cannot fill while a read copies.
_MARKS = 4096
_MARGIN = 64


def stream_time(time_info: Any, field: str) -> float:
    """A PortAudio time-info field, or the monotonic clock for a host API that reports no times
    at all (every field 0): less exact, but the speaker and the microphone then share it."""
    value = float(getattr(time_info, field))
    fields = ("currentTime", "inputBufferAdcTime", "outputBufferDacTime")
    if value or any(float(getattr(time_info, name, 0.0)) for name in fields):
        return value  # a clock that starts at 0 reads 0 once: the other fields tell
    return _time.monotonic()


class FarEndTap:
    """A ring of the last ``seconds`` of played samples, addressable by time."""

    def __init__(self, seconds: float = 2.0, rate: int = SAMPLE_RATE) -> None:
        import numpy as np

        self._np = np
        self.rate = rate
        self._size = max(1, round(seconds * rate))
        self._ring: Pcm = np.zeros(self._size, dtype=np.int16)
        self._written = 0  # samples written since the start (the next sample's index)
        # Per block: the index of its first sample and its hand-over time (a ring of marks).
        self._mark_index = np.zeros(_MARKS, dtype=np.int64)
        self._mark_time = np.zeros(_MARKS, dtype=np.float64)
        self._marks = 0  # marks written; the last is at (_marks - 1) % _MARKS
        self._fit_from = 0  # the first mark of the current fit (an underflow, a gap restart it)
        self.underflows = 0  # blocks the speaker reported an output underflow with

    # ------------------------------------------------------------------ audio thread

    def write(self, block: Any, handed_at: float, *, underflow: bool = False) -> None:
        """One output block (int16, shape ``(frames,)`` or ``(frames, 1)``) and the time it was
        handed over (``stream_time(time, "currentTime")``); ``underflow``: PortAudio flagged
        ``output_underflow`` on this callback (the device played silence before it)."""
        samples = block.reshape(-1)
        n = len(samples)
        start = self._written % self._size
        first = min(n, self._size - start)
        self._ring[start : start + first] = samples[:first]
        if n > first:
            self._ring[: n - first] = samples[first:]
        k = self._marks
        if underflow:
            self.underflows += 1
            self._fit_from = k
        elif k and handed_at - float(self._mark_time[(k - 1) % _MARKS]) > REANCHOR_S:
            self._fit_from = k
        self._mark_index[k % _MARKS] = self._written
        self._mark_time[k % _MARKS] = handed_at
        self._written += n
        self._marks = k + 1  # publishes the block

    # ------------------------------------------------------------------ echo worker

    @property
    def written(self) -> int:
        return self._written

    def anchor(self) -> float | None:
        """The fitted time of sample 0 (see the module docstring); None before the first block."""
        np = self._np
        k = self._marks
        if not k:
            return None
        slots = np.arange(max(self._fit_from, k - (_MARKS - _MARGIN)), k) % _MARKS
        times = self._mark_time[slots]
        recent = times >= times[-1] - ANCHOR_WINDOW_S  # by time: blocks may be 5, 10 or 20 ms
        implied = times[recent] - self._mark_index[slots][recent] / self.rate
        return float(np.quantile(implied, ANCHOR_QUANTILE, method="lower"))

    def index_at(self, time: float) -> int | None:
        """The index of the sample handed over at ``time`` (None before the first block)."""
        anchor = self.anchor()
        if anchor is None:
            return None
        return round((time - anchor) * self.rate)

    def read(self, start_time: float, n: int) -> Pcm:
        """The ``n`` samples from the one at ``start_time`` on; zeros where nothing was handed
        over (before the stream started, or not yet)."""
        first = self.index_at(start_time)
        if first is None:
            return self._np.zeros(n, dtype=self._np.int16)
        return self.read_index(first, n)

    def read_index(self, first: int, n: int) -> Pcm:
        """The ``n`` samples from index ``first`` on (zeros where there are none)."""
        np = self._np
        out: Pcm = np.zeros(max(0, n), dtype=np.int16)
        written = self._written
        if n <= 0:
            return out
        lo = max(first, written - self._size + 1, 0)  # older samples were overwritten
        hi = min(first + n, written)  # later ones were not played yet
        if hi <= lo:
            return out
        pos, span = lo % self._size, hi - lo
        head = min(span, self._size - pos)  # the ring wraps at most once in under its size
        out[lo - first : lo - first + head] = self._ring[pos : pos + head]
        if head < span:
            out[lo - first + head : hi - first] = self._ring[: span - head]
        return out
