"""Frames and client events → the service's error codes, messages and params."""

from __future__ import annotations

from typing import Any

import pytest
from openai.types.realtime import (
    ConversationItemCreateEvent,
    ResponseCreateEvent,
    SessionUpdateEvent,
)

from realtime_console.server.service_errors import ServiceError, out_of_range
from realtime_console.server.validation import (
    MAX_NESTING,
    client_event_id,
    event_type,
    format_param,
    parse_frame,
    screen_values,
    validate_event,
)


def session_update(session: Any) -> dict[str, Any]:
    return {"type": "session.update", "session": session}


def item_create(item: Any) -> dict[str, Any]:
    return {"type": "conversation.item.create", "item": item}


def vad(**fields: Any) -> dict[str, Any]:
    return {"type": "realtime", "audio": {"input": {"turn_detection": fields}}}


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        ("not json", "Invalid JSON: Expecting value at line 1 column 1."),
        ('{"type": ', "Invalid JSON: Expecting value at line 1 column 10."),
        (b"\xff\xfe", "Invalid JSON: the frame is not UTF-8 text."),
        ("[1, 2]", "Invalid event: expected a JSON object, but got an array instead."),
        ("42", "Invalid event: expected a JSON object, but got an integer instead."),
    ],
)
def test_frames_that_are_not_json_objects(frame: str | bytes, message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        parse_frame(frame)
    assert (caught.value.code, caught.value.message) == ("invalid_json", message)


def test_binary_frames_with_json_are_accepted() -> None:
    assert parse_frame(b'{"type": "x"}') == {"type": "x"}


@pytest.mark.parametrize(
    ("event", "code", "message"),
    [
        ({}, "missing_required_parameter", "Missing required parameter: 'type'."),
        (
            {"type": 3},
            "invalid_type",
            "Invalid type for 'type': expected a string, but got an integer instead.",
        ),
        (
            {"type": "nope"},
            "invalid_value",
            "Invalid value: 'nope'. Supported values are: 'a' and 'b'.",
        ),
    ],
)
def test_event_type_must_be_known(event: dict[str, Any], code: str, message: str) -> None:
    with pytest.raises(ServiceError) as caught:
        event_type(event, ("a", "b"))
    assert (caught.value.code, caught.value.message, caught.value.param) == (code, message, "type")


CASES: list[tuple[Any, dict[str, Any], str, str, str]] = [
    (
        SessionUpdateEvent,
        session_update({"type": "realtime", "voice": "alloy"}),
        "unknown_parameter",
        "session.voice",
        "Unknown parameter: 'session.voice'.",
    ),
    (
        SessionUpdateEvent,
        session_update(vad(type="server_vad", threshold="high")),
        "invalid_type",
        "session.audio.input.turn_detection.threshold",
        "Invalid type for 'session.audio.input.turn_detection.threshold': "
        "expected a decimal, but got a string instead.",
    ),
    (
        SessionUpdateEvent,
        session_update(vad(type="push_to_talk")),
        "invalid_value",
        "session.audio.input.turn_detection.type",
        "Invalid value: 'push_to_talk'. Supported values are: 'server_vad' and 'semantic_vad'.",
    ),
    (
        SessionUpdateEvent,
        session_update(vad(type="server_vad", eagerness="low")),
        "unknown_parameter",
        "session.audio.input.turn_detection.eagerness",
        "Unknown parameter: 'session.audio.input.turn_detection.eagerness'.",
    ),
    (
        SessionUpdateEvent,
        session_update(
            {
                "type": "realtime",
                "audio": {"input": {"format": {"type": "audio/pcm", "rate": 16000}}},
            }
        ),
        "invalid_value",
        "session.audio.input.format.rate",
        "Invalid value: 16000. Supported values are: 24000.",
    ),
    (
        SessionUpdateEvent,
        session_update(
            {"type": "realtime", "tools": [{"type": "function", "name": "f", "strict": True}]}
        ),
        "unknown_parameter",
        "session.tools[0].strict",
        "Unknown parameter: 'session.tools[0].strict'.",
    ),
    (
        SessionUpdateEvent,
        {"type": "session.update"},
        "missing_required_parameter",
        "session",
        "Missing required parameter: 'session'.",
    ),
    (
        ConversationItemCreateEvent,
        item_create({"type": "message", "role": "user"}),
        "missing_required_parameter",
        "item.content",
        "Missing required parameter: 'item.content'.",
    ),
    (
        ConversationItemCreateEvent,
        item_create({"type": "message", "role": "robot", "content": []}),
        "invalid_value",
        "item.role",
        "Invalid value: 'robot'. Supported values are: 'system', 'user', and 'assistant'.",
    ),
    (
        ConversationItemCreateEvent,
        item_create(
            {"type": "message", "role": "user", "content": [{"type": "output_text", "text": "x"}]}
        ),
        "invalid_value",
        "item.content[0].type",
        "Invalid value: 'output_text'. "
        "Supported values are: 'input_text', 'input_audio', and 'input_image'.",
    ),
    (
        ConversationItemCreateEvent,
        item_create({"type": "function_call_output", "call_id": "c", "output": 7}),
        "invalid_type",
        "item.output",
        "Invalid type for 'item.output': expected a string, but got an integer instead.",
    ),
    (
        ResponseCreateEvent,
        {"type": "response.create", "response": {"output_modalities": ["video"]}},
        "invalid_value",
        "response.output_modalities[0]",
        "Invalid value: 'video'. Supported values are: 'text' and 'audio'.",
    ),
]


@pytest.mark.parametrize(("model", "event", "code", "param", "message"), CASES)
def test_sdk_type_violations_read_like_the_service(
    model: Any, event: dict[str, Any], code: str, param: str, message: str
) -> None:
    with pytest.raises(ServiceError) as caught:
        validate_event(model, event)
    assert (caught.value.code, caught.value.param, caught.value.message) == (code, param, message)


def test_valid_events_pass_and_come_back_typed() -> None:
    checked = validate_event(
        ConversationItemCreateEvent,
        item_create(
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}
        ),
    )
    assert checked.item.type == "message"


