"""Tool-call responses in the pure core: cancelling mid-call, out-of-band responses, limits.

The SDK-level behaviour is in ``test_tool_calls``; these drive ``SessionCore`` on a fake clock,
so the moment of a cancel is exact. Every event is checked against the SDK's types
(``take_events``).
"""

from __future__ import annotations

import json
from typing import Any

from realtime_console.server.conversation import Conversation
from realtime_console.server.core import SessionCore
from realtime_console.server.testing import take_events, types_of
from tests.server.test_core import new_core, respond, run_to_end, say, send

TIME = {"type": "function", "name": "get_time", "parameters": {"type": "object"}}
ECHO = {
    "type": "function",
    "name": "echo",
    "parameters": {
        "type": "object",
        "properties": {"text": {"type": "string"}},
        "required": ["text"],
    },
}


def with_tools(*tools: dict[str, Any], modality: str = "text") -> SessionCore:
    core = new_core()
    take_events(core)
    send(
        core,
        {
            "type": "session.update",
            "session": {"type": "realtime", "tools": list(tools), "output_modalities": [modality]},
        },
    )
    return core


def test_a_cancel_while_arguments_stream_closes_the_call_incomplete() -> None:
    core = with_tools(ECHO)
    say(core, 'echo text="a fairly long piece of text to stream"')
    events = send(core, {"type": "response.create"})
    while not any(e["type"] == "response.function_call_arguments.delta" for e in events):
        deadline = core.next_deadline()
        assert deadline is not None
        core.handle_timer(deadline)
        events += take_events(core)
    streamed = "".join(
        e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"
    )
    closing = send(core, {"type": "response.cancel"}, now=core.next_deadline() or 0.0)
    closing = [e for e in closing if not e["type"].endswith(".delta")]
    assert types_of(closing) == [
        "response.function_call_arguments.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
    ]
    assert closing[0]["arguments"].startswith(streamed) and closing[0]["arguments"] != ""
    response = closing[3]["response"]
    assert response["status"] == "cancelled"
    message, call = response["output"]
    assert (message["status"], call["status"]) == ("completed", "incomplete")
    assert call["arguments"] == closing[0]["arguments"]
    assert core.conversation.items()[-1] == call  # the conversation holds what was sent


def test_a_cancel_before_the_calls_leaves_them_out() -> None:
    core = with_tools(TIME, ECHO)
    say(core, "get_time and echo")
    send(core, {"type": "response.create"})  # paced: nothing of the message is due yet
    closing = send(core, {"type": "response.cancel"})
    assert "response.function_call_arguments.done" not in types_of(closing)
    response = closing[-2]["response"]
    assert [item["type"] for item in response["output"]] == ["message"]
    assert [i["type"] for i in core.conversation.items()] == ["message", "message"]


def test_an_out_of_band_response_calls_tools_without_touching_the_conversation() -> None:
    core = with_tools(TIME)
    user = {
        "type": "message",
        "role": "user",
        "content": [{"type": "input_text", "text": "get_time"}],
    }
    events = respond(core, {"conversation": "none", "input": [user]})
    assert not any(e["type"].startswith("conversation.") for e in events)
    response = events[-2]["response"]
    assert response["conversation_id"] is None
    assert [item["type"] for item in response["output"]] == ["message", "function_call"]
    assert core.conversation.items() == []


def test_the_answers_are_read_from_response_input_too() -> None:
    core = with_tools(TIME)
    context = [
        {"type": "function_call", "call_id": "call_a", "name": "get_time", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_a", "output": "noon"},
    ]
    events = respond(core, {"conversation": "none", "input": context})
    done = events[-2]["response"]
    assert done["output"][0]["content"][0]["text"] == "(local server) get_time returned noon."


def test_the_calls_need_room_in_the_conversation_before_the_response_starts() -> None:
    core = with_tools(TIME, ECHO)
    core.conversation = Conversation(max_items=3)
    say(core, "get_time echo")  # 1 item: the message and two calls would make 4
    events = send(core, {"type": "response.create"})
    assert types_of(events) == ["error"] and events[0]["error"]["code"] == "conversation_full"
    assert core.active_response_id is None


def test_usage_counts_the_arguments_as_output_text() -> None:
    plain, calling = with_tools(ECHO), with_tools(ECHO)
    say(plain, "hello")
    say(calling, 'echo text="' + "x" * 400 + '"')
    plain_out = respond(plain)[-2]["response"]["usage"]["output_token_details"]["text_tokens"]
    call_out = respond(calling)[-2]["response"]["usage"]["output_token_details"]["text_tokens"]
    assert call_out > plain_out + 90  # 400 characters of arguments are about 100 tokens


def test_the_item_events_keep_the_conversation_in_step() -> None:
    core = with_tools(TIME, ECHO)
    say(core, "echo get_time")
    events = respond(core)
    items = core.conversation.items()
    assert [i["type"] for i in items] == ["message", "message", "function_call", "function_call"]
    done = [e for e in events if e["type"] == "conversation.item.done"]
    assert [e["item"] for e in done] == items[1:]
    assert [e["previous_item_id"] for e in done] == [i["id"] for i in items[:-1]]
    assert [json.loads(i["arguments"]) for i in items[2:]] == [{"text": "example"}, {}]
    assert run_to_end(core) == []
