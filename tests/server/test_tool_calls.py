"""Function calling on the local server, through the real SDK client over a real WebSocket.

Every event the server sends is held to ``openai.types.realtime.RealtimeServerEvent`` by
``EventRecorder``. The rule under test (docs/local-server.md, Tools): a function tool named as a
whole word in the latest user message is called, with arguments from ``name=value`` tokens and
examples for the other required properties; the response says what it calls first, then carries
one ``function_call`` item per call; the next response quotes the outputs.
"""

from __future__ import annotations

import base64
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import jsonschema
from openai import AsyncOpenAI

from realtime_console.protocol.pcm import encode_b64
from realtime_console.server import LocalServer
from realtime_console.server.testing import EventRecorder, collapse_deltas, types_of
from realtime_console.server.voice import SyntheticVoice
from tests.server.conftest import API_KEY
from tests.server.test_vad import silence, tone

WEATHER: dict[str, Any] = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city"],
        "additionalProperties": False,
    },
}
TIME: dict[str, Any] = {
    "type": "function",
    "name": "get_time",
    "description": "The time now.",
    "parameters": {"type": "object", "properties": {}},
}
SEARCH: dict[str, Any] = {
    "type": "function",
    "name": "search",
    "description": "Search the catalogue.",
    "parameters": {
        "type": "object",
        "properties": {
            "query": {"type": "string"},
            "limit": {"type": "integer", "minimum": 1, "maximum": 50},
            "ratio": {"type": "number"},
            "exact": {"type": "boolean"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "sizes": {"type": "array", "items": {"type": "integer"}},
            "sort": {"type": "string", "enum": ["relevance", "date"]},
            "page": {"type": "integer", "minimum": 1},
        },
        "required": ["query", "sort", "page"],
    },
}

# The events of a text response that calls one tool (each run of deltas shown once).
ONE_CALL_TEXT = [
    "response.created",
    "response.output_item.added",
    "conversation.item.added",
    "response.content_part.added",
    "*.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.output_item.added",
    "conversation.item.added",
    "*.delta",
    "response.function_call_arguments.done",
    "response.output_item.done",
    "conversation.item.done",
    "response.done",
    "rate_limits.updated",
]


@asynccontextmanager
async def session(
    server: LocalServer,
    tools: list[dict[str, Any]],
    tool_choice: Any = "auto",
    modality: str = "text",
    turn_detection: dict[str, Any] | None = None,
) -> AsyncIterator[tuple[Any, EventRecorder]]:
    client = AsyncOpenAI(
        websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=API_KEY
    )
    async with client.realtime.connect(model="gpt-realtime") as connection:
        events = EventRecorder(connection)
        await events.expect("session.created")
        await connection.send_raw(
            json.dumps(
                {
                    "type": "session.update",
                    "session": {
                        "type": "realtime",
                        "output_modalities": [modality],
                        "tools": tools,
                        "tool_choice": tool_choice,
                        "audio": {"input": {"turn_detection": turn_detection}},
                    },
                }
            )
        )
        updated = await events.expect("session.updated")
        assert updated["session"]["tools"] == tools
        yield connection, events


async def say(connection: Any, events: EventRecorder, text: str) -> list[dict[str, Any]]:
    """A user text turn and its whole response, up to ``rate_limits.updated``."""
    await connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )
    await events.until("conversation.item.done")
    await connection.response.create()
    return await events.until("rate_limits.updated")


