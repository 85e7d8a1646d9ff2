"""Routes each server event to its handlers through a table, for live sessions and replay alike.

Handlers take the event as a plain mapping (GA names, see ``protocol.aliases``): the same value
arrives from a socket, a log file, or a server that speaks a newer protocol than our SDK types.
A handler that raises is reported and counted; it never stops the loop, because one bad event
must not end a conversation.
"""

from __future__ import annotations

import inspect
import logging
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from realtime_console.protocol.aliases import ga_event_type
from realtime_console.recent import RecentCounter

Event = Mapping[str, Any]
Handler = Callable[[Event], Awaitable[None] | None]
ErrorReporter = Callable[[str, BaseException], None]

log = logging.getLogger(__name__)

ANY = "*"
"""Register under this key to see every event (after the typed handlers), e.g. a debug pane."""


MAX_COUNTED_TYPES = 100
"""Event types counted by name (the most recent ones): the server chooses the names."""


@dataclass
class DispatchStats:
    by_type: Counter[str] = field(default_factory=lambda: RecentCounter(limit=MAX_COUNTED_TYPES))
    unknown: Counter[str] = field(default_factory=lambda: RecentCounter(limit=MAX_COUNTED_TYPES))
    handler_errors: int = 0


class Dispatcher:
    def __init__(self, on_handler_error: ErrorReporter | None = None) -> None:
        self._table: dict[str, list[Handler]] = {}
        self._on_handler_error = on_handler_error
        self.stats = DispatchStats()

    def on(self, event_type: str, handler: Handler) -> None:
        """Add ``handler`` for ``event_type`` (GA or beta name, or ``ANY``)."""
        key = event_type if event_type == ANY else ga_event_type(event_type)
        self._table.setdefault(key, []).append(handler)

    def register(self, table: Mapping[str, Handler]) -> None:
        for event_type, handler in table.items():
            self.on(event_type, handler)

    def handles(self, event_type: str) -> bool:
        return ga_event_type(event_type) in self._table

    async def dispatch(self, event: Event) -> None:
        raw_type = event.get("type")
        event_type = ga_event_type(raw_type) if isinstance(raw_type, str) else "<missing type>"
        self.stats.by_type[event_type] += 1
        handlers = self._table.get(event_type)
        if handlers is None:
            # Services add event types faster than clients learn them: count, show in debug.
            self.stats.unknown[event_type] += 1
            log.debug("no handler for server event %r", event_type)
            handlers = []
        for handler in (*handlers, *self._table.get(ANY, ())):
            await self._call(handler, event_type, event)

    async def _call(self, handler: Handler, event_type: str, event: Event) -> None:
        try:
            result = handler(event)
            if inspect.isawaitable(result):
                await result
        except Exception as exc:  # a failing handler must not kill the loop
            self.stats.handler_errors += 1
            log.debug("handler for %s failed", event_type, exc_info=True)
            if self._on_handler_error is not None:
                self._on_handler_error(event_type, exc)
