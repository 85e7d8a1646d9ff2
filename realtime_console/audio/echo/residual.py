"""What the linear filter leaves of the echo, suppressed per frequency band, gently.

After the linear filter (``kalman.py``) the echo that remains is mostly the part it has not yet
learnt or cannot follow: a fraction of its own echo estimate, larger at high frequencies, and,
while it is still converging (or the delay is not known yet), much of the far end itself. Per
band this suppressor estimates both fractions by regression of the residual's power on the
echo estimate's and on the far end's (a covariance over ~1 s: the near end does not correlate
with either, so double talk does not inflate them, where a plain ratio would), and attenuates a
bin only by what that residual echo explains of it (spectral subtraction with a floor). While
the user talks over the echo, their voice dominates the residual in most bins and passes at
full level; where the far end is silent nothing is touched.

Short-time Fourier transform: sqrt-Hann windows of two frames, hopped by one frame, so the
output lags the input by one frame (10 ms).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float64]

BANDS = 24  # log-spaced bands for the regressions (bins alone are too noisy)
AVERAGING = 0.99  # per frame: ~1 s memory for the regressions
OVERSUBTRACTION = 2.0  # residual echo is bursty: subtract twice the estimate
FLOOR_DB = -25.0  # never attenuate a bin by more (keeps the near end's texture) ...
CAUTIOUS_FLOOR_DB = -60.0  # ... once the echo is measured; until then, this much
TAIL_HOLD = 0.5  # per frame: the echo estimate's decay, for the room's tail beyond the filter
FAR_HOLD = 0.9  # per frame: the far end's, which may not be aligned yet (~200 ms to -10 dB)
ERROR_SMOOTHING = 0.5
LEAK_START = 0.5  # residual / echo estimate before anything is measured
COUPLING_START = 10.0  # residual / far end before anything is measured: 10 dB above played
LEAK_RANGE = (1e-4, 2.0)
ACTIVE = 1e-9  # band power below which a regression is not updated
MIN_RHO = 0.4  # correlation of residual and regressor powers below which there is no echo
MAX_FALL = 0.97  # per frame: the fastest a ratio may fall
WEAK_FADE = 0.995  # per frame, of a ratio without a strong correlation behind it
TRUSTED_AFTER = 100  # frames of far end in a band before its regressions replace the start values


class ResidualSuppressor:
    """``process(error, echo, far_power, floor_db, linear_db)`` per frame (the linear filter's
    output, its echo estimate, the power spectrum of the far end as aligned for it, ``frame + 1``
    bins, how deep it may suppress: at most ``FLOOR_DB``, deeper while the linear filter removes
    little, and how much the filter removes); returns the frame one frame late."""

    def __init__(self, frame: int) -> None:
        import numpy as np

        self._np = np
        self.frame = frame
        n = 2 * frame
        bins = frame + 1
        self._window = np.sqrt(np.hanning(n + 1)[:-1])
        self._window_squared = self._window**2
        self._both = np.zeros((2, n))  # the error and the echo estimate, two frames each
        self._overlap = np.zeros(frame)
        edges = np.unique(np.round(np.geomspace(1, bins, BANDS + 1)).astype(int))
        edges[0] = 0
        self._starts = edges[:-1]
        self._band_of = np.repeat(
            np.arange(len(self._starts)), np.diff(np.append(self._starts, bins))
        )
        self._cautious_floor = 10 ** (CAUTIOUS_FLOOR_DB / 20)
        nb = len(self._starts)
        # Row 0: the residual on the echo estimate (leak); row 1: on the far end (coupling).
        self._regression = _Regression(nb, (LEAK_START, COUPLING_START))
        self._held = np.zeros((2, bins))  # the echo estimate's and the far end's power, held
        self._hold = np.array([[TAIL_HOLD], [FAR_HOLD]])
        self._powers = np.zeros((2, bins))
        self._e_smooth = np.zeros(bins)
        self.gain = np.ones(bins)

    def restart(self) -> None:
        """The echo path is new (the delay moved): be cautious again until it is measured."""
        self._regression.restart()

    def relax(self) -> None:
        """No echo was found after seconds of playback: drop the cautious start values."""
        self._regression.relax()

    @property
    def quiet(self) -> bool:
        """Nothing held of the echo or the far end: every gain would be 1 (``passthrough``)."""
        return not self._held.any()

    def forget_echo(self) -> None:
        """The far end has been silent for longer than any room rings: drop the held powers."""
        self._held[:] = 0

    def passthrough(self, error: Samples) -> Samples:
        """``process`` with every gain 1, without the transforms: the same output, exactly
        (the squared window's halves add up to one), one frame late."""
        frame = self.frame
        both = self._both
        both[:, :frame] = both[:, frame:]
        both[0, frame:] = error
        both[1, frame:] = 0
        result: Samples = self._overlap + self._window_squared[:frame] * both[0, :frame]
        self._overlap = self._window_squared[frame:] * both[0, frame:]
        self.gain[:] = 1
        return result

    def process(
        self,
        error: Samples,
        echo: Samples,
        far_power: Samples,
        floor_db: float = FLOOR_DB,
        linear_db: float | None = None,
        path_gain: float = 0.0,
    ) -> Samples:
        np = self._np
        frame = self.frame
        both = self._both
        both[:, :frame] = both[:, frame:]
        both[0, frame:] = error
        both[1, frame:] = echo
        spectra = np.fft.rfft(both * self._window, axis=1)
        e = spectra[0]
        pe = e.real**2 + e.imag**2
        powers = self._powers
        np.multiply(spectra[1].real, spectra[1].real, out=powers[0])
        powers[0] += spectra[1].imag * spectra[1].imag
        powers[1] = far_power
        # The room's tail and the filter's lag spread the echo in time: hold the estimates.
        held = np.maximum(powers, self._hold * self._held, out=self._held)
        bands = np.add.reduceat(np.vstack((pe, held)), self._starts, axis=1)
        ratios = self._regression.update(bands[0], bands[1:])
        # Never less leak than the linear filter's own reduction says (``linear_db``, its best
        # lately): right after the regressions take over they can still read low, while the
        # filter is converging, and a loud echo would get through.
        leak = ratios[0] if linear_db is None else np.maximum(ratios[0], 10 ** (-linear_db / 10))
        coupling = ratios[1]
        if linear_db is not None and path_gain > 0:
            # Nor less coupling than the echo path's gain less what the filter removes: while
            # the filter still learns, the regressions can read some bands low.
            coupling = np.maximum(coupling, path_gain * 10 ** (-linear_db / 10))
        residual = np.maximum(leak[self._band_of] * held[0], coupling[self._band_of] * held[1])
        self._e_smooth = ERROR_SMOOTHING * self._e_smooth + (1 - ERROR_SMOOTHING) * pe
        # Until the echo is measured the floor is deep: a loud echo (a loopback hears the
        # speaker at -1 dB) must not reach the VAD while the filter converges.
        trusted_floor = 10 ** (min(FLOOR_DB, floor_db) / 20)
        trusted = self._regression.trusted[1]  # the coupling's: the far end was seen enough
        floor = np.where(trusted, trusted_floor, self._cautious_floor)[self._band_of]
        self.gain = np.maximum(floor, 1 - OVERSUBTRACTION * residual / (self._e_smooth + 1e-20))
        out = np.fft.irfft(e * self.gain, 2 * frame) * self._window
        result: Samples = self._overlap + out[:frame]
        self._overlap = out[frame:]
        return result


class _Regression:
    """Per band, the power ratio of a residual to each of its regressors (rows), from their
    covariance: what of the residual's power moves with the regressor's (the near end does not).
    """

    def __init__(self, bands: int, start: tuple[float, ...]) -> None:
        import numpy as np

        self._np = np
        rows = len(start)
        self._mean_r = np.zeros(bands)
        self._mean_x = np.zeros((rows, bands))
        self._cov = np.zeros((rows, bands))
        self._var = np.zeros((rows, bands))
        self._var_r = np.zeros(bands)
        self._frames = np.zeros((rows, bands))
        self._start = np.array(start)[:, None] * np.ones((rows, bands))
        self.ratio = self._start.copy()

    def restart(self) -> None:
        self._frames[:] = 0
        self._cov[:] = 0
        self._var[:] = 0
        self._var_r[:] = 0
        self.ratio[:] = self._start

    def relax(self) -> None:
        self.ratio[:] = LEAK_RANGE[0]
        self._frames[:] = TRUSTED_AFTER

    @property
    def trusted(self) -> npt.NDArray[np.bool_]:
        """Per row and band: has it seen enough of the far end for its estimate to stand?"""
        trusted: npt.NDArray[np.bool_] = self._frames >= TRUSTED_AFTER
        return trusted

    def update(self, residual: Samples, regressors: Samples) -> Samples:
        np = self._np
        a = AVERAGING
        active = regressors > ACTIVE
        # Start the averages at the first values: from zero, both powers would rise together
        # for a second and that shared rise would read as a strong correlation.
        fresh = (self._frames == 0) & active
        if fresh.any():
            self._mean_x = np.where(fresh, regressors, self._mean_x)
            self._mean_r = np.where(fresh.any(axis=0), residual, self._mean_r)
        self._mean_r = a * self._mean_r + (1 - a) * residual
        self._mean_x = a * self._mean_x + (1 - a) * regressors
        dx = regressors - self._mean_x
        dr = residual - self._mean_r
        self._cov = a * self._cov + (1 - a) * dr * dx
        self._var = a * self._var + (1 - a) * dx * dx
        self._var_r = a * self._var_r + (1 - a) * dr * dr
        self._frames += active
        # Until a band has seen enough of the far end, its estimate is mostly the averages'
        # start-up: keep the cautious start value meanwhile.
        active &= self._frames >= TRUSTED_AFTER
        var = np.maximum(self._var, 1e-30)
        measured = np.minimum(np.maximum(self._cov / var, LEAK_RANGE[0]), LEAK_RANGE[1])
        # A weak correlation is mostly the estimate's own noise (a stationary far end and a
        # talking user), not echo: it does not replace the ratio, which only fades then
        # (-2 dB a second), so a cautious start or a measured leak is not dropped at once.
        rho = self._cov / np.sqrt(var * self._var_r + 1e-60)
        faded = np.maximum(self.ratio * WEAK_FADE, LEAK_RANGE[0])
        measured = np.where(rho >= MIN_RHO, measured, faded)
        # A ratio rises at once but falls by at most 13 dB a second: the cautious start hands
        # over to the measurements gradually, and one low reading does not open a band.
        measured = np.maximum(measured, self.ratio * MAX_FALL)
        self.ratio = np.where(active, measured, self.ratio)
        ratio: Samples = self.ratio
        return ratio
