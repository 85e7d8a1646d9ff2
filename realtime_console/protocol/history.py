"""A mirror of the server's conversation, kept so a reconnect can rebuild it in the new session.

Pure: fed every server event (registered on the dispatcher under ``ANY``), it records the items
the server reports (``conversation.item.added`` / ``.done``, ``response.output_item.*``), fills in
text as it becomes final (a user's audio transcript, an assistant's reply transcript) and forgets
deleted items. ``restore_plan()`` turns what it knows into ``conversation.item.create`` events,
in conversation order:

* a user or system message → the same message with its text (``input_text``); a user audio turn
  becomes its transcript as text, or is skipped when no transcript arrived;
* an assistant message → an assistant message with its transcript as ``output_text`` (the GA
  ``conversation.item.create`` accepts ``output_text`` / ``output_audio`` parts for assistant
  messages; audio cannot be re-sent, so the text stands for it); a reply cut off before its
  ``conversation.item.done`` is skipped (the caller re-asks if that turn is still open);
* a function call (``function_call``: ``call_id``, ``name``, ``arguments``) → the same item, once
  the server finished it (its arguments complete); its output (``function_call_output``) → the
  same item, when its call is restored too (an output whose call is missing would be refused:
  the service knows no such ``call_id``). A call that was never answered (a barge-in cancelled
  its handler) is restored as it is: the service accepts a call without an output;
* an MCP server's tool listing (``mcp_list_tools``) is left out, uncounted: the restored
  ``session.update`` makes the service list the tools again;
* anything else (an MCP call or approval, …) is skipped and counted.

Restored items keep their ids, so a mode can ask ``has(item_id)`` after a reconnect to learn
whether an item it sent made it into the new session. After a reconnect the mirror is cleared
and refilled by the new server's echoes of the restored items.
"""

from __future__ import annotations

import collections
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from realtime_console.protocol.client_events import ClientEvent, new_event_id

MAX_ITEMS = 500  # a longer conversation restores its last MAX_ITEMS items; older ones are counted
_TEXT_PARTS = {"input_text": "text", "output_text": "text", "text": "text"}
_AUDIO_PARTS = {"input_audio": "transcript", "output_audio": "transcript", "audio": "transcript"}
_CALL_FIELDS = {
    "function_call": ("call_id", "name", "arguments"),
    "function_call_output": ("call_id", "output"),
}
# Items the service makes again from the session itself: an MCP server's tool listing comes with
# the session.update that names the server. (An MCP call and its approval are not restored: the
# service's record of what it did; the reply quoting the output is, as text. docs/tools.md)
_RECREATED_BY_SERVICE = frozenset({"mcp_list_tools"})
_RESTORED_PART = {"user": "input_text", "system": "input_text", "assistant": "output_text"}

# More content parts than any item has (a message holds one or two): larger indexes are ignored.
MAX_CONTENT_PARTS = 64


def new_item_id() -> str:
    """A client-chosen item id (the API takes up to 32 characters), so ``has()`` can find it."""
    return f"item_c{secrets.token_hex(8)}"


@dataclass
class TrackedItem:
    id: str
    type: str  # message | function_call | function_call_output | ...
    role: str | None
    texts: list[str | None] = field(default_factory=list)  # one per content part; None: unknown
    done: bool = False  # the server finished the item (an assistant reply ran to its end)
    # function_call: call_id, name, arguments; function_call_output: call_id, output
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def text(self) -> str | None:
        """The whole message as text, or None while any part has no text."""
        if not self.texts or any(part is None for part in self.texts):
            return None
        return " ".join(part for part in self.texts if part)


@dataclass(frozen=True)
class RestorePlan:
    events: list[ClientEvent]  # conversation.item.create, in conversation order
    skipped: int  # items that could not be restored (no transcript, cut off, not a message)


