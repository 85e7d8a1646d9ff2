"""Where the echo in a microphone block came from, and keeping the reference's lead on it.

``locate_echo`` finds, by normalised cross-correlation, the stretch of what was played that a
microphone block best matches: an echo is a delayed, filtered copy of the playback, so while the
speaker plays the peak sits where the block's echo came from (the direct sound), and its height
says how sure that is (a simulated room's echo measured 0.83, a voice over the reply <= 0.37).

``LeadTracker`` watches the reference's lead on that echo (the reference's first sample less the
echo's, in samples: AEC3 needs it at or above 0 and under ~500 ms, and, once it has learned the
echo path, the same from block to block). The lead changes at real breaks only: the speaker
underflowed (the device played silence the reference never saw, so everything after plays
later) or the microphone lost samples (everything after is captured later in its count).
Doubled and late callbacks move the callbacks' times, not what plays, so they leave it alone.
When two measured blocks in a row show the echo elsewhere (``LeadTracker``), that is a break:
the reference moves by exactly the change, so AEC3's learned echo path fits again at once
instead of being re-learned over a second or two of leaking echo. Slow changes are the two
devices' clocks drifting apart; the established lead follows them and AEC3 tracks them itself
(a jump, even of a millisecond, would let echo through).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Signal = npt.NDArray[np.float64]

SUPPORT = 0.6  # a block supports a lead where it correlates this near its own peak
SPREAD_SAMPLES = 32  # how far the peak wanders with the content (1.3 ms): the same lead
DECAY = 0.9  # per measured block: the lead profile covers the last ten or so
SETTLE = 4  # measured blocks before the established lead is trusted
SIGHTINGS = 2  # measured blocks that must show the same new lead
MATCH_SAMPLES = 120  # 5 ms: the stretch of the profiles compared, and how far from the new
# peak the echo may be (the peak may sit a pitch period or two of a high voice off)


@dataclass(frozen=True)
class Correlation:
    """``locate_echo``'s answer: per lag ``k``, how well the block matches ``played[k:]``."""

    ratio: Signal  # normalised correlation per lag, 0 where the playback was near-silent
    best: int  # the best lag
    rho: float  # its correlation


def locate_echo(played: Signal, near: Signal) -> Correlation:
    """Where ``near`` matches ``played`` best: the correlation at each lag normalised by both
    (0..1, sign ignored: a speaker wired inverted still echoes), each lag by its own window of
    ``played``, windows under a tenth of the loudest ignored (a reply's start is mostly silence
    before it). All zeros for a silent block."""
    import numpy as np

    n = len(near)
    lags = len(played) - n + 1
    if n == 0 or lags < 1:
        return Correlation(np.zeros(max(lags, 0)), 0, 0.0)
    size = 1 << (len(played) + n).bit_length()
    spectrum = np.fft.rfft(played, size) * np.conj(np.fft.rfft(near, size))
    xcorr = np.abs(np.fft.irfft(spectrum, size)[:lags])
    energy = np.concatenate(([0.0], np.cumsum(played * played)))
    windows = np.sqrt(np.maximum(energy[n:] - energy[:-n], 0.0))
    norm = float(np.sqrt(np.dot(near, near)))
    loudest = float(np.max(windows))
    if norm == 0.0 or loudest == 0.0:
        return Correlation(np.zeros(lags), 0, 0.0)
    usable = windows >= 0.1 * loudest
    ratio = np.minimum(np.where(usable, xcorr / np.maximum(windows, 1e-9) / norm, 0.0), 1.0)
    best = int(np.argmax(ratio))
    return Correlation(ratio, best, float(ratio[best]))


