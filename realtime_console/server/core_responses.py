"""Responses: ``response.create`` / ``response.cancel``, pacing their deltas, closing them.

A response is planned whole when it starts (``response.plan_*``): an assistant message and,
when the "model" decides to call tools (``tool_calls``), one ``function_call`` item per call
after it. The plan's events go out through ``_emit_from_stream``, which keeps the conversation
in step with them: an item enters it with its ``conversation.item.added`` and takes its final
form with its ``conversation.item.done``.
"""

from __future__ import annotations

import copy
from collections import deque
from collections.abc import Mapping
from typing import Any

from realtime_console.server import reply
from realtime_console.server.call_output import CallOutput
from realtime_console.server.core_state import ActiveResponse, CoreState, JsonObject
from realtime_console.server.mcp_tools import McpCallPlan, refusal_reply
from realtime_console.server.response import (
    CancelReason,
    ResponseSpec,
    ResponseStream,
    Status,
    plan_audio,
    plan_text,
)
from realtime_console.server.service_errors import ServiceError
from realtime_console.server.session_config import (
    check_response,
    get_path,
    output_speed,
    output_voice,
)
from realtime_console.server.tool_calls import PlannedCall, plan_calls
from realtime_console.server.tool_reply import filler_text
from realtime_console.server.usage import item_text, rate_limits, usage


class ResponseHandlers(CoreState):
    def handle_timer(self, now: float) -> None:
        """Release the active response's deltas that are due; close it after the last one."""
        if self._active is None:
            return
        for delta in self._active.stream.pop_due(now):
            self._emit_from_stream(delta)
        if self._active.stream.finished:
            self._finish_response("completed")

    def next_deadline(self) -> float | None:
        return self._active.stream.next_due() if self._active is not None else None

    @property
    def active_response_id(self) -> str | None:
        return self._active.stream.spec.response_id if self._active is not None else None

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
        in_conversation = params.get("conversation") != "none"
        context = params["input"] if "input" in params else self.conversation.items()
        choice = params["tool_choice"] if "tool_choice" in params else self.session["tool_choice"]
        calls = plan_calls(params.get("tools", self.session.get("tools")), choice, context)
        mcp = None if calls else self._plan_mcp(choice, context)
        if in_conversation:  # room for the message and its calls, before any state changes
            self.conversation.ensure_room(extra=len(calls) + (mcp is not None))
        voice = get_path(params, ("audio", "output", "voice"))
        spec = ResponseSpec(
            response_id=self._ids.new("resp"),
            item_id=self._ids.new("item"),
            modality=(params.get("output_modalities") or self.session["output_modalities"])[0],
            voice=voice if isinstance(voice, str) else output_voice(self.session),
            conversation_id=self.conversation_id if in_conversation else None,
            max_output_tokens=params.get("max_output_tokens") or self.session["max_output_tokens"],
            metadata=params.get("metadata"),
            message_index=1 if mcp is not None and mcp.makes_call else 0,
        )
        instructions = params.get("instructions") or self.session.get("instructions") or ""
        self._active = ActiveResponse(
            stream=ResponseStream(spec, deque(), with_message=False, waiting=True),
            input_text=instructions + "".join(item_text(item) for item in context),
            input_audio_ms=sum(self._audio_ms.get(str(item.get("id")), 0.0) for item in context),
        )
        if mcp is not None and not mcp.refused:
            self._begin_mcp_response(mcp, now)  # the message follows the MCP server's answer
            return
        text = (
            filler_text(calls)
            if calls
            else refusal_reply(mcp.name)
            if mcp is not None
            else reply.reply_text(context)
        )
        stream = self._plan_message(spec, text, now)
        stream.add_calls(self._call_outputs(calls), self._pacing, now)
        self._start_stream(stream, now, created=True)

    def _plan_message(self, spec: ResponseSpec, text: str, now: float) -> ResponseStream:
        """The assistant message saying ``text``, in the response's modality, paced."""
        if spec.modality != "audio":
            return plan_text(spec, text, self._pacing, now)
        speech = self._synthesizer.synthesize(
            text, voice=spec.voice, speed=output_speed(self.session)
        )
        self._assistant_audio_present = True
        return plan_audio(spec, text, speech, self._pacing, now)

    def _start_stream(self, stream: ResponseStream, now: float, *, created: bool) -> None:
        """Make ``stream`` the active response's plan and send its opening events."""
        assert self._active is not None
        stream.leading = self._active.stream.leading  # items already sent (an MCP call)
        self._active.stream = stream
        for opening in stream.opening_events(None, created=created):
            self._emit_from_stream(opening)
        self.handle_timer(now)  # with no pacing, the whole response is due already

    def _plan_mcp(self, tool_choice: object, context: list[JsonObject]) -> McpCallPlan | None:
        """The MCP call a response makes: ``core_mcp`` decides; without it, none."""
        return None

    def _begin_mcp_response(self, plan: McpCallPlan, now: float) -> None:
        raise NotImplementedError  # core_mcp.McpHandlers: only reached when _plan_mcp planned

    def _call_outputs(self, calls: list[PlannedCall]) -> list[CallOutput]:
        return [
            CallOutput(
                item_id=self._ids.new("item"),
                call_id=self._ids.new("call"),
                name=call.name,
                arguments=call.arguments,
                output_index=index,
            )
            for index, call in enumerate(calls, start=1)  # 0 is the assistant message
        ]

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
        spent = usage(
            input_text=active.input_text,
            input_audio_ms=active.input_audio_ms,
            output_text=stream.text_so_far + stream.arguments_so_far,
            output_audio_ms=stream.audio_ms_so_far,
        )
        if self.conversation.get(spec.item_id) is not None:
            self._audio_ms[spec.item_id] = stream.audio_ms_so_far
        for event in stream.closing_events(status, spent, None, reason):
            self._emit_from_stream(event)
        self._emit({"type": "rate_limits.updated", "rate_limits": rate_limits(spent)})
        self._idle_since = self.input_audio.end_sample  # idle_timeout_ms counts from here

    def _emit_from_stream(self, event: JsonObject) -> None:
        """Emit a planned event, keeping the conversation in step with its item events.

        The server's own items are counted against the context but never refused (the room
        was checked when the response started), so a turn cannot break halfway."""
        kind = event["type"]
        if kind in ("conversation.item.added", "conversation.item.done"):
            item = event["item"]
            if kind == "conversation.item.added" and self.conversation.get(item["id"]) is None:
                after = event.get("previous_item_id")
                if after is not None and self.conversation.get(after) is None:
                    after = None  # deleted meanwhile: append
                try:
                    event["previous_item_id"] = self.conversation.add(
                        copy.deepcopy(item), after, limit_bytes=False
                    )
                except ServiceError:  # the client filled the conversation meanwhile
                    event["previous_item_id"] = None
            elif self.conversation.get(item["id"]) is not None:
                if kind == "conversation.item.done":
                    self.conversation.replace(copy.deepcopy(item))
                event["previous_item_id"] = self.conversation.previous_id(item["id"])
            else:
                event["previous_item_id"] = None  # the client deleted it meanwhile
        self._emit(event)
