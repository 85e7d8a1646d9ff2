"""When each microphone block was handed over, on the clock the speaker's far-end tap uses.

Both the speaker's tap and the microphone stamp their blocks with their callback's
``time.currentTime``: PortAudio's stream clock, the same for both streams, advancing at the real
rate. The reported latencies (``inputBufferAdcTime``, ``outputBufferDacTime``) are not used: through
PulseAudio they overstate the path (measured: the echo reached the microphone 40 ms before they
said with 20 ms blocks, 200 ms with 100 ms blocks, and ``inputBufferAdcTime`` advanced 200 ms per
100 ms block), which puts the reference *behind* the echo, where no canceller can use it. A block
handed over at ``currentTime`` can only hold the echo of samples the speaker was handed before
then, so aligning the two hand-overs is causal by construction, and AEC3's delay estimator finds
the true round trip (0 to ~500 ms, benchmarks/aec_erle.py).

The block's position in the stream is exact (the sample count), so its time is the count on an
anchor. A callback can run late but never before its block was captured, so each block implies
an anchor that is at or after the true one: the anchor drops at once to any earlier one (the
first blocks often arrive in a burst, late) and rises only part way toward later ones (20 % of the
gap per block), which follows clock drift (through PulseAudio the input ran 0.8 % slow: with 1 %
the anchor lagged 80 ms behind, with 20 % it lags 4 ms) while a late callback moves it only a fifth
of its lateness, undone by the next one on time. A jump of over
half a second (a stall, a lost stretch of input) re-anchors at once.
"""

from __future__ import annotations

RISE = 0.2  # share of the gap to a later implied anchor closed per block
REANCHOR_S = 0.5


class CaptureClock:
    def __init__(self, rate: float) -> None:
        self.rate = rate
        self._anchor: float | None = None  # the time of sample 0
        self._samples = 0  # samples before the current block

    def block_start(self, callback_time: float, frames: int) -> float:
        """The time of the first sample of a block of ``frames`` (at ``rate``) handed over at
        ``callback_time`` (``time.currentTime``): the block ends at its hand-over."""
        implied = callback_time - (self._samples + frames) / self.rate
        if self._anchor is None or implied - self._anchor > REANCHOR_S:
            self._anchor = implied
        elif implied < self._anchor:
            self._anchor = implied
        else:
            self._anchor += RISE * (implied - self._anchor)
        start = self._anchor + self._samples / self.rate
        self._samples += frames
        return start
