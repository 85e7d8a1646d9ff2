"""One connection's protocol state machine, without I/O (the ``websockets``/``aioquic`` pattern).

The adapter feeds it frames and clock readings and sends what it produces::

    core = SessionCore(model="gpt-realtime")          # queues session.created
    core.receive_frame(text, now)                     # a client frame arrived at ``now``
    core.handle_timer(now)                            # the deadline it asked for has passed
    core.next_deadline()                              # when to call handle_timer next, or None
    core.events_to_send()                             # drain: server events as plain dicts

``now`` is any monotonic clock in seconds (the adapter uses the event loop's). Each call does all
its work synchronously, so the adapter needs no locks; every emitted event gets a fresh
``event_id``. Bad client events become ``error`` events and never end the connection.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pydantic
from openai.types.realtime import (
    ConversationItemCreateEvent,
    ConversationItemDeleteEvent,
    ConversationItemRetrieveEvent,
    ConversationItemTruncateEvent,
    InputAudioBufferAppendEvent,
    InputAudioBufferClearEvent,
    InputAudioBufferCommitEvent,
    OutputAudioBufferClearEvent,
    ResponseCancelEvent,
    ResponseCreateEvent,
    SessionUpdateEvent,
)

from realtime_console.protocol.pcm import b64_decoded_len, bytes_to_ms, ms_to_samples
from realtime_console.server import reply, transcription
from realtime_console.server.audio_buffer import InputAudioBuffer
from realtime_console.server.conversation import MAX_CONTEXT_BYTES, Conversation
from realtime_console.server.ids import IdFactory
from realtime_console.server.response import (
    CancelReason,
    Pacing,
    ResponseSpec,
    ResponseStream,
    Status,
    plan_audio,
    plan_text,
)
from realtime_console.server.service_errors import ServiceError, invalid_value, out_of_range
from realtime_console.server.session_config import (
    SESSION_LIFETIME_S,
    check_response,
    check_session_update,
    default_session,
    get_path,
    merge_session,
    output_speed,
    output_voice,
)
from realtime_console.server.usage import item_text, rate_limits, usage
from realtime_console.server.vad import (
    SpeechStarted,
    VadEvent,
    VadSettings,
    VoiceActivityDetector,
    sample_ms,
)
from realtime_console.server.validation import (
    client_event_id,
    event_type,
    parse_frame,
    screen_values,
    validate_event,
)
from realtime_console.server.voice import SpeechSynthesizer, SyntheticVoice

JsonObject = dict[str, Any]

log = logging.getLogger(__name__)


@dataclass
class _ActiveResponse:
    stream: ResponseStream
    input_text: str  # what the response "read", for usage
    input_audio_ms: float


class SessionCore:
    """The server side of one Realtime session."""

    def __init__(
        self,
        *,
        model: str,
        pacing: Pacing | None = None,
        synthesizer: SpeechSynthesizer | None = None,
        ids: IdFactory | None = None,
        wall_time: float | None = None,
        max_context_bytes: int = MAX_CONTEXT_BYTES,
    ) -> None:
        self._ids = ids or IdFactory()
        self._pacing = pacing or Pacing()
        self._synthesizer: SpeechSynthesizer = synthesizer or SyntheticVoice()
        self._outbox: list[JsonObject] = []
        created = int(time.time() if wall_time is None else wall_time)
        self.session: JsonObject = default_session(
            session_id=self._ids.new("sess"),
            model=model,
            expires_at=created + SESSION_LIFETIME_S,
        )
        self.conversation = Conversation(max_bytes=max_context_bytes)
        self._context_full_logged = False
        self.conversation_id = self._ids.new("conv")
        self.input_audio = InputAudioBuffer()
        self._active: _ActiveResponse | None = None
        self._audio_ms: dict[str, float] = {}  # item id → audio duration, for usage and truncate
        self._assistant_audio_present = False  # fixes the voice, as on the service
        self._vad: VoiceActivityDetector | None = None
        self._speech_item_id: str | None = None  # the user item the current utterance becomes
        self._idle_since: int | None = None  # input clock when the last response finished
        self._configure_vad()
        self._emit({"type": "session.created", "session": copy.deepcopy(self.session)})

    # ---- the adapter's interface -------------------------------------------------------------

    def receive_frame(self, data: str | bytes, now: float) -> None:
        """Handle one client frame that arrived at ``now``."""
        self.handle_timer(now)  # anything already due goes out before the answer to this frame
        event: JsonObject | None = None
        try:
            event = parse_frame(data)
            screen_values(event)  # before anything copies, weighs or compares its values
            route = ROUTES[event_type(event, KNOWN_CLIENT_EVENTS)]
            validate_event(route.model, event)
            route.handle(self, event, now)
        except ServiceError as error:
            self._emit(error.to_event(client_event_id(event) if event is not None else None))

    def handle_timer(self, now: float) -> None:
        """Release the active response's deltas that are due; close it after the last one."""
        if self._active is None:
            return
        for delta in self._active.stream.pop_due(now):
            self._emit(delta)
        if self._active.stream.finished:
            self._finish_response("completed")

    def next_deadline(self) -> float | None:
        return self._active.stream.next_due() if self._active is not None else None

    def events_to_send(self) -> list[JsonObject]:
        events, self._outbox = self._outbox, []
        return events

    @property
    def active_response_id(self) -> str | None:
        return self._active.stream.spec.response_id if self._active is not None else None

    # ---- session --------------------------------------------------------------------------------

    def _on_session_update(self, event: JsonObject, now: float) -> None:
        update = event["session"]
        check_session_update(self.session, update, voice_locked=self._assistant_audio_present)
        self.session = merge_session(self.session, update)
        self._configure_vad()
        self._emit({"type": "session.updated", "session": copy.deepcopy(self.session)})

    def _configure_vad(self) -> None:
        settings = VadSettings.from_turn_detection(
            get_path(self.session, ("audio", "input", "turn_detection"))
        )
        if settings is None:
            self._vad = None  # manual commits; an utterance in progress is simply forgotten
            self._speech_item_id = None
        elif self._vad is None:
            self._vad = VoiceActivityDetector(settings, position=self.input_audio.end_sample)
        else:
            self._vad.reconfigure(settings)

    # ---- conversation items ---------------------------------------------------------------------

    def _on_item_create(self, event: JsonObject, now: float) -> None:
        item = copy.deepcopy(event["item"])
        item.setdefault("id", self._ids.new("item"))
        item.setdefault("object", "realtime.item")
        item.setdefault("status", "completed")
        try:
            previous = self.conversation.add(item, event.get("previous_item_id"))
        except ServiceError as error:
            if error.code == "context_length_exceeded" and not self._context_full_logged:
                self._context_full_logged = True  # once per session: the client may keep trying
                log.warning(
                    "local server: session %s holds %d bytes of conversation items "
                    "(max_context_bytes %d); refusing more",
                    self.session["id"],
                    self.conversation.total_bytes,
                    self.conversation.max_bytes,
                )
            raise
        audio = [p["audio"] for p in item.get("content") or () if isinstance(p.get("audio"), str)]
        if audio:
            self._audio_ms[item["id"]] = sum(bytes_to_ms(b64_decoded_len(a)) for a in audio)
        self._emit_item_added_and_done(item, previous)

    def _on_item_delete(self, event: JsonObject, now: float) -> None:
        self.conversation.delete(event["item_id"])
        self._audio_ms.pop(event["item_id"], None)
        self._emit({"type": "conversation.item.deleted", "item_id": event["item_id"]})

    def _on_item_retrieve(self, event: JsonObject, now: float) -> None:
        item = self.conversation.require(event["item_id"], "item_id")
        self._emit({"type": "conversation.item.retrieved", "item": copy.deepcopy(item)})

    def _on_item_truncate(self, event: JsonObject, now: float) -> None:
        """As on the service: only an assistant message's audio that has a length can be cut,
        and a cut past its end is answered by an ``error`` naming no client event *and then
        applied*, at the end of the audio (clients measure playback with their own clocks)."""
        item_id, index, end_ms = event["item_id"], event["content_index"], event["audio_end_ms"]
        item = self.conversation.require(item_id, "item_id")
        if self._active is not None and self._active.stream.spec.item_id == item_id:
            raise ServiceError(
                "invalid_value",
                "Cannot truncate an item while its response is in progress; cancel it first.",
                param="item_id",
            )
        content = item.get("content") or []
        if item.get("type") != "message" or item.get("role") != "assistant":
            raise _not_model_audio("item_id")
        if not 0 <= index < len(content):
            raise invalid_value("content_index", index)
        audio_ms = self._audio_ms.get(item_id, 0.0)
        if content[index].get("type") != "output_audio" or audio_ms < 1:  # no audio to cut
            raise _not_model_audio("content_index")
        if end_ms < 0:
            raise out_of_range("audio_end_ms", end_ms, 0, above=False)
        if end_ms == 0:
            raise _not_model_audio("audio_end_ms")
        if end_ms > audio_ms:
            whole_ms = int(audio_ms)  # rounded down: never past the end
            past_end = ServiceError(
                "invalid_value", f"Audio content of {whole_ms}ms is already shorter than {end_ms}ms"
            )
            self._emit(past_end.to_event(None))  # the service names no event here (event_id null)
            end_ms = whole_ms
        # The service drops the transcript so the context holds nothing the user did not hear.
        content[index]["transcript"] = ""
        self.conversation.resized(item_id)
        self._audio_ms[item_id] = float(end_ms)
        self._emit(
            {
                "type": "conversation.item.truncated",
                "item_id": item_id,
                "content_index": index,
                "audio_end_ms": end_ms,
            }
        )

    # ---- input audio buffer -----------------------------------------------------------------

    def _on_audio_append(self, event: JsonObject, now: float) -> None:
        pcm = self.input_audio.append(event["audio"])  # the service acknowledges nothing here
        vad = self._vad
        if vad is None:
            return
        for detected in vad.feed(pcm):
            self._on_vad_event(detected, now)
        self._check_idle_timeout(vad, now)
        if not vad.speaking:
            # Only the prefix padding before the next utterance can still be committed.
            padding = ms_to_samples(vad.settings.prefix_padding_ms)
            self.input_audio.discard_before(vad.position - padding)

    def _on_vad_event(self, detected: VadEvent, now: float) -> None:
        assert self._vad is not None
        settings = self._vad.settings
        if isinstance(detected, SpeechStarted):
            self._idle_since = None
            start = max(detected.start_sample, self.input_audio.start_sample)
            self.input_audio.discard_before(start)
            self._speech_item_id = self._ids.new("item")
            self._emit(
                {
                    "type": "input_audio_buffer.speech_started",
                    "audio_start_ms": sample_ms(start),
                    "item_id": self._speech_item_id,
                }
            )
            if settings.interrupt_response and self._active is not None:
                self._finish_response("cancelled", reason="turn_detected")
            return
        item_id = self._speech_item_id or self._ids.new("item")
        self._speech_item_id = None
        self._emit(
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": sample_ms(detected.end_sample),
                "item_id": item_id,
            }
        )
        self._commit_audio(self.input_audio.take_until(detected.end_sample), item_id)
        if settings.create_response and self._active is None:
            self._start_response({}, now)

    def _check_idle_timeout(self, vad: VoiceActivityDetector, now: float) -> None:
        """After a response, ``idle_timeout_ms`` of input without speech triggers one anyway."""
        timeout = vad.settings.idle_timeout_ms
        since = self._idle_since
        if timeout is None or since is None or vad.speaking or self._active is not None:
            return
        if vad.position - since < ms_to_samples(timeout):
            return
        self._idle_since = None
        item_id = self._ids.new("item")
        self._emit(
            {
                "type": "input_audio_buffer.timeout_triggered",
                "audio_start_ms": sample_ms(since),
                "audio_end_ms": sample_ms(vad.position),
                "item_id": item_id,
            }
        )
        self._commit_audio(self.input_audio.take_until(vad.position), item_id)
        self._start_response({}, now)

    def _on_audio_commit(self, event: JsonObject, now: float) -> None:
        audio = self.input_audio.commit()
        item_id = self._speech_item_id or self._ids.new("item")
        self._speech_item_id = None
        if self._vad is not None:
            self._vad.reset()  # the client took this utterance: no speech_stopped for it
        self._commit_audio(audio, item_id)

    def _commit_audio(self, audio: bytes, item_id: str) -> None:
        """The committed audio becomes a user message item (and a transcript, if configured)."""
        item: JsonObject = {
            "id": item_id,
            "object": "realtime.item",
            "type": "message",
            "status": "completed",
            "role": "user",
            "content": [{"type": "input_audio", "transcript": None}],
        }
        previous = self.conversation.add(item, limit_bytes=False)  # no audio in it: small
        self._audio_ms[item_id] = bytes_to_ms(len(audio))
        self._emit(
            {
                "type": "input_audio_buffer.committed",
                "previous_item_id": previous,
                "item_id": item_id,
            }
        )
        # The SDK documents conversation.item.created for committed audio; added/done follow.
        self._emit(
            {"type": "conversation.item.created", "previous_item_id": previous, "item": item}
        )
        self._emit_item_added_and_done(item, previous)
        if get_path(self.session, ("audio", "input", "transcription")):
            self._transcribe(item, audio)

    def _transcribe(self, item: JsonObject, audio: bytes) -> None:
        threshold = self._vad.settings.threshold if self._vad is not None else 0.5
        text = transcription.describe(audio, threshold)
        where = {"item_id": item["id"], "content_index": 0}
        for piece in transcription.pieces(text):
            self._emit(
                {
                    "type": "conversation.item.input_audio_transcription.delta",
                    **where,
                    "delta": piece,
                }
            )
        stored = self.conversation.get(item["id"])
        if stored is not None:
            stored["content"][0]["transcript"] = text  # what later replies quote
            self.conversation.resized(item["id"])
        self._emit(
            {
                "type": "conversation.item.input_audio_transcription.completed",
                **where,
                "transcript": text,
                "usage": {"type": "duration", "seconds": round(bytes_to_ms(len(audio)) / 1000, 3)},
            }
        )

    def _on_audio_clear(self, event: JsonObject, now: float) -> None:
        self.input_audio.clear()
        self._speech_item_id = None
        if self._vad is not None:
            self._vad.reset()
        self._emit({"type": "input_audio_buffer.cleared"})

    def _on_output_audio_clear(self, event: JsonObject, now: float) -> None:
        raise ServiceError(
            "invalid_value",
            "output_audio_buffer.clear is only supported on WebRTC and SIP connections; "
            "over WebSocket, send response.cancel.",
            param="type",
        )

    # ---- responses ----------------------------------------------------------------------------

    def _on_response_create(self, event: JsonObject, now: float) -> None:
        self._start_response(event.get("response") or {}, now)

    def _start_response(self, params: Mapping[str, Any], now: float) -> None:
        if self._active is not None:
            raise ServiceError(
                "conversation_already_has_active_response",
                "Conversation already has an active response in progress: "
                f"{self._active.stream.spec.response_id}. Wait until the response is finished "
                "before creating a new one.",
            )
        check_response(params)
        if params.get("conversation") != "none":
            self.conversation.ensure_room()  # before any state changes
        modality = (params.get("output_modalities") or self.session["output_modalities"])[0]
        voice = get_path(params, ("audio", "output", "voice"))
        in_conversation = params.get("conversation") != "none"
        context = params["input"] if "input" in params else self.conversation.items()
        spec = ResponseSpec(
            response_id=self._ids.new("resp"),
            item_id=self._ids.new("item"),
            modality=modality,
            voice=voice if isinstance(voice, str) else output_voice(self.session),
            conversation_id=self.conversation_id if in_conversation else None,
            max_output_tokens=params.get("max_output_tokens") or self.session["max_output_tokens"],
            metadata=params.get("metadata"),
        )
        text = reply.reply_text(context)
        if modality == "audio":
            speech = self._synthesizer.synthesize(
                text, voice=spec.voice, speed=output_speed(self.session)
            )
            stream = plan_audio(spec, text, speech, self._pacing, now)
            self._assistant_audio_present = True
        else:
            stream = plan_text(spec, text, self._pacing, now)
        instructions = params.get("instructions") or self.session.get("instructions") or ""
        self._active = _ActiveResponse(
            stream=stream,
            input_text=instructions + "".join(item_text(item) for item in context),
            input_audio_ms=sum(self._audio_ms.get(str(item.get("id")), 0.0) for item in context),
        )
        # Counted, never refused: the response has begun (its text is bounded by the reply).
        reply_item = stream.item("in_progress")
        previous = self.conversation.add(reply_item, limit_bytes=False) if in_conversation else None
        for opening in stream.opening_events(previous):
            self._emit(opening)
        self.handle_timer(now)  # with no pacing, the whole response is due already

    def _on_response_cancel(self, event: JsonObject, now: float) -> None:
        wanted = event.get("response_id")
        if self._active is None or wanted not in (None, self.active_response_id):
            raise ServiceError(
                "response_cancel_not_active", "Cancellation failed: no active response found."
            )
        self._finish_response("cancelled")

    def _finish_response(self, status: Status, reason: CancelReason = "client_cancelled") -> None:
        assert self._active is not None
        active, self._active = self._active, None
        stream = active.stream
        spec = stream.spec
        item_in_conversation = self.conversation.get(spec.item_id) is not None
        previous = self.conversation.previous_id(spec.item_id) if item_in_conversation else None
        spent = usage(
            input_text=active.input_text,
            input_audio_ms=active.input_audio_ms,
            output_text=stream.text_so_far,
            output_audio_ms=stream.audio_ms_so_far,
        )
        closing = stream.closing_events(status, spent, previous, reason)
        if item_in_conversation:
            self.conversation.replace(
                stream.item("completed" if status == "completed" else "incomplete")
            )
            self._audio_ms[spec.item_id] = stream.audio_ms_so_far
        for event in closing:
            self._emit(event)
        self._emit({"type": "rate_limits.updated", "rate_limits": rate_limits(spent)})
        self._idle_since = self.input_audio.end_sample  # idle_timeout_ms counts from here

    # ---- output -------------------------------------------------------------------------------

    def _emit_item_added_and_done(self, item: JsonObject, previous: str | None) -> None:
        # The GA service answers with added then done; conversation.item.created is sent only
        # for items made from committed input audio (see _commit_audio).
        for kind in ("conversation.item.added", "conversation.item.done"):
            self._emit({"type": kind, "previous_item_id": previous, "item": copy.deepcopy(item)})

    def _emit(self, payload: Mapping[str, Any]) -> None:
        event: JsonObject = {"type": payload["type"], "event_id": self._ids.new("event")}
        event.update(payload)
        self._outbox.append(event)


