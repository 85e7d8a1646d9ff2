"""Fuzz: random and malformed client frames into the local server's ``SessionCore``.

Frames are garbage bytes and text (lone surrogates, invalid UTF-8), JSON values that are not
events, events of every type the SDK's ``RealtimeClientEventParam`` knows shaped by the SDK's
models with random, missing and wrongly typed fields, huge numbers and deep nesting, and whole
valid sessions with one field at a time replaced by a wrong value. What must hold:

* ``receive_frame`` never raises: a bad frame is answered with ``error`` events;
* every event the core emits validates against the SDK's ``RealtimeServerEvent``, strictly
  (``take_events``) and is strict JSON (no NaN/Infinity: the service's clients parse strictly);
* a frame that is not a JSON object of a known type gets exactly one ``error``, echoing the
  frame's string ``event_id``;
* over a real WebSocket (the ``server`` fixture), a connection stays usable after each bad frame.

Bugs the sweep found have a test each at the end, with its minimal example; nothing is left out.
"""

from __future__ import annotations

import copy
import json
import random
import threading
import typing
from collections.abc import Iterator
from typing import Any

import aiohttp
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from openai.types.realtime import RealtimeClientEventParam

from realtime_console.protocol.pcm import encode_b64
from realtime_console.server import LocalServer
from realtime_console.server.core import KNOWN_CLIENT_EVENTS, ROUTES, SessionCore
from realtime_console.server.ids import IdFactory
from realtime_console.server.response import Pacing
from realtime_console.server.testing import check_server_event, take_events
from tests.fixtures.fuzz import (
    deep,
    events_of,
    ids,
    json_values,
    junk,
    mutated,
    pcm_b64,
    single_mutations,
    strings,
    union_members,
)
from tests.server.conftest import API_KEY

FUZZ = settings(
    deadline=None,
    database=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
EXAMPLE = settings(deadline=None, database=None, derandomize=True, max_examples=5)

# Every client event type, as the SDK's TypedDict union names them; the core routes each one.
CLIENT_TYPES = sorted(
    str(value)
    for param in union_members(RealtimeClientEventParam)
    for value in typing.get_args(typing.get_type_hints(param)["type"])
)
assert set(CLIENT_TYPES) == set(KNOWN_CLIENT_EVENTS)
client_models = [route.model for route in ROUTES.values()]


def new_core(chunk_ms: int = 200) -> SessionCore:
    pacing = Pacing(realtime_factor=64.0, chunk_ms=chunk_ms)
    core = SessionCore(model="m", pacing=pacing, ids=IdFactory(random.Random(0)))
    take_events(core)  # session.created
    return core


def not_strict_json(event: dict[str, Any]) -> str | None:
    try:
        json.dumps(event, allow_nan=False)
    except ValueError as exc:
        return f"{event.get('type')}: {exc}"
    return None


# ---------------------------------------------------------------- frames

client_events = events_of(client_models, [*CLIENT_TYPES, "response.audio.delta", "session.created"])
AUDIO = [encode_b64(bytes(4800)), "AAA=", "@@", ""]
plausible_client_events = st.one_of(
    st.fixed_dictionaries(
        {"type": st.just("session.update"), "session": st.just({"type": "realtime"})},
        optional={"event_id": ids},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("conversation.item.create"),
            "item": st.fixed_dictionaries(
                {
                    "type": st.just("message"),
                    "role": st.sampled_from(["user", "assistant", "system"]),
                    "content": st.lists(
                        st.fixed_dictionaries(
                            {
                                "type": st.sampled_from(["input_text", "output_text"]),
                                "text": strings,
                            }
                        ),
                        max_size=2,
                    ),
                },
                optional={"id": ids},
            ),
        },
        optional={"event_id": ids, "previous_item_id": st.one_of(ids, st.none())},
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("input_audio_buffer.append"),
            "audio": st.one_of(pcm_b64, st.sampled_from(AUDIO)),
        }
    ),
    st.fixed_dictionaries(
        {"type": st.sampled_from(["input_audio_buffer.commit", "input_audio_buffer.clear"])}
    ),
    st.fixed_dictionaries(
        {"type": st.just("response.create")},
        optional={
            "response": st.fixed_dictionaries(
                {},
                optional={
                    "output_modalities": st.sampled_from([["text"], ["audio"]]),
                    "conversation": st.sampled_from(["auto", "none"]),
                    "instructions": strings,
                    "metadata": st.dictionaries(strings, strings, max_size=2),
                    "max_output_tokens": st.one_of(st.integers(1, 4096), st.just("inf")),
                },
            )
        },
    ),
    st.fixed_dictionaries({"type": st.just("response.cancel")}, optional={"response_id": ids}),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(["conversation.item.delete", "conversation.item.retrieve"]),
            "item_id": ids,
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.just("conversation.item.truncate"),
            "item_id": ids,
            "content_index": st.integers(-1, 2),
            "audio_end_ms": st.integers(-5, 5000),
        }
    ),
)


