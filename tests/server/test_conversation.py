"""Conversation items: order, previous_item_id, lookups and errors."""

from __future__ import annotations

from typing import Any

import pytest

from realtime_console.server.conversation import ROOT, Conversation
from realtime_console.server.service_errors import ServiceError


def item(item_id: str) -> dict[str, Any]:
    return {"id": item_id, "type": "message", "role": "user", "content": []}


def ids(conversation: Conversation) -> list[str]:
    return [i["id"] for i in conversation.items()]


def test_items_append_and_report_their_predecessor() -> None:
    conversation = Conversation()
    assert conversation.add(item("a")) is None
    assert conversation.add(item("b")) == "a"
    assert ids(conversation) == ["a", "b"]
    assert conversation.previous_id("b") == "a"


def test_items_insert_after_a_given_item_or_at_the_root() -> None:
    conversation = Conversation()
    conversation.add(item("a"))
    conversation.add(item("c"))
    assert conversation.add(item("b"), previous_item_id="a") == "a"
    assert conversation.add(item("first"), previous_item_id=ROOT) is None
    assert ids(conversation) == ["first", "a", "b", "c"]


def test_unknown_previous_item_and_duplicate_ids_are_errors() -> None:
    conversation = Conversation()
    conversation.add(item("a"))
    with pytest.raises(ServiceError) as missing:
        conversation.add(item("b"), previous_item_id="nope")
    assert (missing.value.code, missing.value.param) == ("item_not_found", "previous_item_id")
    with pytest.raises(ServiceError) as duplicate:
        conversation.add(item("a"))
    assert duplicate.value.param == "item.id"
    assert ids(conversation) == ["a"]


def test_replace_keeps_the_place_and_delete_removes() -> None:
    conversation = Conversation()
    for name in "abc":
        conversation.add(item(name))
    conversation.replace({**item("b"), "status": "completed"})
    assert conversation.items()[1]["status"] == "completed"
    conversation.delete("b")
    assert ids(conversation) == ["a", "c"]
    with pytest.raises(ServiceError):
        conversation.delete("b")
