"""Streaming sample-rate conversion of mono PCM16 to and from the API's 24 kHz.

A device that cannot open at 24 kHz (many USB headsets offer only 44.1/48 kHz) is opened at its
native rate and its blocks go through ``soxr``'s streaming resampler: a proper anti-aliasing
filter whose state carries across blocks, so block boundaries leave no clicks. Dropping every
other sample would fold everything above 12 kHz back into the speech band.

The default quality is soxr's "LQ": flat to 8 kHz (all of speech), aliases at -80 dB, and only
about 1 ms of delay. "HQ" is flat to 11 kHz but holds back ~30 ms in streaming use, which would
add straight to every turn's latency (measured here with 20 ms blocks at 48 kHz).

``soxr`` and ``numpy`` are imported only when a resampler is built: most devices need none.
"""

from __future__ import annotations

from typing import Any

from realtime_console.protocol.pcm import SAMPLE_RATE


class StreamResampler:
    """PCM16 mono bytes at ``in_rate`` → PCM16 mono bytes at ``out_rate``, block by block.

    The filter delays its output slightly, so the first block may come back shorter; over a
    stream the sample counts match the rate ratio.
    """

    def __init__(self, in_rate: float, out_rate: float = SAMPLE_RATE, *, quality: str = "LQ"):
        if in_rate <= 0 or out_rate <= 0:
            raise ValueError(f"sample rates must be positive, got {in_rate} -> {out_rate}")
        import soxr

        self.in_rate = float(in_rate)
        self.out_rate = float(out_rate)
        self._stream: Any = soxr.ResampleStream(
            self.in_rate, self.out_rate, 1, dtype="int16", quality=quality
        )
        self.samples_in = 0
        self.samples_out = 0

    def process(self, pcm16: bytes, *, last: bool = False) -> bytes:
        """Resample one block; ``last`` flushes the filter's tail."""
        import numpy as np

        block = np.frombuffer(pcm16, dtype="<i2")
        out = self._stream.resample_chunk(block, last=last)
        self.samples_in += len(block)
        self.samples_out += len(out)
        return bytes(np.ascontiguousarray(out, dtype="<i2").tobytes())

    def flush(self) -> bytes:
        """The filter's remaining output at the end of a stream."""
        return self.process(b"", last=True)
