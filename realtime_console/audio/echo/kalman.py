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
of ewan-xu/pyaec's PFDKF, capped at a full NLMS step (speech makes the partitions' far ends
related, which the diagonal model ignores and would overshoot on).

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
MAX_STEP = 1.0  # of gain |X|^2 / 2: the most one frame may move the filter (NLMS mu)
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
        self._x = np.zeros((partitions, bins), dtype=np.complex128)  # far spectra, newest first
        # The echo path, twice: [0] adapts (background), [1] makes the output (foreground).
        self._paths = np.zeros((2, partitions, bins), dtype=np.complex128)
        self._h = self._paths[0]
        self._powers = np.zeros((partitions, bins))  # |far spectra|^2
        self.far_power = np.zeros(bins)  # the newest far spectrum's power
        self._p = np.full((partitions, bins), INITIAL_UNCERTAINTY)  # its uncertainty
        self._last_far = np.zeros(frame)
        self._zeros = np.zeros(frame)
        self._next_constrained = 0
        self._k = np.arange(bins)
        self._kmax = max(2, min(bins, round(DRIFT_MAX_BIN_HZ * self._n / rate)))
        self._frames = 0
        self._h_then: npt.NDArray[np.complex128] | None = None
        self.drift = 0.0  # samples per sample the echo slides by (measured)
        self.slide = 0.0  # samples the taps have been moved by in all
        self._far_energy = 0.0
        self._ramp = np.ones(bins, dtype=np.complex128)
        self._gain = np.zeros((partitions, bins))  # scratch arrays, reused every frame
        self._keep = np.zeros((partitions, bins))
        self._update = np.zeros((partitions, bins), dtype=np.complex128)
        self._bg_energy = 0.0
        self._fg_energy = 0.0
        self._better = 0
        self._copied = False
        self._then_frames = 0  # ``_frames`` when ``_h_then`` was taken

    def idle(self, near_energy: float) -> None:
        """``filter`` for a frame in which nothing was played over the whole span, at a
        fraction of the cost: the echo estimate is zero and nothing is learnt (every far
        spectrum is zero), so only the uncertainty, the constraint's turn, the drift and the
        paths' error energies (the microphone's, ``near_energy``) move, exactly as there."""
        np = self._np
        if self._x.any():
            self._x[:] = 0
            self._powers[:] = 0
            self._last_far = np.zeros(self.frame)
        self.far_power = self._powers[0]
        h = self._h
        keep = self._keep
        np.multiply(h.real, h.real, out=keep)
        keep += h.imag * h.imag
        np.maximum(keep, PATH_FLOOR, out=keep)
        keep *= 1 - A2
        self._p *= A2
        self._p += keep
        self._constrain_next()
        self._choose(near_energy, near_energy, False)
        self._track_drift()

    def filter(self, near: Samples, far: Samples) -> tuple[Samples, Samples]:
        np = self._np
        frame, n = self.frame, self._n
        spectrum = np.fft.rfft(np.concatenate((self._last_far, far)))
        self._last_far = far.copy()  # the caller may reuse its buffer
        self._x[1:] = self._x[:-1]
        self._x[0] = spectrum
        # Two filters (two-path): the background adapts every frame, the foreground, which
        # makes the output, takes its taps only once they explain the microphone clearly better.
        # Double talk still pulls the background off (the near end leaks into its update); the
        # foreground keeps what was learnt, and the background restarts from it if it strays.
        both = np.einsum("pk,fpk->fk", self._x, self._paths)
        echoes = np.fft.irfft(both, n, axis=1)[:, frame:]
        error = near - echoes[0]
        shown, echo = near - echoes[1], echoes[1]
        e = np.fft.rfft(np.concatenate((self._zeros, error)))
        power = spectrum.real**2 + spectrum.imag**2
        self._powers[1:] = self._powers[:-1]
        self._powers[0] = power
        self.far_power = power
        e2 = e.real**2 + e.imag**2
        # What the filter cannot explain (near end, noise) is estimated by the error itself,
        # never below a -70 dBFS noise floor: a digitally silent microphone before the echo
        # arrives would otherwise make the filter sure at once of an empty path.
        np.maximum(e2, NOISE_FLOOR * frame, out=e2)
        # The Kalman gain per bin and partition, in the diagonal form of ewan-xu/pyaec's PFDKF:
        # K_p = P_p / (P_p |X|^2 / 2 + |E|^2 / partitions), |X|^2 summed over the partitions;
        # P_p <- A^2 (1 - K_p |X|^2 / 2) P_p + (1 - A^2) |H_p|^2. In place: these
        # (partitions x bins) arrays are most of the canceller's cost.
        half_x2 = 0.5 * self._powers.sum(axis=0)
        gain = self._gain
        np.multiply(self._p, half_x2, out=gain)
        gain += e2 / self.partitions + 1e-10
        np.divide(self._p, gain, out=gain)
        # The diagonal model takes the partitions' far ends as unrelated; speech is not, and
        # an uncertain filter would step up to twice past the solution: cap it at a full step.
        np.minimum(gain, MAX_STEP / (half_x2 + 1e-10), out=gain)
        keep = self._keep
        np.multiply(gain, -A2 * half_x2, out=keep)
        keep += A2
        self._p *= keep
        h = self._h
        np.multiply(h.real, h.real, out=keep)
        keep += h.imag * h.imag
        # The process noise scales with the taps, but never below a -40 dB path.
        np.maximum(keep, PATH_FLOOR, out=keep)
        keep *= 1 - A2
        self._p += keep
        update = self._update
        np.conjugate(self._x, out=update)
        update *= gain
        update *= e
        h += update
        self._constrain_next()
        far_energy = float(far @ far)
        self._far_energy += far_energy
        self._choose(float(error @ error), float(shown @ shown), far_energy > FAR_ACTIVE * frame)
        if self._copied:
            shown, echo = error, echoes[0]
        self._track_drift()
        return shown, echo

    def _constrain_next(self) -> None:
        """Zero the taps past the frame length of one partition, in turn."""
        np = self._np
        p = self._next_constrained
        taps = np.fft.irfft(self._h[p], self._n)
        taps[self.frame :] = 0
        self._h[p] = np.fft.rfft(taps)
        self._next_constrained = (p + 1) % self.partitions

    def _choose(self, background: float, foreground: float, far_active: bool) -> None:
        s = PATH_SMOOTHING
        self._bg_energy = s * self._bg_energy + (1 - s) * background
        self._fg_energy = s * self._fg_energy + (1 - s) * foreground
        self._copied = False
        if far_active and self._bg_energy < COPY_BELOW * self._fg_energy:
            self._better += 1
            if self._better >= COPY_AFTER:
                self._paths[1] = self._paths[0]
                self._fg_energy = self._bg_energy
                self._better = 0
                self._copied = True
            return
        self._better = 0
        if self._bg_energy > RESTART_ABOVE * self._fg_energy > 0:
            self._paths[0] = self._paths[1]
            self._bg_energy = self._fg_energy

    def _track_drift(self) -> None:
        np = self._np
        if self.drift:
            # Move the taps by what the drift predicts for one frame: a phase ramp.
            self._paths *= self._ramp
            self.slide += self.drift * self.frame
        self._frames += 1
        if self._frames % DRIFT_EVERY:
            return
        then, self._h_then = self._h_then, self._h.copy()
        elapsed, self._then_frames = self._frames - self._then_frames, self._frames
        active = self._far_energy > 1e-6 * self.frame * DRIFT_EVERY  # -60 dBFS
        self._far_energy = 0.0
        if then is None or not active:
            return
        # How far the taps moved since then (prediction included): the weighted phase slope of
        # now x conj(then) over the low bins (fractions of a sample, which do not wrap there).
        k = self._k[1 : self._kmax]
        cross = (self._h[:, 1 : self._kmax] * np.conj(then[:, 1 : self._kmax])).sum(axis=0)
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
        blocks = far_history.reshape(-1, frame)  # oldest first
        for p in range(self.partitions):
            newest = len(blocks) - 1 - p
            self._x[p] = np.fft.rfft(np.concatenate((blocks[newest - 1], blocks[newest])))
        self._powers = self._x.real**2 + self._x.imag**2
        self._last_far = blocks[-1].copy()

    def reset(self) -> None:
        self._paths[:] = 0
        self._p[:] = INITIAL_UNCERTAINTY
        self._h_then = None
        self.drift = 0.0
        self.slide = 0.0
        self._ramp[:] = 1
