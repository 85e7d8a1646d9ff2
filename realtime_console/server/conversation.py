"""The conversation: items in order, addressable by id, as ``conversation.item.*`` events see it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from realtime_console.server.service_errors import ServiceError

ROOT = "root"  # ``previous_item_id`` meaning "at the start of the conversation"
# Bounds a connection's memory (with the frame size limit, which bounds each item): a client
# cannot grow a conversation without limit. Far beyond any real session's context.
MAX_ITEMS = 4096
# The service bounds a session's context by tokens (its truncation drops the oldest turns); the
# server bounds the bytes of the items' JSON instead, because one frame may hold 16 MiB and 4096
# items of that would be 64 GiB. 32 MiB is two maximal frames, 8.7 minutes of base64 input
# audio or millions of words of text: more than any model's context.
MAX_CONTEXT_BYTES = 32 * 1024 * 1024


def item_bytes(item: Mapping[str, Any]) -> int:
    """What an item weighs against the bound: its compact JSON in UTF-8."""
    return len(json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode())


class Conversation:
    """Ordered items (plain JSON dicts). Small by nature, so a list is searched directly.

    Items and their bytes are bounded; an item changed in place (a truncated or transcribed
    one) must be re-weighed with ``resized``.
    """

    def __init__(self, max_items: int = MAX_ITEMS, max_bytes: int = MAX_CONTEXT_BYTES) -> None:
        self._items: list[dict[str, Any]] = []
        self._sizes: dict[str, int] = {}
        self.max_items = max_items
        self.max_bytes = max_bytes
        self.total_bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[dict[str, Any]]:
        return list(self._items)

    def get(self, item_id: str) -> dict[str, Any] | None:
        return next((item for item in self._items if item.get("id") == item_id), None)

    def require(self, item_id: str, param: str) -> dict[str, Any]:
        item = self.get(item_id)
        if item is None:
            raise ServiceError(
                "item_not_found", f"Item with item_id not found: {item_id}", param=param
            )
        return item

    def add(
        self,
        item: dict[str, Any],
        previous_item_id: str | None = None,
        *,
        limit_bytes: bool = True,
    ) -> str | None:
        """Insert ``item`` after ``previous_item_id`` (default: at the end); return the id of the
        item now before it, as ``conversation.item.added`` reports it.

        ``limit_bytes=False`` is for the server's own small items (committed-audio items carry
        no audio, replies only their transcript): they are counted but never refused, so a
        full context cannot break a turn halfway through."""
        if self.get(item["id"]) is not None:
            raise ServiceError(
                "invalid_value",
                f"Item with id '{item['id']}' already exists in the conversation.",
                param="item.id",
            )
        self.ensure_room()
        size = item_bytes(item)
        if limit_bytes and self.total_bytes + size > self.max_bytes:
            raise ServiceError(
                "context_length_exceeded",
                f"This item ({size} bytes) would take the conversation past the "
                f"{self.max_bytes} bytes the local server keeps per session "
                f"({self.total_bytes} held); delete items or start a new session.",
                param="item",
            )
        if previous_item_id is None:
            position = len(self._items)
        elif previous_item_id == ROOT:
            position = 0
        else:
            self.require(previous_item_id, "previous_item_id")
            position = self._position(previous_item_id) + 1
        self._items.insert(position, item)
        self._weigh(str(item["id"]), size)
        return self._items[position - 1]["id"] if position > 0 else None

    def ensure_room(self, extra: int = 0) -> None:
        """Refuse unless one item (plus ``extra`` more, a response's tool calls) fits."""
        if len(self._items) + extra >= self.max_items:
            raise ServiceError(
                "conversation_full",
                f"The conversation already holds {self.max_items} items (the local server's "
                "limit); delete some first.",
            )

    def replace(self, item: Mapping[str, Any]) -> None:
        """Swap in a new version of an existing item (same id), keeping its place."""
        self._items[self._position(str(item["id"]))] = dict(item)
        self.resized(str(item["id"]))

    def resized(self, item_id: str) -> None:
        """Re-weigh an item that was changed in place."""
        item = self.get(item_id)
        if item is not None:
            self._weigh(item_id, item_bytes(item))

    def delete(self, item_id: str) -> None:
        self.require(item_id, "item_id")
        del self._items[self._position(item_id)]
        self.total_bytes -= self._sizes.pop(item_id, 0)

    def previous_id(self, item_id: str) -> str | None:
        position = self._position(item_id)
        return self._items[position - 1]["id"] if position > 0 else None

    def _weigh(self, item_id: str, size: int) -> None:
        self.total_bytes += size - self._sizes.get(item_id, 0)
        self._sizes[item_id] = size

    def _position(self, item_id: str) -> int:
        return next(i for i, item in enumerate(self._items) if item.get("id") == item_id)
