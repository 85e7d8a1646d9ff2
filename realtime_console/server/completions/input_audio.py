"""Input audio parts: base64 WAV or MP3 that must really be what it claims, and not too big.

Pure (no I/O), but decoding is CPU work: the routes run it in a worker thread.
"""

from __future__ import annotations

import base64
import binascii

from realtime_console.audio import codec
from realtime_console.server.completions.errors import invalid
from realtime_console.server.service_errors import ServiceError

INPUT_FORMATS = ("wav", "mp3")
MAX_INPUT_AUDIO_BYTES = 20 * 1024 * 1024  # the service's limit for one input audio part: 20 MB


def input_audio_seconds(data: str, fmt: codec.AudioFormat, param: str) -> float:
    """Seconds of audio in one part's ``data``; ``ServiceError`` naming ``param`` otherwise."""
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        raise invalid(param, "the data is not valid base64") from None
    if len(raw) > MAX_INPUT_AUDIO_BYTES:
        raise ServiceError(
            "audio_too_large",
            f"Audio input is {len(raw) / 1e6:.1f} MB, above the 20 MB limit ({param}).",
            param=param,
        )
    # Sniff first: FFmpeg's MP3 demuxer would otherwise hunt for frame syncs inside a WAV file.
    found = codec.sniff(raw)
    if found != fmt:
        looks = f" (it looks like {found})" if found else ""
        raise invalid(param, f"the data is not {fmt} audio{looks}")
    try:
        return codec.decode(raw, fmt).duration_s
    except ValueError as exc:  # CodecError, or a header the parser refuses
        raise invalid(param, f"the {fmt} audio cannot be decoded: {exc}") from None
