"""Replays the HTTP exchanges of ``audio say|ask|chat`` as turns of the conversation.

Each exchange renders as the chat showed it: ``you> <last user text> [audio 2.4 s]`` for the
request (once, not per retry), ``assistant> <transcript>`` streamed chunk by chunk (or the whole
reply's), each failed attempt as one line on stderr. The exchange ends at its response (a whole
reply) or at its ``completion`` meta line (a stream; ``[failed]`` when it failed part-way).
With a playback device, the reply audio plays (``http_audio``: what the WAV renders).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from realtime_console.eventlog import LogRecord
from realtime_console.protocol.pcm import PcmError
from realtime_console.replay import http_shapes as shapes
from realtime_console.replay.bad_audio import BadAudio
from realtime_console.replay.http_audio import HttpAudio
from realtime_console.ui.view import ConsoleView

if TYPE_CHECKING:
    from realtime_console.audio.playback import Playback


class HttpPlayer:
    def __init__(
        self, view: ConsoleView, playback: Playback | None = None, bad_audio: BadAudio | None = None
    ) -> None:
        self.view = view
        self.playback = playback
        self._audio = HttpAudio()
        self.bad_audio = bad_audio if bad_audio is not None else BadAudio()
        self._asked: set[str] = set()  # requests whose you> line is shown
        self._spoken: set[str] = set()  # requests with assistant text shown
        self._ended: set[str] = set()
        self._table: Mapping[tuple[str, str], Callable[[Mapping[str, Any]], None]] = {
            ("http", shapes.REQUEST): self._request,
            ("http", shapes.CHUNK): self._chunk,
            ("http", shapes.RESPONSE): self._response,
            ("http", shapes.ERROR): self._error,
            ("meta", shapes.COMPLETION): self._completion,
        }

    def feed(self, record: LogRecord) -> bool:
        """Render the record if it belongs to an HTTP exchange; False if it does not."""
        react = self._table.get((record.dir, str(record.event.get("type", ""))))
        if react is None:
            return False
        if self.playback is not None:
            self._play(record)
        react(record.event)
        return True

    def _play(self, record: LogRecord) -> None:
        assert self.playback is not None
        try:
            piece = self._audio.feed(record)
        except PcmError:
            self.bad_audio.add(record.line)
            return
        if piece is not None and piece.pcm:
            self.playback.audio(piece.request_id, piece.request_id, piece.pcm)

    def _request(self, event: Mapping[str, Any]) -> None:
        request_id = shapes.request_id(event)
        if request_id in self._asked:
            return  # a retry of a request already shown
        self._asked.add(request_id)
        line = shapes.user_line(event)
        if line:
            self.view.user_text(line)

    def _say(self, request_id: str, text: str) -> None:
        if text:
            self.view.assistant_delta(request_id, text)
            self._spoken.add(request_id)

    def _end(self, request_id: str, status: str) -> None:
        if request_id in self._ended:
            return
        self._ended.add(request_id)
        if self.playback is not None:
            self.playback.response_done(request_id)
        if request_id in self._spoken:
            self.view.assistant_done(request_id, status)
        # A failure with nothing said was already told by its error lines.

    def _chunk(self, event: Mapping[str, Any]) -> None:
        self._say(shapes.request_id(event), shapes.spoken_text(shapes.chunk_delta(event)))

    def _response(self, event: Mapping[str, Any]) -> None:
        request_id = shapes.request_id(event)
        self._say(request_id, shapes.spoken_text(shapes.reply_message(event)))
        self._end(request_id, "completed")

    def _error(self, event: Mapping[str, Any]) -> None:
        self.view.notice(shapes.error_line(event))

    def _completion(self, event: Mapping[str, Any]) -> None:
        request_id = shapes.request_id(event)
        status = str(event.get("status") or "completed")
        transcript = event.get("transcript")
        if request_id not in self._spoken and request_id not in self._ended:
            # A log without the reply's text lines (written by an older console): the meta line
            # still has the transcript.
            self._say(request_id, transcript if isinstance(transcript, str) else "")
        self._end(request_id, status)
