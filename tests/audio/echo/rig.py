"""Signals for the echo tests: the local server's synthetic voice (deterministic, no eSpeak
needed) as the assistant, another voice as the user, and levels."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from realtime_console.audio.echo.simulated import Captured, SimulatedLaptop, joined

RATE = 24_000
__all__ = ["RATE", "Captured", "SimulatedLaptop", "joined", "level_db", "near_speech", "voice"]


def voice(seconds: float, voice_name: str = "marin") -> bytes:
    """Speech-like PCM16: the local server's synthetic voice reading a story (deterministic)."""
    from realtime_console.server.voice import SyntheticVoice

    text = "Once upon a time, on a rocky island far out at sea, there lived a keeper. " * 20
    pcm = SyntheticVoice().synthesize(text, voice=voice_name).pcm
    return pcm[: round(seconds * RATE) * 2]


def near_speech(seconds: float, level: float = 0.5) -> npt.NDArray[np.float32]:
    """The user: another voice, as float samples scaled by ``level``."""
    pcm = voice(seconds, "ash")
    return (np.frombuffer(pcm, dtype="<i2") / np.float32(32768) * np.float32(level)).astype(
        np.float32
    )


def level_db(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64) / 32768
    return 10 * float(np.log10(max(float(np.mean(x * x)), 1e-12)))
