"""Builders for the client events the console sends.

Each returns a plain dict shaped as ``openai.types.realtime.RealtimeClientEventParam`` (tests
validate them against it). Plain dicts, not SDK models, because the same value is sent, written to
the event log and replayed later; every event carries an ``event_id`` so server errors can be
traced back to the event that caused them.
"""

from __future__ import annotations

import itertools
import os
from typing import Any

from realtime_console.protocol import pcm

ClientEvent = dict[str, Any]

_counter = itertools.count(1)
_prefix = os.urandom(4).hex()


def new_event_id() -> str:
    """Unique per process and ordered within it, which makes logs easy to read."""
    return f"evt_{_prefix}{next(_counter):06d}"


def _event(event_type: str, **fields: Any) -> ClientEvent:
    return {"type": event_type, "event_id": new_event_id(), **fields}


def session_update(session: dict[str, Any]) -> ClientEvent:
    return _event("session.update", session=session)


def user_text_item(text: str) -> ClientEvent:
    return _event(
        "conversation.item.create",
        item={
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": text}],
        },
    )


def function_call_output(call_id: str, output: str, item_id: str | None = None) -> ClientEvent:
    """The answer to the model's function call ``call_id`` (``output``: what the tool said, or
    its error as JSON). ``item_id`` lets a reconnect tell whether the item made it."""
    item: dict[str, Any] = {"type": "function_call_output", "call_id": call_id, "output": output}
    if item_id is not None:
        item = {"id": item_id, **item}
    return _event("conversation.item.create", item=item)


def response_create(**overrides: Any) -> ClientEvent:
    """``response.create``; keyword overrides (instructions, output_modalities, audio…) apply to
    this response only."""
    if overrides:
        return _event("response.create", response=overrides)
    return _event("response.create")


def response_cancel(response_id: str | None = None) -> ClientEvent:
    if response_id is None:
        return _event("response.cancel")
    return _event("response.cancel", response_id=response_id)


def input_audio_append(pcm16: bytes) -> ClientEvent:
    return _event("input_audio_buffer.append", audio=pcm.encode_b64(pcm16))


def input_audio_commit() -> ClientEvent:
    return _event("input_audio_buffer.commit")


def input_audio_clear() -> ClientEvent:
    return _event("input_audio_buffer.clear")


def item_truncate(item_id: str, audio_end_ms: int, content_index: int = 0) -> ClientEvent:
    return _event(
        "conversation.item.truncate",
        item_id=item_id,
        content_index=content_index,
        audio_end_ms=max(0, int(audio_end_ms)),
    )


def item_delete(item_id: str) -> ClientEvent:
    return _event("conversation.item.delete", item_id=item_id)


def item_retrieve(item_id: str) -> ClientEvent:
    return _event("conversation.item.retrieve", item_id=item_id)
