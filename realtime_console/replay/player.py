"""Feeds a log's server events through the same ``Dispatcher`` and ``ConsoleHandlers`` as a live
session, so a replayed transcript renders exactly as it did live, and its audio plays.

Client events are not dispatched (handlers react to the server), but two of them shaped what the
user saw and heard live, so the player re-enacts them: a typed user message is shown as the chat
mode showed it, and a barge-in (the client's ``conversation.item.truncate``, or the console's
``barge_in`` meta note) stops playback and drops the cut response's late deltas, as live. HTTP
exchanges (``audio say|ask|chat``) render as turns too (``http_player``). Function and MCP calls
show as the live ``tool>`` / ``mcp>`` lines (``call_lines``: from the log; nothing is run).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard

from realtime_console.dispatcher import Dispatcher
from realtime_console.eventlog import LogRecord, audio_byte_count
from realtime_console.handlers import AudioSink, ConsoleHandlers
from realtime_console.protocol import pcm
from realtime_console.protocol.turns import heard_text
from realtime_console.replay.bad_audio import BadAudio
from realtime_console.replay.call_lines import CallLines, LoggedCalls
from realtime_console.replay.event_lines import TypeFilter, format_line
from realtime_console.replay.http_player import HttpPlayer
from realtime_console.replay.summary import user_text_of
from realtime_console.ui.view import ConsoleView

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback


CUT_NEEDLES = ('"conversation.item.truncate"', '"barge_in"')  # for ``eventlog.scan_log``


@dataclass(frozen=True)
class CutMark:
    """A barge-in as recorded: the audio heard of the item, and (from the console's
    ``barge_in`` note) the audio received of the reply when it was cut and how long the reply
    went on after the user began speaking (``onset_to_silence_ms``)."""

    audio_end_ms: float
    received_ms: float | None = None
    talked_over_ms: float | None = None

    @classmethod
    def of_note(cls, note: Mapping[str, Any], audio_end_ms: float) -> CutMark:
        """The mark a ``barge_in`` note gives (its figures that are numbers)."""
        received, over = note.get("received_ms"), note.get("onset_to_silence_ms")
        return cls(
            audio_end_ms,
            float(received) if _is_number(received) else None,
            float(over) if _is_number(over) else None,
        )


def collect_cut_marks(records: Iterable[LogRecord]) -> dict[str, CutMark]:
    """item_id → its cut. The client's truncate is authoritative for ``audio_end_ms``."""
    truncated: dict[str, float] = {}
    noted: dict[str, CutMark] = {}
    for record in records:
        event = record.event
        item_id, end = event.get("item_id"), event.get("audio_end_ms")
        if not isinstance(item_id, str) or not _is_number(end):
            continue
        kind = (record.dir, event.get("type"))
        if kind == ("client", "conversation.item.truncate"):
            truncated[item_id] = float(end)
        elif kind == ("meta", "barge_in"):
            noted[item_id] = CutMark.of_note(event, float(end))
    marks = dict(noted)
    for item_id, end in truncated.items():
        note = noted.get(item_id)
        marks[item_id] = CutMark(end) if note is None else replace(note, audio_end_ms=end)
    return marks


