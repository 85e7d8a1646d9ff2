"""24 kHz blocks of any size in and out, whole 10 ms frames at the processor's own rate inside.

WebRTC's audio processing (and most echo cancellers) works on exactly 10 ms frames, while the
console's blocks are ``audio.block_ms`` long and the device may deliver odd sizes. This module
collects samples until whole frames are there, hands them over, and returns exactly as many
samples as it was given, so the caller's stream keeps its length and timing.

Latency: blocks that are a multiple of 10 ms pass with none from framing. Other sizes make the
first blocks come back partly as leading silence until the output queue covers the remainder,
which settles below one frame (10 ms) and never grows after that: a sample is only ever padded
when the queue runs dry, and once the padding equals the largest remainder it cannot run dry.

When the processor runs at another rate, near and far go through twin ``soxr`` streams (same
filter, same delay, so their alignment, and with it the echo delay the canceller sees, is
unchanged) and the output through a third one back to 24 kHz. Streamed in 20 ms blocks the
round trip delays the output by ~40 ms (930 samples at 16 kHz, 960 at 48 kHz, "LQ" quality;
benchmarks/aec_erle.py), as soxr holds input back until its filter has enough: one reason the
console runs AEC3 at 24 kHz directly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]

FRAMES_PER_SECOND = 100  # 10 ms frames


class FrameProcessor(Protocol):
    """An echo canceller's core: whole 10 ms frames, int16 mono, at its own ``rate``."""

    @property
    def rate(self) -> int: ...

    @property
    def stream_delay_ms(self) -> int: ...

    @stream_delay_ms.setter
    def stream_delay_ms(self, value: int) -> None: ...

    def process_frames(self, near: Pcm, far: Pcm) -> Pcm:
        """``near`` and ``far`` hold the same whole number of frames; returns as many samples."""
        ...


class FramedCanceller:
    """An ``EchoCanceller`` over a ``FrameProcessor``: framing and resampling, nothing else.

    Not thread-safe, and not for the PortAudio callback (it allocates and can take a fraction of
    a millisecond per block): call it from one worker thread or the event loop's thread at a
    time.
    """

    def __init__(
        self, processor: FrameProcessor, *, rate: int = SAMPLE_RATE, quality: str = "LQ"
    ) -> None:
        import numpy as np

        self._np = np
        self._processor = processor
        self._frame = processor.rate // FRAMES_PER_SECOND
        self.rate = rate
        self._near_in: Any = None
        self._far_in: Any = None
        self._out: Any = None
        if processor.rate != rate:
            import soxr

            def stream(a: int, b: int) -> Any:
                return soxr.ResampleStream(a, b, 1, dtype="int16", quality=quality)

            self._near_in = stream(rate, processor.rate)
            self._far_in = stream(rate, processor.rate)
            self._out = stream(processor.rate, rate)
        empty = np.zeros(0, dtype=np.int16)
        self._near_pending: Pcm = empty
        self._far_pending: Pcm = empty
        self._queue: Pcm = empty
        self.padded_samples = 0  # leading silence inserted while the pipeline filled

    @property
    def stream_delay_ms(self) -> int:
        return self._processor.stream_delay_ms

    @stream_delay_ms.setter
    def stream_delay_ms(self, value: int) -> None:
        # Resampling and framing delay near and far alike, so the hint passes through unchanged.
        self._processor.stream_delay_ms = value

    def process(self, near: Pcm, far: Pcm | None = None) -> Pcm:
        """One block of microphone audio and the far-end audio played over the same span
        (``None``: nothing played); returns ``len(near)`` samples with the echo removed."""
        np = self._np
        near = self._checked(near, "near")
        far = np.zeros_like(near) if far is None else self._checked(far, "far")
        if len(far) != len(near):
            raise ValueError(f"near and far blocks differ in length: {len(near)} != {len(far)}")
        size = len(near)  # what comes back: resampling below changes len(near)
        if self._near_in is not None:
            near = self._near_in.resample_chunk(near)
            far = self._far_in.resample_chunk(far)
        self._near_pending = np.concatenate((self._near_pending, near))
        self._far_pending = np.concatenate((self._far_pending, far))
        whole = len(self._near_pending) // self._frame * self._frame
        if whole:
            cleaned = self._processor.process_frames(
                self._near_pending[:whole], self._far_pending[:whole]
            )
            self._near_pending = self._near_pending[whole:]
            self._far_pending = self._far_pending[whole:]
            if self._out is not None:
                cleaned = self._out.resample_chunk(cleaned)
            self._queue = np.concatenate((self._queue, cleaned))
        return self._take(size)

    def _take(self, n: int) -> Pcm:
        np = self._np
        short = n - len(self._queue)
        if short > 0:
            self.padded_samples += short
            self._queue = np.concatenate((np.zeros(short, dtype=np.int16), self._queue))
        block, self._queue = self._queue[:n], self._queue[n:]
        return block

    def _checked(self, block: Pcm, name: str) -> Pcm:
        if block.dtype != self._np.int16 or block.ndim != 1:
            raise ValueError(f"{name} must be a 1-D int16 array, got {block.ndim}-D {block.dtype}")
        return block