class ConversationHistory:
    def __init__(self, max_items: int = MAX_ITEMS) -> None:
        self._items: collections.OrderedDict[str, TrackedItem] = collections.OrderedDict()
        self._max_items = max_items
        self.evicted = 0  # items forgotten because the conversation outgrew ``max_items``
        self._table: dict[str, Callable[[Mapping[str, Any]], None]] = {
            "conversation.item.added": self._item_added,
            "conversation.item.created": self._item_added,
            "response.output_item.added": self._item_added,
            "conversation.item.done": self._item_done,
            "response.output_item.done": self._item_done,
            "conversation.item.input_audio_transcription.completed": self._user_transcript,
            "response.output_audio_transcript.done": self._reply_transcript,
            "response.output_text.done": self._reply_text,
            "conversation.item.truncated": self._truncated,
            "conversation.item.deleted": self._deleted,
        }

    def __call__(self, event: Mapping[str, Any]) -> None:
        handler = self._table.get(str(event.get("type")))
        if handler is not None:
            handler(event)

    @property
    def items(self) -> list[TrackedItem]:
        return list(self._items.values())

    def has(self, item_id: str) -> bool:
        return item_id in self._items

    def clear(self) -> None:
        """A new server session starts empty; its echoes of the restored items refill this."""
        self._items.clear()
        self.evicted = 0

    def restore_plan(self) -> RestorePlan:
        events: list[ClientEvent] = []
        skipped = self.evicted
        calls: set[str] = set()  # call ids of the function calls restored so far
        for item in self._items.values():
            if item.type in _RECREATED_BY_SERVICE:
                continue  # not lost: the restored session.update brings it back
            event = _restore_event(item, calls)
            if event is None:
                skipped += 1
            else:
                events.append(event)
        return RestorePlan(events, skipped)

    # ------------------------------------------------------------------ handlers

    def _track(self, item: Mapping[str, Any]) -> TrackedItem | None:
        item_id = item.get("id")
        if not isinstance(item_id, str):
            return None
        tracked = self._items.get(item_id)
        if tracked is None:
            role = item.get("role")
            tracked = TrackedItem(
                item_id, str(item.get("type", "")), role if isinstance(role, str) else None
            )
            self._items[item_id] = tracked
            while len(self._items) > self._max_items:
                self._items.popitem(last=False)
                self.evicted += 1
        for key in _CALL_FIELDS.get(tracked.type, ()):
            value = item.get(key)
            if isinstance(value, str) and (value or key not in tracked.fields):
                tracked.fields[key] = value  # an echo without arguments keeps the known ones
        content = item.get("content")
        if isinstance(content, list) and content:
            known = tracked.texts
            tracked.texts = [_part_text(part) for part in content if isinstance(part, Mapping)]
            # A later echo without the transcript must not erase one that already arrived.
            for index, old in enumerate(known[: len(tracked.texts)]):
                if tracked.texts[index] is None:
                    tracked.texts[index] = old
        return tracked

    def _item_added(self, event: Mapping[str, Any]) -> None:
        item = event.get("item")
        if isinstance(item, Mapping):
            self._track(item)

    def _item_done(self, event: Mapping[str, Any]) -> None:
        item = event.get("item")
        if isinstance(item, Mapping):
            tracked = self._track(item)
            if tracked is not None:
                tracked.done = True

    def _set_part(self, event: Mapping[str, Any], key: str) -> None:
        tracked = self._items.get(str(event.get("item_id")))
        text = event.get(key)
        if tracked is None or not isinstance(text, str):
            return
        index = event.get("content_index", 0)
        index = index if isinstance(index, int) and index >= 0 else 0
        if index >= MAX_CONTENT_PARTS:
            return  # a server-chosen index must not size our list (2**63 would never finish)
        while len(tracked.texts) <= index:
            tracked.texts.append(None)
        tracked.texts[index] = text

    def _user_transcript(self, event: Mapping[str, Any]) -> None:
        self._set_part(event, "transcript")

    def _reply_transcript(self, event: Mapping[str, Any]) -> None:
        self._set_part(event, "transcript")

    def _reply_text(self, event: Mapping[str, Any]) -> None:
        self._set_part(event, "text")

    def _truncated(self, event: Mapping[str, Any]) -> None:
        # The service drops the transcript of a truncated reply: its context holds only audio
        # the listener heard, which cannot be re-sent. Restore it as nothing rather than as
        # words the user never heard.
        tracked = self._items.get(str(event.get("item_id")))
        if tracked is not None:
            tracked.texts = [None] * max(1, len(tracked.texts))

    def _deleted(self, event: Mapping[str, Any]) -> None:
        self._items.pop(str(event.get("item_id")), None)


def _part_text(part: Mapping[str, Any]) -> str | None:
    kind = str(part.get("type"))
    key = _TEXT_PARTS.get(kind) or _AUDIO_PARTS.get(kind)
    value = part.get(key) if key is not None else None
    return value if isinstance(value, str) else None


def _restore_call(item: TrackedItem, calls: set[str]) -> ClientEvent | None:
    """A function call or its output, as the ``conversation.item.create`` that re-creates it."""
    known = item.fields
    if item.type == "function_call":
        if not item.done or not known.get("call_id") or not known.get("name"):
            return None  # cut off while the model was still writing its arguments
        calls.add(known["call_id"])
        body = {"call_id": known["call_id"], "name": known["name"]}
        body["arguments"] = known.get("arguments", "")
    else:
        if known.get("call_id") not in calls or "output" not in known:
            return None
        body = {"call_id": known["call_id"], "output": known["output"]}
    return {
        "type": "conversation.item.create",
        "event_id": new_event_id(),
        "item": {"id": item.id, "type": item.type, **body},
    }


def _restore_event(item: TrackedItem, calls: set[str]) -> ClientEvent | None:
    if item.type in _CALL_FIELDS:
        return _restore_call(item, calls)
    if item.type != "message" or item.role not in _RESTORED_PART:
        return None
    text = item.text
    if not text or (item.role == "assistant" and not item.done):
        return None
    return {
        "type": "conversation.item.create",
        "event_id": new_event_id(),
        "item": {
            "id": item.id,
            "type": "message",
            "role": item.role,
            "content": [{"type": _RESTORED_PART[item.role], "text": text}],
        },
    }