def _not_model_audio(param: str) -> ServiceError:
    """The service's answer to a truncate of anything but a reply's audio (0 ms included)."""
    return ServiceError(
        "unsupported_content_type", "Only model output audio messages can be truncated", param=param
    )


Handler = Callable[[SessionCore, JsonObject, float], None]


@dataclass(frozen=True)
class Route:
    model: type[pydantic.BaseModel]  # the SDK event model the frame must satisfy
    handle: Handler


# Client event type → how to check it and what to do; every GA client event the SDK knows.
ROUTES: dict[str, Route] = {
    "session.update": Route(SessionUpdateEvent, SessionCore._on_session_update),
    "conversation.item.create": Route(ConversationItemCreateEvent, SessionCore._on_item_create),
    "conversation.item.delete": Route(ConversationItemDeleteEvent, SessionCore._on_item_delete),
    "conversation.item.retrieve": Route(
        ConversationItemRetrieveEvent, SessionCore._on_item_retrieve
    ),
    "conversation.item.truncate": Route(
        ConversationItemTruncateEvent, SessionCore._on_item_truncate
    ),
    "input_audio_buffer.append": Route(InputAudioBufferAppendEvent, SessionCore._on_audio_append),
    "input_audio_buffer.commit": Route(InputAudioBufferCommitEvent, SessionCore._on_audio_commit),
    "input_audio_buffer.clear": Route(InputAudioBufferClearEvent, SessionCore._on_audio_clear),
    "output_audio_buffer.clear": Route(
        OutputAudioBufferClearEvent, SessionCore._on_output_audio_clear
    ),
    "response.create": Route(ResponseCreateEvent, SessionCore._on_response_create),
    "response.cancel": Route(ResponseCancelEvent, SessionCore._on_response_cancel),
}
KNOWN_CLIENT_EVENTS: tuple[str, ...] = tuple(ROUTES)
