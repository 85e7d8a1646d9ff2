"""The one place that converts between PCM16 bytes, sample arrays, base64 and milliseconds.

The Realtime API's ``audio/pcm`` format is fixed at 24 kHz, mono, signed 16-bit little-endian.
numpy is imported lazily so that modules needing only byte/ms arithmetic stay cheap to import.
"""

from __future__ import annotations

import base64
import binascii
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

SAMPLE_RATE = 24_000
CHANNELS = 1
SAMPLE_WIDTH = 2  # bytes per PCM16 sample
BYTES_PER_MS = SAMPLE_RATE * SAMPLE_WIDTH // 1000  # 48


class PcmError(ValueError):
    """Audio payload is not valid base64 PCM16."""


def encode_b64(pcm: bytes) -> str:
    """PCM16 bytes → the base64 text the protocol carries."""
    return base64.b64encode(pcm).decode("ascii")


def decode_b64(text: str) -> bytes:
    """Protocol base64 text → PCM16 bytes; rejects bad base64 and odd byte counts."""
    try:
        pcm = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise PcmError(f"invalid base64 audio: {exc}") from None
    if len(pcm) % SAMPLE_WIDTH:
        raise PcmError(f"PCM16 audio must have an even number of bytes, got {len(pcm)}")
    return pcm


def b64_decoded_len(text: str) -> int:
    """Byte length of a base64 payload without decoding it (for logs that drop audio)."""
    padding = text[-2:].count("=") if text else 0
    return len(text) * 3 // 4 - padding


def samples_to_ms(samples: int, rate: int = SAMPLE_RATE) -> float:
    return samples * 1000.0 / rate


def ms_to_samples(ms: float, rate: int = SAMPLE_RATE) -> int:
    return round(ms * rate / 1000.0)


def bytes_to_ms(n_bytes: int, rate: int = SAMPLE_RATE) -> float:
    return samples_to_ms(n_bytes // SAMPLE_WIDTH, rate)


def ms_to_bytes(ms: float, rate: int = SAMPLE_RATE) -> int:
    return ms_to_samples(ms, rate) * SAMPLE_WIDTH


def pcm16_to_float32(pcm: bytes) -> npt.NDArray[np.float32]:
    """PCM16 bytes → float32 samples in [-1, 1)."""
    import numpy as np

    return np.frombuffer(pcm, dtype="<i2").astype(np.float32) / 32768.0


def float32_to_pcm16(samples: npt.ArrayLike) -> bytes:
    """float32 samples → PCM16 bytes, clipped rather than wrapped."""
    import numpy as np

    scaled = np.clip(np.asarray(samples, dtype=np.float32) * 32768.0, -32768, 32767)
    return bytes(scaled.astype("<i2").tobytes())


def rms_dbfs(pcm: bytes) -> float:
    """Level of a PCM16 block in dBFS (-inf-safe: silence reports -120)."""
    import numpy as np

    if len(pcm) < SAMPLE_WIDTH:
        return -120.0
    x = np.frombuffer(pcm[: len(pcm) - len(pcm) % 2], dtype="<i2").astype(np.float64) / 32768.0
    rms = float(np.sqrt(np.mean(x * x)))
    return max(-120.0, 20.0 * float(np.log10(rms)) if rms > 0 else -120.0)
