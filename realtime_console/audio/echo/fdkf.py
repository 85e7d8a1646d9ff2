"""The console's echo canceller: a linear Kalman filter and a gentle residual suppressor, numpy.

Why not WebRTC's AEC3 alone: it removes the echo (44-46 dB) but, while the user talks over the
reply, its residual-echo suppressor takes a quarter of their voice's 10 ms frames down by more
than 15 dB (benchmarks/aec_erle.py: the output correlates 0.74-0.76 with the clean voice, less
than the raw microphone's 0.86), and the wheel exposes no setting for it. This canceller
subtracts the echo linearly, so the voice is not touched, and suppresses only what the
subtraction leaves (docs/echo-cancellation.md has the measurements).

Per 10 ms frame at 24 kHz:

1. the far end is delayed by ``stream_delay_ms`` (the user's hint) and then by the delay
   ``delay.py`` measures less one frame of margin, so the echo starts just inside the filter;
2. ``kalman.py`` subtracts its estimate of the echo (100 ms of room response), tracking clock
   drift; when its taps have slid 2 ms, the far end's delay moves by as many whole samples and
   the taps move back (re-centring), and a jump in the measured delay (a device restarting, a
   stalled stream) moves both at once;
3. ``residual.py`` suppresses the rest, band by band, one frame late: gently (at most 25 dB)
   once the filter removes 20 dB or more, deeper while it still learns, so that both together
   remove at least 45 dB of an echo (a loopback hears the speaker at -1 dB).

Optionally WebRTC's noise suppression and AGC2 (``pywebrtc-audio``) run on the result.

Cost: the per-frame work is many small numpy calls, each costing more in overhead than in
arithmetic, so what does not depend on the frame before is done once per block (``talk`` hands
over 100 ms): the far end's FFTs, and the suppressor's transforms (it runs over the block after
the filter, which never depends on it); the output is the same, sample for sample, as frame by
frame.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from realtime_console.audio.echo.delay import DelayEstimator
from realtime_console.audio.echo.kalman import KalmanEchoFilter
from realtime_console.audio.echo.residual import FLOOR_DB, Block, ResidualSuppressor
from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from realtime_console.audio.echo.framing import Pcm

    Samples = npt.NDArray[np.float64]
    Spectrum = npt.NDArray[np.complex128]

FRAME = SAMPLE_RATE // 100  # 10 ms
PARTITIONS = 10  # 100 ms of room response
MARGIN = FRAME  # the measured delay lands this far inside the filter
RECENTRE = SAMPLE_RATE // 500  # 2 ms of slide
JUMP = SAMPLE_RATE * 8 // 1000  # a measured delay this far from the model is a new path ...
AGREE = SAMPLE_RATE // 1000  # ... once consecutive measurements agree within 1 ms ...
AGREEING = 3  # ... this many times (2 for the first delay)
SURE_AT_ONCE = 40.0  # a first estimate this clear (an echo alone: 36-56) needs no second one
MAX_DELAY = SAMPLE_RATE // 2  # the estimator's reach: 500 ms
LOCATED_SLOWDOWN = 2  # once located, the delay is measured every 0.5 s, not 0.25 s
MAX_HINT_MS = 1000
TOTAL_DB = 45.0  # the linear filter's and the suppressor's reduction together, at least
LINEAR_SMOOTHING = 0.95  # per frame of playback: ~200 ms for the linear filter's reduction
LINEAR_FADE_DB = 0.01  # per frame: its best fades by 1 dB a second
NO_ECHO_AFTER = 300  # frames of playback (3 s) without an echo found: the mic does not hear it
FAR_ACTIVE = 1e-6 * FRAME  # frame energy (-60 dBFS)
SILENT_SPAN = (PARTITIONS + 1) * FRAME  # no far end in the filter's span: nothing to do
PIECE = 50 * FRAME  # blocks are taken in pieces of at most this (the history's spare room)


class KalmanCanceller:
    """A ``FrameProcessor`` (``framing.py``) at 24 kHz: whole 10 ms frames, int16 mono."""

    def __init__(
        self,
        *,
        noise_suppression: bool = False,
        auto_gain: bool = False,
        stream_delay_ms: int = 0,
    ) -> None:
        import numpy as np

        self._np = np
        self._filter = KalmanEchoFilter(SAMPLE_RATE, FRAME, PARTITIONS)
        self._suppressor = ResidualSuppressor(FRAME)
        self._delays = DelayEstimator(SAMPLE_RATE)
        span = (PARTITIONS + 1) * FRAME
        hint = MAX_HINT_MS * SAMPLE_RATE // 1000
        # Far history: the hint, the estimator's reach and the filter's span (+1 frame), in a
        # buffer with room for a second's frames after it, moved back only when full (moving
        # the whole history every frame cost more than the filter's arithmetic).
        self._kept = hint + MAX_DELAY + span + FRAME
        self._history = np.zeros(self._kept + 100 * FRAME)
        self._end = self._kept  # where the newest frame ends
        self._written = self._kept  # where the far end written so far ends (the piece's)
        self._spectra = np.zeros((0, FRAME + 1), dtype=np.complex128)  # see _far_spectrum
        self._spectra_from = -1  # the history index the first of them ends at
        self._hint = 0
        self.stream_delay_ms = stream_delay_ms
        self.offset = 0  # samples the far end is delayed by after the hint
        self._centre = 0.0  # the filter's slide at the last re-centring
        self._located = False
        self._unheard = 0  # frames of playback while no echo is located
        self._mic_energy = 0.0
        self._error_energy = 0.0
        self._far_energy = 0.0
        self._linear_db = 0.0  # the linear filter's best reduction lately
        self._block = Block(np.zeros((0, FRAME)), np.zeros((0, FRAME)), np.zeros((0, FRAME + 1)))
        self._index = 0  # the frame of ``_block`` in hand
        self._candidate: int | None = None
        self._agreed = 0
        self._post: Any = None
        if noise_suppression or auto_gain:
            from realtime_console.audio.echo.webrtc import load_module

            self._post = load_module().AudioProcessor(
                sample_rate=SAMPLE_RATE,
                num_channels=1,
                noise_suppression=noise_suppression,
                auto_gain_control=auto_gain,
            )

    @property
    def rate(self) -> int:
        return SAMPLE_RATE

    @property
    def stream_delay_ms(self) -> int:
        return self._hint * 1000 // SAMPLE_RATE

    @stream_delay_ms.setter
    def stream_delay_ms(self, value: int) -> None:
        self._hint = max(0, min(MAX_HINT_MS, int(value))) * SAMPLE_RATE // 1000

    @property
    def delay_samples(self) -> int:
        """Where the filter puts the echo's start now: hint + offset + margin + slide."""
        return self._hint + self.offset + MARGIN + round(self._filter.slide - self._centre)

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        np = self._np
        mic = near.astype(np.float64) / 32768
        played = far.astype(np.float64) / 32768
        out = np.empty_like(mic)
        history = self._history
        for start in range(0, len(mic), PIECE):
            # The piece's far end goes into the history first, so its far spectra can be taken
            # in one batched FFT (``_far_spectrum``); each frame still sees only its past.
            piece = played[start : start + PIECE]
            if self._end + len(piece) > len(history):
                history[: self._kept] = history[self._end - self._kept : self._end]
                self._end = self._kept
                self._spectra_from = -1
            history[self._end : self._end + len(piece)] = piece
            self._written = self._end + len(piece)
            frames = len(piece) // FRAME
            block = Block(
                errors=np.empty((frames, FRAME)),
                echoes=np.empty((frames, FRAME)),
                far_powers=np.empty((frames, FRAME + 1)),
            )
            for j in range(frames):
                i = start + j * FRAME
                self._frame(mic[i : i + FRAME], played[i : i + FRAME], block, j)
            # The suppressor runs over the whole piece after the filter: nothing the filter
            # does depends on it, and its transforms then cost one call each for the piece.
            out[start : start + len(piece)] = self._suppressor.process_block(block)
        cleaned: Pcm = np.clip(np.round(out * 32768), -32768, 32767).astype(np.int16)
        if self._post is not None:
            cleaned = self._post.process(cleaned)
        return cleaned

    def _far_spectrum(self, end: int) -> Spectrum:
        """The filter's far spectrum for the frame ending at history index ``end`` (the last
        two frames, overlap-save): from one FFT over the rest of the piece, taken when a frame
        is not covered yet (the piece's first, or the first after the far end's delay moved)."""
        np = self._np
        j = (end - self._spectra_from) // FRAME
        if (
            self._spectra_from < 0
            or (end - self._spectra_from) % FRAME
            or not 0 <= j < len(self._spectra)
        ):
            frames = (self._written - self._end) // FRAME + 1  # this one and the piece's rest
            windows = self._history[end - 2 * FRAME : end + (frames - 1) * FRAME]
            view = np.lib.stride_tricks.sliding_window_view(windows, 2 * FRAME)[::FRAME]
            self._spectra = np.fft.rfft(view, axis=1)
            self._spectra_from, j = end, 0
        spectrum: Spectrum = self._spectra[j]
        return spectrum

    def _frame(self, mic: Samples, far: Samples, block: Block, j: int) -> None:
        """Frame ``j`` of the piece, up to the suppressor's input (``block``, row ``j``)."""
        self._block, self._index = block, j
        history = self._history
        self._end += FRAME
        hinted_end = self._end - self._hint
        estimate = self._delays.push(mic, history[hinted_end - FRAME : hinted_end])
        if estimate is not None:
            self._consider(estimate)
        far_energy = float(far @ far)
        if not self._located and self._unheard < NO_ECHO_AFTER:
            self._unheard += far_energy > FAR_ACTIVE
            if self._unheard >= NO_ECHO_AFTER:
                # The microphone does not hear the speaker (headphones, a far microphone):
                # nothing to be cautious about; a located echo later restarts the caution.
                block.relaxes.add(j)
        end = hinted_end - self.offset
        silent = not history[end - SILENT_SPAN : end].any()
        if silent:
            # Nothing played for the filter's span and the room's ring-out: the echo estimate
            # is zero and there is nothing to learn (listening, most of the time); the
            # suppressor passes the frame unchanged once nothing of the echo is held.
            self._filter.idle(float(mic @ mic))
            block.errors[j] = mic
            block.echoes[j] = 0
            block.far_powers[j] = 0
            floor_db = min(FLOOR_DB, self._linear_db - TOTAL_DB)
        else:
            block.errors[j], block.echoes[j] = self._filter.filter(
                mic, history[end - FRAME : end], self._far_spectrum(end)
            )
            block.far_powers[j] = self._filter.far_power
            slid = self._filter.slide - self._centre
            if abs(slid) >= RECENTRE:
                # The taps slid with the clock drift: move the far end instead, by whole
                # samples.
                before = self.offset
                self._move(self.offset + round(slid), path_moved=0)
                self._centre += self.offset - before if self.offset != before else slid
            floor_db = self._floor_db(mic, self._filter.output_energy, far_energy)
        block.silent.append(silent)
        block.floor_dbs.append(floor_db)
        block.linear_dbs.append(self._linear_db)
        block.path_gains.append(self._path_gain)

    @property
    def _path_gain(self) -> float:
        """The microphone's energy over the far end's while it plays: the echo path's gain
        (double talk inflates it, but only while the filter still learns does it matter)."""
        if not self._located or self._far_energy <= 0:
            return 0.0  # no echo found: the microphone's energy is not the path's
        return self._mic_energy / self._far_energy

    def _floor_db(self, mic: Samples, error_energy: float, far_energy: float) -> float:
        """How deep the suppressor may go: what the linear filter removes (its best over the
        last seconds, so double talk does not count against it) and the suppressor together
        make ``TOTAL_DB``; while the filter still learns, the suppressor does more of it."""
        if far_energy > FAR_ACTIVE:
            s = LINEAR_SMOOTHING
            self._mic_energy = s * self._mic_energy + (1 - s) * float(mic @ mic)
            self._error_energy = s * self._error_energy + (1 - s) * error_energy
            self._far_energy = s * self._far_energy + (1 - s) * far_energy
            linear = 10 * math.log10((self._mic_energy + 1e-12) / (self._error_energy + 1e-12))
            self._linear_db = max(linear, self._linear_db - LINEAR_FADE_DB)
        return min(FLOOR_DB, self._linear_db - TOTAL_DB)

    def _consider(self, estimate: int) -> None:
        """A measured delay (after the hint): act on it once it is clearly a new path."""
        modelled = self.offset + MARGIN + (self._filter.slide - self._centre)
        if self._located and abs(estimate - modelled) <= JUMP:
            self._candidate, self._agreed = None, 0
            return
        if self._candidate is not None and abs(estimate - self._candidate) <= AGREE:
            self._agreed += 1
        else:
            self._agreed = 1
        self._candidate = estimate
        sure = not self._located and self._delays.confidence >= SURE_AT_ONCE
        if self._agreed < (AGREEING if self._located else 2) and not sure:
            return
        # Once located, the taps follow the path: what was learnt at ``modelled`` moves to
        # ``estimate``. The first time, they stay where they are (they may have learnt it).
        moved = round(estimate - modelled) if self._located else 0
        self._move(estimate - MARGIN, path_moved=moved, uncertain=True, filtered=False)
        self._centre = self._filter.slide - (estimate - MARGIN - self.offset)
        if not self._located:
            self._delays.slow_down(LOCATED_SLOWDOWN)
        self._located = True
        self._candidate, self._agreed = None, 0

    def _move(
        self, offset: int, path_moved: int, *, uncertain: bool = False, filtered: bool = True
    ) -> None:
        """Delay the far end by ``offset`` from now on. A tap at filter position q stood for the
        echo ``self.offset + q`` after the far end; it moves to where that echo, ``path_moved``
        later, now falls: q + (old offset - new offset) + path_moved. ``filtered``: the filter
        has seen this frame already (else its far spectra are rebuilt up to the frame before,
        and the filter adds this one: it must not see the frame twice)."""
        offset = max(0, min(MAX_DELAY, offset))
        shift = self.offset - offset + path_moved
        if shift == 0 and offset == self.offset and not uncertain:
            return
        self.offset = offset
        end = self._end - self._hint - offset - (0 if filtered else FRAME)
        span = (PARTITIONS + 1) * FRAME
        self._filter.shift(shift, self._history[end - span : end], uncertain=uncertain)
        if uncertain:
            self._block.restarts.add(self._index)  # the suppressor is cautious again
            self._linear_db = 0.0
