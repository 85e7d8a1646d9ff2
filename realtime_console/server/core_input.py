"""The input audio buffer: appends, server VAD turns, commits, transcription, clear."""

from __future__ import annotations

from realtime_console.protocol.pcm import bytes_to_ms, ms_to_samples
from realtime_console.server import transcription
from realtime_console.server.core_mcp import McpHandlers
from realtime_console.server.core_state import JsonObject
from realtime_console.server.service_errors import ServiceError
from realtime_console.server.session_config import get_path
from realtime_console.server.vad import (
    SpeechStarted,
    VadEvent,
    VadSettings,
    VoiceActivityDetector,
    sample_ms,
)


class InputAudioHandlers(McpHandlers):
    """Needs responses: a finished turn starts one, and speech can interrupt one."""

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