def calls_of(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = next(e for e in answer if e["type"] == "response.done")
    return [item for item in done["response"]["output"] if item["type"] == "function_call"]


def reply_of(answer: list[dict[str, Any]]) -> str:
    done = next(e for e in answer if e["type"] == "response.done")
    part = done["response"]["output"][0]["content"][0]
    return str(part.get("text") or part.get("transcript"))


async def test_a_named_tool_is_called_after_the_filler_with_the_service_event_sequence(
    server: LocalServer,
) -> None:
    async with session(server, [WEATHER, TIME]) as (connection, events):
        answer = await say(connection, events, "What is the weather? get_weather city=Paris.")
    assert collapse_deltas(types_of(answer)) == ONE_CALL_TEXT
    assert reply_of(answer) == "(local server) Calling get_weather."
    (call,) = calls_of(answer)
    assert call["name"] == "get_weather" and call["status"] == "completed"
    assert call["call_id"].startswith("call_") and len(call["call_id"]) > len("call_")
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    jsonschema.validate(json.loads(call["arguments"]), WEATHER["parameters"])

    added = [e for e in answer if e["type"] == "response.output_item.added"][1]
    assert added["output_index"] == 1
    assert added["item"] == {**call, "status": "in_progress", "arguments": ""}
    deltas = [e for e in answer if e["type"] == "response.function_call_arguments.delta"]
    assert 1 < len(deltas) <= 3  # the arguments stream in a few pieces
    assert "".join(d["delta"] for d in deltas) == call["arguments"]
    done = next(e for e in answer if e["type"] == "response.function_call_arguments.done")
    for event in [*deltas, done]:
        assert (event["call_id"], event["item_id"], event["output_index"]) == (
            call["call_id"],
            call["id"],
            1,
        )
    assert (done["name"], done["arguments"]) == ("get_weather", call["arguments"])
    message = next(e for e in answer if e["type"] == "conversation.item.done")["item"]
    call_added = [e for e in answer if e["type"] == "conversation.item.added"][1]
    assert call_added["previous_item_id"] == message["id"]  # the call follows the message
    response = next(e for e in answer if e["type"] == "response.done")["response"]
    assert response["status"] == "completed"
    assert [item["type"] for item in response["output"]] == ["message", "function_call"]


async def test_two_names_make_two_parallel_calls_in_one_response_in_order_of_mention(
    server: LocalServer,
) -> None:
    async with session(server, [WEATHER, TIME]) as (connection, events):
        answer = await say(connection, events, "First get_time, then get_weather city=Oslo")
        await connection.conversation.item.retrieve(item_id=calls_of(answer)[1]["id"])
        retrieved = (await events.expect("conversation.item.retrieved"))["item"]
    assert types_of(answer).count("response.done") == 1
    assert reply_of(answer) == "(local server) Calling get_time and get_weather."
    calls = calls_of(answer)
    assert [(c["name"], json.loads(c["arguments"])) for c in calls] == [
        ("get_time", {}),
        ("get_weather", {"city": "Oslo"}),
    ]
    assert len({c["call_id"] for c in calls}) == 2
    added = [e for e in answer if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1, 2]
    assert retrieved == calls[1]  # the calls are in the conversation, completed


async def test_only_whole_words_count_and_a_name_is_called_once(server: LocalServer) -> None:
    async with session(server, [WEATHER, TIME]) as (connection, events):
        answer = await say(connection, events, "my_get_time get_timer get_weather get_weather")
    assert [c["name"] for c in calls_of(answer)] == ["get_weather"]


async def test_required_tool_choice_calls_the_first_tool_when_none_is_named(
    server: LocalServer,
) -> None:
    async with session(server, [WEATHER, TIME], tool_choice="required") as (connection, events):
        answer = await say(connection, events, "Anything at all.")
    (call,) = calls_of(answer)
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "example"}  # the required string's example


async def test_a_named_tool_choice_calls_that_tool_only(server: LocalServer) -> None:
    choice = {"type": "function", "name": "get_time"}
    async with session(server, [WEATHER, TIME], tool_choice=choice) as (connection, events):
        answer = await say(connection, events, "get_weather city=Rome")
    assert [c["name"] for c in calls_of(answer)] == ["get_time"]


async def test_tool_choice_none_replies_without_calls(server: LocalServer) -> None:
    async with session(server, [WEATHER], tool_choice="none") as (connection, events):
        answer = await say(connection, events, "get_weather city=Rome")
    assert calls_of(answer) == []
    assert "function_call" not in json.dumps(types_of(answer))
    assert "get_weather city=Rome" in reply_of(answer)  # the ordinary reply quotes the user


async def test_response_create_can_bring_its_own_tools(server: LocalServer) -> None:
    async with session(server, []) as (connection, events):
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "x"}],
            }
        )
        await events.until("conversation.item.done")
        await connection.response.create(response={"tools": [TIME], "tool_choice": "required"})
        answer = await events.until("rate_limits.updated")
    assert [c["name"] for c in calls_of(answer)] == ["get_time"]


async def test_name_value_tokens_fill_arguments_converted_to_their_types(
    server: LocalServer,
) -> None:
    text = (
        'search query="New York \\"City\\"" limit=5 ratio=0.25 exact=yes '
        "tags=red,green sizes=[3,4] sort=fast unit=7."
    )
    async with session(server, [SEARCH]) as (connection, events):
        answer = await say(connection, events, text)
    arguments = json.loads(calls_of(answer)[0]["arguments"])
    assert arguments == {
        "query": 'New York "City"',
        "limit": 5,
        "ratio": 0.25,
        "exact": True,
        "tags": ["red", "green"],
        "sizes": [3, 4],
        "sort": "relevance",  # "fast" is no choice of the enum: the first one is used
        "page": 1,  # required, not given: its minimum
    }
    jsonschema.validate(arguments, SEARCH["parameters"])


