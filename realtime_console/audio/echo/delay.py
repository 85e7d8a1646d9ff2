"""Where in the far end the echo is: GCC-PHAT between the microphone and what was played.

The linear echo filter (``kalman.py``) spans 100 ms; the echo can come anywhere up to 500 ms
after its far-end block (output buffer, air, input buffer). Every 0.25 s this estimator
cross-correlates the last 0.5 s of microphone with the last 1.0 s of far end, both decimated to
6 kHz, with the phase transform (each frequency weighted alike, so the voice's own low-frequency
weight and the room's colour do not smear the peak; bins well below the average are weighted
down, or their noise would count as much as the voice), the cross-spectra averaged over updates.
It reports a delay only when the peak stands well clear of the rest (near-end speech and noise
do not correlate with the far end, so they lower the peak but do not move it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float64]

DECIMATE = 4  # 24 kHz -> 6 kHz: speech's correlation lives below 3 kHz
MAX_DELAY_S = 0.5  # AEC3's reach; beyond it, audio.aec_delay_ms
MIC_WINDOW_S = 0.5
UPDATE_S = 0.25
# Peak / mean |GCC| over the searched lags: below it, no estimate. Measured (aec_erle's voices):
# an echo alone 36-56, an echo 5 dB under the user's voice 15-50, two voices and no echo at all
# up to 16 (their common harmonics), which must not be taken for an echo.
PEAK_RATIO = 20.0
PHAT_FLOOR = 0.1  # of the mean cross-spectrum magnitude: weaker bins count proportionally less
SMOOTHING = 0.6  # weight of the past cross-spectrum at each update
ACTIVE_LEVEL = 1e-7  # mean square (-70 dBFS): quieter far-end windows teach nothing


class DelayEstimator:
    """Feed equal-length mic and far blocks at ``rate``; ``update`` returns a delay in samples
    (at ``rate``) when one is due and clear, else None."""

    def __init__(self, rate: int) -> None:
        import numpy as np

        self._np = np
        self.rate = rate
        fs = rate // DECIMATE
        self._mic_n = round(MIC_WINDOW_S * fs)
        self._lags = round(MAX_DELAY_S * fs)
        self._far_n = self._mic_n + self._lags
        self._nfft = 1 << (self._far_n + self._mic_n - 1).bit_length()
        self._far = np.zeros(self._far_n)
        self._mic = np.zeros(self._mic_n)
        self._rest_far = np.zeros(0)
        self._rest_mic = np.zeros(0)
        self._cross = np.zeros(self._nfft // 2 + 1, dtype=np.complex128)
        self._seen = 0
        self._every = round(UPDATE_S * rate)
        self._smoothing = SMOOTHING
        # What came since the last estimate (rows: far, mic), written in place: appending a
        # copy of every 10 ms block to a list cost more than the decimation.
        self._pending = np.zeros((2, 0))
        self.confidence = 0.0

    def slow_down(self, factor: int) -> None:
        """Estimate every ``factor`` updates only (once the echo is located, a path that moves
        is rare, and each estimate costs three long FFTs); the cross-spectra's memory in seconds
        stays the same."""
        self._every = round(UPDATE_S * self.rate) * factor
        self._smoothing = SMOOTHING**factor

    def push(self, mic: Samples, far: Samples) -> int | None:
        """Append a block; returns a fresh estimate (samples at ``rate``) or None."""
        np = self._np
        n, seen = len(far), self._seen
        if seen + n > self._pending.shape[1]:
            grown = np.zeros((2, max(2 * self._pending.shape[1], seen + n, self._every)))
            grown[:, :seen] = self._pending[:, :seen]
            self._pending = grown
        self._pending[0, seen : seen + n] = far  # copied: the caller may reuse its buffers
        self._pending[1, seen : seen + n] = mic
        self._seen = seen = seen + n
        if seen < self._every:
            return None
        far_d, self._rest_far = self._decimate(
            np.concatenate((self._rest_far, self._pending[0, :seen]))
        )
        mic_d, self._rest_mic = self._decimate(
            np.concatenate((self._rest_mic, self._pending[1, :seen]))
        )
        self._seen = 0
        self._far = np.concatenate((self._far, far_d))[-self._far_n :]
        self._mic = np.concatenate((self._mic, mic_d))[-self._mic_n :]
        return self._estimate()

    def _decimate(self, x: Samples) -> tuple[Samples, Samples]:
        whole = len(x) // DECIMATE * DECIMATE
        return x[:whole].reshape(-1, DECIMATE).sum(axis=1) / DECIMATE, x[whole:]

    def _estimate(self) -> int | None:
        np = self._np
        if float(self._far @ self._far) < ACTIVE_LEVEL * self._far_n:
            return None  # nothing played lately
        if float(self._mic @ self._mic) < ACTIVE_LEVEL * self._mic_n:
            return None  # the microphone hears nothing
        mic = np.fft.rfft(self._mic, self._nfft)
        far = np.fft.rfft(self._far, self._nfft)
        s = self._smoothing
        self._cross = s * self._cross + (1 - s) * np.conj(mic) * far
        # r[m] = sum_n mic[n] far[n + m]: the mic window starts ``lags`` after the far window,
        # so an echo delayed by d (decimated samples) peaks at m = lags - d.
        # The phase transform, regularised: bins far below the average (between a voice's
        # harmonics, beyond its band) hold only noise and rounding, which plain PHAT would
        # weigh as much as the voice and which put spurious peaks at the ends of the range.
        magnitude = np.abs(self._cross)
        floor = PHAT_FLOOR * float(magnitude.mean()) + 1e-20
        gcc = np.fft.irfft(self._cross / (magnitude + floor), self._nfft)
        r = np.abs(gcc[: self._lags + 1])
        m = int(np.argmax(r))
        self.confidence = float(r[m] / (np.mean(r) + 1e-20))
        if self.confidence < PEAK_RATIO:
            return None
        return (self._lags - m) * DECIMATE