def _is_number(value: object) -> TypeGuard[float]:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


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
        cuts: Mapping[str, CutMark] | None = None,
        calls: LoggedCalls | None = None,
    ) -> None:
        self.view = view
        # The log's barge-ins, read ahead: live, the cut was shown the moment the user spoke,
        # but the server's response.done (cancelled) is often recorded before the truncate.
        self._cuts: Mapping[str, CutMark] = cuts or {}
        self._shown_cuts: set[str] = set()
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
        # What a barge-in needs to show the cut as live did: each response's transcript so far
        # and the audio received of it (bounded: the latest few responses only).
        self._transcripts: dict[str, list[str]] = {}
        self._audio_bytes: dict[str, int] = {}
        self._client: Mapping[str, Callable[[Mapping[str, Any]], None]] = {
            "conversation.item.create": self._user_item,
            "conversation.item.truncate": self._cut,
        }
        self._meta: Mapping[str, Callable[[Mapping[str, Any]], None]] = {"barge_in": self._cut}
        self._http = HttpPlayer(view, playback, self.bad_audio)  # audio say|ask|chat exchanges
        # The calls' lines, after the handlers had each event (live, the console's handlers
        # come first, so a reply's line is ended before a call's line is shown).
        self.calls = CallLines(view, calls)

    def finish(self) -> None:
        """The log ended (or the window did): lines still owed are shown."""
        self.calls.finish()

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
            if isinstance(response_id, str):
                self._track(event_type, response_id, event)
            if event_type == "response.done":
                self._cut_before_done(event.get("response"))
            await self.dispatcher.dispatch(event)
            self.calls.feed(record)
            return
        if self._http.feed(record):
            return
        table = {"client": self._client, "meta": self._meta}.get(record.dir, {})
        react = table.get(event_type)
        if react is not None:
            react(event)
        self.calls.feed(record)

    def _user_item(self, event: Mapping[str, Any]) -> None:
        item = event.get("item")
        if isinstance(item, Mapping) and item.get("role") == "user":
            text = user_text_of(item)
            if text:
                self.view.user_text(text)

    def _track(self, event_type: str, response_id: str, event: Mapping[str, Any]) -> None:
        if event_type == "response.output_audio_transcript.delta":
            self._transcripts.setdefault(response_id, []).append(str(event.get("delta") or ""))
        elif event_type == "response.output_audio.delta":
            self._audio_bytes[response_id] = self._audio_bytes.get(
                response_id, 0
            ) + audio_byte_count(event)
        else:
            return
        for table in (self._transcripts, self._audio_bytes):
            while len(table) > _TRACKED_RESPONSES:
                del table[next(iter(table))]  # the oldest response

    def _cut(self, event: Mapping[str, Any]) -> None:
        response_id = event.get("response_id")
        if not isinstance(response_id, str):
            response_id = self._response_of_item.get(str(event.get("item_id", "")))
        if response_id is None or response_id in self.handlers.dropped_responses:
            return
        self.handlers.dropped_responses.add(response_id)
        if self.playback is not None:
            self.playback.speaker.interrupt()
        self._show_cut(response_id, event)

    def _cut_before_done(self, response: object) -> None:
        """A response that ends with a recorded cut shows the cut, as live did, not a bare
        ``[cancelled]``; playback still stops where the cut is in the log."""
        if not isinstance(response, Mapping) or not isinstance(response.get("id"), str):
            return
        response_id = response["id"]
        items = [item for item, owner in self._response_of_item.items() if owner == response_id]
        for item_id in items:
            mark = self._cuts.get(item_id)
            if mark is not None:
                self._show_cut(response_id, mark)
                return

    def _show_cut(self, response_id: str, mark: CutMark | Mapping[str, Any]) -> None:
        """Show the cut as the live view did: the transcript heard up to ``audio_end_ms``, by the
        same estimate (``heard_text``), against the audio received when it was cut (the
        ``barge_in`` note's figure; without one, what the log holds so far)."""
        show = getattr(self.view, "assistant_cut", None)
        if not callable(show) or response_id in self._shown_cuts:
            return
        if isinstance(mark, Mapping):
            item_mark = self._cuts.get(str(mark.get("item_id", "")))
            if item_mark is None:
                end = mark.get("audio_end_ms")
                if not _is_number(end):
                    return
                item_mark = CutMark.of_note(mark, float(end))
            mark = item_mark
        received_ms = mark.received_ms
        if received_ms is None:
            received_ms = pcm.bytes_to_ms(self._audio_bytes.get(response_id, 0))
        self._shown_cuts.add(response_id)
        transcript = "".join(self._transcripts.get(response_id, ()))
        heard = heard_text(transcript, mark.audio_end_ms, received_ms)
        show(response_id, heard, int(mark.audio_end_ms), mark.talked_over_ms)


_TRACKED_RESPONSES = 8  # a barge-in cuts the response playing: one of the latest
