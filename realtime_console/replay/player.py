"""Feeds a log's server events through the same ``Dispatcher`` and ``ConsoleHandlers`` as a live
session, so a replayed transcript renders exactly as it did live, and its audio plays.

Client events are not dispatched (handlers react to the server), but two of them shaped what the
user saw and heard live, so the player re-enacts them: a typed user message is shown as the chat
mode showed it, and a barge-in (the client's ``conversation.item.truncate``, or the console's
``barge_in`` meta note) stops playback and drops the cut response's late deltas, as live. HTTP
exchanges (``audio say|ask|chat``) render as turns too (``http_player``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from realtime_console.dispatcher import Dispatcher
from realtime_console.eventlog import LogRecord
from realtime_console.handlers import AudioSink, ConsoleHandlers
from realtime_console.replay.bad_audio import BadAudio
from realtime_console.replay.event_lines import TypeFilter, format_line
from realtime_console.replay.http_player import HttpPlayer
from realtime_console.replay.summary import user_text_of
from realtime_console.ui.view import ConsoleView

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback


class SilentView:
    """A ``ConsoleView`` for ``--types`` without the transcript: only the console's notices."""

    def __init__(self, notice: Callable[[str], None]) -> None:
        self._notice = notice

    def session_started(self, session_id: str, model: str) -> None:
        return None

    def user_text(self, text: str) -> None:
        return None

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        return None

    def assistant_delta(self, response_id: str, text: str) -> None:
        return None

    def assistant_done(self, response_id: str, status: str) -> None:
        return None

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None:
        return None

    def notice(self, text: str) -> None:
        self._notice(text)


class ReplayPlayer:
    def __init__(
        self,
        view: ConsoleView,
        *,
        playback: Playback | None = None,
        type_filter: TypeFilter | None = None,
        write_line: Callable[[str], None] = print,
    ) -> None:
        self.view = view
        self.playback = playback
        sinks: list[AudioSink] = [playback] if playback is not None else []
        self.bad_audio = BadAudio()
        # A delta with bad base64 is not played; counted and told once, at the end.
        self.handlers = ConsoleHandlers(
            view, sinks, on_bad_audio=lambda event, exc: self.bad_audio.add(self._line)
        )
        self.dispatcher = Dispatcher(on_handler_error=self._handler_failed)
        self._line = 0  # of the record being fed, for the bad-audio report
        self.dispatcher.register(self.handlers.table())
        self._filter = type_filter
        self._write_line = write_line
        self._response_of_item: dict[str, str] = {}
        self._client: Mapping[str, Callable[[Mapping[str, Any]], None]] = {
            "conversation.item.create": self._user_item,
            "conversation.item.truncate": self._cut,
        }
        self._meta: Mapping[str, Callable[[Mapping[str, Any]], None]] = {"barge_in": self._cut}
        self._http = HttpPlayer(view, playback, self.bad_audio)  # audio say|ask|chat exchanges

    def _handler_failed(self, kind: str, exc: BaseException) -> None:
        self.view.notice(f"handler for {kind} failed: {exc}")

    async def feed(self, record: LogRecord) -> None:
        self._line = record.line
        if self._filter is not None and self._filter.matches(record):
            self._write_line(format_line(record))
        event = record.event
        event_type = str(event.get("type", ""))
        if record.dir == "server":
            item_id, response_id = event.get("item_id"), event.get("response_id")
            if isinstance(item_id, str) and isinstance(response_id, str):
                self._response_of_item.setdefault(item_id, response_id)
            await self.dispatcher.dispatch(event)
            return
        if self._http.feed(record):
            return
        table = {"client": self._client, "meta": self._meta}.get(record.dir, {})
        react = table.get(event_type)
        if react is not None:
            react(event)

    def _user_item(self, event: Mapping[str, Any]) -> None:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("role") == "user":
            text = user_text_of(item)
            if text:
                self.view.user_text(text)

    def _cut(self, event: Mapping[str, Any]) -> None:
        response_id = event.get("response_id")
        if not isinstance(response_id, str):
            response_id = self._response_of_item.get(str(event.get("item_id", "")))
        if response_id is None or response_id in self.handlers.dropped_responses:
            return
        self.handlers.dropped_responses.add(response_id)
        if self.playback is not None:
            self.playback.speaker.interrupt()