def _dumps(value: Any) -> str:
    return json.dumps(value)  # NaN and Infinity as Python's json writes (and reads) them


frames: st.SearchStrategy[str | bytes] = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=32),
    strings,
    st.sampled_from([b"\xff\xfe", b"\xc3(", "{", "[]", "null", '"x"', "1e999", "NaN", "{}"]),
    json_values().map(_dumps),
    deep.map(_dumps),
    client_events.map(_dumps),
    client_events.map(_dumps),
    client_events.map(_dumps),
    mutated(plausible_client_events).map(_dumps),
    mutated(plausible_client_events).map(_dumps),
    mutated(plausible_client_events).map(_dumps),
    st.builds(
        lambda kind, body: _dumps({**body, "type": kind}),
        junk,
        st.dictionaries(strings, junk, max_size=3),
    ),
)


def _json_object(frame: str | bytes) -> dict[str, Any]:
    """The frame as a JSON object, or ``{}`` when it is not one."""
    try:
        text = frame.decode("utf-8") if isinstance(frame, bytes) else frame
        value = json.loads(text)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}


def _object_of_known_type(frame: str | bytes) -> dict[str, Any] | None:
    value = _json_object(frame)
    return value if value.get("type") in KNOWN_CLIENT_EVENTS else None


_CHECKED: set[str] = set()


def check_event(event: dict[str, Any]) -> str | None:
    """``check_server_event``, once per distinct event (the sweep emits the same deltas
    thousands of times, and the SDK's validation is the slow part); returns why the event is
    not strict JSON (NaN, Infinity), if it is not."""
    try:
        key = json.dumps({k: v for k, v in event.items() if k != "event_id"}, allow_nan=False)
    except ValueError as exc:
        check_server_event(event)
        return f"{event.get('type')}: {exc}"
    if key not in _CHECKED:
        check_server_event(event)
        if len(_CHECKED) < 50_000:
            _CHECKED.add(key)
    event_id = event.get("event_id")
    assert isinstance(event_id, str) and event_id.startswith("event_"), event_id
    return None


def feed(core: SessionCore, frame: str | bytes, now: float) -> list[dict[str, Any]]:
    """One frame in; the events out, each validated and strict JSON. An exception out of
    ``receive_frame`` would end the connection (the pump closes it with 1011): a bug."""
    try:
        core.receive_frame(frame, now)
    except Exception as exc:
        raise AssertionError(f"{exc!r} on {frame!r:.300}") from exc
    events = core.events_to_send()
    unstrict = [why for event in events if (why := check_event(event)) is not None]
    assert not unstrict, (unstrict, frame)
    return events


