"""``replay LOG --to PROFILE | --local``: send a log's client events to a live server again.

The session is configured first (the recorded ``session.update``, or the target profile's with
``--session profile``); then every other client event is sent at its recorded offset from the
first one. Two things keep a reproduction faithful when the new server is slower or faster:

- a ``response.create`` or user ``conversation.item.create`` waits until the new run has seen as
  many ``response.done`` as the original had when it was sent (the original client waited for the
  reply), and the schedule after it shifts by that wait;
- ids the server made up (assistant items, responses) differ between runs, so those in a
  ``conversation.item.truncate`` / ``response.cancel`` are mapped by order of appearance.

The new run is recorded to a new log and rendered live with the same dispatcher and handlers.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from realtime_console._compat import TaskGroup
from realtime_console.dispatcher import ANY, Dispatcher, Event
from realtime_console.eventlog import LogRecord, ReadReport, read_log
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.session import open_recorded_link
from realtime_console.protocol.client_events import session_update
from realtime_console.redact import Redactor
from realtime_console.replay.pacing import clamp_gap, shortened_notice
from realtime_console.replay.summary import user_text_of
from realtime_console.replay.window import Window
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import EventWaiters, any_of, error_for, is_type, settle

if TYPE_CHECKING:
    from realtime_console.config import Settings

_GATED = ("response.create", "conversation.item.create")
DONE_TIMEOUT_S = 60.0  # how long to wait for a reply the original got before sending on


@dataclass
class _Ids:
    """Server-made ids in order of first appearance, per kind, for one run."""

    items: list[str] = field(default_factory=list)
    responses: list[str] = field(default_factory=list)
    _seen: set[str] = field(default_factory=set)
    responses_done: int = 0

    def observe(self, event: Mapping[str, Any]) -> None:
        event_type = event.get("type")
        if event_type == "response.created":
            response = event.get("response")
            if isinstance(response, Mapping):
                self._add(self.responses, response.get("id"))
        elif event_type == "response.output_item.added":
            item = event.get("item")
            if isinstance(item, Mapping):
                self._add(self.items, item.get("id"))
        elif event_type == "response.done":
            self.responses_done += 1

    def _add(self, into: list[str], value: object) -> None:
        if isinstance(value, str) and value not in self._seen:
            self._seen.add(value)
            into.append(value)


def _mapped(value: object, old: list[str], new: list[str]) -> object:
    if isinstance(value, str) and value in old:
        index = old.index(value)
        if index < len(new):
            return new[index]
    return value


@dataclass
class ResendResult:
    new_log: Path
    sent: int
    report: ReadReport


def recorded_session(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The session the original sent: its first ``session.update``, else the header's."""
    report = ReadReport()
    for record in read_log(path, report):
        if record.dir == "client" and record.event.get("type") == "session.update":
            session = record.event.get("session")
            if isinstance(session, dict):
                return session
    header = report.header or {}
    session = header.get("session")
    return session if isinstance(session, dict) else {}


class _NewRun:
    """The live side: counts what the new server says, so the sender can wait for it."""

    def __init__(self) -> None:
        self.ids = _Ids()
        self._changed = asyncio.Event()

    def __call__(self, event: Event) -> None:
        self.ids.observe(event)
        if event.get("type") == "response.done":
            self._changed.set()

    async def wait_done(self, count: int, timeout_s: float) -> bool:
        deadline = time.monotonic() + timeout_s
        while self.ids.responses_done < count:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)
        return True


async def resend(
    path: str | os.PathLike[str],
    *,
    settings: Settings,
    new_log: Path,
    session: dict[str, Any],
    window: Window,
    view: ConsoleView,
    env: Mapping[str, str],
    redactor: Redactor,
    done_timeout_s: float = DONE_TIMEOUT_S,
) -> ResendResult:
    timeout = settings.connection.connect_timeout_s
    async with open_recorded_link(
        settings,
        env=env,
        view=view,
        redactor=redactor,
        session_config=session,
        log_path=new_log,
    ) as (link, _):
        waiters, new_run = EventWaiters(), _NewRun()
        dispatcher = Dispatcher(
            on_handler_error=lambda kind, exc: view.notice(f"handler for {kind} failed: {exc}")
        )
        dispatcher.register(ConsoleHandlers(view).table())
        dispatcher.on(ANY, waiters)
        dispatcher.on(ANY, new_run)
        created = waiters.expect(is_type("session.created"))

        async def pump() -> None:
            async for event in link.events():
                await dispatcher.dispatch(event)

        async with TaskGroup() as tasks:
            reader = tasks.create_task(pump())
            try:
                await settle(created, timeout)
                update = session_update(session)
                answer = waiters.expect(
                    any_of(is_type("session.updated"), error_for({update["event_id"]}))
                )
                await link.send(update)
                if (await settle(answer, timeout)).get("type") == "error":
                    view.notice("the server rejected the session settings; sending on")
                report = ReadReport()
                sent, expected = await _send_all(
                    read_log(path, report), link, new_run, window, view, done_timeout_s
                )
                if not await new_run.wait_done(expected, done_timeout_s):
                    view.notice(
                        f"stopped waiting: {new_run.ids.responses_done} of {expected} "
                        "responses done"
                    )
            finally:
                reader.cancel()
    return ResendResult(new_log, sent, report)


async def _send_all(
    records: Any,
    link: Any,
    new_run: _NewRun,
    window: Window,
    view: ConsoleView,
    done_timeout_s: float,
) -> tuple[int, int]:
    """Send the client events; returns (events sent, responses the original completed)."""
    original = _Ids()
    first_update_skipped = False
    origin: float | None = None  # wall clock of the first sent event
    last_t = 0.0  # log t of the previous sent event
    elapsed = 0.0  # recorded seconds since the first sent event, long gaps shortened (pacing)
    shift = 0.0  # seconds the schedule slipped waiting for replies
    shortened = False
    sent = 0
    for record in records:
        assert isinstance(record, LogRecord)
        if record.dir == "server":
            original.observe(record.event)
            continue
        if record.dir != "client" or window.after_end(record):
            if window.after_end(record):
                break
            continue
        event = dict(record.event)
        if event.get("type") == "session.update" and not first_update_skipped:
            first_update_skipped = True  # already sent, first, by the caller
            continue
        if window.before_start(record):
            continue
        t = record.t or 0.0
        if origin is None:
            origin, last_t = time.monotonic(), t
        gap, last_t = t - last_t, t
        waited = clamp_gap(gap)  # a long pause or a corrupt t must not stall the re-send
        elapsed += waited
        if waited < gap and not shortened:
            shortened = True
            view.notice(shortened_notice(gap, record.index))
        if event.get("type") in _GATED:
            if not await new_run.wait_done(original.responses_done, done_timeout_s):
                view.notice(f"no reply to wait for before event #{record.index}; sending on")
            # Late because the new server answered later: everything after slips as much.
            shift += max(0.0, time.monotonic() - (origin + shift + elapsed))
        delay = origin + shift + elapsed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        _remap(event, original, new_run.ids)
        await link.send(event)
        item = event.get("item")
        if event.get("type") == "conversation.item.create" and isinstance(item, Mapping):
            text = user_text_of(item) if item.get("role") == "user" else None
            if text:
                view.user_text(text)  # as chat showed it

        sent += 1
    return sent, original.responses_done


def _remap(event: dict[str, Any], original: _Ids, new: _Ids) -> None:
    if "item_id" in event:
        event["item_id"] = _mapped(event["item_id"], original.items, new.items)
    if "response_id" in event:
        event["response_id"] = _mapped(event["response_id"], original.responses, new.responses)
