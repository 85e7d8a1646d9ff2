"""``chat``: typed text in, spoken and transcribed reply out (seed 003's flow, made usable).

One turn per line. The next prompt appears when the reply is complete and, with playback on,
has been heard. Server ``error`` events are shown and the session goes on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from realtime_console._compat import TaskGroup
from realtime_console.audio.wav import ResponseWavRecorder
from realtime_console.handlers import AudioSink, ConsoleHandlers
from realtime_console.modes.session import Session, configure, open_session, pump_events
from realtime_console.protocol.client_events import response_create, user_text_item
from realtime_console.redact import Redactor
from realtime_console.ui.lines import LineSource
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import any_of, error_for, is_type, settle

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
        item, create = user_text_item(text), response_create()
        # Registered before sending: the reply can never slip past the waiter.
        finished = session.waiters.expect(
            any_of(is_type("response.done"), error_for({create["event_id"]}))
        )
        await session.link.send(item)
        await session.link.send(create)
        await settle(finished)
        if playback is not None:
            await playback.drain()
