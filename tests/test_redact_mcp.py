"""An MCP server's headers are credentials whatever their names: masked in every value the
event log and the screen are given (the session.update that sends them, any echo of it)."""

from __future__ import annotations

from realtime_console.redact import MASK, Redactor


def test_the_headers_of_an_mcp_tool_are_masked_whatever_their_names() -> None:
    update = {
        "type": "session.update",
        "session": {
            "tools": [
                {
                    "type": "mcp",
                    "server_label": "notes",
                    "headers": {"X-Notes-Auth": "short", "X-Tenant": "acme"},
                },
                {"type": "function", "name": "headers_tool", "parameters": {"headers": {"a": "b"}}},
            ]
        },
    }
    tools = Redactor().value(update)["session"]["tools"]
    assert tools[0] == {
        "type": "mcp",
        "server_label": "notes",
        "headers": {"X-Notes-Auth": MASK, "X-Tenant": MASK},
    }
    assert tools[1]["parameters"] == {"headers": {"a": "b"}}  # only an MCP tool's
