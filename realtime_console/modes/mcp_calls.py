"""Remote MCP servers in a live session (``chat`` and ``talk``): their tool listings, the
model's calls, and approvals.

The service itself talks to the MCP servers (``tools.mcp``, ``--mcp``); the console shows what
happens and answers approval requests:

- each server's listing (``mcp_list_tools.completed`` / ``.failed`` and the
  ``mcp_list_tools`` item's tools) is one line: ``mcp> notes: 3 tools (add_note, …)`` or
  ``mcp> notes: listing failed; its tools cannot be called``. The session goes on either way;
- each call (an ``mcp_call`` item, done) is one line like a function call's:
  ``mcp> notes.get_forecast {"city": "Oslo"} -> Sunny in Oslo (12 ms)``, or ``failed: …``;
- an ``mcp_approval_request`` in a completed response is put to the user once that response
  is done (``--tool-mode auto`` approves it; ``confirm`` and ``ask`` ask the user, a
  ``Question``: ``mcp call notes.delete_note({"title": "x"}) approve? [y/N] ``). The
  answers go back as one ``conversation.item.create`` of an ``mcp_approval_response`` each,
  then exactly one ``response.create``, never while a response is active: ``chat`` sends it
  itself after ``settle`` (its turn waits for that reply), ``talk`` passes ``follow_up``.

Each call and each refusal is one ``tool_call`` meta line in the event log, as function calls
are, with ``server_label`` added: ``call_id`` is the approval request's id when the call was
approved (so a request and its call are one call), else the ``mcp_call`` item's id.

After a reconnect nothing MCP is re-created: the restored session lists the tools again (its
``session.update`` carries them), a call's result lives on in the reply that quoted it (restored
as text), and an approval request not yet answered is dropped (``forget``): the new session
has no such request, and answering it would be refused.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from realtime_console.config.mcp_servers import parse_servers, session_tools
from realtime_console.dispatcher import Event, Handler
from realtime_console.modes.active_responses import ActiveResponses
from realtime_console.modes.reply_watch import response_id_of
from realtime_console.modes.tool_calls import FollowUp, Send, Spawn
from realtime_console.protocol.client_events import new_event_id
from realtime_console.protocol.history import new_item_id
from realtime_console.ui.view import Question, Questions

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.eventlog import EventLogWriter
    from realtime_console.redact import Redactor

log = logging.getLogger(__name__)


MAX_TRACKED = 256  # items and responses remembered at once: the server chooses their ids
_SHOWN_ARGUMENTS = 120  # characters of a call's arguments on its one line
_SHOWN_OUTPUT = 200
_SHOWN_TOOLS = 8  # tool names on a listing's line
APPROVAL_TITLE = "mcp call"  # the prompt: mcp call notes.delete_note({…}) approve? [y/N]


@runtime_checkable
class McpView(Protocol):
    """A view that shows MCP lines (``mcp> …``); any other view gets them as notices."""

    def mcp_status(self, text: str) -> None: ...


@dataclass(frozen=True)
class ApprovalRequest:
    """An ``mcp_approval_request`` item: the model wants to call ``name`` on ``server_label``."""

    id: str
    server_label: str
    name: str
    arguments: str

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ApprovalRequest:
        return cls(
            id=str(item.get("id") or ""),
            server_label=str(item.get("server_label") or "?"),
            name=str(item.get("name") or "?"),
            arguments=str(item.get("arguments") or ""),
        )

    @property
    def shown_arguments(self) -> str:
        return _shown_arguments(self.arguments)


class Approver(Protocol):
    async def approve(self, request: ApprovalRequest) -> bool: ...


class AutoApprove:
    """``--tool-mode auto``: every request is approved (the profile chose the servers)."""

    async def approve(self, request: ApprovalRequest) -> bool:
        return True


class QuestionApprovals:
    """Approvals put to the user as a :class:`Question` (``ui/view.py``): the plain views'
    ``ToolPrompts`` ask ``mcp call notes.delete_note({"title": "x"}) approve? [y/N] `` on
    a line of stdin (piped: the next line answers), the full-screen UI in a dialog. Only yes
    approves; end of input or Esc refuses."""

    def __init__(self, questions: Questions) -> None:
        self.questions = questions

    async def approve(self, request: ApprovalRequest) -> bool:
        question = Question(
            APPROVAL_TITLE,
            f"{request.server_label}.{request.name}",
            request.shown_arguments,
            ask="approve?",
        )
        return await self.questions.ask_yes_no(question)


def session_mcp(
    settings: Settings, env: Mapping[str, str], redactor: Redactor, view: object
) -> McpCalls | None:
    """The session's MCP servers (``tools.mcp``), or None when there are none. The header
    variables are read now, before anything connects (unset: a ``ConfigError``), and their
    values go to ``redactor``."""
    if not settings.tools.mcp:
        return None
    try:
        servers = parse_servers(settings.tools.mcp)
    except ValueError as exc:  # checked when the settings loaded; kept for hand-made Settings
        from realtime_console.errors import ConfigError

        raise ConfigError(f"tools.mcp {exc}") from None
    approvals: Approver | None = AutoApprove() if settings.tools.mode == "auto" else None
    return McpCalls(session_tools(servers, env, redactor), view=view, approvals=approvals)


@dataclass
class _Listing:
    label: str
    tools: list[str] | None = None  # from the item, once it is done
    outcome: str | None = None  # "completed" | "failed", once known
    shown: bool = False


@dataclass
class _Response:
    requests: list[ApprovalRequest] = field(default_factory=list)
    done: bool = False
    completed: bool = False
    answered: bool = False


class McpCalls:
    """The MCP side of one session. ``attach`` it to the session (``open_session`` does);
    ``chat`` calls ``settle`` after each reply, ``talk`` sets ``follow_up`` and ``spawn``."""

    def __init__(
        self,
        entries: list[dict[str, Any]],
        *,
        view: object,
        approvals: Approver | None = None,
    ) -> None:
        self.entries = entries  # the session.tools entries, headers filled in
        self.labels = [str(entry["server_label"]) for entry in entries]
        self.approvals = approvals  # None: nobody can answer, requests are refused
        self._view = view
        self.send: Send | None = None
        self.event_log: EventLogWriter | None = None
        self.follow_up: FollowUp | None = None  # talk: ask for the next reply itself
        self.spawn: Spawn | None = None  # talk: where follow-up tasks run
        self._listings = McpListings(self._line)
        self._started: dict[str, float] = {}  # mcp_call item id -> monotonic start
        self._responses: dict[str, _Response] = {}
        self._active = ActiveResponses()  # a follow-up waits until none is in flight
        self.calls: list[tuple[str, str]] = []  # (name, status) of the last few, for tests
        self._asking: set[asyncio.Task[None]] = set()  # talk: approvals being asked, answered

    def attach(self, send: Send, event_log: EventLogWriter | None) -> None:
        self.send = send
        self.event_log = event_log

    def table(self) -> dict[str, Handler]:
        return {
            "conversation.item.added": self._item_added,
            "conversation.item.done": self._item_done,
            "mcp_list_tools.completed": self._listing_completed,
            "mcp_list_tools.failed": self._listing_failed,
            "response.created": self._response_created,
            "response.output_item.added": self._output_item_added,
            "response.mcp_call.in_progress": self._call_in_progress,
            "response.output_item.done": self._output_item_done,
            "response.done": self._response_done,
            "input_audio_buffer.speech_started": self._speech_started,
        }

    def _speech_started(self, event: Event) -> None:
        """``talk``: the user spoke over an approval question: the conversation moved on, so
        the question is withdrawn and nothing is sent (the request stays unanswered, which the
        service allows; the model hears the new turn instead)."""
        self.cancel_all()

    # ------------------------------------------------------------------ listings

    def _item_added(self, event: Event) -> None:
        self._listings.item_added(event.get("item"))

    def _item_done(self, event: Event) -> None:
        self._listings.item_done(event.get("item"))

    def _listing_completed(self, event: Event) -> None:
        self._listings.outcome(event.get("item_id"), "completed")

    def _listing_failed(self, event: Event) -> None:
        self._listings.outcome(event.get("item_id"), "failed")

    # ------------------------------------------------------------------ calls

    def _response_created(self, event: Event) -> None:
        self._active.created(event)

    def _output_item_added(self, event: Event) -> None:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("type") == "mcp_call":
            self._start(str(item.get("id") or ""))

    def _call_in_progress(self, event: Event) -> None:
        self._start(str(event.get("item_id") or ""))

    def _start(self, item_id: str) -> None:
        if item_id and item_id not in self._started:
            _bounded(self._started)
            self._started[item_id] = time.monotonic()

    def _output_item_done(self, event: Event) -> None:
        item = event.get("item")
        if not isinstance(item, Mapping):
            return
        if item.get("type") == "mcp_call":
            self._call_done(item)
        elif item.get("type") == "mcp_approval_request":
            self._requested(response_id_of(event), item)

    def _call_done(self, item: Mapping[str, Any]) -> None:
        item_id = str(item.get("id") or "")
        started = self._started.pop(item_id, None)
        duration_ms = None if started is None else (time.monotonic() - started) * 1000.0
        self._line(call_line(item, duration_ms))
        label, name = str(item.get("server_label") or "?"), str(item.get("name") or "?")
        call_id = str(item.get("approval_request_id") or item_id)
        self._note(call_id, label, name, call_status(item), duration_ms)

    def _requested(self, response_id: str | None, item: Mapping[str, Any]) -> None:
        request = ApprovalRequest.from_item(item)
        if not response_id or not request.id:
            return
        response = self._response(response_id)
        if response.done or any(r.id == request.id for r in response.requests):
            return
        response.requests.append(request)

    def _response(self, response_id: str) -> _Response:
        response = self._responses.get(response_id)
        if response is None:
            _bounded(self._responses)
            response = self._responses[response_id] = _Response()
        return response

    def _response_done(self, event: Event) -> None:
        response_id = response_id_of(event)
        if response_id is None:
            return
        self._active.done(response_id)
        body = event.get("response")
        body = body if isinstance(body, Mapping) else {}
        output = body.get("output")
        for item in output if isinstance(output, list) else ():
            if isinstance(item, Mapping) and item.get("type") == "mcp_approval_request":
                self._requested(response_id, item)
        response = self._responses.get(response_id)
        if response is None or response.done:
            return
        response.done = True
        response.completed = body.get("status") == "completed"
        if response.requests and self.follow_up is not None and self.spawn is not None:
            task = self.spawn(self._answer_and_follow(response))
            self._asking.add(task)
            task.add_done_callback(self._asking.discard)

    # ------------------------------------------------------------------ approvals

    async def settle(self, response_id: str | None) -> bool:
        """Answer the approval requests of ``response_id`` (done): True when answers were
        sent and a ``response.create`` is due, False when it asked for none."""
        response = self._responses.get(response_id or "")
        if response is None or not response.done or response.answered or not response.requests:
            return False
        response.answered = True
        if not response.completed:
            return False  # cut off: the turn it belonged to is over
        return await self._answer(response.requests)

    async def _answer(self, requests: list[ApprovalRequest]) -> bool:
        sent = False
        for request in requests:
            approve = False
            if self.approvals is not None:
                approve = await self.approvals.approve(request)
            if not approve:
                self._line(declined_line(request))
                self._note(request.id, request.server_label, request.name, "declined", None)
            item = {
                "type": "mcp_approval_response",
                "id": new_item_id(),
                "approval_request_id": request.id,
                "approve": approve,
            }
            event = {"type": "conversation.item.create", "event_id": new_event_id(), "item": item}
            if self.send is not None and bool(await self.send(event)):
                sent = True
        return sent

    async def _answer_and_follow(self, response: _Response) -> None:
        """``talk``: answer, then ask for the reply once no response is active."""
        response.answered = True
        if not response.completed or not await self._answer(response.requests):
            return
        await self._active.wait_idle()
        assert self.follow_up is not None
        await self.follow_up()

    def cancel_all(self) -> None:
        """Withdraw every approval question still open (``talk`` ends); nothing is sent."""
        for task in list(self._asking):
            task.cancel()

    def forget(self) -> None:
        """The connection dropped: nothing on it will be answered or finish."""
        self.cancel_all()
        self._active.forget()
        self._started.clear()
        for response in self._responses.values():
            response.answered = True

    # ------------------------------------------------------------------ showing

    def _line(self, text: str) -> None:
        if isinstance(self._view, McpView):
            self._view.mcp_status(text)
        else:
            notice = getattr(self._view, "notice", None)
            if callable(notice):
                notice(f"mcp> {text}")

    def _note(
        self, call_id: str, label: str, name: str, status: str, duration_ms: float | None
    ) -> None:
        self.calls.append((name, status))
        del self.calls[:-32]
        if self.event_log is not None:
            self.event_log.note(
                "tool_call",
                call_id=call_id,
                name=name,
                server_label=label,
                status=status,
                duration_ms=round(duration_ms, 1) if duration_ms is not None else None,
            )


# ---------------------------------------------------------------------- the words of the lines
# Shared with ``replay`` (replay/call_lines.py), which shows a recorded session's MCP lines as
# the live console did.


class McpListings:
    """Each server's listing, said once as one line: a failure at once, a success once both
    ``mcp_list_tools.completed`` and the ``mcp_list_tools`` item (with its tools) are done,
    whichever comes first."""

    def __init__(self, show: Callable[[str], None]) -> None:
        self._show = show
        self._listings: dict[str, _Listing] = {}  # by mcp_list_tools item id

    def item_added(self, item: object) -> None:
        """A ``conversation.item.added`` (or ``.done``) item: names the listing's server."""
        if isinstance(item, Mapping) and item.get("type") == "mcp_list_tools":
            item_id = str(item.get("id") or "")
            if item_id and item_id not in self._listings:
                _bounded(self._listings)
                self._listings[item_id] = _Listing(str(item.get("server_label") or "?"))

    def item_done(self, item: object) -> None:
        if not isinstance(item, Mapping) or item.get("type") != "mcp_list_tools":
            return
        self.item_added(item)
        listing = self._listings.get(str(item.get("id") or ""))
        if listing is None:
            return
        tools = item.get("tools")
        listing.tools = (
            [str(tool.get("name")) for tool in tools if isinstance(tool, Mapping)]
            if isinstance(tools, list)
            else []
        )
        self._show_listing(listing)

    def outcome(self, item_id: object, outcome: str) -> None:
        """``mcp_list_tools.completed`` or ``.failed`` of ``item_id``."""
        key = str(item_id or "")
        listing = self._listings.get(key)
        if listing is None:
            _bounded(self._listings)
            listing = self._listings[key] = _Listing("?")
        listing.outcome = outcome
        self._show_listing(listing)

    def _show_listing(self, listing: _Listing) -> None:
        if listing.shown or listing.outcome is None:
            return
        if listing.outcome == "failed":
            listing.shown = True
            self._show(f"{listing.label}: listing failed; its tools cannot be called")
            return
        if listing.tools is None:
            return
        listing.shown = True
        count = len(listing.tools)
        names = ", ".join(listing.tools[:_SHOWN_TOOLS])
        more = ", …" if count > _SHOWN_TOOLS else ""
        plural = "tool" if count == 1 else "tools"
        self._show(f"{listing.label}: {count} {plural}" + (f" ({names}{more})" if count else ""))


