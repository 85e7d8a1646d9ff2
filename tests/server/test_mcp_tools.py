"""The MCP rule without I/O: servers from the session, filters, approval, which call is made."""

from __future__ import annotations

import json
from typing import Any

import pytest

from realtime_console.server.mcp_tools import (
    McpListing,
    McpServer,
    listed_tools,
    mcp_servers,
    needs_approval,
    plan_mcp_call,
)

FORECAST = {
    "name": "get_forecast",
    "description": "d",
    "input_schema": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city"],
    },
    "annotations": {"readOnlyHint": True},
}
DELETE = {"name": "delete_note", "input_schema": {"type": "object"}, "annotations": None}


def listing(label: str, *tools: dict[str, Any], approval: Any = None) -> McpListing:
    server = McpServer(label, "http://x/mcp", (), None, approval)
    return McpListing(server, f"item_{label}", [dict(t) for t in tools])


def user(text: str) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}


def test_servers_come_from_mcp_tools_and_keep_their_headers_out_of_repr() -> None:
    tools = [
        {"type": "function", "name": "f"},
        {
            "type": "mcp",
            "server_label": "a",
            "server_url": "http://a/mcp",
            "headers": {"X-Key": "secret-1"},
            "authorization": "tok",
        },
    ]
    (server,) = mcp_servers(tools)
    assert dict(server.headers) == {"X-Key": "secret-1", "Authorization": "Bearer tok"}
    assert "secret-1" not in repr(server) and "tok" not in repr(server)


@pytest.mark.parametrize(
    ("allowed", "names"),
    [
        (None, ["get_forecast", "delete_note"]),
        (["delete_note"], ["delete_note"]),
        ({"tool_names": ["get_forecast"]}, ["get_forecast"]),
        ({"read_only": True}, ["get_forecast"]),
        ({"read_only": False}, ["delete_note"]),
        ({}, []),
    ],
)
def test_allowed_tools_filter_the_listing(allowed: Any, names: list[str]) -> None:
    assert [t["name"] for t in listed_tools([FORECAST, DELETE], allowed)] == names


@pytest.mark.parametrize(
    ("require", "tool", "asks"),
    [
        (None, FORECAST, True),
        ("always", FORECAST, True),
        ("never", DELETE, False),
        ({"never": {"read_only": True}}, FORECAST, False),
        ({"never": {"read_only": True}}, DELETE, True),
        ({"never": {"tool_names": ["delete_note"]}}, DELETE, False),
        ({"always": {"tool_names": ["delete_note"]}}, FORECAST, True),
    ],
)
def test_approval_is_the_default(require: Any, tool: dict[str, Any], asks: bool) -> None:
    assert needs_approval(tool, require) is asks


def test_the_first_named_tool_of_any_server_is_called_with_built_arguments() -> None:
    listings = [listing("a", DELETE), listing("b", FORECAST, approval="never")]
    plan = plan_mcp_call(listings, "auto", [user("get_forecast city=Bergen, then delete_note")])
    assert plan is not None
    assert (plan.server_label, plan.name, plan.ask_first) == ("b", "get_forecast", False)
    assert json.loads(plan.arguments) == {"city": "Bergen"}


@pytest.mark.parametrize(
    ("choice", "text", "expected"),
    [
        ("auto", "nothing named", None),
        ("required", "nothing named", "delete_note"),
        ("none", "get_forecast", None),
        ({"type": "mcp", "server_label": "b"}, "delete_note", "get_forecast"),
        ({"type": "mcp", "server_label": "a", "name": "delete_note"}, "", "delete_note"),
        ({"type": "function", "name": "get_forecast"}, "get_forecast", None),
    ],
)
def test_tool_choice(choice: Any, text: str, expected: str | None) -> None:
    plan = plan_mcp_call([listing("a", DELETE), listing("b", FORECAST)], choice, [user(text)])
    assert (plan.name if plan else None) == expected


def test_an_approval_answer_carries_out_or_refuses_its_request() -> None:
    request = {
        "id": "mcpr_1",
        "type": "mcp_approval_request",
        "server_label": "a",
        "name": "delete_note",
        "arguments": '{"title":"x"}',
    }
    answer = {"type": "mcp_approval_response", "approval_request_id": "mcpr_1", "approve": True}
    context = [user("delete_note"), request, answer]
    plan = plan_mcp_call([listing("a", DELETE)], "auto", context)
    assert plan is not None and plan.makes_call
    assert (plan.approval_request_id, plan.arguments) == ("mcpr_1", '{"title":"x"}')
    refused = plan_mcp_call([], "none", [*context[:-1], {**answer, "approve": False}])
    assert refused is not None and refused.refused and not refused.makes_call


def test_no_call_answers_function_outputs() -> None:
    context = [user("get_forecast"), {"type": "function_call_output", "call_id": "c", "output": ""}]
    assert plan_mcp_call([listing("b", FORECAST)], "required", context) is None