async def test_the_next_response_quotes_the_outputs_in_call_order(server: LocalServer) -> None:
    async with session(server, [WEATHER, TIME]) as (connection, events):
        calls = calls_of(await say(connection, events, "get_time and get_weather city=Oslo"))
        answers = {"get_time": "12:00", "get_weather": '{"temp":   21,\n "sky": "clear"}'}
        for call in reversed(calls):  # answered out of order
            await connection.conversation.item.create(
                item={
                    "type": "function_call_output",
                    "call_id": call["call_id"],
                    "output": answers[call["name"]],
                }
            )
            await events.until("conversation.item.done")
        await connection.response.create()
        follow_up = await events.until("rate_limits.updated")
    assert calls_of(follow_up) == []  # answering ends the calls: no loop
    assert reply_of(follow_up) == (
        '(local server) get_time returned 12:00. get_weather returned {"temp": 21, "sky": "clear"}.'
    )


async def test_a_long_output_is_cut_at_200_characters(server: LocalServer) -> None:
    async with session(server, [TIME]) as (connection, events):
        (call,) = calls_of(await say(connection, events, "get_time"))
        await connection.conversation.item.create(
            item={"type": "function_call_output", "call_id": call["call_id"], "output": "x" * 500}
        )
        await events.until("conversation.item.done")
        await connection.response.create()
        follow_up = await events.until("rate_limits.updated")
    assert reply_of(follow_up) == f"(local server) get_time returned {'x' * 200}..."


async def test_an_output_for_an_unknown_call_is_refused_and_not_added(server: LocalServer) -> None:
    async with session(server, [TIME]) as (connection, events):
        await connection.conversation.item.create(
            item={"type": "function_call_output", "call_id": "call_nope", "output": "1"},
            event_id="evt_orphan",
        )
        error = (await events.expect("error"))["error"]
        await connection.conversation.item.create(
            item={
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "x"}],
            }
        )
        added = await events.expect("conversation.item.added")
    assert error == {
        "type": "invalid_request_error",
        "code": "invalid_tool_call_id",
        "message": "Tool call ID 'call_nope' not found in conversation.",
        "param": "item.call_id",
        "event_id": "evt_orphan",
    }
    assert added["previous_item_id"] is None  # the refused item never entered the conversation


async def test_a_voice_response_speaks_the_filler_then_calls(server: LocalServer) -> None:
    async with session(server, [WEATHER], modality="audio") as (connection, events):
        answer = await say(connection, events, "get_weather city=Lima")
    kinds = collapse_deltas(types_of(answer))
    assert kinds[:10] == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "*.delta",
        "response.output_audio.done",
        "response.output_audio_transcript.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
    ]
    assert kinds[10:] == ONE_CALL_TEXT[9:]
    filler = "(local server) Calling get_weather."
    assert reply_of(answer) == filler
    transcript = [
        e["delta"] for e in answer if e["type"] == "response.output_audio_transcript.delta"
    ]
    assert "".join(transcript) == filler
    audio = b"".join(
        base64.b64decode(e["delta"]) for e in answer if e["type"] == "response.output_audio.delta"
    )
    assert audio == SyntheticVoice().synthesize(filler, voice="marin").pcm  # the session's voice
    last_audio = max(i for i, e in enumerate(answer) if e["type"] == "response.output_audio.delta")
    first_call = next(i for i, e in enumerate(answer) if e["type"].startswith("response.function"))
    assert last_audio < first_call
    assert json.loads(calls_of(answer)[0]["arguments"]) == {"city": "Lima"}


async def test_a_turn_committed_by_server_vad_calls_a_required_tool(server: LocalServer) -> None:
    vad = {"type": "server_vad", "silence_duration_ms": 200}
    async with session(server, [TIME], tool_choice="required", turn_detection=vad) as (
        connection,
        events,
    ):
        for pcm in (silence(300), tone(600), silence(400)):
            await connection.input_audio_buffer.append(audio=encode_b64(pcm))
        answer = await events.until("rate_limits.updated")
    assert "input_audio_buffer.committed" in types_of(answer)
    assert [c["name"] for c in calls_of(answer)] == ["get_time"]
