"""Function calls in a recorded session: which tool, when the model asked, when it was answered.

Three kinds of record describe one call, and a log may hold any of them (an older log, a log
cut short, a hand-written one):

* the server's ``response.function_call_arguments.done`` or ``response.output_item.done`` with a
  ``function_call`` item: the model's request, with its ``call_id``, name and arguments;
* the client's ``conversation.item.create`` of a ``function_call_output``: the answer sent back;
* the console's ``tool_call`` meta line: how the handler ran (status, ``duration_ms``).

A remote MCP server's tool (the service calls it) is one call too: its ``mcp_approval_request``
and the ``mcp_call`` made once approved share the request's id (``mcp_call_fields``); the
console's ``tool_call`` meta line, with ``server_label``, says how it went.

``latency_ms`` is what the conversation waited: from the request to the answer being sent. It
includes the handler's own ``duration_ms`` plus whatever the console added (an ``ask`` prompt,
the end of the response that carried the call). A call whose answer never went out keeps
``latency_ms`` unknown and ``status`` "unanswered" unless the meta line says otherwise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from realtime_console.eventlog import finite_number
from realtime_console.replay.stats import ms_between

# Server-chosen strings key these maps: a corrupt or hostile log must not grow them forever.
MAX_TRACKED_CALLS = 10_000


@dataclass
class ToolCall:
    call_id: str
    name: str
    response_id: str | None = None
    arguments: str | None = None
    status: str = "unanswered"  # ok | error | timeout | declined | cancelled | unanswered
    latency_ms: float | None = None
    duration_ms: float | None = None  # the handler's own run, from the console's meta line
    requested_t: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "call_id": self.call_id,
            "name": self.name,
            "status": self.status,
            "latency_ms": self.latency_ms,
            "duration_ms": self.duration_ms,
        }


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


class ToolCallTracker:
    """Fed the records that describe calls; ``by_call`` holds each call once, in request order."""

    def __init__(self) -> None:
        self.by_call: dict[str, ToolCall] = {}

    def requested(
        self, fields: Mapping[str, Any], response_id: str | None, t: float | None
    ) -> ToolCall | None:
        """The model asked for a call (the ``.done`` event or the finished item: the first seen
        counts, the second only fills what the first lacked)."""
        call_id = _text(fields.get("call_id"))
        if not call_id:
            return None
        call = self.by_call.get(call_id)
        if call is None:
            if len(self.by_call) >= MAX_TRACKED_CALLS:
                return None
            call = ToolCall(call_id, _text(fields.get("name")) or "?", requested_t=t)
            self.by_call[call_id] = call
        call.response_id = call.response_id or response_id
        call.arguments = (
            call.arguments if call.arguments is not None else _text(fields.get("arguments"))
        )
        if call.requested_t is None:
            call.requested_t = t
        return call

    def answered(self, item: Mapping[str, Any], t: float | None) -> ToolCall | None:
        """The console sent a ``function_call_output`` for ``item['call_id']``."""
        call = self.by_call.get(_text(item.get("call_id")) or "")
        if call is None:
            return None
        if call.latency_ms is None:
            call.latency_ms = ms_between(t, call.requested_t)
        if call.status == "unanswered":
            call.status = "ok"  # the meta line, when there is one, says how it really went
        return call

    def ran(self, event: Mapping[str, Any]) -> ToolCall | None:
        """The console's ``tool_call`` meta line: the handler's status and duration."""
        call = self.by_call.get(_text(event.get("call_id")) or "")
        if call is None:
            return None
        status = _text(event.get("status"))
        if status:
            call.status = status[:20]
        call.duration_ms = finite_number(event.get("duration_ms"))
        return call


def mcp_call_fields(item: Mapping[str, Any]) -> dict[str, Any] | None:
    """An ``mcp_approval_request`` or ``mcp_call`` item as the fields of ``requested``: the
    call's id is the approval request's (the call made once approved is the same call), its
    name ``label.tool``. None for any other item."""
    kind = item.get("type")
    if kind not in ("mcp_call", "mcp_approval_request"):
        return None
    call_id = _text(item.get("approval_request_id")) if kind == "mcp_call" else None
    return {
        "call_id": call_id or _text(item.get("id")),
        "name": f"{_text(item.get('server_label')) or '?'}.{_text(item.get('name')) or '?'}",
        "arguments": _text(item.get("arguments")),
    }
