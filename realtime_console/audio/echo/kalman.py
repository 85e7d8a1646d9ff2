"""The linear part of the echo canceller: a partitioned-block frequency-domain Kalman filter.

The echo is the far end through the room: a linear filter, which this one learns and subtracts,
leaving the near end untouched. It is the diagonal state-space form of the partitioned-block
frequency-domain adaptive filter (Enzner & Vary 2006; Kuech et al. 2014): per frequency bin and
partition, the step size is the Kalman gain, large while the filter is uncertain and small once
the error is dominated by what the filter cannot explain, the near end. That is what keeps the
user's voice intact in double talk without a separate double-talk detector: the filter hardly
moves while the user speaks over the echo. What it still moves goes into a background copy; the
foreground, which makes the output, takes the background's taps only once they explain the
microphone clearly better (two-path, as in AEC3 and Speex). The gain follows the diagonal form
of ewan-xu/pyaec's PFDKF, whose step ``K |X|^2 / 2`` stays below 1 by construction (an
explicit cap at 1 never bound, and was dropped: benchmarks/aec_erle.py, bit for bit).

Frames of ``frame`` samples, FFTs of twice that (overlap-save), ``partitions`` partitions: 10 ms
frames and 10 partitions span 100 ms of the room's response after the delay the caller applies
(``delay.py`` finds it). One partition is constrained per frame in turn (its taps past the frame
length zeroed), as in Speex's MDF, which costs one FFT pair per frame instead of one per
partition.

Clock drift: the speaker's and the microphone's clocks differ by tens of ppm, so the echo slides
by a fraction of a sample per block, which an adaptive filter only follows with a lag that costs
most of its cancellation above 1 kHz (a 4 ms slide over 36 s: 29 dB -> 7 dB). Every quarter
second the filter measures how far its own taps have moved (the phase slope between the current
and the earlier response) and from then on moves them by that rate itself, as a phase ramp, so
adaptation only has to fix what the model does not predict. ``slide`` is how far they have been
moved in all; the caller re-centres the span by whole samples (``shift``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float64]

FORGETTING = 0.99  # A in x(n+1) = A x(n) + w(n): how fast the echo path may change
A2 = FORGETTING**2
INITIAL_UNCERTAINTY = 100.0
NOISE_FLOOR = 1e-7  # mean square per sample: -70 dBFS
PATH_FLOOR = 1e-4  # |H|^2 per bin and partition: a -40 dB echo path
DRIFT_EVERY = 25  # frames between drift measurements (0.25 s at 10 ms)
DRIFT_SMOOTHING = 0.3  # weight of each new measurement in the drift rate
DRIFT_MAX_BIN_HZ = 4000  # phase slopes above this wrap too easily to measure
MAX_DRIFT = 1e-3  # 1000 ppm: anything faster is not a clock
PATH_SMOOTHING = 0.7  # per frame, for the two paths' error energies (~30 ms)
COPY_BELOW = 0.5  # the background's error under half the foreground's (3 dB) ...
COPY_AFTER = 3  # ... for this many frames in a row with the far end playing: copy it
RESTART_ABOVE = 8.0  # the background's error 9 dB over the foreground's: it strayed
FAR_ACTIVE = 1e-6  # mean square per sample (-60 dBFS)


class KalmanEchoFilter:
    """``filter(near, far)`` per frame: returns (near minus the echo estimate, the estimate)."""

    def __init__(self, rate: int, frame: int, partitions: int) -> None:
        import numpy as np

        self._np = np
        self.frame = frame
        self.partitions = partitions
        self._n = 2 * frame
        bins = frame + 1
        # Far spectra, their conjugates and powers, newest first. Each frame's is written twice
        # into a ring of twice the partitions, so the newest ``partitions`` are always one
        # contiguous view (``_x`` etc.) without moving the older ones every frame.
        self._ring = np.zeros((2 * partitions, bins), dtype=np.complex128)
        self._ring_conj = np.zeros((2 * partitions, bins), dtype=np.complex128)
        self._ring_power = np.zeros((2 * partitions, bins))
        self._at = 0
        self._x = self._ring[:partitions]
        self._x_conj = self._ring_conj[:partitions]
        self._powers = self._ring_power[:partitions]
        # The echo path, twice: [0] adapts (background), [1] makes the output (foreground).
        self._paths = np.zeros((2, partitions, bins), dtype=np.complex128)
        self._h = self._paths[0]
        # The drift's phase ramp accumulated per path and bin, not yet applied to the taps: a
        # path is ``_paths[i] * _phases[i]``. Rotating (bins) numbers per frame instead of the
        # (partitions x bins) taps of both paths; folded into the taps where they are used whole.
        self._phases = np.ones((2, bins), dtype=np.complex128)
        self.far_power = np.zeros(bins)  # the newest far spectrum's power
        self._p = np.full((partitions, bins), INITIAL_UNCERTAINTY)  # its uncertainty
        self._far_window = np.zeros(self._n)  # the last two far frames (overlap-save)
        self._error_window = np.zeros(self._n)  # zeros, then the error
        self._since_constrained = 0
        self._k = np.arange(bins)
        self._kmax = max(2, min(bins, round(DRIFT_MAX_BIN_HZ * self._n / rate)))
        self._frames = 0
        self._h_then: npt.NDArray[np.complex128] | None = None
        self.drift = 0.0  # samples per sample the echo slides by (measured)
        self.slide = 0.0  # samples the taps have been moved by in all
        self._far_energy = 0.0
        self._ramp = np.ones(bins, dtype=np.complex128)
        # Scratch arrays, reused every frame: the per-frame work is many small numpy calls,
        # and allocating their results cost as much as the arithmetic.
        self._products = np.zeros((2, partitions, bins), dtype=np.complex128)
        self._echo_spectra = np.zeros((2, bins), dtype=np.complex128)
        self._gain = np.zeros((partitions, bins))
        self._keep = np.zeros((partitions, bins))
        self._update = np.zeros((partitions, bins), dtype=np.complex128)
        self._half_x2 = np.zeros(bins)
        self._ones = np.ones(partitions, dtype=np.complex128)  # sums over the partitions
        self._halves = np.full(partitions, 0.5)
        self._bg_energy = 0.0
        self._fg_energy = 0.0
        self.output_energy = 0.0  # the energy of the last frame ``filter`` returned
        self._better = 0
        self._copied = False
        self._then_frames = 0  # ``_frames`` when ``_h_then`` was taken

    def idle(self, near_energy: float) -> None:
        """``filter`` for a frame in which nothing was played over the whole span, at a
        fraction of the cost: the echo estimate is zero and nothing is learnt (every far
        spectrum is zero), so only the uncertainty, the constraint's turn, the drift and the
        paths' error energies (the microphone's, ``near_energy``) move, exactly as there."""
        if self._x.any():
            self._ring[:] = 0
            self._ring_conj[:] = 0
            self._ring_power[:] = 0
            self._far_window[:] = 0
            self.far_power[:] = 0
        keep = self._keep
        self._path_noise(keep)
        self._p *= A2
        self._p += keep
        self._constrain()
        self._choose(near_energy, near_energy, False)
        self._track_drift()

    def filter(
        self,
        near: Samples,
        far: Samples,
        far_spectrum: npt.NDArray[np.complex128] | None = None,
    ) -> tuple[Samples, Samples]:
        """``far_spectrum``: the FFT of the last two far frames (this one last), when the
        caller took it already (several frames' in one call cost little more than one)."""
        np = self._np
        frame, n = self.frame, self._n
        window = self._far_window
        window[:frame] = window[frame:]
        window[frame:] = far
        self._push(np.fft.rfft(window) if far_spectrum is None else far_spectrum)
        # Two filters (two-path): the background adapts every frame, the foreground, which
        # makes the output, takes its taps only once they explain the microphone clearly better.
        # Double talk still pulls the background off (the near end leaks into its update); the
        # foreground keeps what was learnt, and the background restarts from it if it strays.
        np.multiply(self._paths, self._x, out=self._products)
        np.matmul(self._ones, self._products, out=self._echo_spectra)
        self._echo_spectra *= self._phases
        echoes = np.fft.irfft(self._echo_spectra, n, axis=1)[:, frame:]
        error = near - echoes[0]
        shown, echo = near - echoes[1], echoes[1]
        self._error_window[frame:] = error
        e = np.fft.rfft(self._error_window)
        e2 = np.abs(e)
        e2 *= e2
        # What the filter cannot explain (near end, noise) is estimated by the error itself,
        # never below a -70 dBFS noise floor: a digitally silent microphone before the echo
        # arrives would otherwise make the filter sure at once of an empty path.
        np.maximum(e2, NOISE_FLOOR * frame, out=e2)
        e2 *= 1 / self.partitions
        e2 += 1e-10
        # The Kalman gain per bin and partition, in the diagonal form of ewan-xu/pyaec's PFDKF:
        # K_p = P_p / (P_p |X|^2 / 2 + |E|^2 / partitions), |X|^2 summed over the partitions;
        # P_p <- A^2 (1 - K_p |X|^2 / 2) P_p + (1 - A^2) |H_p|^2, where (1 - K_p |X|^2 / 2) P_p
        # is K_p times the denominator's second term (``e2`` here): one multiplication, and no
        # cancellation in the difference. In place: these (partitions x bins) arrays are most
        # of the canceller's cost. K_p |X|^2 / 2 < 1 by construction: no step goes past the
        # solution the diagonal model sees.
        half_x2 = np.matmul(self._halves, self._powers, out=self._half_x2)
        gain = self._gain
        np.multiply(self._p, half_x2, out=gain)
        gain += e2
        np.divide(self._p, gain, out=gain)
        np.multiply(gain, A2 * e2, out=self._p)
        keep = self._keep
        self._path_noise(keep)
        self._p += keep
        update = self._update
        e /= self._phases[0]  # the update is to the stored taps, before the ramp
        np.multiply(gain, e, out=update)
        update *= self._x_conj
        self._h += update
        self._constrain()
        far_energy = float(far @ far)
        self._far_energy += far_energy
        background, foreground = float(error @ error), float(shown @ shown)
        self._choose(background, foreground, far_energy > FAR_ACTIVE * frame)
        self.output_energy = foreground  # of what ``filter`` returns
        if self._copied:
            shown, echo = error, echoes[0]
            self.output_energy = background
        self._track_drift()
        return shown, echo

    def _push(self, spectrum: npt.NDArray[np.complex128]) -> None:
        """The newest far spectrum becomes partition 0; the oldest drops out."""
        np = self._np
        p = self.partitions
        at = self._at = (self._at - 1) % p
        self._ring[at] = spectrum
        self._ring[at + p] = spectrum
        np.conjugate(spectrum, out=self._ring_conj[at])
        self._ring_conj[at + p] = self._ring_conj[at]
        power = self.far_power
        np.abs(spectrum, out=power)
        power *= power
        self._ring_power[at] = power
        self._ring_power[at + p] = power
        self._x = self._ring[at : at + p]
        self._x_conj = self._ring_conj[at : at + p]
        self._powers = self._ring_power[at : at + p]

    def _path_noise(self, out: npt.NDArray[np.float64]) -> None:
        """(1 - A^2) |H|^2 per bin and partition: the process noise scales with the taps,
        but never goes below a -40 dB path."""
        np = self._np
        np.abs(self._h, out=out)
        out *= out
        np.maximum(out, PATH_FLOOR, out=out)
        out *= 1 - A2

    def _constrain(self) -> None:
        """Zero the taps past the frame length of one partition, in turn (Speex's MDF). In
        turn, not all at once every ``partitions`` frames: that costs fewer FFT calls, but the
        two-path copy then picked up more unconstrained taps (aec_erle: -6 dB at one delay)."""
        np = self._np
        q = self._since_constrained
        self._since_constrained = (q + 1) % self.partitions
        phase = self._phases[0]
        taps = np.fft.irfft(self._h[q] * phase, self._n)
        self._h[q] = np.fft.rfft(taps[: self.frame], self._n) / phase

    def _choose(self, background: float, foreground: float, far_active: bool) -> None:
        s = PATH_SMOOTHING
        self._bg_energy = s * self._bg_energy + (1 - s) * background
        self._fg_energy = s * self._fg_energy + (1 - s) * foreground
        self._copied = False
        if far_active and self._bg_energy < COPY_BELOW * self._fg_energy:
            self._better += 1
            if self._better >= COPY_AFTER:
                self._paths[1] = self._paths[0]
                self._phases[1] = self._phases[0]
                self._fg_energy = self._bg_energy
                self._better = 0
                self._copied = True
            return
        self._better = 0
        if self._bg_energy > RESTART_ABOVE * self._fg_energy > 0:
            self._paths[0] = self._paths[1]
            self._phases[0] = self._phases[1]
            self._bg_energy = self._fg_energy

    def _track_drift(self) -> None:
        np = self._np
        if self.drift:
            # Move the taps by what the drift predicts for one frame: a phase ramp.
            self._phases *= self._ramp
            self.slide += self.drift * self.frame
        self._frames += 1
        if self._frames % DRIFT_EVERY:
            return
        then, self._h_then = self._h_then, self._h * self._phases[0]
        elapsed, self._then_frames = self._frames - self._then_frames, self._frames
        active = self._far_energy > 1e-6 * self.frame * DRIFT_EVERY  # -60 dBFS
        self._far_energy = 0.0
        if then is None or not active:
            return
        # How far the taps moved since then (prediction included): the weighted phase slope of
        # now x conj(then) over the low bins (fractions of a sample, which do not wrap there).
        k = self._k[1 : self._kmax]
        now = self._h_then[:, 1 : self._kmax]
        cross = (now * np.conj(then[:, 1 : self._kmax])).sum(axis=0)
        weight = np.abs(cross)
        denominator = float((weight * k * k).sum())
        if denominator <= 0:
            return
        moved = -float((weight * k * np.angle(cross)).sum()) / denominator * self._n / (2 * np.pi)
        rate = moved / (self.frame * elapsed)
        drift = self.drift + DRIFT_SMOOTHING * (rate - self.drift)
        self.drift = float(np.clip(drift, -MAX_DRIFT, MAX_DRIFT))
        self._ramp = np.exp(-2j * np.pi * self._k * self.drift * self.frame / self._n)

    def shift(self, samples: int, far_history: Samples, *, uncertain: bool = False) -> None:
        """Move the taps ``samples`` later (earlier if negative) within the span, when the caller
        moves the far end's delay by ``-samples``; ``far_history``: the far end as the filter will
        now see it, the last ``(partitions + 1) * frame`` samples, to rebuild its spectra.
        ``uncertain``: the echo path is new (just located, or moved), so learn it afresh. The
        uncertainty must be reset then: while the filter could not see the echo it grew sure of
        an empty path (the process noise scales with the taps), and would never learn."""
        np = self._np
        if uncertain:
            self._p[:] = INITIAL_UNCERTAINTY
        frame, n = self.frame, self._n
        self._fold()
        if samples:
            taps = np.fft.irfft(self._paths, n, axis=2)[:, :, :frame].reshape(2, -1)
            moved = np.zeros_like(taps)
            if samples > 0:
                moved[:, samples:] = taps[:, : taps.shape[1] - samples]
            else:
                moved[:, :samples] = taps[:, -samples:]
            padded = np.zeros((2, self.partitions, n))
            padded[:, :, :frame] = moved.reshape(2, self.partitions, frame)
            self._paths[:] = np.fft.rfft(padded, axis=2)
            self._h_then = None
        # Partition p's window: the far end's frames p + 1 and p back from the newest.
        windows = np.lib.stride_tricks.sliding_window_view(far_history, n)[::frame][::-1]
        spectra = np.fft.rfft(windows, axis=1)
        p = self.partitions
        self._at = 0
        self._ring[:p] = spectra
        self._ring[p:] = spectra
        np.conjugate(self._ring, out=self._ring_conj)
        np.abs(self._ring, out=self._ring_power)
        self._ring_power *= self._ring_power
        self._x = self._ring[:p]
        self._x_conj = self._ring_conj[:p]
        self._powers = self._ring_power[:p]
        self._far_window[frame:] = far_history[-frame:]

    def _fold(self) -> None:
        """Apply the accumulated phase ramps to the taps."""
        self._paths *= self._phases[:, None, :]
        self._phases[:] = 1

    def reset(self) -> None:
        self._phases[:] = 1
        self._paths[:] = 0
        self._p[:] = INITIAL_UNCERTAINTY
        self._h_then = None
        self.drift = 0.0
        self.slide = 0.0
        self._ramp[:] = 1
