"""The state one Realtime session keeps, shared by the parts of ``SessionCore``.

``SessionCore`` is put together from one mixin per job (``core_items``: conversation items,
``core_input``: the input audio buffer, VAD and transcription, ``core_responses``: responses);
each reads and changes the state declared here and emits through ``_emit``.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from realtime_console.server.audio_buffer import InputAudioBuffer
from realtime_console.server.conversation import MAX_CONTEXT_BYTES, Conversation
from realtime_console.server.ids import IdFactory
from realtime_console.server.mcp_client import McpJob
from realtime_console.server.mcp_tools import McpListing
from realtime_console.server.response import Pacing, ResponseStream
from realtime_console.server.session_config import SESSION_LIFETIME_S, default_session
from realtime_console.server.vad import VoiceActivityDetector
from realtime_console.server.voice import SpeechSynthesizer, SyntheticVoice

JsonObject = dict[str, Any]


@dataclass
class ActiveResponse:
    stream: ResponseStream
    input_text: str  # what the response "read", for usage
    input_audio_ms: float


class CoreState:
    """Everything one session holds; no I/O, no clock of its own."""

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
        self._active: ActiveResponse | None = None
        self._audio_ms: dict[str, float] = {}  # item id → audio duration, for usage and truncate
        self._assistant_audio_present = False  # fixes the voice, as on the service
        self._vad: VoiceActivityDetector | None = None
        self._speech_item_id: str | None = None  # the user item the current utterance becomes
        self._idle_since: int | None = None  # input clock when the last response finished
        self._jobs: list[McpJob] = []  # MCP work for the adapter (core_mcp)
        self._mcp_listings: dict[str, McpListing] = {}  # server label → its listed tools

    def _emit_item_added_and_done(self, item: JsonObject, previous: str | None) -> None:
        # The GA service answers with added then done; conversation.item.created is sent only
        # for items made from committed input audio (see InputAudioHandlers._commit_audio).
        for kind in ("conversation.item.added", "conversation.item.done"):
            self._emit({"type": kind, "previous_item_id": previous, "item": copy.deepcopy(item)})

    def _emit(self, payload: Mapping[str, Any]) -> None:
        event: JsonObject = {"type": payload["type"], "event_id": self._ids.new("event")}
        event.update(payload)
        self._outbox.append(event)
