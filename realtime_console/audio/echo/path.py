"""A simulated acoustic echo path: what a laptop's microphone hears of its own speaker.

Used by the fake streams (``fakestream.EchoCoupling``), the benchmarks and the tests; never by a
real device. The path is a pure delay, then a short room impulse response (a direct tap and an
exponentially decaying diffuse tail, seeded so every run is the same), scaled by ``gain_db``.
``render`` adds clock drift too: the speaker's and the microphone's crystals never agree exactly,
so the echo slides by a few milliseconds over a minute, which a canceller must track.

``EchoPath.process`` is the streaming form (blocks in, the same number of echo samples out, the
filter state carried across blocks) for the fake streams, which cannot see the future.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Samples = npt.NDArray[np.float32]


@dataclass(frozen=True)
class EchoPathSpec:
    """The echo path's shape. Defaults: a laptop with its speaker a hand's width from the mic."""

    delay_ms: float = 80.0  # acoustic + converter delay not covered by the reported latencies
    gain_db: float = -6.0  # echo level relative to what was played (laptops: -15..0 dB)
    tail_ms: float = 60.0  # length of the room's diffuse tail after the direct sound
    tail_decay_ms: float = 15.0  # its time constant (RT60 ~ 7x this: ~100 ms, a small room)
    tail_level_db: float = -12.0  # the first reflections relative to the direct sound
    drift_ms: float = 0.0  # (``render`` only) how far the echo slides over the whole signal
    seed: int = 7

    def impulse_response(self, rate: int = SAMPLE_RATE) -> Samples:
        """Direct tap at 0 plus the decaying tail, scaled so its energy gain is ``gain_db``."""
        import numpy as np

        n = max(1, round(self.tail_ms * rate / 1000))
        t = np.arange(n) / rate
        rng = np.random.default_rng(self.seed)
        tail = rng.standard_normal(n) * np.exp(-t / (self.tail_decay_ms / 1000))
        tail *= 10 ** (self.tail_level_db / 20) / max(1e-9, float(np.abs(tail).max()))
        h = tail
        h[0] = 1.0
        h *= 10 ** (self.gain_db / 20) / float(np.sqrt(np.sum(h * h)))
        return h.astype(np.float32)

    def delay_samples(self, rate: int = SAMPLE_RATE) -> int:
        return round(self.delay_ms * rate / 1000)


def render(far: Samples, spec: EchoPathSpec, rate: int = SAMPLE_RATE) -> Samples:
    """The whole echo of ``far`` (float32, same length): delay, room, gain, clock drift."""
    import numpy as np

    wet = np.convolve(far, spec.impulse_response(rate))[: len(far)]
    if spec.drift_ms:
        # The speaker's clock runs slow by drift/duration: sample i is heard at i * (1 + eps).
        eps = spec.drift_ms / 1000 * rate / max(1, len(far))
        positions = np.arange(len(far)) / (1 + eps)
        wet = np.interp(positions, np.arange(len(far)), wet).astype(np.float32)
    delay = spec.delay_samples(rate)
    out = np.zeros(len(far), dtype=np.float32)
    if delay < len(far):
        out[delay:] = wet[: len(far) - delay]
    return out


class EchoPath:
    """The streaming echo path (no drift): feed played blocks, get their echo of the same length."""

    def __init__(self, spec: EchoPathSpec | None = None, rate: int = SAMPLE_RATE) -> None:
        import numpy as np

        self.spec = spec or EchoPathSpec()
        self._np = np
        self._h = self.spec.impulse_response(rate)
        # The delay line and the filter's memory in one history buffer.
        self._history = np.zeros(self.spec.delay_samples(rate) + len(self._h) - 1, np.float32)

    def process(self, block: Samples) -> Samples:
        np = self._np
        data = np.concatenate((self._history, np.asarray(block, dtype=np.float32)))
        delay = self.spec.delay_samples()
        n = len(block)
        # Output sample j of this block hears input (j - delay - k) for k in the filter's span.
        span = data[: len(data) - delay] if delay else data
        out = np.convolve(span, self._h, mode="valid")[-n:] if n else span[:0]
        if len(self._history):
            self._history = data[-len(self._history) :]
        result: Samples = out.astype(np.float32)
        return result
