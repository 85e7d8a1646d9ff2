"""The produced entries against the SDK's types, inside the events that carry them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from openai.types.realtime import RealtimeFunctionTool

from realtime_console.protocol.schema import validate_client_event, validate_server_event
from realtime_console.tools import (
    ToolCall,
    ToolResult,
    ToolSchemaError,
    calls_in_response,
    load_tools,
    validated_session_tools,
)

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tools"


def _entries() -> list[dict[str, Any]]:
    tools = load_tools(
        [str(EXAMPLES / "weather.py"), str(EXAMPLES / "tools.toml"), "tests.tools.sample_tools"]
    )
    return tools.session_tools()


def test_every_entry_is_a_realtime_function_tool_in_a_session_update() -> None:
    entries = _entries()
    assert len(entries) == 13
    for entry in entries:
        tool = RealtimeFunctionTool.model_validate(entry)
        assert tool.type == "function" and tool.name == entry["name"]
        json.dumps(entry)  # goes over the wire as JSON
    validate_client_event(
        {"type": "session.update", "session": {"type": "realtime", "tools": entries}}
    )


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"type": "mcp"}, "entry keys must be exactly"),
        ({"strict": True}, "entry keys must be exactly"),
        ({"name": "has space"}, "tool name 'has space' must be 1 to 64"),
        ({"parameters": {"type": "string"}}, 'parameters.type must be "object"'),
        ({"description": 5}, "tool 'ok': Input should be a valid string"),
    ],
)
def test_entries_the_service_would_refuse(change: dict[str, Any], message: str) -> None:
    entry = {
        "type": "function",
        "name": "ok",
        "description": "Ok.",
        "parameters": {"type": "object"},
    }
    with pytest.raises(ToolSchemaError, match=message):
        validated_session_tools([{**entry, **change}])


def test_a_result_answers_with_a_valid_function_call_output() -> None:
    result = ToolResult("call_1", "get_weather", '{"temperature": 18}', False, 0.1)
    validate_client_event({"type": "conversation.item.create", "item": result.output_item()})
    assert result.output_item() == {
        "type": "function_call_output",
        "call_id": "call_1",
        "output": '{"temperature": 18}',
    }


def test_calls_are_picked_out_of_a_real_response_done() -> None:
    def call(n: int, arguments: str) -> dict[str, Any]:
        return {
            "id": f"item_{n}",
            "type": "function_call",
            "object": "realtime.item",
            "status": "completed",
            "name": "get_weather",
            "call_id": f"call_{n}",
            "arguments": arguments,
        }

    event = {
        "type": "response.done",
        "event_id": "event_1",
        "response": {
            "id": "resp_1",
            "object": "realtime.response",
            "status": "completed",
            "output": [
                call(1, '{"city": "Paris"}'),
                {
                    "id": "item_m",
                    "type": "message",
                    "object": "realtime.item",
                    "role": "assistant",
                    "status": "completed",
                    "content": [{"type": "output_text", "text": "checking"}],
                },
                call(2, ""),
            ],
        },
    }
    validate_server_event(event)
    assert calls_in_response(event["response"]) == [  # type: ignore[arg-type]
        ToolCall("get_weather", "call_1", '{"city": "Paris"}'),
        ToolCall("get_weather", "call_2", ""),
    ]
    assert calls_in_response({"output": None}) == []
