"""A replayed transcript's call lines: each function call's ``tool>`` line and each MCP line
(``mcp> notes: 3 tools (…)``, ``mcp> notes.delete_note {…} -> … (80 ms)``), where and as the
live console printed them (modes/tool_calls.py, modes/mcp_calls.py: the same words, by the same
functions). Nothing is run: everything comes from the log.

A function call's line is shown at the console's ``tool_call`` meta line (written as the call
ended, just before its line was printed live), from:

* the server's ``response.function_call_arguments.done`` / finished ``function_call`` item (the
  ``response.done`` output too): the name and arguments;
* the meta line: ``status`` and ``duration_ms``;
* the client's ``function_call_output`` (``output``; an error's text is its ``error``), which is
  sent after the meta line: the outputs are read ahead (``collect_outputs``, one cheap pass), so
  the line is shown where it was live. Without that pass the line waits for its output.

A log written before meta lines existed shows a call when its output is sent (``ok``, no time),
and a call that was never answered as ``unanswered`` when its response is done (when the log was
read ahead; else at the end).

MCP: a listing is said as live (``McpListings``); a finished ``mcp_call`` item is shown with the
meta line that follows it (its ``duration_ms``; an older log: the log time from
``response.mcp_call.in_progress`` to the item), a refused approval request at its ``declined``
meta line. The approval questions of ``confirm`` and ``ask`` are not shown: the log does not say
whether one was asked (``auto`` approves without asking).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from realtime_console.eventlog import LogRecord, finite_number
from realtime_console.modes.mcp_calls import (
    ApprovalRequest,
    McpListings,
    McpView,
    call_line,
    declined_line,
)
from realtime_console.modes.tool_calls import call_arguments, call_outcome, shown_duration_ms
from realtime_console.tools.model import ToolCall, ToolResult
from realtime_console.tools.modules import one_line
from realtime_console.ui.view import ToolCallsView

CALL_NEEDLES = ('"function_call_output"', '"tool_call"')  # for ``eventlog.scan_log``
MAX_TRACKED = 10_000  # calls remembered at once: a corrupt or hostile log must not grow them
_ERROR_CHARS = 200  # the runner's cut of an error for the screen (tools/runner.py)


@dataclass
class LoggedCalls:
    """What the whole log says of its function calls, read ahead: the output sent for each
    call (the first), and the calls that have a ``tool_call`` meta line."""

    outputs: dict[str, str] = field(default_factory=dict)
    noted: set[str] = field(default_factory=set)


def collect_calls(records: Iterable[LogRecord]) -> LoggedCalls:
    """From the records ``scan_log(path, CALL_NEEDLES)`` yields (bounded, as ever)."""
    calls = LoggedCalls()
    for record in records:
        event = record.event
        item = event.get("item")
        kind = (record.dir, event.get("type"))
        if (
            kind == ("client", "conversation.item.create")
            and isinstance(item, Mapping)
            and item.get("type") == "function_call_output"
            and isinstance(item.get("call_id"), str)
            and len(calls.outputs) < MAX_TRACKED
        ):
            calls.outputs.setdefault(item["call_id"], str(item.get("output") or ""))
        elif (
            kind == ("meta", "tool_call")
            and isinstance(event.get("call_id"), str)
            and len(calls.noted) < MAX_TRACKED
        ):
            calls.noted.add(event["call_id"])
    return calls


@dataclass
class _Call:
    call: ToolCall
    response_done: bool = False
    shown: bool = False
    noted: Mapping[str, Any] | None = None  # its meta line, waiting for the output


@dataclass
class _McpCallDone:
    item: Mapping[str, Any]
    started_t: float | None
    done_t: float | None

    def noted_by(self, event: Mapping[str, Any]) -> bool:
        """``event`` (a ``tool_call`` meta line) is this call's: the approval request's id
        when it was approved, else the item's."""
        call_id = self.item.get("approval_request_id") or self.item.get("id")
        return bool(event.get("server_label")) and event.get("call_id") == call_id


