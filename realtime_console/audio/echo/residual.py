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

from dataclasses import dataclass, field
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
SILENT_FRAMES = 50  # frames with nothing played (0.5 s): the room has stopped ringing too


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
        # Row 0: the residual's power; rows 1-2: the echo estimate's and the far end's, held.
        # One array, so the bands of all three are one ``reduceat``.
        self._stack = np.zeros((3, bins))
        self._held = self._stack[1:]
        self._hold = np.array([[TAIL_HOLD], [FAR_HOLD]])
        self._powers = np.zeros((2, bins))
        self._e_smooth = np.zeros(bins)
        self.gain = np.ones(bins)
        self._silent = 0  # frames in a row with nothing played (``process_block``)
        # Scratch arrays, reused every frame (allocating them cost as much as the arithmetic).
        self._windowed = np.zeros((2, n))
        self._ratios = np.zeros((2, nb))
        self._per_bin = np.zeros((2, bins))
        self._residual = np.zeros(bins)

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
        np.multiply(both, self._window, out=self._windowed)
        spectra = np.fft.rfft(self._windowed, axis=1)
        powers = np.abs(spectra)
        powers *= powers
        self._gain_for(powers[0], powers[1], far_power, floor_db, linear_db, path_gain, self.gain)
        out = np.fft.irfft(spectra[0] * self.gain, 2 * frame)
        out *= self._window
        result: Samples = self._overlap + out[:frame]
        self._overlap = out[frame:]
        return result

    def process_block(self, block: Block) -> Samples:
        """``process`` (or ``passthrough``) for several frames at once, the same output exactly:
        the transforms of all of them in one call each, which costs little more than one frame's
        (the per-frame state updates between them stay frame by frame). A frame in which nothing
        was played over the filter's span (``block.silent``) passes unchanged while nothing of
        the echo is held, and after ``SILENT_FRAMES`` of them what is held is dropped."""
        np = self._np
        frame, k = self.frame, len(block.errors)
        # Each frame's window: the frame before it and itself, of the error and of the echo.
        inputs = np.empty((2, k + 1, frame))
        inputs[:, 0] = self._both[:, frame:]
        inputs[0, 1:] = block.errors
        inputs[1, 1:] = block.echoes
        self._both[:, :frame] = inputs[:, k - 1]
        self._both[:, frame:] = inputs[:, k]
        gains = np.ones((k, frame + 1))
        passing = np.zeros(k, dtype=bool)
        spectra = powers = None
        for j in range(k):
            if j in block.restarts:
                self.restart()
            if j in block.relaxes:
                self.relax()
            if block.silent[j]:
                if self.quiet:
                    passing[j] = True
                    continue
                self._silent += 1
                if self._silent >= SILENT_FRAMES:
                    self.forget_echo()
            else:
                self._silent = 0
            if spectra is None:
                windows = np.concatenate((inputs[:, :-1], inputs[:, 1:]), axis=2)
                windows *= self._window
                spectra = np.fft.rfft(windows, axis=2)
                powers = np.abs(spectra)
                powers *= powers
            assert powers is not None
            self._gain_for(
                powers[0, j],
                powers[1, j],
                block.far_powers[j],
                block.floor_dbs[j],
                block.linear_dbs[j],
                block.path_gains[j],
                gains[j],
            )
        if spectra is None:  # every frame passes: no transforms at all
            out = np.concatenate((inputs[0, :-1], inputs[0, 1:]), axis=1)
            out *= self._window_squared
        else:
            out = np.fft.irfft(spectra[0] * gains, 2 * frame, axis=1)
            out *= self._window
            if passing.any():
                both = np.concatenate((inputs[0, :-1][passing], inputs[0, 1:][passing]), axis=1)
                out[passing] = both * self._window_squared
        result = out[:, :frame].copy()
        result[0] += self._overlap
        result[1:] += out[:-1, frame:]
        self._overlap = out[-1, frame:].copy()
        self.gain[:] = gains[-1]
        flat: Samples = result.reshape(-1)
        return flat

    def _gain_for(
        self,
        pe: Samples,
        echo_power: Samples,
        far_power: Samples,
        floor_db: float,
        linear_db: float | None,
        path_gain: float,
        gain: Samples,
    ) -> None:
        """One frame's state update and its gains (into ``gain``), from the power spectra of the
        residual (``pe``), of the echo estimate and of the far end."""
        np = self._np
        stack = self._stack
        stack[0] = pe
        powers = self._powers
        powers[0] = echo_power
        powers[1] = far_power
        # The room's tail and the filter's lag spread the echo in time: hold the estimates.
        held = self._held
        held *= self._hold
        np.maximum(powers, held, out=held)
        bands = np.add.reduceat(stack, self._starts, axis=1)
        ratios = self._regression.update(bands)
        # Never less leak than the linear filter's own reduction says (``linear_db``, its best
        # lately): right after the regressions take over they can still read low, while the
        # filter is converging, and a loud echo would get through.
        bounded = self._ratios
        bounded[:] = ratios
        if linear_db is not None:
            np.maximum(bounded[0], 10 ** (-linear_db / 10), out=bounded[0])
            if path_gain > 0:
                # Nor less coupling than the echo path's gain less what the filter removes:
                # while the filter still learns, the regressions can read some bands low.
                np.maximum(bounded[1], path_gain * 10 ** (-linear_db / 10), out=bounded[1])
        per_bin = np.take(bounded, self._band_of, axis=1, out=self._per_bin)
        per_bin *= held
        residual = np.maximum(per_bin[0], per_bin[1], out=self._residual)
        e_smooth = self._e_smooth
        e_smooth *= ERROR_SMOOTHING
        e_smooth += (1 - ERROR_SMOOTHING) * pe
        # Until the echo is measured the floor is deep: a loud echo (a loopback hears the
        # speaker at -1 dB) must not reach the VAD while the filter converges.
        trusted_floor = 10 ** (min(FLOOR_DB, floor_db) / 20)
        trusted = self._regression.trusted[1]  # the coupling's: the far end was seen enough
        floor = np.where(trusted, trusted_floor, self._cautious_floor)[self._band_of]
        np.add(e_smooth, 1e-20, out=gain)
        np.divide(residual, gain, out=gain)
        gain *= -OVERSUBTRACTION
        gain += 1
        np.maximum(floor, gain, out=gain)


