"""Where the output device really is: how much of what the speaker handed over has been played.

PortAudio stamps every output callback with ``currentTime`` (the block is handed over) and
``outputBufferDacTime`` (its first sample reaches the DAC), on the stream's own clock, the one
``stream.time`` reads. Their difference is the block's real distance to the listener. The
stream's ``latency`` property is only what the host API promised when it opened: through
PulseAudio (PortAudio's ALSA host API and the pulse plugin) a 20 ms block reports 40 ms while its
blocks sit 41-59 ms from the DAC, and the input side is further off (200 ms reported, 61 ms real).

Measured on PulseAudio's null sink, recorded from its monitor with ``parec``
(``benchmarks/talk_bargein_pulse.py``, README "Barge-in and truncation"): a click reaches the
monitor exactly where its DAC time says, less the monitor's own block (the null sink renders
that far ahead: 4.6 ms with a 5 ms monitor, 9.7 ms with 10 ms, 19.8 ms with 20 ms), for every
block size and requested latency tried. So the DAC times are used as they are; no offset is
added. Only the first blocks after a start are off (the first one says 0 ms while the device
buffer fills), and the callbacks themselves come early or late by a few ms (the DAC times stay
true: a later callback gets a nearer one). So the position is taken from the DAC times alone:
each of the last ``HISTORY`` blocks says when frame 0 would have played (its DAC time less its
first frame's offset, the device playing on at one sample per period), and the median of those
is used: one odd stamp does not move it, and an underrun's shift is followed within half the
history.

A host API that reports no times at all (every field 0) gets the stream's reported latency.

Threading: ``mark`` runs on PortAudio's thread and only stores numbers into preallocated slots
(the frame count last, so a reader never sees it ahead of its block's times); the queries run
on the event loop.
"""

from __future__ import annotations

from typing import Any

from realtime_console.protocol.pcm import SAMPLE_RATE

HISTORY = 16  # blocks the medians are taken over: 320 ms at 20 ms blocks, 80 ms at 5 ms


class OutputClock:
    """The output stream's measured delay and the frame the DAC has reached."""

    def __init__(self, rate: int = SAMPLE_RATE) -> None:
        self.rate = rate
        self._delays = [0.0] * HISTORY  # a ring of per-block delays, seconds
        self._anchors = [0.0] * HISTORY  # per block: when frame 0 played, by its DAC time
        self._count = 0  # blocks with times seen
        # Frames handed over once the last timed block was; None until a block with times.
        self._handed: int | None = None
        self.reported_s = 0.0  # the stream's own ``latency``: the fallback

    # ------------------------------------------------------------------ audio thread

    def mark(self, handed_frames: int, frames: int, time_info: Any) -> None:
        """One output block was handed over: ``handed_frames`` counts it (and all before)."""
        handed = float(time_info.currentTime)
        dac = float(time_info.outputBufferDacTime)
        if not handed and not dac and not float(getattr(time_info, "inputBufferAdcTime", 0.0)):
            return  # this host API reports no times (or the clock's first zero reading)
        slot = self._count % HISTORY
        self._delays[slot] = max(0.0, dac - handed)
        self._anchors[slot] = dac - (handed_frames - frames) / self.rate
        self._count += 1
        self._handed = handed_frames  # last: a reader never sees it ahead of its anchor

    # ------------------------------------------------------------------ event loop

    @property
    def timed(self) -> bool:
        """The host API stamps its blocks (else the reported latency stands in)."""
        return self._handed is not None

    @property
    def delay_s(self) -> float:
        """From handing a block over to its first sample at the DAC: the median of the last
        ``HISTORY`` blocks, or the reported latency where the host API gives no times."""
        n = min(self._count, HISTORY)
        return _median(self._delays[:n]) if n else self.reported_s

    @property
    def handed_frames(self) -> int | None:
        """Frames handed over as of the last timed block (None before one)."""
        return self._handed

    def in_flight(self, now: float | None) -> int:
        """Frames handed over (as of the last timed block) that have not reached the DAC at
        ``now`` (the stream's clock, ``stream.time``; None or 0 when it cannot be read: the
        delay alone is then the answer, as if asked right after the last callback)."""
        handed_frames = self._handed
        if handed_frames is None or not now:
            return round(self.delay_s * self.rate)
        anchor = _median(self._anchors[: min(self._count, HISTORY)])
        reached = round((now - anchor) * self.rate)  # frames played by ``now``
        return handed_frames - min(handed_frames, max(0, reached))


def _median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
