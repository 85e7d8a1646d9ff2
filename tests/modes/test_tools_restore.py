"""Function calls survive a new server session: a reconnect after a drop and a session renewal
both re-create the calls and their outputs (``protocol/history.py``), through the real chat loop,
the real SDK and a local server."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from realtime_console.config.settings import ToolsSettings
from realtime_console.modes.recycle import RecyclePolicy
from realtime_console.protocol.schema import validate_client_event
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY
from tests.modes.test_chat_tools import WEATHER
from tests.modes.test_reconnect import chat, chat_settings, faulty_server, log_events


def created_items(client: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [
        e["item"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["type"] == kind
    ]


async def test_a_renewed_session_gets_the_calls_and_their_outputs_back(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, max_session_s=60.0)
    async with LocalServer(options) as server:
        settings = replace(chat_settings(server, log), tools=ToolsSettings(files=(WEATHER,)))
        # Renew from 0.2 s on: the first turn (the call and its answer) is over by then.
        policy = RecyclePolicy(limit_s=60.0, margin_s=59.8)
        code, out, err = await asyncio.wait_for(
            chat(settings, "get_weather city=Paris", "and in London?", recycle=policy), 60
        )
    assert code == 0, err
    assert "session renewed" in err
    client, server_events, meta = log_events(log)
    (recycled, *_) = [e for e in meta if e["type"] == "session_recycled"]
    # user, filler, call, output, answer
    assert recycled["restored"] >= 5 and recycled["skipped"] == 0
    (call,) = [
        e["item"]
        for e in server_events
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
    ]
    sent_output, restored_output = created_items(client, "function_call_output")
    (restored_call,) = created_items(client, "function_call")
    assert restored_call == {
        "id": call["id"],
        "type": "function_call",
        "call_id": call["call_id"],
        "name": "get_weather",
        "arguments": call["arguments"],
    }
    assert restored_output == sent_output  # same item id, call id and output
    assert json.loads(str(sent_output["output"]))["city"] == "Paris"
    for event in client:
        validate_client_event(event)
    assert not [e for e in server_events if e["type"] == "error"]
    assert out.splitlines()[-1].startswith("assistant> ")


async def test_a_drop_before_the_calls_response_is_done_asks_the_turn_again(
    tmp_path: Path,
) -> None:
    """The call's response never finishes on the first connection: its call is not answered
    there; after the reconnect the restored call stays unanswered (the service allows that),
    the turn is asked again, and the model's new call is answered."""
    log = tmp_path / "log.jsonl"
    async with faulty_server(drop_at="response.done", drop_connections=1) as server:
        settings = replace(chat_settings(server, log), tools=ToolsSettings(files=(WEATHER,)))
        code, out, err = await asyncio.wait_for(chat(settings, "get_weather city=Paris"), 60)
    assert code == 0, err
    assert "reconnected; session and" in err
    client, server_events, meta = log_events(log)
    calls = [
        e["item"]
        for e in server_events
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
    ]
    assert len(calls) == 2  # one per connection
    (restored_call,) = created_items(client, "function_call")
    assert restored_call["call_id"] == calls[0]["call_id"]
    (output,) = created_items(client, "function_call_output")
    assert output["call_id"] == calls[1]["call_id"]
    assert not [e for e in server_events if e["type"] == "error"]
    assert (
        out.splitlines()[-1]
        == f"assistant> (local server) get_weather returned {output['output']}."
    )
