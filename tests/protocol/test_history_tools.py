"""Function calls and their outputs in the conversation mirror: re-created after a reconnect."""

from __future__ import annotations

from typing import Any

from realtime_console.protocol.history import ConversationHistory
from realtime_console.protocol.schema import validate_client_event


def call_item(item_id: str, call_id: str, arguments: str = "") -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "function_call",
        "call_id": call_id,
        "name": "get_weather",
        "arguments": arguments,
        "status": "in_progress" if not arguments else "completed",
    }


def output_item(item_id: str, call_id: str, output: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call_output", "call_id": call_id, "output": output}


def items_of(history: ConversationHistory) -> list[dict[str, Any]]:
    plan = history.restore_plan()
    for event in plan.events:
        validate_client_event(event)
    return [event["item"] for event in plan.events]


def test_a_finished_call_and_its_output_are_restored_as_they_were() -> None:
    history = ConversationHistory()
    history(
        {"type": "response.output_item.added", "response_id": "r", "item": call_item("i1", "c1")}
    )
    history(
        {"type": "response.output_item.done", "item": call_item("i1", "c1", '{"city": "Paris"}')}
    )
    history({"type": "conversation.item.done", "item": call_item("i1", "c1", "")})  # no arguments
    history({"type": "conversation.item.added", "item": output_item("i2", "c1", '{"temp": 21}')})
    assert items_of(history) == [
        {
            "id": "i1",
            "type": "function_call",
            "call_id": "c1",
            "name": "get_weather",
            "arguments": '{"city": "Paris"}',
        },
        {"id": "i2", "type": "function_call_output", "call_id": "c1", "output": '{"temp": 21}'},
    ]
    assert history.restore_plan().skipped == 0


def test_a_call_cut_off_is_skipped_and_so_is_an_output_without_its_call() -> None:
    history = ConversationHistory()
    history({"type": "response.output_item.added", "item": call_item("i1", "c1")})  # never done
    history({"type": "conversation.item.added", "item": output_item("i2", "c1", "late")})
    history({"type": "conversation.item.added", "item": output_item("i3", "c9", "stray")})
    assert items_of(history) == []
    assert history.restore_plan().skipped == 3


def test_a_call_never_answered_is_restored_alone() -> None:
    history = ConversationHistory()
    history({"type": "conversation.item.done", "item": call_item("i1", "c1", "{}")})
    assert [item["type"] for item in items_of(history)] == ["function_call"]
