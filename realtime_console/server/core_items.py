"""Conversation items: ``conversation.item.create / delete / retrieve / truncate``."""

from __future__ import annotations

import copy
import logging

from realtime_console.protocol.pcm import b64_decoded_len, bytes_to_ms
from realtime_console.server.core_state import CoreState, JsonObject
from realtime_console.server.mcp_tools import check_approval_response
from realtime_console.server.service_errors import ServiceError, invalid_value, out_of_range
from realtime_console.server.tool_reply import check_call_output

log = logging.getLogger(__name__)

# The item types the SDK gives ``object`` and ``status`` (MCP items have neither).
_ITEMS_WITH_STATUS = ("message", "function_call", "function_call_output")


class ItemHandlers(CoreState):
    def _on_item_create(self, event: JsonObject, now: float) -> None:
        item = copy.deepcopy(event["item"])
        check_call_output(item, self.conversation.items())  # an answer to no call is refused
        check_approval_response(item, self.conversation.items())  # likewise for MCP approvals
        item.setdefault("id", self._ids.new("item"))
        if item["type"] in _ITEMS_WITH_STATUS:
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
        if self._active is not None and item_id in self._active.stream.item_ids:
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


def _not_model_audio(param: str) -> ServiceError:
    """The service's answer to a truncate of anything but a reply's audio (0 ms included)."""
    return ServiceError(
        "unsupported_content_type", "Only model output audio messages can be truncated", param=param
    )
