"""The session object: its defaults, how ``session.update`` merges into it, and the value rules
the SDK types cannot express (ranges, voice names, the formats the local server produces).

Merging follows the service: fields present in the update replace the current ones; ``null``
clears (``turn_detection: null`` turns VAD off). Only the containers ``audio``, ``audio.input`` and
``audio.output`` merge key by key, so updating the voice keeps the input settings. A new
``turn_detection`` object replaces the old one whole and has its type's defaults filled in.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from realtime_console.protocol.pcm import SAMPLE_RATE
from realtime_console.server.service_errors import (
    ServiceError,
    invalid_type,
    invalid_value,
    out_of_range,
)
from realtime_console.server.validation import Loc, format_param
from realtime_console.server.voice import VOICES

PCM_FORMAT: dict[str, Any] = {"type": "audio/pcm", "rate": SAMPLE_RATE}
DEFAULT_VOICE = "marin"
DEFAULT_INSTRUCTIONS = (
    "You are the realtime-console local server. Replies are deterministic: they quote what the "
    "user said."
)
SESSION_LIFETIME_S = 30 * 60  # the service's sessions expire after 30 minutes

TURN_DETECTION_DEFAULTS: dict[str, dict[str, Any]] = {
    "server_vad": {
        "threshold": 0.5,
        "prefix_padding_ms": 300,
        "silence_duration_ms": 200,
        "idle_timeout_ms": None,
        "create_response": True,
        "interrupt_response": True,
    },
    "semantic_vad": {"eagerness": "auto", "create_response": True, "interrupt_response": True},
}

# Containers merged key by key; every other field is replaced whole by an update.
_MERGED_CONTAINERS: frozenset[Loc] = frozenset(
    {("audio",), ("audio", "input"), ("audio", "output")}
)
_TURN_DETECTION: Loc = ("audio", "input", "turn_detection")
_VOICE: Loc = ("audio", "output", "voice")


def default_session(*, session_id: str, model: str, expires_at: int) -> dict[str, Any]:
    """The full session object announced in ``session.created``."""
    return {
        "type": "realtime",
        "object": "realtime.session",
        "id": session_id,
        "model": model,
        "output_modalities": ["audio"],
        "instructions": DEFAULT_INSTRUCTIONS,
        "tools": [],
        "tool_choice": "auto",
        "max_output_tokens": "inf",
        "tracing": None,
        "truncation": "auto",
        "prompt": None,
        "include": None,
        "expires_at": expires_at,
        "audio": {
            "input": {
                "format": dict(PCM_FORMAT),
                "transcription": None,
                "noise_reduction": None,
                "turn_detection": {"type": "server_vad", **TURN_DETECTION_DEFAULTS["server_vad"]},
            },
            "output": {"format": dict(PCM_FORMAT), "voice": DEFAULT_VOICE, "speed": 1.0},
        },
    }


def merge_session(current: Mapping[str, Any], update: Mapping[str, Any]) -> dict[str, Any]:
    """A new session object: ``current`` with ``update`` applied (neither is modified)."""
    merged = copy.deepcopy(dict(current))
    _merge_into(merged, update, ())
    detection = get_path(merged, _TURN_DETECTION)
    if isinstance(detection, dict):
        for key, value in TURN_DETECTION_DEFAULTS.get(detection.get("type", ""), {}).items():
            if detection.get(key) is None:
                detection[key] = value
    return merged


def _merge_into(target: dict[str, Any], update: Mapping[str, Any], path: Loc) -> None:
    for key, value in update.items():
        child = (*path, key)
        if child in _MERGED_CONTAINERS and isinstance(value, Mapping):
            existing = target.get(key)
            if not isinstance(existing, dict):
                existing = target[key] = {}
            _merge_into(existing, value, child)
        else:
            target[key] = copy.deepcopy(value)


_MISSING = object()


def get_path(data: Any, path: Loc) -> Any:
    """``data[p0][p1]…``, or ``_MISSING`` where the path does not exist."""
    node = data
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _MISSING
        node = node[part]
    return node


@dataclass(frozen=True)
class RangeRule:
    path: Loc
    minimum: float
    maximum: float | None = None


@dataclass(frozen=True)
class ChoiceRule:
    path: Loc
    choices: Sequence[Any]


@dataclass(frozen=True)
class NotNullRule:
    """A field the SDK's client types (``*Param``) declare without ``None``, where the core
    relies on a value: ``null`` there is a wrong type, not "cleared" (the SDK's pydantic
    models, which the frames are validated with, make every field optional)."""

    path: Loc
    expected: str  # as the service names JSON types: "an object", "an array"


# Value rules shared by session.update (under "session") and response.create (under "response").
_RANGES = (
    RangeRule(("audio", "input", "turn_detection", "threshold"), 0.0, 1.0),
    RangeRule(("audio", "input", "turn_detection", "prefix_padding_ms"), 0),
    RangeRule(("audio", "input", "turn_detection", "silence_duration_ms"), 0),
    RangeRule(("audio", "input", "turn_detection", "idle_timeout_ms"), 0),
    RangeRule(("audio", "input", "noise_reduction", "strength"), 0.0, 1.0),
    RangeRule(("audio", "output", "speed"), 0.25, 1.5),
    RangeRule(("max_output_tokens",), 1, 4096),
)
_CHOICES = (
    ChoiceRule(_VOICE, VOICES),
    # The local server produces and consumes 24 kHz PCM16 only (G.711 is not implemented).
    ChoiceRule(("audio", "input", "format", "type"), ("audio/pcm",)),
    ChoiceRule(("audio", "output", "format", "type"), ("audio/pcm",)),
)
_SESSION_CHOICES = (
    # Transcription-only sessions are a different product; the local server is a realtime one.
    ChoiceRule(("type",), ("realtime",)),
)
# The containers merged key by key (a session always has its audio settings), and the context
# a response reads: a value or absent, never null.
_SESSION_NOT_NULL = (
    NotNullRule(("audio",), "an object"),
    NotNullRule(("audio", "input"), "an object"),
    NotNullRule(("audio", "output"), "an object"),
)
_RESPONSE_NOT_NULL = (
    NotNullRule(("audio",), "an object"),
    NotNullRule(("audio", "output"), "an object"),
    NotNullRule(("input",), "an array"),
)


def check_values(
    data: Mapping[str, Any],
    prefix: str,
    extra: Sequence[ChoiceRule] = (),
    not_null: Sequence[NotNullRule] = (),
) -> None:
    """Raise the service's error for the first value ``data`` breaks a rule with."""
    for needed in not_null:
        if get_path(data, needed.path) is None:
            raise invalid_type(format_param((prefix, *needed.path)), needed.expected, None)
    for choice in (*extra, *_CHOICES):
        value = get_path(data, choice.path)
        if value is not _MISSING and value is not None and value not in choice.choices:
            raise invalid_value(format_param((prefix, *choice.path)), value, choice.choices)
    for rule in _RANGES:
        value = get_path(data, rule.path)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            continue  # absent, null, or the "inf" of max_output_tokens: types were checked already
        param = format_param((prefix, *rule.path))
        if value < rule.minimum:
            raise out_of_range(param, value, rule.minimum, above=False)
        if rule.maximum is not None and value > rule.maximum:
            raise out_of_range(param, value, rule.maximum, above=True)
    modalities = data.get("output_modalities")
    if isinstance(modalities, list) and len(modalities) != 1:
        raise ServiceError(
            "invalid_value",
            "Invalid 'output_modalities': exactly one of 'text' or 'audio' is supported.",
            param=f"{prefix}.output_modalities",
        )


def check_session_update(
    current: Mapping[str, Any], update: Mapping[str, Any], *, voice_locked: bool
) -> None:
    """Semantic checks for a ``session.update`` the SDK types already accepted."""
    check_values(update, "session", _SESSION_CHOICES, _SESSION_NOT_NULL)
    new_voice = get_path(update, _VOICE)
    if voice_locked and new_voice is not _MISSING and new_voice != get_path(current, _VOICE):
        # The service fixes the voice once the model has spoken in this conversation.
        raise ServiceError(
            "cannot_update_voice",
            "Cannot update a conversation's voice if assistant audio is present.",
            param="session.audio.output.voice",
        )


def check_response(params: Mapping[str, Any]) -> None:
    """Value checks for ``response.create``'s ``response`` the SDK types already accepted."""
    check_values(params, "response", not_null=_RESPONSE_NOT_NULL)


def output_voice(session: Mapping[str, Any]) -> str:
    voice = get_path(session, _VOICE)
    return voice if isinstance(voice, str) else DEFAULT_VOICE


def output_speed(session: Mapping[str, Any]) -> float:
    speed = get_path(session, ("audio", "output", "speed"))
    return float(speed) if isinstance(speed, (int, float)) and not isinstance(speed, bool) else 1.0
