"""Which responses are in flight, so a follow-up ``response.create`` waits for none.

The service refuses a ``response.create`` while a response is active
(``conversation_already_has_active_response``). Tool calls and MCP approvals both ask for the
reply after their answers; each keeps one of these, fed from its own handlers of
``response.created`` / ``response.done``. Out-of-band responses (``conversation: "none"``) do
not count: they never block the conversation's next response.
"""

from __future__ import annotations

import asyncio

from realtime_console.dispatcher import Event
from realtime_console.modes.reply_watch import answers_the_conversation, response_id_of

# Server-chosen ids key the set: a response whose done never comes must not grow it forever.
MAX_ACTIVE = 64


class ActiveResponses:
    def __init__(self) -> None:
        self._active: dict[str, None] = {}  # insertion-ordered: the oldest is dropped first
        self._idle = asyncio.Event()
        self._idle.set()

    def created(self, event: Event) -> None:
        response_id = response_id_of(event)
        if response_id is None or not answers_the_conversation(event):
            return
        if len(self._active) >= MAX_ACTIVE:
            del self._active[next(iter(self._active))]
        self._active[response_id] = None
        self._idle.clear()

    def done(self, response_id: str) -> None:
        self._active.pop(response_id, None)
        if not self._active:
            self._idle.set()

    def forget(self) -> None:
        """The connection dropped: nothing on it is active any more."""
        self._active.clear()
        self._idle.set()

    async def wait_idle(self) -> None:
        await self._idle.wait()