@settings(FUZZ, max_examples=250)
@given(
    frames_in=st.lists(frames, min_size=1, max_size=20),
    steps=st.lists(st.floats(0, 2), min_size=20, max_size=20),
)
def test_random_frames_are_answered_never_raised(
    frames_in: list[str | bytes], steps: list[float]
) -> None:
    core = new_core()
    now = 0.0
    for frame, step in zip(frames_in, steps, strict=False):
        now += step
        core.handle_timer(now)
        take_events(core)  # what was due before the frame
        events = feed(core, frame, now)
        if _object_of_known_type(frame) is None:  # not an event: exactly one error answers it
            assert [e["type"] for e in events] == ["error"], (frame, events)
            error = events[0]["error"]
            assert error["type"] == "invalid_request_error"
            event_id = _json_object(frame).get("event_id")
            assert error["event_id"] == (event_id if isinstance(event_id, str) else None)
        for event in events:
            if event["type"] == "error":
                assert isinstance(event["error"]["message"], str) and event["error"]["message"]
    while (deadline := core.next_deadline()) is not None:  # and it always finishes
        now = max(now, deadline)
        core.handle_timer(now)
        take_events(core)


# ---------------------------------------------------------------- every field, every wrong type

_AUDIO = encode_b64(bytes(2400))  # 50 ms
BASE_SESSION: list[dict[str, Any]] = [
    {
        "type": "session.update",
        "event_id": "evt_1",
        "session": {
            "type": "realtime",
            "instructions": "be brief",
            "output_modalities": ["audio"],
            "max_output_tokens": 256,
            "audio": {
                "input": {
                    "format": {"type": "audio/pcm", "rate": 24000},
                    "transcription": {"model": "whisper-1"},
                    "turn_detection": {
                        "type": "server_vad",
                        "threshold": 0.5,
                        "silence_duration_ms": 200,
                        "create_response": False,
                    },
                },
                "output": {"voice": "alloy", "speed": 1.0},
            },
            "tools": [
                {
                    "type": "function",
                    "name": "f",
                    "description": "d",
                    "parameters": {"type": "object", "properties": {}},
                }
            ],
            "tool_choice": "auto",
        },
    },
    {
        "type": "conversation.item.create",
        "event_id": "evt_2",
        "item": {
            "id": "item_u1",
            "type": "message",
            "role": "user",
            "content": [{"type": "input_text", "text": "hello"}],
        },
    },
    {"type": "input_audio_buffer.append", "audio": _AUDIO},
    {"type": "input_audio_buffer.commit", "event_id": "evt_3"},
    {
        "type": "response.create",
        "event_id": "evt_4",
        "response": {
            "output_modalities": ["audio"],
            "instructions": "x",
            "metadata": {"k": "v"},
            "audio": {"output": {"voice": "ash"}},
            "max_output_tokens": 64,
        },
    },
    {"type": "response.cancel", "event_id": "evt_5"},
    {"type": "conversation.item.retrieve", "item_id": "item_u1"},
    {
        "type": "conversation.item.truncate",
        "item_id": "item_u1",
        "content_index": 0,
        "audio_end_ms": 0,
    },
    {"type": "input_audio_buffer.clear"},
    {
        "type": "response.create",
        "response": {
            "conversation": "none",
            "output_modalities": ["text"],
            "input": [
                {
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "oob"}],
                }
            ],
        },
    },
    {"type": "conversation.item.delete", "item_id": "item_u1"},
    {"type": "output_audio_buffer.clear"},
]
"""A session using every client event type, with most of their optional fields set."""


def _session_mutants() -> Iterator[tuple[str, int, list[dict[str, Any]]]]:
    """(label, index of the changed frame, the session with it changed)."""
    for index, frame in enumerate(BASE_SESSION):
        for path, value, mutant in single_mutations(frame):
            label = f"{frame['type']} {'.'.join(map(str, path))}={value!r:.30}"
            yield label, index, [*BASE_SESSION[:index], mutant, *BASE_SESSION[index + 1 :]]


