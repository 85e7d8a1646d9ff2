"""The codec's one error, apart from the codec so the header and sniffing modules need not load
it."""

from __future__ import annotations


class CodecError(ValueError):
    """Data that cannot be decoded as the audio format asked for (or any known one)."""
