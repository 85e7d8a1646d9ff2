"""The response watchdog: which response answers a turn, and whether it still shows life.

A reply can stop without ending: the service sends ``response.created`` and some deltas but never
``response.done``, or never answers a ``response.create`` at all, while its pings keep the socket
open. Nothing would then end the turn. ``ReplyWatch`` sees every server event (the dispatcher's
``ANY``) and reports what has been silent for ``timeout_s``:

* a response asked for (``ask()``: our ``response.create``, or a voice turn that makes one) that
  no ``response.created`` answered;
* a response created and not done that has sent no event since.

Every event of the response (its deltas, parts, items, ``done`` events) restarts its clock, so a
long streamed reply is never cut: only silence is.

Which response is the turn's: the service answers ``response.create``s in order, so it is the
first ``response.created`` after ``ask()`` that belongs to the conversation. Out-of-band responses
(``conversation_id`` null: made with ``conversation: "none"``) and responses carrying metadata
(how other clients tag theirs; the console never sets it) are someone else's: not watched.
``is_turn_done`` then matches that response's own ``response.done`` only, so a stale, foreign or
bare ``response.done`` cannot end the turn.

``abandon`` is what both modes do with an overdue reply.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_console.dispatcher import Event
from realtime_console.protocol.client_events import response_cancel

if TYPE_CHECKING:
    from realtime_console.eventlog import EventLogWriter
    from realtime_console.handlers import ConsoleHandlers

Clock = Callable[[], float]
MAX_WATCHED = 64  # live responses watched at once; a server cannot make the table grow


def response_id_of(event: Event) -> str | None:
    """The response an event belongs to: ``response.id`` on created/done, ``response_id`` on
    the events in between."""
    response = event.get("response")
    if isinstance(response, Mapping):
        value = response.get("id")
    else:
        value = event.get("response_id")
    return value if isinstance(value, str) and value else None


def answers_the_conversation(event: Event) -> bool:
    """A ``response.created`` of a response written to the conversation by default: not
    out-of-band, not tagged by another client."""
    response = event.get("response")
    if not isinstance(response, Mapping):
        return False
    if "conversation_id" in response and response["conversation_id"] is None:
        return False
    return not response.get("metadata")


@dataclass(frozen=True)
class Overdue:
    """A reply that went silent: ``response_id`` None means no ``response.created`` came."""

    response_id: str | None
    silent_s: float


class ReplyWatch:
    def __init__(self, timeout_s: float, clock: Clock = time.monotonic) -> None:
        self.timeout_s = timeout_s
        self._clock = clock
        self._last: dict[str, float] = {}  # live responses → when their last event came
        self._asked_at: float | None = None  # a response asked for and not created yet
        self.turn_response: str | None = None  # the response that answered the last ask()

    def ask(self) -> None:
        """A response is about to be asked for: the next ``response.created`` answers it."""
        self._asked_at = self._clock()
        self.turn_response = None

    @property
    def live(self) -> list[str]:
        """Responses created and not done, oldest first."""
        return list(self._last)

    def __call__(self, event: Event) -> None:
        response_id = response_id_of(event)
        if response_id is None:
            return
        kind = event.get("type")
        if kind == "response.created":
            if not answers_the_conversation(event):
                return
            if self._asked_at is not None:
                self._asked_at = None
                self.turn_response = response_id
            self._last[response_id] = self._clock()
            while len(self._last) > MAX_WATCHED:
                del self._last[next(iter(self._last))]
        elif kind == "response.done":
            self._last.pop(response_id, None)
        elif response_id in self._last:
            self._last[response_id] = self._clock()

    def is_turn_done(self, event: Event) -> bool:
        """A waiter predicate: the ``response.done`` of the turn's own response."""
        return (
            event.get("type") == "response.done"
            and self.turn_response is not None
            and response_id_of(event) == self.turn_response
        )

    def overdue(self) -> list[Overdue]:
        """What has been silent for ``timeout_s``; each is reported once, then forgotten."""
        now = self._clock()
        out = []
        if self._asked_at is not None and now - self._asked_at >= self.timeout_s:
            out.append(Overdue(None, now - self._asked_at))
            self._asked_at = None
        for response_id, last in list(self._last.items()):
            if now - last >= self.timeout_s:
                out.append(Overdue(response_id, now - last))
                del self._last[response_id]
        return out

    def seconds_to_next_check(self) -> float | None:
        """When the next ``overdue()`` could report something (None: nothing is watched)."""
        times = list(self._last.values())
        if self._asked_at is not None:
            times.append(self._asked_at)
        if not times:
            return None
        return max(0.0, min(times) + self.timeout_s - self._clock())

    def forget(self) -> list[str]:
        """The connection dropped: nothing on it will ever answer. Returns the live responses."""
        live = self.live
        self._last.clear()
        self._asked_at = None
        return live


Send = Callable[[dict[str, Any]], Awaitable[object]]


async def abandon(
    overdue: Overdue,
    *,
    timeout_s: float,
    console: ConsoleHandlers,
    drop_audio: Callable[[str], None],
    send: Send,
    event_log: EventLogWriter | None,
) -> None:
    """Give up on a silent reply: its audio stops and late deltas are ignored, its line closes,
    one notice says so, the event log gets a ``response_timeout`` meta line, and
    ``response.cancel`` is sent in case the server still thinks it is running (its error, when it
    does not, is expected and not shown)."""
    response_id = overdue.response_id
    if response_id is not None:
        drop_audio(response_id)
        console.end_unfinished(response_id)
    what = f"response {response_id}" if response_id else "no response.created"
    console.view.notice(f"no reply for {timeout_s:g} s; turn abandoned ({what})")
    if event_log is not None:
        event_log.note(
            "response_timeout",
            response_id=response_id,
            timeout_s=timeout_s,
            silent_s=round(overdue.silent_s, 3),
        )
    cancel = response_cancel(response_id)
    console.expect_error(cancel["event_id"])
    await send(cancel)