def test_every_field_of_a_session_confused_one_at_a_time() -> None:
    """Each field of each frame of a whole session, at any depth, replaced by each wrong value
    in turn (or removed); the rest of the session goes on after it."""
    wrong = []
    for label, changed, session in [("base", 0, BASE_SESSION), *_session_mutants()]:
        core, now = new_core(chunk_ms=2000), 0.0  # a few long deltas: it is about the fields
        try:
            for index, frame in enumerate(session):
                now += 0.05
                if index < changed:  # as in the base run, checked there: only replay it
                    core.receive_frame(_dumps(frame), now)
                    core.events_to_send()
                else:
                    feed(core, _dumps(frame), now)
            core.handle_timer(now + 60)
            take_events(core)
        except AssertionError as exc:
            wrong.append(f"{label}: {str(exc)[:300]}")
    assert wrong == []


# ---------------------------------------------------------------- through a real WebSocket


def _not_json(name: str) -> Any:
    raise AssertionError(f"the server sent {name}, which is not JSON")


async def _events_until(
    ws: aiohttp.ClientWebSocketResponse, event_type: str
) -> list[dict[str, Any]]:
    received = []
    while True:
        message = await ws.receive(timeout=5)
        assert message.type == aiohttp.WSMsgType.TEXT, f"connection ended: {message!r}"
        event = json.loads(message.data, parse_constant=_not_json)
        check_server_event(event)
        received.append(event)
        if event["type"] == event_type:
            return received


_ANSWERS = ("error", "input_audio_buffer.cleared")


@settings(
    FUZZ,
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=st.lists(frames, min_size=1, max_size=4))
async def test_a_connection_stays_usable_after_each_bad_frame(
    server: LocalServer, bad: list[str | bytes]
) -> None:
    shadow = new_core()  # the same frames, offline, checked as in the sweep
    async with aiohttp.ClientSession() as http:
        url = f"{server.http_url()}/v1/realtime?model=m"
        async with http.ws_connect(url, headers={"api-key": API_KEY}) as ws:
            await _events_until(ws, "session.created")
            for n, frame in enumerate(bad):
                feed(shadow, frame, 0.0)
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                # the same connection still answers, in order
                probe = {"type": "input_audio_buffer.clear", "event_id": f"probe_{n}"}
                await ws.send_str(json.dumps(probe))
                answered = await _events_until(ws, "input_audio_buffer.cleared")
                if _object_of_known_type(frame) is None:
                    # answered first (a reply in progress may stream around the answers)
                    answers = [e["type"] for e in answered if e["type"] in _ANSWERS]
                    assert answers[:1] == ["error"], answered
                feed(shadow, json.dumps(probe), 0.0)


# ---------------------------------------------------------------- each bug found, minimal


def _nest(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


def _on_a_thread_of_its_own(core: SessionCore, frame: str) -> list[BaseException]:
    """``receive_frame`` on a fresh thread: the same stack depth under any test runner."""
    failed: list[BaseException] = []

    def receive() -> None:
        try:
            core.receive_frame(frame, 0.0)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=receive)
    thread.start()
    thread.join()
    return failed


@pytest.mark.parametrize("depth", [200, 600])  # not @given: Hypothesis raises the recursion limit
def test_a_deeply_nested_schema_is_an_error_event(depth: int) -> None:
    """Was core_deep_nesting: RecursionError out of copy.deepcopy of the tool schema."""
    core = new_core()
    tool = {"type": "function", "name": "f", "parameters": _nest(depth)}
    frame = _dumps(
        {
            "type": "session.update",
            "event_id": "evt_deep",
            "session": {"type": "realtime", "tools": [tool]},
        }
    )
    assert _on_a_thread_of_its_own(core, frame) == []
    (error,) = take_events(core)
    assert error["type"] == "error"
    assert error["error"]["code"] == "invalid_json"
    assert error["error"]["event_id"] == "evt_deep"
    assert "nested more than 128 levels" in error["error"]["message"]
    assert error["error"]["param"].startswith("session.tools[0].parameters.a.a")
    # and the session goes on
    assert _answers_on(core, ['{"type":"input_audio_buffer.clear"}']) == [
        ["input_audio_buffer.cleared"]
    ]


