"""Beta (preview) → GA event names, in one table.

Preview deployments and logs recorded against them use the older names; everything past the
connection edge and the log reader sees GA names only, so handlers are written once.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

BETA_TO_GA: Mapping[str, str] = {
    "response.audio.delta": "response.output_audio.delta",
    "response.audio.done": "response.output_audio.done",
    "response.audio_transcript.delta": "response.output_audio_transcript.delta",
    "response.audio_transcript.done": "response.output_audio_transcript.done",
    "response.text.delta": "response.output_text.delta",
    "response.text.done": "response.output_text.done",
}


def ga_event_type(event_type: str) -> str:
    """The GA name of ``event_type`` (unchanged when it already is one, or is unknown)."""
    return BETA_TO_GA.get(event_type, event_type)


def to_ga(event: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``event`` whose ``type`` is the GA name; other fields are left alone."""
    out = dict(event)
    event_type = out.get("type")
    if isinstance(event_type, str) and event_type in BETA_TO_GA:
        out["type"] = BETA_TO_GA[event_type]
    return out
