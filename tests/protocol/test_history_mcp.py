"""MCP items in the history a reconnect restores: a tool listing is the service's to make again
(not counted as lost); a call and its approval cannot be re-created (counted); the reply that
quoted the call's output comes back as text."""

from __future__ import annotations

from realtime_console.protocol.history import ConversationHistory


def done(item: dict[str, object]) -> dict[str, object]:
    return {"type": "conversation.item.done", "item": item}


def test_mcp_items_are_left_out_and_only_calls_counted() -> None:
    history = ConversationHistory()
    history(done({"id": "l1", "type": "mcp_list_tools", "server_label": "notes", "tools": []}))
    history(
        done(
            {
                "id": "u1",
                "type": "message",
                "role": "user",
                "content": [{"type": "input_text", "text": "delete_note x"}],
            }
        )
    )
    history(
        done(
            {
                "id": "r1",
                "type": "mcp_approval_request",
                "server_label": "notes",
                "name": "delete_note",
                "arguments": "{}",
            }
        )
    )
    history(
        done(
            {
                "id": "c1",
                "type": "mcp_call",
                "server_label": "notes",
                "name": "delete_note",
                "arguments": "{}",
                "approval_request_id": "r1",
                "output": "Deleted x.",
            }
        )
    )
    history(
        done(
            {
                "id": "a1",
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "delete_note returned Deleted x."}],
            }
        )
    )
    plan = history.restore_plan()
    assert [e["item"]["id"] for e in plan.events] == ["u1", "a1"]
    assert plan.skipped == 2  # the request and the call; the listing comes back by itself
