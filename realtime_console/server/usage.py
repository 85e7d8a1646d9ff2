"""Token usage for ``response.done``: deterministic estimates, not a tokenizer.

Text costs one token per 4 characters (rounded up); input audio one token per 100 ms and output
audio one per 50 ms, roughly the service's rates. Cached and image tokens are always 0.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

CHARS_PER_TEXT_TOKEN = 4
MS_PER_INPUT_AUDIO_TOKEN = 100.0
MS_PER_OUTPUT_AUDIO_TOKEN = 50.0


def text_tokens(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TEXT_TOKEN)


def usage(
    *, input_text: str, input_audio_ms: float, output_text: str, output_audio_ms: float
) -> dict[str, Any]:
    """The ``usage`` object of a response, from what went in and what came out."""
    in_text = text_tokens(input_text)
    in_audio = math.ceil(input_audio_ms / MS_PER_INPUT_AUDIO_TOKEN)
    out_text = text_tokens(output_text)
    out_audio = math.ceil(output_audio_ms / MS_PER_OUTPUT_AUDIO_TOKEN)
    return {
        "total_tokens": in_text + in_audio + out_text + out_audio,
        "input_tokens": in_text + in_audio,
        "output_tokens": out_text + out_audio,
        "input_token_details": {
            "text_tokens": in_text,
            "audio_tokens": in_audio,
            "image_tokens": 0,
            "cached_tokens": 0,
            "cached_tokens_details": {"text_tokens": 0, "audio_tokens": 0, "image_tokens": 0},
        },
        "output_token_details": {"text_tokens": out_text, "audio_tokens": out_audio},
    }


def item_text(item: Mapping[str, Any]) -> str:
    """The text an item puts in the model's context (message parts, tool arguments/outputs)."""
    pieces = [str(item.get(key) or "") for key in ("arguments", "output")]
    for part in item.get("content") or ():
        pieces += [str(part.get(key) or "") for key in ("text", "transcript")]
    return "".join(pieces)


# The limits rate_limits.updated reports: a fixed budget per minute, minus this response's use.
REQUESTS_PER_MINUTE = 5000
TOKENS_PER_MINUTE = 40_000


def rate_limits(spent: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The ``rate_limits`` of ``rate_limits.updated`` after a response that used ``spent``."""
    tokens = min(int(spent.get("total_tokens") or 0), TOKENS_PER_MINUTE)
    return [
        {
            "name": "requests",
            "limit": REQUESTS_PER_MINUTE,
            "remaining": REQUESTS_PER_MINUTE - 1,
            "reset_seconds": round(60.0 / REQUESTS_PER_MINUTE, 3),
        },
        {
            "name": "tokens",
            "limit": TOKENS_PER_MINUTE,
            "remaining": TOKENS_PER_MINUTE - tokens,
            "reset_seconds": round(60.0 * tokens / TOKENS_PER_MINUTE, 3),
        },
    ]
