"""Shared test helpers: constant-valued PCM (so output can be traced back to its source) and a
speaker wired to a FakeOutputStream."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.speaker import Speaker
from realtime_console.protocol.pcm import ms_to_samples


def const_pcm(value: int, ms: float) -> bytes:
    """``ms`` of PCM16 where every sample is ``value``: its source is visible in the output."""
    return np.full(ms_to_samples(ms), value, dtype="<i2").tobytes()


def counting_pcm(start: int, n: int) -> bytes:
    """``n`` samples counting up from ``start`` (never 0 for start >= 1, n < 32767)."""
    return np.arange(start, start + n, dtype="<i2").tobytes()


def samples(pcm: bytes) -> npt.NDArray[np.int16]:
    return np.frombuffer(pcm, dtype="<i2")


@dataclass
class Rig:
    speaker: Speaker
    stream: FakeOutputStream

    def output(self) -> npt.NDArray[np.int16]:
        """Everything the speaker wrote so far, mono."""
        out: npt.NDArray[np.int16] = self.stream.recorded()[:, 0]
        return out


def speaker_rig(latency_s: float = 0.0, *, realtime: bool = False, **speaker_kwargs: Any) -> Rig:
    """A started Speaker on a FakeOutputStream reporting ``latency_s`` of output latency."""
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        stream = FakeOutputStream(**kwargs, reported_latency=latency_s, realtime=realtime)
        streams.append(stream)
        return stream

    speaker = Speaker(stream_factory=factory, **speaker_kwargs)
    speaker.start()
    return Rig(speaker, streams[0])


async def settle() -> None:
    """Let callbacks scheduled with call_soon_threadsafe run, and what they wake up."""
    for _ in range(5):
        await asyncio.sleep(0)
