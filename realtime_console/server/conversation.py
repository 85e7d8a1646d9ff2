"""The conversation: items in order, addressable by id, as ``conversation.item.*`` events see it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from realtime_console.server.service_errors import ServiceError

ROOT = "root"  # ``previous_item_id`` meaning "at the start of the conversation"
# Bounds a connection's memory (with the frame size limit, which bounds each item): a client
# cannot grow a conversation without limit. Far beyond any real session's context.
MAX_ITEMS = 4096


class Conversation:
    """Ordered items (plain JSON dicts). Small by nature, so a list is searched directly."""

    def __init__(self, max_items: int = MAX_ITEMS) -> None:
        self._items: list[dict[str, Any]] = []
        self.max_items = max_items

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

    def add(self, item: dict[str, Any], previous_item_id: str | None = None) -> str | None:
        """Insert ``item`` after ``previous_item_id`` (default: at the end); return the id of the
        item now before it, as ``conversation.item.added`` reports it."""
        if self.get(item["id"]) is not None:
            raise ServiceError(
                "invalid_value",
                f"Item with id '{item['id']}' already exists in the conversation.",
                param="item.id",
            )
        self.ensure_room()
        if previous_item_id is None:
            position = len(self._items)
        elif previous_item_id == ROOT:
            position = 0
        else:
            self.require(previous_item_id, "previous_item_id")
            position = self._position(previous_item_id) + 1
        self._items.insert(position, item)
        return self._items[position - 1]["id"] if position > 0 else None

    def ensure_room(self) -> None:
        if len(self._items) >= self.max_items:
            raise ServiceError(
                "conversation_full",
                f"The conversation already holds {self.max_items} items (the local server's "
                "limit); delete some first.",
            )

    def replace(self, item: Mapping[str, Any]) -> None:
        """Swap in a new version of an existing item (same id), keeping its place."""
        self._items[self._position(str(item["id"]))] = dict(item)

    def delete(self, item_id: str) -> None:
        self.require(item_id, "item_id")
        del self._items[self._position(item_id)]

    def previous_id(self, item_id: str) -> str | None:
        position = self._position(item_id)
        return self._items[position - 1]["id"] if position > 0 else None

    def _position(self, item_id: str) -> int:
        return next(i for i, item in enumerate(self._items) if item.get("id") == item_id)