@dataclass
class Block:
    """Several frames' input to ``ResidualSuppressor.process_block``: per frame, the linear
    filter's output and echo estimate (the microphone and zeros where ``silent``), the far
    end's power spectrum, the floor, the linear filter's reduction and the path's gain, and
    the frames before which the suppressor restarts or relaxes."""

    errors: Samples
    echoes: Samples
    far_powers: Samples
    floor_dbs: list[float] = field(default_factory=list)
    linear_dbs: list[float] = field(default_factory=list)
    path_gains: list[float] = field(default_factory=list)
    silent: list[bool] = field(default_factory=list)
    restarts: set[int] = field(default_factory=set)
    relaxes: set[int] = field(default_factory=set)


class _Regression:
    """Per band, the power ratio of a residual to each of its regressors (rows), from their
    covariance: what of the residual's power moves with the regressor's (the near end does not).
    """

    def __init__(self, bands: int, start: tuple[float, ...]) -> None:
        import numpy as np

        self._np = np
        rows = len(start)
        # One array per kind, so each step of the update is one numpy call for all rows:
        # the means of the residual and the regressors; the residual's variance, the
        # regressors' variances and their covariances with the residual; their scratch.
        self._means = np.zeros((1 + rows, bands))
        self._moments = np.zeros((1 + 2 * rows, bands))
        self._products = np.zeros((1 + 2 * rows, bands))
        self._rows = rows
        self._frames = np.zeros((rows, bands))
        self._start = np.array(start)[:, None] * np.ones((rows, bands))
        self.ratio = self._start.copy()
        self._starting = True  # some band has not seen the far end yet

    def restart(self) -> None:
        self._starting = True
        self._frames[:] = 0
        self._moments[:] = 0
        self.ratio[:] = self._start

    def relax(self) -> None:
        self.ratio[:] = LEAK_RANGE[0]
        self._frames[:] = TRUSTED_AFTER

    @property
    def trusted(self) -> npt.NDArray[np.bool_]:
        """Per row and band: has it seen enough of the far end for its estimate to stand?"""
        trusted: npt.NDArray[np.bool_] = self._frames >= TRUSTED_AFTER
        return trusted

    def update(self, values: Samples) -> Samples:
        """``values``: the residual (row 0) and the regressors, per band."""
        np = self._np
        a = AVERAGING
        rows = self._rows
        regressors = values[1:]
        active = regressors > ACTIVE
        means = self._means
        # Start the averages at the first values: from zero, both powers would rise together
        # for a second and that shared rise would read as a strong correlation.
        if self._starting:
            fresh = (self._frames == 0) & active
            if fresh.any():
                means[1:] = np.where(fresh, regressors, means[1:])
                means[0] = np.where(fresh.any(axis=0), values[0], means[0])
            self._starting = not self._frames.all()
        # In place: these arrays are tiny, so each numpy call's overhead is the cost.
        means *= a
        means += (1 - a) * values
        deviations = values - means
        products = self._products
        np.multiply(deviations, deviations, out=products[: 1 + rows])
        np.multiply(deviations[1:], deviations[0], out=products[1 + rows :])
        products *= 1 - a
        moments = self._moments
        moments *= a
        moments += products
        var_r, var, cov = moments[0], moments[1 : 1 + rows], moments[1 + rows :]
        self._frames += active
        # Until a band has seen enough of the far end, its estimate is mostly the averages'
        # start-up: keep the cautious start value meanwhile.
        active &= self._frames >= TRUSTED_AFTER
        var = np.maximum(var, 1e-30)
        measured = cov / var
        np.maximum(measured, LEAK_RANGE[0], out=measured)
        np.minimum(measured, LEAK_RANGE[1], out=measured)
        # A weak correlation is mostly the estimate's own noise (a stationary far end and a
        # talking user), not echo: it does not replace the ratio, which only fades then
        # (-2 dB a second), so a cautious start or a measured leak is not dropped at once.
        var *= var_r
        var += 1e-60
        np.sqrt(var, out=var)
        rho = np.divide(cov, var, out=var)
        ratio = self.ratio
        faded = ratio * WEAK_FADE
        np.maximum(faded, LEAK_RANGE[0], out=faded)
        measured = np.where(rho >= MIN_RHO, measured, faded)
        # A ratio rises at once but falls by at most 13 dB a second: the cautious start hands
        # over to the measurements gradually, and one low reading does not open a band.
        np.maximum(measured, ratio * MAX_FALL, out=measured)
        np.copyto(ratio, measured, where=active)
        return ratio
