"""``chat``: typed text in, spoken and transcribed reply out (the realtime quickstart's flow,
made usable).

One turn per line. The next prompt appears when the reply is complete and, with playback on,
has been heard. Server ``error`` events are shown and the session goes on.

A turn waits for its own response's ``response.done`` (``ReplyWatch``: a stale or foreign one
does not end it) and for no longer than ``connection.response_timeout_s`` of silence: a reply
that stops without finishing is abandoned with one notice and the chat goes on with the next
line. Such a run still ends with exit 1 and a last line saying how many turns got no reply, so
a script that pipes lines in can tell an answered conversation from one that was not.
"""

from __future__ import annotations

import asyncio
from asyncio import FIRST_COMPLETED
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console._compat import TaskGroup
from realtime_console.audio.wav import ResponseWavRecorder
from realtime_console.dispatcher import ANY
from realtime_console.errors import ConsoleError
from realtime_console.handlers import AudioSink, ConsoleHandlers
from realtime_console.modes.mcp_calls import QuestionApprovals
from realtime_console.modes.recycle import RecyclePolicy, renew_if_due, start_recycle
from realtime_console.modes.reply_watch import Overdue, ReplyWatch, abandon
from realtime_console.modes.session import Session, configure, open_session, pump_events
from realtime_console.modes.tool_calls import (
    LoadedTools,
    Prompts,
    ToolCalls,
    follow_up_fields,
    load_session_tools,
    make_runner,
)
from realtime_console.protocol.client_events import (
    new_event_id,
    response_create,
    user_text_item,
)
from realtime_console.protocol.history import new_item_id
from realtime_console.redact import Redactor
from realtime_console.ui.lines import LineSource, PromptEcho, StdinLines, ToolPrompts
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import any_of, error_for

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback
    from realtime_console.config import Settings

QUIT_WORDS = frozenset({"q", "/quit", "/exit"})
MAX_TOOL_ROUNDS = 16  # replies of one turn that call tools again: a model in a loop is stopped


@dataclass(frozen=True)
class ChatOptions:
    save_audio: Path | None = None
    echo_input: bool = False  # print "you> …" for lines that were not typed at a prompt


async def run_chat(
    settings: Settings,
    options: ChatOptions,
    *,
    lines: LineSource,
    view: ConsoleView,
    env: Mapping[str, str],
    redactor: Redactor,
    playback: Playback | None = None,
    recycle: RecyclePolicy | None = None,
    prompts: Prompts | None = None,
) -> int:
    """``recycle``: when to renew the session ahead of the service's limit (default: from
    ``connection.session_limit_s``). ``prompts``: how ``tools.mode`` ask and confirm reach the
    user (default: lines of ``lines`` when it can take a prompt, echoed when not typed live)."""
    loaded = load_session_tools(settings)  # before connecting: a bad tool file is exit 2
    sinks: list[AudioSink] = []
    recorder = None
    if options.save_audio:
        recorder = ResponseWavRecorder(options.save_audio, warn=view.notice)
    if recorder is not None:
        sinks.append(recorder)
    if playback is not None:
        sinks.append(playback)
    handlers = ConsoleHandlers(view, sinks)
    timeout_s = settings.connection.response_timeout_s
    try:
        async with open_session(
            settings,
            env=env,
            view=view,
            redactor=redactor,
            recycle=recycle,
            tools=loaded.entries if loaded is not None else None,
        ) as session:
            session.dispatcher.register(handlers.table())
            if session.mcp is not None and session.mcp.approvals is None:  # confirm / ask
                given = QuestionApprovals(prompts) if prompts is not None else None
                session.mcp.approvals = given or mcp_approvals(lines, view)
            tool_calls = None
            if loaded is not None:
                tool_calls = _tool_calls(settings, loaded, session, view, redactor, lines, prompts)
                session.dispatcher.register(tool_calls.table())  # after the reply's line ends
            follow_up = follow_up_fields(settings.tools.tool_choice)
            turns = _Turns(
                session, handlers, ReplyWatch(timeout_s), playback, tool_calls, follow_up
            )
            async with TaskGroup() as tasks:
                if tool_calls is not None:
                    tool_calls.spawn = tasks.create_task
                background = [tasks.create_task(pump_events(session))]
                background += start_recycle(tasks, session)
                try:
                    await configure(session, view, settings.connection.connect_timeout_s)
                    await _read_turns(turns, options, lines, view)
                finally:
                    for task in background:
                        task.cancel()
                    if tool_calls is not None:
                        tool_calls.cancel_all("the chat ended")
    finally:
        if recorder is not None:
            recorder.close()
            for path in recorder.saved:
                view.notice(f"saved {path}")
            for path in recorder.incomplete:
                view.notice(f"incomplete {path} (it missed audio that came after it was closed)")
            for path in recorder.failed:
                view.notice(f"not saved {path}")
    if turns.abandoned:
        of = f"{turns.abandoned} of {turns.asked} turn{'s' if turns.asked != 1 else ''}"
        raise ConsoleError(f"{of} got no reply (nothing from the server for {timeout_s:g} s)")
    return 0