class LeadTracker:
    """The reference's lead on the echo, from the blocks' correlations (``observe``).

    One block's peak is not the echo's lead: a voiced block also matches the playback a pitch
    period or two either side (2-10 ms), sometimes better, and the peak wanders a few samples
    with the room's tail. What the echo's lead has that those do not is that every block agrees
    on it. So the established lead is the peak of the blocks' correlations summed by lead (each
    block's weight decaying by ``DECAY``: it follows drift, slowly), counting only blocks that
    support it (correlate within ``SUPPORT`` of their own peak within ``SPREAD_SAMPLES`` of it)
    once ``SETTLE`` blocks have set it. A break is ``SIGHTINGS`` measured blocks that do not
    support it (until two in a row do again) but each support one new lead, the peak of their
    sum, which in turn does not support the old one: a voice over the reply or a stretch of pure
    room tail does not do that.

    Where exactly the peak lies depends on the content, by up to a millisecond (the room's
    reflections next to the direct sound weigh in differently), and AEC3 needs the reference
    back within a sample or two. So the change is measured by matching the shape of the new
    sum around its peak (``MATCH_SAMPLES`` either side) against the established profile around
    the established lead, both the room's response seen through the playback: the offset that
    fits best is the change, to a sample on the simulated room."""

    def __init__(self, lowest: int, highest: int) -> None:
        """Leads from ``lowest`` to ``highest`` samples (the search's reach)."""
        import numpy as np

        self._np = np
        self.lowest = lowest
        self._profile = np.zeros(highest - lowest + 1)  # decayed sum of the blocks' correlations
        self._sightings: deque[Signal] = deque(maxlen=SIGHTINGS)
        self._supported = 0  # blocks in a row that supported the established lead
        self._blocks = 0
        self.established: int | None = None  # the lead AEC3 has learned the echo path with

    @property
    def pending(self) -> bool:
        """A possible break was seen: the next block should be measured."""
        return bool(self._sightings)

    def observe(self, correlation: Correlation, lead_at_0: int) -> int:
        """One measured block (lag ``k`` of ``correlation`` is lead ``lead_at_0 - k``); by how
        much to move the reference (0: not at all)."""
        block = self._on_axis(correlation, lead_at_0)
        old = self.established
        if old is None or self._blocks < SETTLE or self._supports(block, old):
            self._supported += 1
            if self._supported >= 2:
                self._sightings.clear()
            self._profile *= DECAY
            self._profile += block
            self._blocks += 1
            self.established = self._lead(self._profile)
            return 0
        self._supported = 0
        self._sightings.append(block)
        if len(self._sightings) < SIGHTINGS:
            return 0
        total = self._np.sum(self._sightings, axis=0)
        new = self._lead(total)
        if self._supports(total, old) or not all(self._supports(b, new) for b in self._sightings):
            return 0
        new = self._match(total, old, new)
        if abs(new - old) <= SPREAD_SAMPLES:
            return 0  # the content moved the peak, not a break
        self._sightings.clear()
        return old - new  # the reference moves back onto the lead AEC3 has learned

    def moved(self) -> None:
        """The reference was moved by other means (the clocks): what was seen since the last
        block is forgotten, the established lead is kept (it is what AEC3 learned)."""
        self._sightings.clear()
        self._supported = 0

    def reset(self) -> None:
        self._profile[:] = 0
        self._sightings.clear()
        self._blocks = 0
        self.established = None

    def _on_axis(self, correlation: Correlation, lead_at_0: int) -> Signal:
        np = self._np
        block: Signal = np.zeros_like(self._profile)
        ratio = correlation.ratio
        top = lead_at_0 - self.lowest  # where lag 0 lands
        lo, hi = max(0, top - len(ratio) + 1), min(len(block), top + 1)
        if hi > lo:
            # lead = lead_at_0 - k: the axis runs the other way from the lags
            block[lo:hi] = ratio[top - hi + 1 : top - lo + 1][::-1]
        return block

    def _lead(self, profile: Signal) -> int:
        return int(self._np.argmax(profile)) + self.lowest

    def _match(self, total: Signal, old: int, new: int) -> int:
        """The lead near ``new`` where ``total`` has the established profile's shape around
        ``old`` (see the class docstring)."""
        np = self._np
        w = reach = MATCH_SAMPLES
        i, j = old - self.lowest, new - self.lowest
        if min(i - w, j - w - reach) < 0 or max(i, j + reach) + w >= len(total):
            return new  # at the edge of the search: the peak is all there is
        shape = self._profile[i - w : i + w + 1]
        stretch = total[j - w - reach : j + w + reach + 1]
        fit = np.correlate(stretch, shape, "valid")
        energy = np.sqrt(np.convolve(stretch * stretch, np.ones(len(shape)), "valid"))
        fit /= np.maximum(energy, 1e-9) * max(float(np.sqrt(np.dot(shape, shape))), 1e-9)
        return new - reach + int(np.argmax(fit))

    def _supports(self, profile: Signal, lead: int) -> bool:
        i = lead - self.lowest
        around = profile[max(0, i - SPREAD_SAMPLES) : i + SPREAD_SAMPLES + 1]
        peak = float(profile.max())
        return peak > 0 and around.size > 0 and float(around.max()) >= SUPPORT * peak
