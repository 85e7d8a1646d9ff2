"""Await the first server event that matches a predicate (e.g. this turn's ``response.done``).

Registered on the dispatcher under ``ANY``, so a mode can write straight-line code — send, then
wait — while one reader task keeps consuming, logging and rendering every event.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from realtime_console._compat import wait_for
from realtime_console.dispatcher import Event
from realtime_console.protocol.known_errors import is_truncate_past_end

Predicate = Callable[[Event], bool]


class EventWaiters:
    def __init__(self) -> None:
        self._pending: list[tuple[Predicate, asyncio.Future[Event]]] = []
        self._failure: BaseException | None = None

    def __call__(self, event: Event) -> None:
        still: list[tuple[Predicate, asyncio.Future[Event]]] = []
        for predicate, future in self._pending:
            if future.done():
                continue
            if predicate(event):
                future.set_result(event)
            else:
                still.append((predicate, future))
        self._pending = still

    def expect(self, predicate: Predicate) -> asyncio.Future[Event]:
        """Register now (before sending the event that provokes the answer), await later."""
        future: asyncio.Future[Event] = asyncio.get_running_loop().create_future()
        if self._failure is not None:
            future.set_exception(self._failure)
        else:
            self._pending.append((predicate, future))
        return future

    async def wait(self, predicate: Predicate, timeout_s: float | None = None) -> Event:
        return await settle(self.expect(predicate), timeout_s)

    def fail(self, exc: BaseException) -> None:
        """The event stream ended: every waiter (now and later) gets ``exc``."""
        self._failure = exc
        for _, future in self._pending:
            if not future.done():
                future.set_exception(exc)
        self._pending = []


def is_type(event_type: str) -> Predicate:
    return lambda event: event.get("type") == event_type


def error_for(event_ids: set[str]) -> Predicate:
    """An ``error`` event caused by one of the client events in ``event_ids``."""

    def match(event: Event) -> bool:
        if event.get("type") != "error":
            return False
        error = event.get("error")
        # A server may send any JSON there: a list would make `in` raise on an unhashable value.
        event_id = error.get("event_id") if isinstance(error, dict) else None
        return isinstance(event_id, str) and event_id in event_ids

    return match


def unattributed_error() -> Predicate:
    """An ``error`` event that names no client event (``error.event_id`` null or missing).

    Services send some rejections that way. It can only be attributed by elimination: while a
    single client event is outstanding, it is that event's answer.
    """

    def match(event: Event) -> bool:
        if event.get("type") != "error":
            return False
        error = event.get("error")
        if not isinstance(error, dict):
            return True
        # A truncate past the end of the audio is answered without an event id too (and then
        # applied): it is never the answer to the event this waiter stands for.
        return error.get("event_id") is None and not is_truncate_past_end(error)

    return match


async def settle(future: asyncio.Future[Event], timeout_s: float | None = None) -> Event:
    """Await an ``expect()`` future; a timeout cancels it so it never fires later."""
    try:
        return await wait_for(future, timeout_s)
    finally:
        if not future.done():
            future.cancel()
        elif not future.cancelled():
            # Failed (the link dropped) as this task was cancelled: the failure is the
            # reader's to report; marked retrieved so asyncio does not log it again.
            future.exception()


def any_of(*predicates: Predicate) -> Predicate:
    return lambda event: any(p(event) for p in predicates)
