"""A ``function_call`` output item of a response: its events, as the service sends them.

After the response's assistant message (the "filler" a voice client plays while the tool runs),
each call the "model" makes is one output item::

    response.output_item.added             (a function_call item, in_progress, arguments "")
    conversation.item.added                (when the response writes to the conversation)
    response.function_call_arguments.delta (the arguments JSON in a few pieces)
    response.function_call_arguments.done  (arguments, name, call_id)
    response.output_item.done              (status completed, the full arguments)
    conversation.item.done

A call cut by a cancel closes with what was streamed, status ``incomplete``; a call that had
not started yet is not part of the response at all.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal

ItemStatus = Literal["in_progress", "completed", "incomplete"]
ARGUMENT_PIECES = 3  # the service streams arguments in small pieces; three is "a few"


@dataclass
class CallOutput:
    item_id: str
    call_id: str
    name: str
    arguments: str  # the whole JSON text
    output_index: int
    sent: str = ""  # the arguments streamed so far
    status: ItemStatus = "in_progress"
    started: bool = False  # output_item.added went out

    @property
    def closed(self) -> bool:
        return self.status != "in_progress"

    def item(self) -> dict[str, Any]:
        return {
            "id": self.item_id,
            "object": "realtime.item",
            "type": "function_call",
            "status": self.status,
            "name": self.name,
            "call_id": self.call_id,
            "arguments": self.sent,
        }

    def pieces(self) -> list[str]:
        """The arguments cut into at most ``ARGUMENT_PIECES`` pieces that rebuild them."""
        size = max(1, math.ceil(len(self.arguments) / ARGUMENT_PIECES))
        return [self.arguments[i : i + size] for i in range(0, len(self.arguments), size)]

    def _where(self, response_id: str) -> dict[str, Any]:
        return {
            "response_id": response_id,
            "item_id": self.item_id,
            "output_index": self.output_index,
            "call_id": self.call_id,
        }

    def opening_events(
        self, response_id: str, previous_item_id: str | None, in_conversation: bool
    ) -> list[dict[str, Any]]:
        self.started = True
        item = self.item()
        events: list[dict[str, Any]] = [
            {
                "type": "response.output_item.added",
                "response_id": response_id,
                "output_index": self.output_index,
                "item": item,
            }
        ]
        if in_conversation:
            events.append(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous_item_id,
                    "item": item,
                }
            )
        return events

    def delta_event(self, response_id: str, piece: str) -> dict[str, Any]:
        self.sent += piece
        return {
            "type": "response.function_call_arguments.delta",
            **self._where(response_id),
            "delta": piece,
        }

    def closing_events(
        self, response_id: str, completed: bool, in_conversation: bool
    ) -> list[dict[str, Any]]:
        self.status = "completed" if completed else "incomplete"
        item = self.item()
        events: list[dict[str, Any]] = [
            {
                "type": "response.function_call_arguments.done",
                **self._where(response_id),
                "name": self.name,
                "arguments": self.sent,
            },
            {
                "type": "response.output_item.done",
                "response_id": response_id,
                "output_index": self.output_index,
                "item": item,
            },
        ]
        if in_conversation:
            # previous_item_id is filled in from the conversation by the core as it goes out
            events.append(
                {"type": "conversation.item.done", "previous_item_id": None, "item": item}
            )
        return events
