"""The echo guard: without a canceller, keep the assistant's own voice out of the microphone feed.

While the speaker plays, a microphone block whose level the playback explains is not sent, so
the server's VAD never hears the assistant and cannot interrupt it; a block clearly louder than
the echo the playback explains (the user talking over the reply) is sent, and so is everything
for ``hangover_ms`` after it, so a barge-in is not chopped into pieces.

"Explained" uses the echo coupling: how loud the microphone hears the speaker at most, relative
to what was played, in dB. It tracks the top of the echo's spread (the loudest syllables against
the playback's loudest frame): it rises quickly to a held-back block that was louder than thought
and falls slowly otherwise, so a soft passage of the reply does not lower the bar for the next
loud one. It starts at ``initial_coupling_db`` (0 dB: the echo as loud as the playback, which
holds for most laptops), so the first reply is guarded before anything was learnt.

Levels are the loudest 10 ms frame of the block, and of the played audio over the block plus
``echo_span_ms`` before it (the echo's delay and the room's tail), so the guard needs no delay
estimate. Pure: numpy in, a decision out; the echo stage calls it on its worker thread.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from realtime_console.protocol.pcm import SAMPLE_RATE

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    Pcm = npt.NDArray[np.int16]

FRAME = SAMPLE_RATE // 100  # 10 ms


@dataclass(frozen=True)
class GuardSettings:
    margin_db: float = 6.0  # a block this much above the explained echo is the user
    far_floor_dbfs: float = -50.0  # playback quieter than this makes no echo worth guarding
    hangover_ms: float = 500.0  # keep sending this long after a barge-in was heard
    echo_span_ms: float = 250.0  # how far back played audio can still be heard (delay + tail)
    initial_coupling_db: float = 0.0
    rise: float = 0.5  # share of the gap closed per held block louder than the coupling
    fall: float = 0.02  # … and quieter (~0.2 dB per 100 ms block when 10 dB quieter)
    min_coupling_db: float = -40.0  # below this the echo is inaudible anyway


def peak_frame_dbfs(block: Pcm) -> float:
    """The level of the loudest whole 10 ms frame (the whole block if shorter), dBFS."""
    import numpy as np

    x = block.astype(np.float64) / 32768.0
    frames = len(x) // FRAME
    if frames:
        energy = float(np.max(np.mean(x[: frames * FRAME].reshape(frames, FRAME) ** 2, axis=1)))
    else:
        energy = float(np.mean(x * x)) if len(x) else 0.0
    return 10 * float(np.log10(max(energy, 1e-12)))


class EchoGuard:
    """Decides, block by block, whether microphone audio is sent while the speaker plays."""

    def __init__(self, settings: GuardSettings | None = None, rate: int = SAMPLE_RATE) -> None:
        self.settings = settings or GuardSettings()
        self.rate = rate
        self.coupling_db = self.settings.initial_coupling_db
        self._clock = 0  # samples judged so far
        self._open_until = 0  # hangover: sample until which everything is sent
        self.held_blocks = 0
        self.barge_ins = 0

    @property
    def span_samples(self) -> int:
        return round(self.settings.echo_span_ms * self.rate / 1000)

    def admit(self, near: Pcm, far_window: Pcm) -> bool:
        """``near``: the microphone block; ``far_window``: what was played over it and over
        ``span_samples`` before it. True: send the block."""
        s = self.settings
        start, self._clock = self._clock, self._clock + len(near)
        far_db = peak_frame_dbfs(far_window)
        if far_db < s.far_floor_dbfs:
            return True  # nothing (audible) was played: nothing to guard against
        near_db = peak_frame_dbfs(near)
        ratio = near_db - far_db
        if ratio > self.coupling_db + s.margin_db:
            if start >= self._open_until:
                self.barge_ins += 1
            self._open_until = self._clock + round(s.hangover_ms * self.rate / 1000)
            return True
        if start < self._open_until:
            return True  # the user is still talking: the quieter ends of words go too
        if near_db > s.far_floor_dbfs:  # an (almost) silent block says nothing of the coupling
            gap = ratio - self.coupling_db
            change = gap * (s.rise if gap > 0 else s.fall)
            self.coupling_db = max(s.min_coupling_db, self.coupling_db + change)
        self.held_blocks += 1
        return False
