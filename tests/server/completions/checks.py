"""Checks for chat-completions tests: every body and chunk held to the SDK's types, strictly.

The SDK's models are lenient (unknown fields are kept as extras, Optional fields default to
None), so on top of strict validation these checks refuse extras anywhere in the tree and
require the fields a client relies on.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

import pydantic
from openai.types.chat import ChatCompletion, ChatCompletionChunk

_COMPLETION: pydantic.TypeAdapter[ChatCompletion] = pydantic.TypeAdapter(ChatCompletion)
_CHUNK: pydantic.TypeAdapter[ChatCompletionChunk] = pydantic.TypeAdapter(ChatCompletionChunk)


def _no_extras(value: Any, where: str = "") -> None:
    if isinstance(value, pydantic.BaseModel):
        assert not value.model_extra, (
            f"fields the SDK does not know at {where or '.'}: {value.model_extra}"
        )
        for name in type(value).model_fields:
            _no_extras(getattr(value, name), f"{where}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _no_extras(item, f"{where}[{index}]")


def check_completion(body: Mapping[str, Any]) -> ChatCompletion:
    """A whole ``chat.completion`` answer: valid, no extras, usage and one finished choice."""
    parsed = _COMPLETION.validate_python(dict(body), strict=True)
    _no_extras(parsed)
    assert parsed.id.startswith("chatcmpl-") and body["object"] == "chat.completion"
    assert parsed.usage is not None and parsed.usage.prompt_tokens_details is not None
    assert parsed.usage.completion_tokens_details is not None
    assert parsed.usage.total_tokens == parsed.usage.prompt_tokens + parsed.usage.completion_tokens
    [choice] = parsed.choices
    assert choice.finish_reason == "stop" and choice.index == 0
    message = body["choices"][0]["message"]
    assert {"role", "content", "audio"} <= message.keys()
    if message["audio"] is not None:
        assert message["content"] is None
        assert set(message["audio"]) == {"id", "data", "expires_at", "transcript"}
        assert message["audio"]["id"].startswith("audio_")
    else:
        assert isinstance(message["content"], str)
    return parsed


def check_chunk(chunk: Mapping[str, Any]) -> ChatCompletionChunk:
    parsed = _CHUNK.validate_python(dict(chunk), strict=True)
    _no_extras(parsed)
    assert parsed.id.startswith("chatcmpl-") and chunk["object"] == "chat.completion.chunk"
    for choice in chunk["choices"]:
        assert {"index", "delta", "finish_reason"} <= choice.keys()
    return parsed


def parse_sse(raw: bytes) -> list[dict[str, Any]]:
    """A whole event stream → its chunks; it must be ``data: JSON`` events ending in [DONE]."""
    text = raw.decode()
    assert text.endswith("data: [DONE]\n\n"), text[-200:]
    events = text.split("\n\n")[:-1]
    assert all(event.startswith("data: ") for event in events), events
    assert [e for e in events if e == "data: [DONE]"] == [events[-1]]
    return [json.loads(event[len("data: ") :]) for event in events[:-1]]


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def unb64(text: str) -> bytes:
    return base64.b64decode(text, validate=True)