def test_nesting_too_deep_for_the_json_parser_is_an_error_event() -> None:
    core = new_core()
    frame = '{"type":"session.update","session":' + '{"a":' * 5000 + "1" + "}" * 5001
    assert _on_a_thread_of_its_own(core, frame) == []
    (error,) = take_events(core)
    assert error["error"]["code"] == "invalid_json"  # unparsed: no event_id to echo


def test_nesting_up_to_the_limit_is_accepted() -> None:
    core = new_core()
    # session.update > session > tools > [0] > parameters: 5 levels before the schema's own
    tool = {"type": "function", "name": "f", "parameters": _nest(128 - 5)}
    frame = _dumps({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
    assert _on_a_thread_of_its_own(core, frame) == []
    assert [e["type"] for e in take_events(core)] == ["session.updated"]


@EXAMPLE
@given(
    where=st.sampled_from(
        [
            ("session.audio.input.turn_detection.threshold", "NaN"),
            ("session.audio.output.speed", "NaN"),
            ("session.audio.output.speed", "Infinity"),
            ("session.audio.output.speed", "-Infinity"),
            ("session.audio.output.speed", "1e999"),
        ]
    )
)
@example(where=("session.audio.input.turn_detection.threshold", "NaN"))
def test_a_number_that_is_not_finite_is_refused(where: tuple[str, str]) -> None:
    """Was core_accepts_nan: Python's json reads NaN and Infinity, which pass pydantic's float
    checks and every range check (each comparison with NaN is false): a NaN threshold was
    echoed in session.updated as NaN (not JSON), a NaN speed broke the next response."""
    param, value = where
    audio = (
        '{"input":{"turn_detection":{"type":"server_vad","threshold":VALUE}}}'
        if param.endswith("threshold")
        else '{"output":{"speed":VALUE}}'
    )
    frame = (
        '{"type":"session.update","event_id":"evt_nan","session":{"type":"realtime","audio":AUDIO}}'
    ).replace("AUDIO", audio.replace("VALUE", value))
    core = new_core()
    core.receive_frame(frame, 0.0)
    (error,) = take_events(core)
    assert error["type"] == "error" and not_strict_json(error) is None
    assert error["error"] == {
        **error["error"],
        "code": "invalid_value",
        "param": param,
        "event_id": "evt_nan",
    }
    assert "is not a JSON number" in error["error"]["message"]
    assert core.session["audio"]["output"]["speed"] == 1.0  # nothing changed
    assert _answers_on(core, ['{"type":"response.create"}'])[0][:1] == ["response.created"]


def _answers_on(core: SessionCore, frames_in: list[str]) -> list[list[str]]:
    """The event types answering each frame; raises what ``receive_frame`` raises."""
    out = []
    for n, frame in enumerate(frames_in):
        core.receive_frame(frame, n * 0.1)
        out.append([event["type"] for event in take_events(core)])
    return out


def _answers(frames_in: list[str]) -> list[list[str]]:
    return _answers_on(new_core(), frames_in)


_SURROGATE_ITEM = (
    '{"type":"conversation.item.create","item":{"id":"item_s","type":"message","role":"user",'
    '"content":[{"type":"input_text","text":"\\ud800"}]}}'
)


@EXAMPLE
@given(text=st.sampled_from(["\\ud800", "a\\udfffb", "\\udc00", "\\ud83d\\ude00"]))
@example(text="\\ud800")
def test_an_item_with_a_lone_surrogate_is_added_with_a_replacement_character(text: str) -> None:
    """Was core_lone_surrogate: item_bytes encoded the text to UTF-8 and raised
    UnicodeEncodeError. A lone surrogate is read as U+FFFD (a valid pair stays itself)."""
    core = new_core()
    frame = _SURROGATE_ITEM.replace("\\ud800", text)
    assert _answers_on(core, [frame]) == [["conversation.item.added", "conversation.item.done"]]
    stored = core.conversation.require("item_s", "item_id")["content"][0]["text"]
    assert stored == json.loads(f'"{text}"').encode("utf-16", "surrogatepass").decode(
        "utf-16", "replace"
    )
    reply = _answers_on(
        core, ['{"type":"response.create","response":{"output_modalities":["text"]}}']
    )
    assert reply[0][:1] == ["response.created"]


def test_a_lone_surrogate_in_a_key_or_an_event_id_is_replaced_too() -> None:
    core = new_core()
    core.receive_frame('{"type":"foo","event_id":"e\\ud800","\\udc00":1}', 0.0)
    (error,) = take_events(core)
    assert error["error"]["event_id"] == "e\ufffd"
    json.dumps(error, ensure_ascii=False).encode()  # UTF-8 text, as the pump sends it


@EXAMPLE
@given(extra=st.sampled_from(["", ',"conversation":"none"']))
@example(extra="")
def test_a_null_response_input_is_a_wrong_type(extra: str) -> None:
    """Was core_null_response_input: TypeError in reply.reply_text. The SDK's client type
    has no null there; the service calls that an invalid type."""
    frame = '{"type":"response.create","event_id":"e1","response":{"input":nullEXTRA}}'.replace(
        "EXTRA", extra
    )
    core = new_core()
    core.receive_frame(frame, 0.0)
    (error,) = take_events(core)
    assert error["error"] == {
        "type": "invalid_request_error",
        "code": "invalid_type",
        "message": "Invalid type for 'response.input': expected an array, but got null instead.",
        "param": "response.input",
        "event_id": "e1",
    }
    assert core.active_response_id is None


@EXAMPLE
@given(
    audio=st.sampled_from(
        [
            ("null", "session.audio"),
            ('{"input":null}', "session.audio.input"),
            ('{"output":null}', "session.audio.output"),
        ]
    )
)
@example(audio=("null", "session.audio"))
def test_a_null_audio_config_is_a_wrong_type(audio: tuple[str, str]) -> None:
    """Was core_null_audio: AttributeError in vad.VadSettings.from_turn_detection (the
    session's audio gone, ``get_path``'s "missing" marker was taken for a turn_detection)."""
    value, param = audio
    frame = '{"type":"session.update","session":{"type":"realtime","audio":AUDIO}}'.replace(
        "AUDIO", value
    )
    core = new_core()
    before = copy.deepcopy(core.session)
    core.receive_frame(frame, 0.0)
    (error,) = take_events(core)
    assert (error["error"]["code"], error["error"]["param"]) == ("invalid_type", param)
    assert core.session == before
    assert _answers_on(core, ['{"type":"input_audio_buffer.clear"}']) == [
        ["input_audio_buffer.cleared"]
    ]


@EXAMPLE
@given(where=st.sampled_from(["session", "response"]))
@example(where="session")
def test_a_huge_max_output_tokens_is_out_of_range(where: str) -> None:
    """Was core_huge_number_message: service_errors._number went through float (OverflowError
    while writing the error)."""
    huge = {"max_output_tokens": 10**309}
    body = {"type": "realtime", **huge} if where == "session" else huge
    frame = json.dumps(
        {"type": f"{where}.{'update' if where == 'session' else 'create'}", where: body}
    )
    core = new_core()
    core.receive_frame(frame, 0.0)
    (error,) = take_events(core)
    assert error["error"]["code"] == "integer_above_max_value"
    assert error["error"]["message"].endswith(
        f"Expected a value <= 4096, but got {10**309} instead."
    )
