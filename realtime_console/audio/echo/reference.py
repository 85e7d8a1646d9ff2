"""The far-end reference: exactly the samples handed to the output device, on PortAudio's clock.

An echo canceller needs, beside each microphone block, what the speaker was playing when that
block was captured, never later. The speaker's callback writes every block it hands to PortAudio
(reply audio, fades and silence alike) into a preallocated ring, with the callback's
``time.currentTime``: the block's samples count as handed over from then on, one sample period
apart. The echo stage asks for the samples handed over up to a microphone block's hand-over
(``echo/clock.py`` says why hand-over times, not the reported latencies, align the two).

Threading: ``write`` runs on PortAudio's output thread and only copies into the ring (no
allocation, no lock); ``read`` runs on the echo worker. The block's position and time are
published as one tuple after its samples are in place, so a reader never sees a mark ahead of
the data. The ring holds ``seconds`` (2 s): far more than any device latency, so the samples a
reader asks for are never being overwritten while it copies them.
"""

from __future__ import annotations

import time as _time
from typing import TYPE_CHECKING, Any

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]


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
        # (index of the last block's first sample, its time); None until the first block.
        self._mark: tuple[int, float] | None = None

    # ------------------------------------------------------------------ audio thread

    def write(self, block: Any, handed_at: float) -> None:
        """One output block (int16, shape ``(frames,)`` or ``(frames, 1)``) and the time it was
        handed over (``stream_time(time, "currentTime")``)."""
        samples = block.reshape(-1)
        n = len(samples)
        start = self._written % self._size
        first = min(n, self._size - start)
        self._ring[start : start + first] = samples[:first]
        if n > first:
            self._ring[: n - first] = samples[first:]
        self._mark = (self._written, handed_at)
        self._written += n

    # ------------------------------------------------------------------ echo worker

    @property
    def written(self) -> int:
        return self._written

    def index_at(self, time: float) -> int | None:
        """The index of the sample handed over at ``time`` (None before the first block)."""
        mark = self._mark
        if mark is None:
            return None
        index, handed_at = mark
        return index + round((time - handed_at) * self.rate)

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
