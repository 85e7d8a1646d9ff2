"""Token usage of a chat completion: a plausible, deterministic estimate, not a tokenizer.

Text costs one token per word (whitespace-separated); audio ten tokens per second, rounded up
per message, both in the prompt (input audio parts and referenced earlier replies) and in the
completion (the spoken reply; its transcript counts as text too, as on the service). Cached,
reasoning and prediction tokens are 0.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from realtime_console.server.completions.rules import Turn

AUDIO_TOKENS_PER_SECOND = 10


def text_tokens(text: str) -> int:
    return len(text.split())


def audio_tokens(seconds: float) -> int:
    # Rounded first: 0.3 s × 10 is 3.0000000000000004 in floating point, which is 3 tokens.
    return math.ceil(round(seconds * AUDIO_TOKENS_PER_SECOND, 6))


def usage(turns: Sequence[Turn], reply: str, output_audio_s: float | None) -> dict[str, Any]:
    """``output_audio_s`` None: a text-only reply."""
    # A referenced reply goes back to the model as audio, not as its transcript.
    prompt_text = sum(text_tokens(t.text) for t in turns if t.audio_ref is None)
    prompt_audio = sum(audio_tokens(t.audio_s) for t in turns)
    out_text = text_tokens(reply)
    out_audio = audio_tokens(output_audio_s) if output_audio_s is not None else 0
    prompt, completion = prompt_text + prompt_audio, out_text + out_audio
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {
            "audio_tokens": prompt_audio,
            "cached_tokens": 0,
            "text_tokens": prompt_text,
            "image_tokens": 0,
        },
        "completion_tokens_details": {
            "audio_tokens": out_audio,
            "text_tokens": out_text,
            "reasoning_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
