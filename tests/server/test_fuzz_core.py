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

Known bugs (reported) are matched narrowly in ``known_core_bug`` and each has a strict xfail
test with its minimal example at the end; nothing else is left out.
"""

from __future__ import annotations

import json
import math
import random
import threading
import traceback
import typing
import weakref
from collections.abc import Callable, Iterator
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


_SAW_NAN: weakref.WeakKeyDictionary[SessionCore, bool] = weakref.WeakKeyDictionary()
"""Cores that were sent a NaN or an infinity: bug ``core_accepts_nan`` strikes later."""


def _depth(value: Any) -> int:
    depth, level = 0, [value]
    while level:
        depth += 1
        level = [
            child
            for node in level
            if isinstance(node, dict | list)
            for child in (node.values() if isinstance(node, dict) else node)
        ]
    return depth


# ---------------------------------------------------------------- known bugs (reported)

DEEP_ENOUGH_TO_BREAK_DEEPCOPY = 300


def _loaded(frame: str | bytes) -> Any:
    try:
        return json.loads(frame)
    except (ValueError, RecursionError):
        return None


def _leaves(value: Any, depth: int = 0) -> Iterator[Any]:
    if depth > 60:  # only fuzz.deep nests further, and it holds one string
        return
    if isinstance(value, dict):
        for child in value.values():
            yield from _leaves(child, depth + 1)
    elif isinstance(value, list):
        for child in value:
            yield from _leaves(child, depth + 1)
    else:
        yield value


def _has_surrogate(value: Any) -> bool:
    def text_has(text: str) -> bool:
        return any("\ud800" <= c <= "\udfff" for c in text)

    keys: list[str] = []
    stack = [value]
    while stack and len(keys) < 10_000:
        node = stack.pop()
        if isinstance(node, dict):
            keys.extend(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str):
            keys.append(node)
    return any(text_has(text) for text in keys)


def _has_nonfinite(value: Any) -> bool:
    return any(isinstance(v, float) and not math.isfinite(v) for v in _leaves(value))


def _has_huge_int(value: Any) -> bool:
    return any(
        isinstance(v, int) and not isinstance(v, bool) and abs(v) > 1.7e308 for v in _leaves(value)
    )


def _null_at(event: Any, *path: str) -> bool:
    for key in path[:-1]:
        event = event.get(key) if isinstance(event, dict) else None
    return isinstance(event, dict) and path[-1] in event and event[path[-1]] is None


KNOWN_CORE_BUGS: dict[str, tuple[type[BaseException], str, Callable[[Any], bool]]] = {
    # exception, the product function it leaves, what the frame holds
    "core_deep_nesting": (RecursionError, "*", lambda e: _depth(e) > DEEP_ENOUGH_TO_BREAK_DEEPCOPY),
    "core_lone_surrogate": (UnicodeEncodeError, "item_bytes", _has_surrogate),
    "core_accepts_nan": (ValueError, "ms_to_samples", _has_nonfinite),
    "core_huge_number_message": (OverflowError, "_number", _has_huge_int),
    "core_null_response_input": (
        TypeError,
        "reply_text",
        lambda e: _null_at(e, "response", "input"),
    ),
    "core_null_audio": (
        AttributeError,
        "from_turn_detection",
        lambda e: _null_at(e, "session", "audio") or _null_at(e, "session", "audio", "input"),
    ),
}
"""Each reported bug: ``receive_frame`` raises this, out of this function, on such a frame."""


def _innermost(exc: BaseException) -> str:
    """The product function ``exc`` left (a comprehension counts as its function)."""
    frames = [
        f
        for f in traceback.extract_tb(exc.__traceback__)
        if "realtime_console" in f.filename and not f.name.startswith("<")
    ]
    return frames[-1].name if frames else "?"


def known_core_bug(frame: str | bytes, exc: BaseException, saw_nan: bool = False) -> str | None:
    """The reported bug ``exc`` is, or None: an exception out of ``receive_frame`` ends the
    connection (the pump closes it with 1011), so each is a bug. ``saw_nan``: an earlier frame
    of the session held a NaN or an infinity (which the core may have accepted)."""
    event = _loaded(frame)
    for name, (kind, where, holds) in KNOWN_CORE_BUGS.items():
        if not (isinstance(exc, kind) and where in ("*", _innermost(exc))):
            continue
        if holds(event) or (name == "core_accepts_nan" and saw_nan):
            return name
    return None


def not_strict_json(event: dict[str, Any]) -> str | None:
    try:
        json.dumps(event, allow_nan=False)
    except ValueError as exc:
        return f"{event.get('type')}: {exc}"
    return None


def known_nan_echo(frame: str | bytes) -> bool:
    """``core_accepts_nan``: NaN (which ``json.loads`` accepts) passes pydantic's float checks
    and the range checks (every comparison with NaN is false), so a ``session.update`` with a
    NaN threshold, temperature, speed… is applied and echoed in ``session.updated`` as ``NaN``,
    which is not JSON (and a NaN speed then crashes the next response, see above)."""
    return _has_nonfinite(_loaded(frame))


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


def feed(core: SessionCore, frame: str | bytes, now: float) -> list[dict[str, Any]] | None:
    """One frame in; the events out (each validated), or None after a known bug (the core is
    then as good as closed: the pump would have ended the connection)."""
    if known_nan_echo(frame):
        _SAW_NAN[core] = True
    try:
        core.receive_frame(frame, now)
    except Exception as exc:
        assert known_core_bug(frame, exc, _SAW_NAN.get(core, False)), f"{exc!r} on {frame!r:.300}"
        return None
    events = core.events_to_send()
    unstrict = [why for event in events if (why := check_event(event)) is not None]
    assert not unstrict or known_nan_echo(frame), (unstrict, frame)
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
        if events is None:  # a known bug ended this session: go on with a new one
            core = new_core()
            continue
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
                elif feed(core, _dumps(frame), now) is None:
                    core = new_core(chunk_ms=2000)
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


@settings(
    FUZZ,
    max_examples=30,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(bad=st.lists(frames, min_size=1, max_size=4))
async def test_a_connection_stays_usable_after_each_bad_frame(
    server: LocalServer, bad: list[str | bytes]
) -> None:
    shadow = new_core()  # the same frames, offline: one that hits a known bug is not sent
    async with aiohttp.ClientSession() as http:
        url = f"{server.http_url()}/v1/realtime?model=m"
        async with http.ws_connect(url, headers={"api-key": API_KEY}) as ws:
            await _events_until(ws, "session.created")
            for n, frame in enumerate(bad):
                if known_nan_echo(frame) or feed(shadow, frame, 0.0) is None:
                    shadow = new_core()
                    continue
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
                # the same connection still answers, in order
                probe = {"type": "input_audio_buffer.clear", "event_id": f"probe_{n}"}
                await ws.send_str(json.dumps(probe))
                answered = await _events_until(ws, "input_audio_buffer.cleared")
                if _object_of_known_type(frame) is None:
                    assert [e["type"] for e in answered][:1] == ["error"], answered
                feed(shadow, json.dumps(probe), 0.0)


# ---------------------------------------------------------------- each known bug, minimal


def _nest(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = {"a": value}
    return value


@pytest.mark.xfail(
    strict=True,
    reason="bug core_deep_nesting: RecursionError escapes "
    "SessionCore.receive_frame (copy.deepcopy of a deeply nested tool schema)",
)
@pytest.mark.parametrize("depth", [600])  # not @given: Hypothesis raises the recursion limit
def test_bug_a_deeply_nested_schema_is_an_error_event(depth: int) -> None:
    core = new_core()
    tool = {"type": "function", "name": "f", "parameters": _nest(depth)}
    frame = _dumps({"type": "session.update", "session": {"type": "realtime", "tools": [tool]}})
    failed: list[BaseException] = []

    def receive() -> None:  # on a thread of its own: the same stack depth under any runner
        try:
            core.receive_frame(frame, 0.0)
        except BaseException as exc:
            failed.append(exc)

    thread = threading.Thread(target=receive)
    thread.start()
    thread.join()
    assert failed == []
    assert [e["type"] for e in take_events(core)] in (["error"], ["session.updated"])


@pytest.mark.xfail(
    strict=True,
    reason="bug core_accepts_nan: a NaN threshold is applied and "
    "echoed in session.updated as NaN, which is not JSON",
)
@EXAMPLE
@given(value=st.sampled_from(["NaN", "-NaN"]))
@example(value="NaN")
def test_bug_nan_is_refused(value: str) -> None:
    core = new_core()
    frame = (
        '{"type":"session.update","session":{"type":"realtime","audio":{"input":'
        '{"turn_detection":{"type":"server_vad","threshold":VALUE}}}}}'
    ).replace("VALUE", value)
    core.receive_frame(frame, 0.0)
    events = take_events(core)
    assert [e["type"] for e in events] == ["error"]
    assert all(not_strict_json(e) is None for e in events)


def _answers(frames_in: list[str]) -> list[list[str]]:
    """The event types answering each frame; raises what ``receive_frame`` raises."""
    core, out = new_core(), []
    for n, frame in enumerate(frames_in):
        core.receive_frame(frame, n * 0.1)
        out.append([event["type"] for event in take_events(core)])
    return out


_SURROGATE_ITEM = (
    '{"type":"conversation.item.create","item":{"type":"message","role":"user",'
    '"content":[{"type":"input_text","text":"\\ud800"}]}}'
)


@pytest.mark.xfail(
    strict=True,
    reason="bug core_lone_surrogate: conversation.item_bytes encodes with ensure_ascii=False: "
    "UnicodeEncodeError escapes receive_frame (the connection closes with 1011)",
)
@EXAMPLE
@given(text=st.sampled_from(["\\ud800", "a\\udfffb", "\\udc00"]))
@example(text="\\ud800")
def test_bug_an_item_with_a_lone_surrogate_is_added(text: str) -> None:
    frame = _SURROGATE_ITEM.replace("\\ud800", text)
    assert _answers([frame]) == [["conversation.item.added", "conversation.item.done"]]


@pytest.mark.xfail(
    strict=True,
    reason="bug core_null_response_input: response.create with response.input null: "
    "TypeError in reply.reply_text escapes receive_frame",
)
@EXAMPLE
@given(extra=st.sampled_from(["", ',"conversation":"none"']))
@example(extra="")
def test_bug_a_null_response_input_is_no_input(extra: str) -> None:
    frame = '{"type":"response.create","response":{"input":nullEXTRA}}'.replace("EXTRA", extra)
    (answer,) = _answers([frame])
    assert answer[:1] in (["error"], ["response.created"])


@pytest.mark.xfail(
    strict=True,
    reason="bug core_null_audio: session.update with session.audio (or audio.input) null: "
    "AttributeError in vad.VadSettings.from_turn_detection escapes receive_frame",
)
@EXAMPLE
@given(audio=st.sampled_from(["null", '{"input":null}']))
@example(audio="null")
def test_bug_a_null_audio_config_is_answered(audio: str) -> None:
    frame = '{"type":"session.update","session":{"type":"realtime","audio":AUDIO}}'.replace(
        "AUDIO", audio
    )
    assert _answers([frame])[0] in (["error"], ["session.updated"])


@pytest.mark.xfail(
    strict=True,
    reason="bug core_huge_number_message: an integer past float range (max_output_tokens "
    "1e309) makes service_errors._number raise OverflowError while writing the error",
)
@EXAMPLE
@given(where=st.sampled_from(["session", "response"]))
@example(where="session")
def test_bug_a_huge_max_output_tokens_is_out_of_range(where: str) -> None:
    huge = {"max_output_tokens": 10**309}
    body = {"type": "realtime", **huge} if where == "session" else huge
    frame = json.dumps(
        {"type": f"{where}.{'update' if where == 'session' else 'create'}", where: body}
    )
    assert _answers([frame]) == [["error"]]


@pytest.mark.xfail(
    strict=True,
    reason="bug core_accepts_nan: a NaN output speed is accepted; the next response raises "
    "ValueError in pcm.ms_to_samples (the connection closes with 1011)",
)
@EXAMPLE
@given(value=st.sampled_from(["NaN"]))
@example(value="NaN")
def test_bug_a_nan_speed_does_not_break_the_next_response(value: str) -> None:
    update = (
        '{"type":"session.update","session":{"type":"realtime","audio":{"output":{"speed":VALUE}}}}'
    ).replace("VALUE", value)
    answers = _answers([update, '{"type":"response.create"}'])
    assert answers[0] == ["error"] or answers[1][:1] == ["response.created"]