def test_out_of_range_messages() -> None:
    above = out_of_range("p", 1.5, 1.0, above=True)
    assert (above.code, above.message) == (
        "decimal_above_max_value",
        "Invalid 'p': decimal above maximum value. Expected a value <= 1, but got 1.5 instead.",
    )
    below = out_of_range("q", -5, 0, above=False)
    assert below.code == "integer_below_min_value"
    assert below.message.endswith("Expected a value >= 0, but got -5 instead.")


def test_param_paths_use_the_service_notation() -> None:
    assert format_param(("session", "tools", 3, "name")) == "session.tools[3].name"
    assert format_param(("item", "content", 0)) == "item.content[0]"


def test_screen_values_refuses_numbers_json_does_not_have_naming_where() -> None:
    for text, shown in (("NaN", "NaN"), ("Infinity", "Infinity"), ("-1e999", "-Infinity")):
        event = parse_frame(f'{{"type":"x","a":[1,{{"b":{text}}}]}}')
        with pytest.raises(ServiceError) as raised:
            screen_values(event)
        assert (raised.value.code, raised.value.param) == ("invalid_value", "a[1].b")
        assert raised.value.message == f"Invalid 'a[1].b': {shown} is not a JSON number " + (
            "(numbers are finite)."
        )


def test_screen_values_refuses_nesting_past_the_limit_without_recursing() -> None:
    def nested(depth: int) -> dict[str, Any]:
        event: dict[str, Any] = {"type": "x"}
        node = event
        for _ in range(depth - 1):
            node["a"] = {}
            node = node["a"]
        return event

    screen_values(nested(MAX_NESTING))  # the top-level object counts as one level
    with pytest.raises(ServiceError) as raised:
        screen_values(nested(MAX_NESTING + 1))
    assert raised.value.code == "invalid_json"
    assert raised.value.param == ".".join(["a"] * MAX_NESTING)
    with pytest.raises(ServiceError):
        screen_values(nested(100_000))  # far past Python's recursion limit: still an answer


def test_screen_values_replaces_lone_surrogates_in_strings_and_keys() -> None:
    event = parse_frame(r'{"type":"x","t":["a\ud800b",{"\udc00k":"\ud83d\ude00"}],"n":1.5}')
    screen_values(event)
    assert event == {"type": "x", "t": ["a\ufffdb", {"\ufffdk": "\U0001f600"}], "n": 1.5}
    assert client_event_id({"event_id": "e\udfff"}) == "e\ufffd"


def test_out_of_range_quotes_integers_past_float_range_exactly() -> None:
    huge = out_of_range("max_output_tokens", 10**309, 4096, above=True)
    assert huge.message.endswith(f"Expected a value <= 4096, but got {10**309} instead.")