class CallLines:
    """Fed every record of the window in order (``feed``), after the dispatcher had it;
    ``finish()`` at the end. ``logged``: from ``collect_calls`` (None: not read ahead)."""

    def __init__(self, view: object, logged: LoggedCalls | None = None) -> None:
        self._tool_view = view if isinstance(view, ToolCallsView) else None
        self._mcp_view = view if isinstance(view, McpView) else None
        self._logged = logged
        self._outputs = logged.outputs if logged is not None else None
        self._calls: dict[str, _Call] = {}
        self._cause: str | None = None  # why calls noted as cancelled now were cancelled
        self._listings = McpListings(self._mcp_line)
        self._mcp_started: dict[str, float | None] = {}  # mcp_call item id → log t
        self._mcp_done: _McpCallDone | None = None  # waiting for its meta line
        self._approvals: dict[str, ApprovalRequest] = {}
        self._server = {
            "response.function_call_arguments.done": self._arguments_done,
            "response.output_item.added": self._item_added,
            "response.output_item.done": self._item_done,
            "response.done": self._response_done,
            "input_audio_buffer.speech_started": self._speech_started,
            "conversation.item.added": self._conversation_item,
            "conversation.item.done": self._conversation_item_done,
            "mcp_list_tools.completed": self._listing_completed,
            "mcp_list_tools.failed": self._listing_failed,
            "response.mcp_call.in_progress": self._mcp_in_progress,
        }

    def feed(self, record: LogRecord) -> None:
        event = record.event
        kind = str(event.get("type", ""))
        if self._mcp_done is not None:
            own = (record.dir, kind) == ("meta", "tool_call") and self._mcp_done.noted_by(event)
            self._mcp_call_noted(event if own else None)
            if own:
                return  # the line's own meta line, used
        if record.dir == "server":
            # Set again by what cancels calls (the meta lines come right after it; a client
            # event the same moment sent, a barge-in's truncate, may come between).
            self._cause = None
        if record.dir == "server":
            handler = self._server.get(kind)
            if handler is not None:
                handler(event, record.t)
        elif record.dir == "client":
            item = event.get("item")
            if kind == "conversation.item.create" and isinstance(item, Mapping):
                if item.get("type") == "function_call_output":
                    self._output_sent(item)
        elif record.dir == "meta":
            self._meta(kind, event)

    def finish(self) -> None:
        """The log ended: a finished MCP call still waiting for its meta line is shown, and so
        is every call never answered (when the log was not read ahead)."""
        if self._mcp_done is not None:
            self._mcp_call_noted(None)
        for entry in self._calls.values():
            if not entry.shown:
                self._show_unanswered_or_noted(entry)

    # ------------------------------------------------------------------ function calls

    def _requested(self, fields: Mapping[str, Any]) -> _Call | None:
        call = ToolCall.from_item(fields)
        if not call.call_id:
            return None
        entry = self._calls.get(call.call_id)
        if entry is None:
            if len(self._calls) >= MAX_TRACKED:
                del self._calls[next(iter(self._calls))]
            entry = self._calls[call.call_id] = _Call(call)
        return entry

    def _arguments_done(self, event: Mapping[str, Any], t: float | None) -> None:
        self._requested(event)

    def _item_done(self, event: Mapping[str, Any], t: float | None) -> None:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return
        if item.get("type") == "function_call":
            self._requested(item)
        elif item.get("type") == "mcp_call":
            item_id = str(item.get("id") or "")
            self._mcp_done = _McpCallDone(item, self._mcp_started.pop(item_id, None), t)
        elif item.get("type") == "mcp_approval_request":
            request = ApprovalRequest.from_item(item)
            if request.id:
                if len(self._approvals) >= MAX_TRACKED:
                    del self._approvals[next(iter(self._approvals))]
                self._approvals[request.id] = request

    def _response_done(self, event: Mapping[str, Any], t: float | None) -> None:
        body = event.get("response")
        body = body if isinstance(body, Mapping) else {}
        status = body.get("status")
        if status != "completed":
            self._cause = f"its response was {status or 'not completed'}"
        output = body.get("output")
        for item in output if isinstance(output, list) else ():
            if not isinstance(item, Mapping) or item.get("type") != "function_call":
                continue
            entry = self._requested(item)
            if entry is None or entry.response_done:
                continue
            entry.response_done = True
            if self._logged is not None and not entry.shown:
                self._show_if_never_answered(entry, self._logged)

    def _speech_started(self, event: Mapping[str, Any], t: float | None) -> None:
        self._cause = "the user spoke"

    def _meta(self, kind: str, event: Mapping[str, Any]) -> None:
        if kind in ("connection_lost", "reconnect"):
            self._cause = "the connection dropped"
            return
        if kind != "tool_call":
            return
        if event.get("server_label"):
            self._mcp_noted_alone(event)
            return
        call_id = event.get("call_id")
        entry = self._calls.get(call_id) if isinstance(call_id, str) else None
        if entry is None:
            if not isinstance(call_id, str) or not call_id:
                return
            entry = self._requested({"call_id": call_id, "name": str(event.get("name") or "?")})
            if entry is None:
                return
        if entry.shown:
            return
        status = str(event.get("status") or "")
        output = self._outputs.get(entry.call.call_id) if self._outputs is not None else None
        if status in ("ok", "error") and output is None and self._outputs is None:
            entry.noted = event  # its output, sent next, holds what the line says
            return
        self._show_noted(entry, event, output)

    def _output_sent(self, item: Mapping[str, Any]) -> None:
        call_id = item.get("call_id")
        entry = self._calls.get(call_id) if isinstance(call_id, str) else None
        if entry is None or entry.shown:
            return
        output = str(item.get("output") or "")
        if entry.noted is not None:
            self._show_noted(entry, entry.noted, output)
        else:  # a log without meta lines: an output sent is a call that went well
            self._show(entry, ToolResult(entry.call.call_id, entry.call.name, output, False, 0.0))

    def _show_noted(self, entry: _Call, event: Mapping[str, Any], output: str | None) -> None:
        status = str(event.get("status") or "ok")[:20]
        duration_ms = finite_number(event.get("duration_ms"))
        if status == "cancelled":
            why = self._cause or "cancelled"
            outcome = f"cancelled ({why})" if why != "cancelled" else why
            self._line(entry, outcome, None)
            return
        result = ToolResult(
            call_id=entry.call.call_id,
            name=entry.call.name,
            output=output if output is not None else "",
            is_error=status != "ok",
            duration_s=(duration_ms or 0.0) / 1000.0,
            error=_error_text(output) if status != "ok" else "",
            status=status,
        )
        took = shown_duration_ms(result) if duration_ms is not None else None
        self._line(entry, call_outcome(result), took)

    def _show(self, entry: _Call, result: ToolResult) -> None:
        self._line(entry, call_outcome(result), None)

    def _show_if_never_answered(self, entry: _Call, logged: LoggedCalls) -> None:
        call_id = entry.call.call_id
        if call_id not in logged.outputs and call_id not in logged.noted:
            self._line(entry, "unanswered", None)

    def _show_unanswered_or_noted(self, entry: _Call) -> None:
        if entry.noted is not None:
            self._show_noted(entry, entry.noted, None)
        elif entry.response_done or self._outputs is None:
            self._line(entry, "unanswered", None)

    def _line(self, entry: _Call, outcome: str, duration_ms: float | None) -> None:
        entry.shown = True
        entry.noted = None
        if self._tool_view is not None:
            self._tool_view.tool_call(
                entry.call.name, call_arguments(entry.call), outcome, duration_ms
            )

    # ------------------------------------------------------------------ MCP

    def _conversation_item(self, event: Mapping[str, Any], t: float | None) -> None:
        self._listings.item_added(event.get("item"))

    def _conversation_item_done(self, event: Mapping[str, Any], t: float | None) -> None:
        self._listings.item_done(event.get("item"))

    def _listing_completed(self, event: Mapping[str, Any], t: float | None) -> None:
        self._listings.outcome(event.get("item_id"), "completed")

    def _listing_failed(self, event: Mapping[str, Any], t: float | None) -> None:
        self._listings.outcome(event.get("item_id"), "failed")

    def _item_added(self, event: Mapping[str, Any], t: float | None) -> None:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("type") == "mcp_call":
            self._mcp_start(item.get("id"), t)

    def _mcp_in_progress(self, event: Mapping[str, Any], t: float | None) -> None:
        self._mcp_start(event.get("item_id"), t)

    def _mcp_start(self, item_id: object, t: float | None) -> None:
        if isinstance(item_id, str) and item_id and item_id not in self._mcp_started:
            if len(self._mcp_started) >= MAX_TRACKED:
                del self._mcp_started[next(iter(self._mcp_started))]
            self._mcp_started[item_id] = t

    def _mcp_call_noted(self, note: Mapping[str, Any] | None) -> None:
        """The finished ``mcp_call`` item's line, with the time of its meta line (``note``)
        when that is the record after it, else the log's time between start and end."""
        done, self._mcp_done = self._mcp_done, None
        if done is None:
            return
        if note is not None:
            duration_ms = finite_number(note.get("duration_ms"))
        elif done.started_t is not None and done.done_t is not None:
            duration_ms = max(0.0, (done.done_t - done.started_t) * 1000.0)
        else:
            duration_ms = None
        self._mcp_line(call_line(done.item, duration_ms))

    def _mcp_noted_alone(self, event: Mapping[str, Any]) -> None:
        """An MCP meta line not right after a call's item: a refusal says ``declined``."""
        if event.get("status") != "declined":
            return
        request = self._approvals.get(str(event.get("call_id") or ""))
        if request is None:
            request = ApprovalRequest(
                id=str(event.get("call_id") or ""),
                server_label=str(event.get("server_label") or "?"),
                name=str(event.get("name") or "?"),
                arguments="",
            )
        self._mcp_line(declined_line(request))

    def _mcp_line(self, text: str) -> None:
        if self._mcp_view is not None:
            self._mcp_view.mcp_status(text)


def _error_text(output: str | None) -> str:
    """The screen's text of a failed call: the ``error`` of the output the model received
    (tools.model.error_output), cut as the runner cuts it; the output itself when not that."""
    if not output:
        return ""
    try:
        payload = json.loads(output)
    except (ValueError, RecursionError):
        payload = None
    message = payload.get("error") if isinstance(payload, dict) else None
    return one_line(str(message) if isinstance(message, str) else output, _ERROR_CHARS)
