"""The console's reactions to server events, as one table for the dispatcher.

Handlers never know whether an event came from a live socket or a replayed log. Audio goes to
any number of sinks (speaker, WAV recorder); text goes to the view.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Protocol

from realtime_console.dispatcher import Event, Handler
from realtime_console.protocol import known_errors, pcm, rate_limits
from realtime_console.recent import RecentCounter
from realtime_console.ui.view import ConsoleView, ServerUpdatesView

log = logging.getLogger(__name__)

_KEPT_IDS = 100  # response and event ids remembered at once: the server chooses them


class AudioSink(Protocol):
    def audio(self, response_id: str, item_id: str, pcm16: bytes) -> None: ...

    def response_done(self, response_id: str) -> None: ...


def _str(event: Event, key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


BadAudioReporter = Callable[[Event, pcm.PcmError], None]


class ConsoleHandlers:
    def __init__(
        self,
        view: ConsoleView,
        sinks: Sequence[AudioSink] = (),
        *,
        on_bad_audio: BadAudioReporter | None = None,
    ) -> None:
        self.view = view
        self.sinks = list(sinks)
        # An audio delta that is not base64 PCM16 is skipped, never raised: by default the view
        # hears of it once per response; replay counts them instead and says so at the end.
        self._on_bad_audio = on_bad_audio or self._notice_bad_audio
        self._bad_audio_responses: dict[str, None] = {}  # told once each, bounded
        self.dropped_responses: set[str] = set()  # cancelled locally: late deltas are ignored
        # Per response, for the most recent ones: the server chooses response ids.
        self.audio_bytes: dict[str, int] = RecentCounter(limit=_KEPT_IDS)
        self.last_usage: Mapping[str, Any] | None = None
        # Responses whose text the view shows and that are not done: an unfinished one has a
        # line to close. Insertion-ordered, bounded: the oldest go first.
        self._showing: dict[str, None] = {}
        # Client events sent on a best-effort basis (a cancel of a reply that may be over):
        # the error answering one is expected, so it is logged but not shown.
        self._expected_errors: dict[str, None] = {}
        # Truncates sent after a barge-in: their refusal (nothing heard, the reply gone) is a
        # calm notice, not a server error the user would take for a failed reply.
        self._truncates: dict[str, None] = {}
        self._ended: dict[str, None] = {}  # ended by end_unfinished: a late done adds nothing
        # Per response, the text shown so far per content part (item id, content index), in
        # order: a part's ``…done`` text is compared with it. Bounded like ``_showing``.
        self._parts: dict[str, dict[tuple[str, int], str]] = {}
        self.rate_limits: list[rate_limits.RateLimit] = []  # the latest rate_limits.updated

    @property
    def _updates(self) -> ServerUpdatesView | None:
        """The views of ours show rate limits and final texts; an older ConsoleView does not."""
        return self.view if isinstance(self.view, ServerUpdatesView) else None

    def table(self) -> dict[str, Handler]:
        return {
            "session.created": self.session_created,
            "session.updated": self.ignore,
            "error": self.error,
            "response.output_audio.delta": self.audio_delta,
            "response.output_audio_transcript.delta": self.text_delta,
            "response.output_text.delta": self.text_delta,
            "response.output_audio_transcript.done": self.text_done,
            "response.output_text.done": self.text_done,
            "response.done": self.response_done,
            "rate_limits.updated": self.rate_limits_updated,
            "conversation.item.input_audio_transcription.delta": self.user_transcript_delta,
            "conversation.item.input_audio_transcription.completed": self.user_transcript_done,
            "conversation.item.input_audio_transcription.failed": self.user_transcript_failed,
            # Known and deliberately quiet: the lifecycle around the deltas above.
            **{
                name: self.ignore
                for name in (
                    "conversation.created",
                    "conversation.item.added",
                    "conversation.item.created",
                    "conversation.item.done",
                    "response.created",
                    "response.output_item.added",
                    "response.output_item.done",
                    "response.content_part.added",
                    "response.content_part.done",
                    "response.output_audio.done",
                    "input_audio_buffer.committed",
                    "input_audio_buffer.cleared",
                )
            },
        }

    def ignore(self, event: Event) -> None:
        return None

    def session_created(self, event: Event) -> None:
        session = event.get("session")
        session = session if isinstance(session, Mapping) else {}
        self.view.session_started(str(session.get("id", "?")), str(session.get("model", "?")))

    def expect_error(self, event_id: str) -> None:
        """An error answering client event ``event_id`` is expected: log it, do not show it."""
        _remember(self._expected_errors, event_id)

    def expect_truncate(self, event_id: str) -> None:
        """``conversation.item.truncate`` ``event_id`` was sent after a barge-in: an error
        answering it is told as a calm notice (the reply stays as the server has it)."""
        _remember(self._truncates, event_id)

    def error(self, event: Event) -> None:
        error = event.get("error")
        error = error if isinstance(error, Mapping) else {}
        caused_by = error.get("event_id")
        caused_by = caused_by if isinstance(caused_by, str) else None
        if caused_by is not None and caused_by in self._expected_errors:
            del self._expected_errors[caused_by]
            log.debug("expected error for %s: %s", caused_by, error.get("message"))
            return
        calm = self._calm_notice(error, caused_by)
        if calm is not None:
            log.debug("server error, expected in normal use: %s", error.get("message"))
            self.view.notice(calm)
            return
        code = error.get("code") or error.get("type")
        self.view.server_error(
            str(code) if code else None,
            str(error.get("message") or "(no message)"),
            error.get("event_id") if isinstance(error.get("event_id"), str) else None,
        )

    def _calm_notice(self, error: Mapping[str, Any], caused_by: str | None) -> str | None:
        """The one status line for an error that is part of normal use, or None."""
        message = str(error.get("message") or "")
        if caused_by is not None and caused_by in self._truncates:
            del self._truncates[caused_by]
            return f"barge-in: the server kept the reply as it was ({message})"
        if caused_by is None and known_errors.is_truncate_past_end(error):
            # Named no event; the server cuts the reply at the end of its audio all the same.
            return f"barge-in: the server cut the reply at the end of its audio ({message})"
        if error.get("code") == known_errors.ACTIVE_RESPONSE:
            return "a reply is already in progress; the server did not start another"
        return None

    def audio_delta(self, event: Event) -> None:
        response_id = _str(event, "response_id")
        if response_id in self.dropped_responses:
            return
        try:
            data = pcm.decode_b64(_str(event, "delta"))
        except pcm.PcmError as exc:
            self._on_bad_audio(event, exc)
            return
        self.audio_bytes[response_id] = self.audio_bytes.get(response_id, 0) + len(data)
        for sink in self.sinks:
            sink.audio(response_id, _str(event, "item_id"), data)

    def _notice_bad_audio(self, event: Event, exc: pcm.PcmError) -> None:
        response_id = _str(event, "response_id")
        if response_id in self._bad_audio_responses:
            log.debug("skipped another bad audio delta of %r: %s", response_id, exc)
            return
        _remember(self._bad_audio_responses, response_id)
        self.view.notice(f"skipped audio of response {response_id or '?'} that is not PCM16: {exc}")

    def text_delta(self, event: Event) -> None:
        response_id = _str(event, "response_id")
        if response_id not in self.dropped_responses:
            _remember(self._showing, response_id)
            delta = _str(event, "delta")
            parts = self._parts_of(response_id)
            key = _part_key(event)
            parts[key] = parts.get(key, "") + delta
            self.view.assistant_delta(response_id, delta)

    def _parts_of(self, response_id: str) -> dict[tuple[str, int], str]:
        parts = self._parts.get(response_id)
        if parts is None:
            parts = self._parts[response_id] = {}
            while len(self._parts) > _KEPT_IDS:
                del self._parts[next(iter(self._parts))]
        return parts

    def text_done(self, event: Event) -> None:
        """A part's final text: when it is not what the deltas said (a server may correct or
        complete it), the view is given the response's whole text with this part replaced."""
        response_id = _str(event, "response_id")
        updates = self._updates
        if response_id in self.dropped_responses or updates is None:
            return  # a cut or abandoned reply stays as it was shown
        final = _str(event, "transcript") or _str(event, "text")
        parts = self._parts_of(response_id)
        key = _part_key(event)
        if parts.get(key, "") == final:
            return
        parts[key] = final
        updates.assistant_final(response_id, "".join(parts.values()))

    def rate_limits_updated(self, event: Event) -> None:
        limits = rate_limits.parse(event)
        if not limits:
            return
        self.rate_limits = limits
        updates = self._updates
        if updates is not None:
            updates.rate_limits(limits)

    def response_done(self, event: Event) -> None:
        response = event.get("response")
        response = response if isinstance(response, Mapping) else {}
        response_id = str(response.get("id", ""))
        if response_id in self._ended:
            del self._ended[response_id]  # e.g. the answer to the cancel of an abandoned reply
            return
        usage = response.get("usage")
        if isinstance(usage, Mapping):
            self.last_usage = usage
        self._showing.pop(response_id, None)
        self._parts.pop(response_id, None)
        for sink in self.sinks:
            sink.response_done(response_id)
        self.view.assistant_done(response_id, str(response.get("status", "completed")))

    def end_unfinished(self, response_id: str) -> None:
        """End a response whose ``response.done`` will not come (its connection dropped, or the
        watchdog gave up on it): late deltas are ignored, sinks finish what they received, and a
        line the view showed closes as ``incomplete``. A reply that showed no text has no line,
        so the view hears nothing: whoever ended it says why, once."""
        self.dropped_responses.add(response_id)
        _remember(self._ended, response_id)
        self._parts.pop(response_id, None)
        for sink in self.sinks:
            sink.response_done(response_id)
        if response_id in self._showing:
            del self._showing[response_id]
            self.view.assistant_done(response_id, "incomplete")

    def user_transcript_delta(self, event: Event) -> None:
        self.view.user_transcript(_str(event, "item_id"), _str(event, "delta"), final=False)

    def user_transcript_done(self, event: Event) -> None:
        self.view.user_transcript(_str(event, "item_id"), _str(event, "transcript"), final=True)

    def user_transcript_failed(self, event: Event) -> None:
        """No transcript will come: say so where it would have been. It is the final transcript
        of the item, so a view holding the reply until the user's words are shown lets go."""
        error = event.get("error")
        message = error.get("message") if isinstance(error, Mapping) else None
        text = f"[transcription failed: {message or 'no reason given'}]"
        self.view.user_transcript(_str(event, "item_id"), text, final=True)


def _part_key(event: Event) -> tuple[str, int]:
    index = event.get("content_index")
    return _str(event, "item_id"), index if isinstance(index, int) else 0


def _remember(ids: dict[str, None], key: str) -> None:
    """Add ``key`` to an insertion-ordered set of at most ``_KEPT_IDS`` keys."""
    ids[key] = None
    while len(ids) > _KEPT_IDS:
        del ids[next(iter(ids))]
