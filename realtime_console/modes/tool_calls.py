"""Function calls in a live session (``chat`` and ``talk``): run them, answer them, show them.

The model asks for a call with a ``function_call`` item in a response. ``ToolCalls`` sees every
way the service reports one (``response.function_call_arguments.done``, the finished item in
``response.output_item.done``, the ``output`` of ``response.done``: the first one seen counts),
runs each call with the ``ToolRunner`` as a task of the mode's TaskGroup (a thread, a
subprocess or a coroutine: the event loop and the audio never wait for a tool), and answers:

1. when every call of a response has its result *and* that response is done, one
   ``conversation.item.create`` with a ``function_call_output`` per call, in the calls' order;
2. then exactly one ``response.create`` so the model speaks with the results, and never while
   another response is active (the service refuses that with
   ``conversation_already_has_active_response``). ``chat`` sends it itself (its turn waits for
   that reply); ``talk`` passes ``follow_up``, called once no response is active.

In ``auto`` mode a call starts as soon as its arguments are complete, so it runs while the
response's filler message ("Let me look that up") is still being spoken. In ``ask`` and
``confirm`` modes it starts once its response is done, so the prompt never cuts into a reply
being printed. The calls of a response that did not complete (cancelled, incomplete, failed)
are not run: their arguments may be cut off, and the turn they belonged to is over.

``cancel_all()`` (talk: the user started speaking) cancels every call still running and every
answer not yet sent; nothing is sent for them. The service allows a ``function_call`` without an
output in the conversation: the user's new turn simply goes on, and the model sees that the call
was never answered.

Every call ends with one line on the view (``ToolCallsView``) and one ``tool_call`` meta line in
the event log: ``call_id``, ``name``, ``status`` (ok, error, timeout, declined, cancelled) and
``duration_ms``.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from realtime_console.dispatcher import Event, Handler
from realtime_console.errors import ConfigError
from realtime_console.modes.active_responses import ActiveResponses
from realtime_console.modes.reply_watch import response_id_of
from realtime_console.protocol.client_events import function_call_output
from realtime_console.protocol.history import new_item_id
from realtime_console.tools.model import ToolCall, ToolResult, calls_in_response
from realtime_console.ui.view import Question, Questions, ToolCallsView

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.eventlog import EventLogWriter
    from realtime_console.redact import Redactor
    from realtime_console.tools import ToolRunner, ToolSet

log = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[object]]
Spawn = Callable[[Coroutine[Any, Any, None]], "asyncio.Task[None]"]
FollowUp = Callable[[], Awaitable[None]]

MAX_RESPONSES = 64  # responses with calls remembered at once: the server chooses their ids
_SHOWN_ARGUMENTS = 120  # characters of a call's arguments on its one line


class Prompts(Questions, Protocol):
    """How the user answers calls in ``confirm`` and ``ask`` modes: ``ui.lines.ToolPrompts``
    (plain views), :class:`ViewPrompts` over the full-screen UI. Also the general
    ``Questions`` (ui/view.py) of the session, for questions that are not a function call's
    (an MCP approval: ``ask_yes_no``)."""

    async def confirm(self, call: ToolCall) -> bool: ...

    async def ask_result(self, call: ToolCall) -> str | None:
        """The result the user typed; None: they declined (the model hears so)."""


CALL_TITLE = "tool call"


class ViewPrompts:
    """The ``Prompts`` of a view that asks ``Questions`` itself (the full-screen UI's dialog):
    a call becomes a :class:`Question`, so the view needs nothing tool-specific."""

    def __init__(self, questions: Questions) -> None:
        self.questions = questions

    async def confirm(self, call: ToolCall) -> bool:
        return await self.ask_yes_no(Question(CALL_TITLE, call.name, call.shown_arguments))

    async def ask_result(self, call: ToolCall) -> str | None:
        question = Question(CALL_TITLE, call.name, call.shown_arguments, ask="result")
        return await self.ask_text(question)

    async def ask_yes_no(self, question: Question) -> bool:
        return await self.questions.ask_yes_no(question)

    async def ask_text(self, question: Question) -> str | None:
        return await self.questions.ask_text(question)


@dataclass(frozen=True)
class LoadedTools:
    """The tools of ``tools.files``, loaded and checked, and the ``session.tools`` entries."""

    tools: ToolSet
    entries: list[dict[str, Any]]


def load_session_tools(settings: Settings) -> LoadedTools | None:
    """The session's tools, or None when ``tools.files`` is empty.

    Every mistake (a file, a tool, a ``tool_choice`` naming no loaded tool) is a ``ConfigError``
    line, raised before anything connects.
    """
    config = settings.tools
    if not config.files:
        return None
    from realtime_console.protocol.session import TOOL_CHOICE_WORDS
    from realtime_console.tools import load_tools

    tools = load_tools(config.files, base_dir=Path.cwd())
    choice = config.tool_choice
    if choice not in TOOL_CHOICE_WORDS and choice not in tools:
        known = ", ".join(tools) or "none"
        raise ConfigError(f"tools.tool_choice = {choice!r} names no loaded tool (tools: {known})")
    return LoadedTools(tools, tools.session_tools())


def follow_up_fields(tool_choice: str) -> dict[str, Any]:
    """The ``response`` overrides of the ``response.create`` after tool outputs. A session
    whose ``tool_choice`` forces a call (``required``, or a tool's name) would make the model
    call again in every reply, for ever: the reply to the outputs may choose (``auto``)."""
    return {} if tool_choice in ("auto", "none") else {"tool_choice": "auto"}


def make_runner(
    settings: Settings,
    loaded: LoadedTools,
    redactor: Redactor,
    prompts: Prompts | None = None,
) -> ToolRunner:
    from realtime_console.tools import ToolRunner, make_mode

    mode = make_mode(
        settings.tools.mode,
        ask_result=prompts.ask_result if prompts is not None else None,
        confirm=prompts.confirm if prompts is not None else None,
    )
    return ToolRunner(
        loaded.tools, mode=mode, timeout_s=settings.tools.timeout_s, redactor=redactor
    )


@dataclass
class _Call:
    call: ToolCall
    started_at: float | None = None
    task: asyncio.Task[None] | None = None
    result: ToolResult | None = None
    cancelled: bool = False

    @property
    def finished(self) -> bool:
        return self.result is not None or self.cancelled


@dataclass
class _Response:
    calls: dict[str, _Call] = field(default_factory=dict)  # by call_id, in request order
    done: bool = False
    completed: bool = False  # done with status "completed"
    answering: bool = False  # the outputs are being (or were) sent
    # True: outputs were sent (a response.create is due); False: nothing was sent
    settled: asyncio.Future[bool] | None = None


class ToolCalls:
    """The function calls of one session. Register ``table()`` on its dispatcher after the
    console's handlers (a reply's line is closed before a prompt shows); set ``spawn`` to the
    mode's ``TaskGroup.create_task`` before events flow."""

    def __init__(
        self,
        runner: ToolRunner,
        *,
        view: object,
        send: Send,
        event_log: EventLogWriter | None,
        start_early: bool,
        follow_up: FollowUp | None = None,
        cancel_on_speech: bool = False,
    ) -> None:
        self.runner = runner
        self._view = view if isinstance(view, ToolCallsView) else None
        self._send = send
        self._event_log = event_log
        self._start_early = start_early
        self._follow_up = follow_up
        self._cancel_on_speech = cancel_on_speech
        self.spawn: Spawn | None = None
        self._responses: dict[str, _Response] = {}
        self._active = ActiveResponses()  # a follow-up waits until none is in flight
        self._answers: set[asyncio.Task[None]] = set()  # sending outputs (talk: + follow-up)
        self.results: list[ToolResult] = []  # the last few, for tests and summaries
        self.cancelled = 0

    def table(self) -> dict[str, Handler]:
        table: dict[str, Handler] = {
            "response.created": self._response_created,
            "response.function_call_arguments.done": self._arguments_done,
            "response.output_item.done": self._item_done,
            "response.done": self._response_done,
        }
        if self._cancel_on_speech:
            table["input_audio_buffer.speech_started"] = self._speech_started
        return table

    # ------------------------------------------------------------------ what the mode asks

    @property
    def running(self) -> bool:
        """A call is running or its answer is not sent yet (a quiet moment it is not)."""
        return bool(self._answers) or any(
            not call.finished
            for response in self._responses.values()
            for call in response.calls.values()
        )

    async def settle(self, response_id: str | None) -> bool:
        """Wait until the calls of ``response_id`` (already done) are answered: True when
        outputs were sent and a ``response.create`` is due, False when it made no calls (or
        all were cancelled)."""
        response = self._responses.get(response_id or "")
        if response is None or not response.calls:
            return False
        return await asyncio.shield(self._settled(response))

    def cancel_all(self, why: str = "cancelled") -> int:
        """Cancel every running call and unsent answer; returns how many calls it cancelled."""
        count = 0
        for response in self._responses.values():
            for entry in response.calls.values():
                if entry.finished:
                    continue
                if entry.task is not None:
                    entry.task.cancel()
                self._cancelled(entry, why)
                count += 1
            if not response.answering:
                response.answering = True  # never answered now
                self._settle(response, False)
        for task in list(self._answers):
            task.cancel()
        return count

    def forget(self) -> None:
        """The connection dropped: no response on it will be done any more, so the calls of
        one that was not done are never answered (their results would have nowhere to go; the
        turn is asked again after the reconnect, and the model calls again if it still wants
        to)."""
        self._active.forget()
        for response_id, response in list(self._responses.items()):
            if response.done:
                continue
            for entry in response.calls.values():
                if not entry.finished:
                    if entry.task is not None:
                        entry.task.cancel()
                    self._cancelled(entry, "the connection dropped")
            self._settle(response, False)
            del self._responses[response_id]

    # ------------------------------------------------------------------ server events

    def _response_created(self, event: Event) -> None:
        self._active.created(event)

    def _arguments_done(self, event: Event) -> None:
        response_id = response_id_of(event)
        if response_id is not None:
            self._requested(response_id, ToolCall.from_item(event))

    def _item_done(self, event: Event) -> None:
        item = event.get("item")
        response_id = response_id_of(event)
        if isinstance(item, Mapping) and item.get("type") == "function_call" and response_id:
            self._requested(response_id, ToolCall.from_item(item))

    def _response_done(self, event: Event) -> None:
        response_id = response_id_of(event)
        if response_id is None:
            return
        self._active.done(response_id)
        body = event.get("response")
        body = body if isinstance(body, Mapping) else {}
        for call in calls_in_response(body):
            self._requested(response_id, call)
        response = self._responses.get(response_id)
        if response is None or response.done:
            return
        response.done = True
        response.completed = body.get("status") == "completed"
        if not response.completed:
            # Cut off (a barge-in, a cancel, a failure): the turn it answered is over.
            for entry in response.calls.values():
                if not entry.finished:
                    if entry.task is not None:
                        entry.task.cancel()
                    status = body.get("status") or "not completed"
                    self._cancelled(entry, f"its response was {status}")
        else:
            for entry in response.calls.values():
                self._start(entry)
        self._maybe_answer(response_id, response)

    def _speech_started(self, event: Event) -> None:
        if self.running:
            self.cancel_all("the user spoke")

    # ------------------------------------------------------------------ running calls

    def _requested(self, response_id: str, call: ToolCall) -> None:
        if not call.call_id:
            return
        response = self._responses.get(response_id)
        if response is None:
            response = self._responses[response_id] = _Response()
            if len(self._responses) > MAX_RESPONSES:
                # Forget the oldest answered ones; one still working is kept until it ends.
                finished = [key for key, old in self._responses.items() if old.answering]
                for key in finished[: len(self._responses) - MAX_RESPONSES]:
                    del self._responses[key]
        if call.call_id in response.calls or response.done:
            return  # seen already; or a call reported after its response was done
        entry = response.calls[call.call_id] = _Call(call)
        if self._start_early:
            self._start(entry)

    def _start(self, entry: _Call) -> None:
        if entry.task is not None or entry.finished:
            return
        assert self.spawn is not None, "ToolCalls.spawn is set before events flow"
        entry.started_at = time.monotonic()
        entry.task = self.spawn(self._run(entry))

    async def _run(self, entry: _Call) -> None:
        try:
            result = await self.runner.run(entry.call)
        except asyncio.CancelledError:
            if not entry.finished:
                self._cancelled(entry, "cancelled")
            raise
        if entry.finished:
            return
        entry.result = result
        self.results.append(result)
        del self.results[:-32]
        self._note(entry.call, result.status, result.duration_s)
        self._show(entry.call, call_outcome(result), shown_duration_ms(result))
        for response_id, response in list(self._responses.items()):
            if entry.call.call_id in response.calls:
                self._maybe_answer(response_id, response)

    def _cancelled(self, entry: _Call, why: str) -> None:
        entry.cancelled = True
        self.cancelled += 1
        started = entry.started_at
        duration = 0.0 if started is None else time.monotonic() - started
        self._note(entry.call, "cancelled", duration)
        self._show(entry.call, f"cancelled ({why})" if why != "cancelled" else why, None)

    # ------------------------------------------------------------------ answering

    def _settled(self, response: _Response) -> asyncio.Future[bool]:
        if response.settled is None:
            response.settled = asyncio.get_running_loop().create_future()
        return response.settled

    def _settle(self, response: _Response, sent: bool) -> None:
        future = self._settled(response)
        if not future.done():
            future.set_result(sent)

    def _maybe_answer(self, response_id: str, response: _Response) -> None:
        if response.answering or not response.done:
            return
        if not all(entry.finished for entry in response.calls.values()):
            return
        response.answering = True
        results = [entry.result for entry in response.calls.values() if entry.result is not None]
        if not results or not response.completed:
            self._settle(response, False)
            return
        assert self.spawn is not None
        task = self.spawn(self._answer(response, results))
        self._answers.add(task)
        task.add_done_callback(self._answers.discard)

    async def _answer(self, response: _Response, results: list[ToolResult]) -> None:
        sent = False
        try:
            for result in results:
                event = function_call_output(result.call_id, result.output, new_item_id())
                sent = bool(await self._send(event)) or sent
        finally:
            self._settle(response, sent)
        if sent and self._follow_up is not None:
            await self._active.wait_idle()  # never a response.create while one is active
            await self._follow_up()

    # ------------------------------------------------------------------ showing

    def _note(self, call: ToolCall, status: str, duration_s: float) -> None:
        if self._event_log is not None:
            self._event_log.note(
                "tool_call",
                call_id=call.call_id,
                name=call.name,
                status=status,
                duration_ms=round(duration_s * 1000.0, 1),
            )

    def _show(self, call: ToolCall, outcome: str, duration_ms: float | None) -> None:
        if self._view is not None:
            self._view.tool_call(call.name, call_arguments(call), outcome, duration_ms)


# The words of a call's ``tool>`` line, shared with ``replay`` (replay/call_lines.py), which
# shows a recorded call as the live console did.


def call_arguments(call: ToolCall) -> str:
    """The call's arguments for its one line, bounded."""
    text = call.shown_arguments
    if len(text) > _SHOWN_ARGUMENTS:
        text = text[: _SHOWN_ARGUMENTS - 1] + "…"
    return text or "{}"


def shown_duration_ms(result: ToolResult) -> float | None:
    """The time the line shows: a timeout or a refusal says enough without one."""
    return result.duration_s * 1000.0 if result.status in ("ok", "error") else None


def call_outcome(result: ToolResult) -> str:
    """What the screen says after the call: its output, or how it failed."""
    if result.status == "ok":
        return f"-> {' '.join(result.output.split())}"
    if result.status == "timeout":
        return result.error.removeprefix(f"{result.name} ")  # "timed out after 30 s"
    if result.status == "declined":
        return "declined"
    return f"failed: {result.error}"
