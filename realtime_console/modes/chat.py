"""``chat``: typed text in, spoken and transcribed reply out (the realtime quickstart's flow,
made usable).

One turn per line. The next prompt appears when the reply is complete and, with playback on,
has been heard. Server ``error`` events are shown and the session goes on.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console._compat import TaskGroup
from realtime_console.audio.wav import ResponseWavRecorder
from realtime_console.dispatcher import Event
from realtime_console.handlers import AudioSink, ConsoleHandlers
from realtime_console.modes.session import Session, configure, open_session, pump_events
from realtime_console.protocol.client_events import (
    new_event_id,
    response_create,
    user_text_item,
)
from realtime_console.protocol.history import new_item_id
from realtime_console.redact import Redactor
from realtime_console.ui.lines import LineSource
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import any_of, error_for, is_type

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback
    from realtime_console.config import Settings

QUIT_WORDS = frozenset({"q", "/quit", "/exit"})


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
) -> int:
    sinks: list[AudioSink] = []
    recorder = ResponseWavRecorder(options.save_audio) if options.save_audio else None
    if recorder is not None:
        sinks.append(recorder)
    if playback is not None:
        sinks.append(playback)
    handlers = ConsoleHandlers(view, sinks)
    try:
        async with open_session(settings, env=env, view=view, redactor=redactor) as session:
            session.dispatcher.register(handlers.table())
            _end_cut_replies_on_drop(session, handlers, playback)
            async with TaskGroup() as tasks:
                reader = tasks.create_task(pump_events(session))
                try:
                    await configure(session, view, settings.connection.connect_timeout_s)
                    await _turns(session, options, lines, view, playback)
                finally:
                    reader.cancel()
    finally:
        if recorder is not None:
            recorder.close()
            for path in recorder.saved:
                view.notice(f"saved {path}")
    return 0


def _end_cut_replies_on_drop(
    session: Session, handlers: ConsoleHandlers, playback: Playback | None
) -> None:
    """A reply cut by a dropped connection never gets its ``response.done``: end it as
    ``incomplete`` (the view closes its line, sinks finish what they received) and stop playing
    it, since the turn is asked again after the reconnect and would otherwise be heard twice."""
    open_responses: set[str] = set()

    def created(event: Event) -> None:
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("id"), str):
            open_responses.add(response["id"])

    def done(event: Event) -> None:
        response = event.get("response")
        if isinstance(response, dict):
            open_responses.discard(str(response.get("id")))

    def lost() -> None:
        for response_id in sorted(open_responses):
            if playback is not None:
                playback.drop_response(response_id)
            cut = {"id": response_id, "status": "incomplete"}
            handlers.response_done({"type": "response.done", "response": cut})
        open_responses.clear()

    session.dispatcher.register({"response.created": created, "response.done": done})
    session.on_lost.append(lost)


async def _turns(
    session: Session,
    options: ChatOptions,
    lines: LineSource,
    view: ConsoleView,
    playback: Playback | None,
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
        await _exchange(session, text)
        if playback is not None:
            await playback.drain()


async def _exchange(session: Session, text: str) -> None:
    """One turn: the user item, then ``response.create``, until that response is done.

    If the connection drops first, the reconnect restores the conversation; the item is sent
    again only if it did not make it into the restored session, and the reply is asked again.
    """
    item = user_text_item(text)
    item_id = item["item"]["id"] = new_item_id()
    while True:
        generation = await session.wait_connected()
        create = response_create()
        # Registered before sending: the reply can never slip past the waiter.
        finished = session.waiters.expect(
            any_of(is_type("response.done"), error_for({create["event_id"]}))
        )
        try:
            if not session.history.has(item_id):
                await session.send(item)
            await session.send(create)
            either: set[asyncio.Future[Any]] = {finished, session.lost(generation)}
            await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            if finished.done():
                finished.result()  # lost for good: ConnectionLost
                return
        finally:
            if not finished.done():
                finished.cancel()
            elif not finished.cancelled():
                finished.exception()  # retrieved: a failure is raised above or by the reader
        item = {**item, "event_id": new_event_id()}  # a re-send is a new event
