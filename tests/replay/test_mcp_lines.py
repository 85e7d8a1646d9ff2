"""MCP in a recorded session: its items as ``--types`` lines, and its calls counted by
``--summary`` (an approval request and the call made once approved are one call)."""

from __future__ import annotations

from typing import Any

from realtime_console.eventlog import LogRecord
from realtime_console.replay.event_lines import summarize
from realtime_console.replay.tool_calls import mcp_call_fields

REQUEST = {
    "id": "item_req",
    "type": "mcp_approval_request",
    "server_label": "notes",
    "name": "delete_note",
    "arguments": '{"title":"x"}',
}
CALL = {
    "id": "item_call",
    "type": "mcp_call",
    "server_label": "notes",
    "name": "delete_note",
    "arguments": '{"title":"x"}',
    "approval_request_id": "item_req",
    "output": "Deleted x.",
    "error": None,
}


def record(index: int, direction: str, event: dict[str, Any]) -> LogRecord:
    return LogRecord(index=index, line=index + 2, t=index / 10, dir=direction, event=event)  # type: ignore[arg-type]


def test_mcp_items_are_one_readable_line() -> None:
    done = {"type": "response.output_item.done", "response_id": "resp_1", "item": CALL}
    assert summarize(record(1, "server", done)).endswith(
        'item_call mcp_call notes.delete_note({"title":"x"}) → \'Deleted x.\''
    )
    failed = {**done, "item": {**CALL, "output": None, "error": {"message": "boom"}}}
    assert summarize(record(2, "server", failed)).endswith("failed: 'boom'")
    answer = {
        "type": "conversation.item.create",
        "item": {
            "id": "i",
            "type": "mcp_approval_response",
            "approval_request_id": "item_req",
            "approve": False,
        },
    }
    assert (
        summarize(record(3, "client", answer)) == "i mcp_approval_response item_req approve=False"
    )
    meta = {
        "type": "tool_call",
        "call_id": "item_req",
        "name": "delete_note",
        "server_label": "notes",
        "status": "ok",
        "duration_ms": 12.0,
    }
    assert summarize(record(4, "meta", meta)).startswith("item_req notes.delete_note ok in 12")


def test_a_request_and_its_call_are_one_call() -> None:
    assert (
        mcp_call_fields(REQUEST)
        == mcp_call_fields(CALL)
        == {
            "call_id": "item_req",
            "name": "notes.delete_note",
            "arguments": '{"title":"x"}',
        }
    )
    assert mcp_call_fields({"type": "message"}) is None
    unapproved = {**CALL, "approval_request_id": None}
    assert mcp_call_fields(unapproved)["call_id"] == "item_call"  # type: ignore[index]