def _tool_calls(
    settings: Settings,
    loaded: LoadedTools,
    session: Session,
    view: ConsoleView,
    redactor: Redactor,
    lines: LineSource,
    prompts: Prompts | None,
) -> ToolCalls:
    if prompts is None and isinstance(lines, StdinLines):
        prompts = ToolPrompts(lines, None if lines.interactive else _echo_of(view))
    runner = make_runner(settings, loaded, redactor, prompts)
    return ToolCalls(
        runner,
        view=view,
        send=session.send,
        event_log=session.event_log,
        start_early=settings.tools.mode == "auto",
    )


def mcp_approvals(lines: LineSource, view: ConsoleView) -> QuestionApprovals | None:
    """MCP approval requests asked on lines of stdin, as tool prompts are (None: nobody can
    answer them, and they are refused)."""
    if not isinstance(lines, StdinLines):
        return None
    return QuestionApprovals(ToolPrompts(lines, None if lines.interactive else _echo_of(view)))


def _echo_of(view: ConsoleView) -> PromptEcho | None:
    return view if isinstance(view, PromptEcho) else None


class _Turns:
    """The chat's turns: each one's exchange, and what to do with a reply that went silent."""

    def __init__(
        self,
        session: Session,
        handlers: ConsoleHandlers,
        watch: ReplyWatch,
        playback: Playback | None,
        tools: ToolCalls | None = None,
        follow_up: Mapping[str, Any] | None = None,
    ) -> None:
        self.session = session
        self.tools = tools
        self.follow_up = follow_up or {}  # the response.create after tool outputs
        self.handlers = handlers
        self.watch = watch
        self.playback = playback
        self.asked = 0
        self.abandoned = 0
        self.in_turn = False  # from the line's arrival to its reply's end: not a quiet moment
        session.busy.append(lambda: self.in_turn)
        session.dispatcher.on(ANY, watch)
        session.on_lost.append(self._end_cut_replies)

    def _end_cut_replies(self) -> None:
        """A reply cut by a dropped connection never gets its ``response.done``: end it as
        ``incomplete`` (the view closes its line, sinks finish what they received) and stop
        playing it, since the turn is asked again after the reconnect and would otherwise be
        heard twice."""
        for response_id in self.watch.forget():
            self._drop_audio(response_id)
            self.handlers.end_unfinished(response_id)
        if self.tools is not None:
            self.tools.forget()

    def _drop_audio(self, response_id: str) -> None:
        if self.playback is not None:
            self.playback.drop_response(response_id)

    async def exchange(self, text: str) -> None:
        """One turn: the user item, then ``response.create``, until that response is done; and
        while the reply calls tools, their outputs and the next reply (``ToolCalls``).

        If the connection drops first, the reconnect restores the conversation; the item is sent
        again only if it did not make it into the restored session, and the reply is asked
        again. If the reply goes silent for ``response_timeout_s`` it is abandoned.
        """
        self.asked += 1
        item = user_text_item(text)
        item["item"]["id"] = new_item_id()
        response_id = await self._reply(item)
        rounds = 0
        while await self._settle(response_id):
            # The outputs are sent; the model answers with them in a reply of the same turn.
            rounds += 1
            if rounds > MAX_TOOL_ROUNDS:
                self.handlers.view.notice(
                    f"the model kept calling tools ({MAX_TOOL_ROUNDS} rounds); turn ended"
                )
                return
            response_id = await self._reply(None, self.follow_up)

    async def _settle(self, response_id: str | None) -> bool:
        """Answer what the reply asked of the console (function calls, MCP approvals): True
        when answers were sent and the model's next reply is due."""
        sent = self.tools is not None and await self.tools.settle(response_id)
        mcp = self.session.mcp
        if mcp is not None and await mcp.settle(response_id):
            sent = True
        return sent

    async def _reply(
        self, item: dict[str, Any] | None, overrides: Mapping[str, Any] | None = None
    ) -> str | None:
        """Send ``item`` (unless the session has it) and ``response.create``; wait for that
        response to be done. Its id, or None when there was no reply (abandoned, refused)."""
        session, watch = self.session, self.watch
        while True:
            generation = await session.wait_connected()
            create = response_create(**(overrides or {}))
            # Both before sending: the reply can never slip past them.
            watch.ask()
            finished = session.waiters.expect(
                any_of(watch.is_turn_done, error_for({create["event_id"]}))
            )
            abandoned = self.abandoned
            try:
                if item is not None and not session.history.has(item["item"]["id"]):
                    await session.send(item)
                await session.send(create)
                if await self._until_done(finished, session.lost(generation)):
                    if self.abandoned != abandoned or not finished.done():
                        return None
                    answer = finished.result()
                    return watch.turn_response if answer.get("type") == "response.done" else None
            finally:
                if not finished.done():
                    finished.cancel()
                elif not finished.cancelled():
                    finished.exception()  # retrieved: a failure is raised above or by the reader
            if item is not None:
                item = {**item, "event_id": new_event_id()}  # a re-send is a new event

    async def _until_done(self, finished: asyncio.Future[Any], lost: asyncio.Future[None]) -> bool:
        """True when the turn is over (answered, refused or abandoned); False if the link
        dropped first (the turn is asked again)."""
        while True:
            timeout = self.watch.seconds_to_next_check()
            await asyncio.wait({finished, lost}, timeout=timeout, return_when=FIRST_COMPLETED)
            if finished.done():
                finished.result()  # lost for good: ConnectionLost
                return True
            if lost.done():
                return False
            overdue = self.watch.overdue()
            for reply in overdue:
                await self._abandon(reply)
            if any(reply.response_id == self.watch.turn_response for reply in overdue):
                self.abandoned += 1
                return True

    async def _abandon(self, reply: Overdue) -> None:
        await abandon(
            reply,
            timeout_s=self.watch.timeout_s,
            console=self.handlers,
            drop_audio=self._drop_audio,
            send=self.session.send,
            event_log=self.session.event_log,
        )


async def _read_turns(
    turns: _Turns, options: ChatOptions, lines: LineSource, view: ConsoleView
) -> None:
    while True:
        line = await lines.read()
        if line is None:
            return
        text = line.strip()
        if not text:
            continue
        if text.lower() in QUIT_WORDS:
            return
        if options.echo_input:
            view.user_text(text)
        await renew_if_due(turns.session)  # the quiet moment before this turn is sent
        turns.in_turn = True  # no await since the check: the background recycle cannot start
        try:
            await turns.exchange(text)
            if turns.playback is not None:
                await turns.playback.drain()
        finally:
            turns.in_turn = False
