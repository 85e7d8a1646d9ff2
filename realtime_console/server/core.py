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

The handlers live with their job: ``core_items`` (conversation items), ``core_input`` (input
audio, VAD, transcription), ``core_responses`` (responses and function calls), ``core_mcp`` (MCP
servers: its ``take_jobs``/``job_done`` are the adapter's interface for MCP I/O); their shared
state is ``core_state.CoreState``. This module holds the adapter's interface, ``session.update``
and the routing table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

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

from realtime_console.server.conversation import MAX_CONTEXT_BYTES
from realtime_console.server.core_input import InputAudioHandlers
from realtime_console.server.core_items import ItemHandlers
from realtime_console.server.core_state import JsonObject
from realtime_console.server.ids import IdFactory
from realtime_console.server.mcp_tools import echoed_session
from realtime_console.server.response import Pacing
from realtime_console.server.service_errors import ServiceError
from realtime_console.server.session_config import check_session_update, merge_session
from realtime_console.server.validation import (
    client_event_id,
    event_type,
    parse_frame,
    screen_values,
    validate_event,
)
from realtime_console.server.voice import SpeechSynthesizer


class SessionCore(InputAudioHandlers, ItemHandlers):
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
        super().__init__(
            model=model,
            pacing=pacing,
            synthesizer=synthesizer,
            ids=ids,
            wall_time=wall_time,
            max_context_bytes=max_context_bytes,
        )
        self._configure_vad()
        self._emit({"type": "session.created", "session": echoed_session(self.session)})

    # ---- the adapter's interface (with handle_timer, next_deadline: core_responses) -----------

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

    def events_to_send(self) -> list[JsonObject]:
        events, self._outbox = self._outbox, []
        return events

    # ---- session --------------------------------------------------------------------------------

    def _on_session_update(self, event: JsonObject, now: float) -> None:
        update = event["session"]
        check_session_update(self.session, update, voice_locked=self._assistant_audio_present)
        self.session = merge_session(self.session, update)
        self._configure_vad()
        self._emit({"type": "session.updated", "session": echoed_session(self.session)})
        self._sync_mcp_servers()  # lists the tools of new MCP servers (core_mcp)


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