def call_status(item: Mapping[str, Any]) -> str:
    """``ok`` or ``error``: how a finished ``mcp_call`` item went."""
    return "error" if item.get("error") else "ok"


def call_line(item: Mapping[str, Any], duration_ms: float | None) -> str:
    """A finished ``mcp_call`` item's line (after ``mcp> ``): ``notes.get_forecast {"city":
    "Oslo"} -> Sunny in Oslo (12 ms)``, or ``… failed: …``."""
    error = item.get("error")
    if error:
        message = error.get("message") if isinstance(error, Mapping) else error
        outcome = f"failed: {_cut(str(message or error), _SHOWN_OUTPUT)}"
    else:
        outcome = f"-> {_cut(' '.join(str(item.get('output') or '').split()), _SHOWN_OUTPUT)}"
    took = f" ({duration_ms:.0f} ms)" if duration_ms is not None else ""
    label, name = str(item.get("server_label") or "?"), str(item.get("name") or "?")
    arguments = _shown_arguments(str(item.get("arguments") or ""))
    return f"{label}.{name} {arguments} {outcome}{took}"


def declined_line(request: ApprovalRequest) -> str:
    """A refused approval request's line: ``notes.delete_note {"title": "x"} declined``."""
    return f"{request.server_label}.{request.name} {request.shown_arguments} declined"


def _bounded(table: dict[str, Any]) -> None:
    """Drop the oldest entries of a table keyed by server-chosen ids before adding one."""
    while len(table) >= MAX_TRACKED:
        del table[next(iter(table))]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _shown_arguments(arguments: str) -> str:
    """JSON re-spaced the one way (``{"city": "Oslo"}``), bounded; the text when not JSON."""
    try:
        text = json.dumps(json.loads(arguments), ensure_ascii=False)
    except (ValueError, RecursionError):
        text = " ".join(arguments.split())
    return _cut(text, _SHOWN_ARGUMENTS) or "{}"
