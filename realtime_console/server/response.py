"""One response: its opening events, its paced deltas, and its closing events.

Pure: the plan is computed up front as deltas stamped with the clock time at which each may be
sent. Audio is "generated" ``realtime_factor`` times faster than it plays, so a chunk is due when
its last sample would have been produced; the transcript piece for each word goes out just before
the audio chunk in which the word starts. Whoever owns the clock (the connection adapter) asks
for due deltas; cancelling simply stops asking and closes with what was already sent.

Event order, as the service sends it::

    response.created, response.output_item.added, conversation.item.added,
    response.content_part.added,
    (response.output_audio_transcript.delta, response.output_audio.delta)…   | output_text.delta…
    response.output_audio.done, response.output_audio_transcript.done       | output_text.done
    response.content_part.done, response.output_item.done, conversation.item.done, response.done,
    rate_limits.updated (sent by the core)

(``conversation.item.*`` only when the response writes to the conversation.) A response that
calls tools closes its message after the last delta and goes on with one ``function_call`` item
per call (``call_output``); ``response.done`` lists every output item.
"""

from __future__ import annotations

import math
import re
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from realtime_console.protocol.pcm import bytes_to_ms, encode_b64, ms_to_samples, samples_to_ms
from realtime_console.server.call_output import CallOutput
from realtime_console.server.session_config import PCM_FORMAT
from realtime_console.server.voice import Speech

Modality = Literal["audio", "text"]
DeltaKind = Literal["audio", "transcript", "text"]
# Planned steps: the message's deltas, then (with tool calls) closing it and each call's events.
StepKind = Literal[
    "audio", "transcript", "text", "message_done", "call_added", "call_args", "call_done"
]
Status = Literal["completed", "cancelled"]
CancelReason = Literal["client_cancelled", "turn_detected"]

_DELTA_EVENT: dict[DeltaKind, str] = {
    "audio": "response.output_audio.delta",
    "transcript": "response.output_audio_transcript.delta",
    "text": "response.output_text.delta",
}


@dataclass(frozen=True)
class Pacing:
    """How fast responses stream. ``realtime_factor`` = audio seconds sent per wall second."""

    realtime_factor: float = 4.0  # math.inf: no pacing at all
    chunk_ms: int = 200  # audio per delta (the tail chunk absorbs the remainder: < 2 × chunk_ms)
    text_piece_ms: float = 50.0  # "generation" time of one word of a text-only reply

    def delay_s(self, model_ms: float) -> float:
        """Wall-clock seconds for ``model_ms`` of generated output."""
        if math.isinf(self.realtime_factor):
            return 0.0
        return model_ms / 1000.0 / self.realtime_factor


@dataclass(frozen=True)
class ResponseSpec:
    """What was asked for: ids and the settings in effect for this response."""

    response_id: str
    item_id: str
    modality: Modality
    voice: str
    conversation_id: str | None  # None: out-of-band (``conversation: "none"``)
    max_output_tokens: int | str = "inf"
    metadata: Mapping[str, Any] | None = None
    message_index: int = 0  # the message's output_index (1 after an MCP call)

    @property
    def in_conversation(self) -> bool:
        return self.conversation_id is not None


@dataclass(frozen=True)
class PlannedDelta:
    due: float  # clock time at which it may be sent
    kind: StepKind
    payload: str  # base64 audio, or a piece of text (or of a call's arguments)
    audio_bytes: int = 0
    call: int = -1  # the index in ResponseStream.calls of a call step


@dataclass
class ResponseStream:
    """An active response and how much of it has been sent."""

    spec: ResponseSpec
    pending: deque[PlannedDelta]
    sent_text: list[str] = field(default_factory=list)
    sent_audio_bytes: int = 0
    calls: list[CallOutput] = field(default_factory=list)  # after the message, in call order
    message_status: Literal["in_progress", "completed", "incomplete"] = "in_progress"
    message_previous_id: str | None = None  # as announced when the message was added
    # Output items before the message, as they stand (an MCP call, an approval request).
    leading: list[dict[str, Any]] = field(default_factory=list)
    with_message: bool = True  # none while an MCP call runs, none for an approval request
    waiting: bool = False  # for an MCP server's answer: not finished, nothing due

    # Common fields of the per-part events.
    def _where(self) -> dict[str, Any]:
        return {
            "response_id": self.spec.response_id,
            "item_id": self.spec.item_id,
            "output_index": self.spec.message_index,
            "content_index": 0,
        }

    @property
    def text_so_far(self) -> str:
        return "".join(self.sent_text)

    @property
    def audio_ms_so_far(self) -> float:
        return bytes_to_ms(self.sent_audio_bytes)

    @property
    def arguments_so_far(self) -> str:
        return "".join(call.sent for call in self.calls)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return (self.spec.item_id, *(call.item_id for call in self.calls))

    @property
    def finished(self) -> bool:
        return not self.pending and not self.waiting

    def add_calls(self, calls: Sequence[CallOutput], pacing: Pacing, start: float) -> None:
        """Plan tool calls after the message: it closes with its last delta, then each call's
        arguments stream one piece per ``text_piece_ms`` of model time."""
        if not calls:
            return
        due = self.pending[-1].due if self.pending else start
        self.pending.append(PlannedDelta(due, "message_done", ""))
        for index, call in enumerate(calls, start=len(self.calls)):
            self.calls.append(call)
            self.pending.append(PlannedDelta(due, "call_added", "", call=index))
            for piece in call.pieces():
                due += pacing.delay_s(pacing.text_piece_ms)
                self.pending.append(PlannedDelta(due, "call_args", piece, call=index))
            self.pending.append(PlannedDelta(due, "call_done", "", call=index))

    def next_due(self) -> float | None:
        return self.pending[0].due if self.pending else None

    def outputs(self) -> list[dict[str, Any]]:
        """Every output item as it stands: the message, then the calls that have begun."""
        message = [self.item(self.message_status)] if self.with_message else []
        return [*self.leading, *message, *(c.item() for c in self.calls if c.started)]

    def item(self, status: Literal["in_progress", "completed", "incomplete"]) -> dict[str, Any]:
        """The assistant message item as it stands."""
        content: list[dict[str, Any]] = []
        if status != "in_progress":
            part_type = "output_audio" if self.spec.modality == "audio" else "output_text"
            text_key = "transcript" if self.spec.modality == "audio" else "text"
            content = [{"type": part_type, text_key: self.text_so_far}]
        return {
            "id": self.spec.item_id,
            "object": "realtime.item",
            "type": "message",
            "status": status,
            "role": "assistant",
            "content": content,
        }

    def response_object(
        self,
        status: Literal["in_progress", "completed", "cancelled"],
        output: list[dict[str, Any]],
        usage: Mapping[str, Any] | None = None,
        reason: CancelReason = "client_cancelled",
    ) -> dict[str, Any]:
        details = {"type": "cancelled", "reason": reason} if status == "cancelled" else None
        return {
            "object": "realtime.response",
            "id": self.spec.response_id,
            "status": status,
            "status_details": details,
            "output": output,
            "conversation_id": self.spec.conversation_id,
            "output_modalities": [self.spec.modality],
            "max_output_tokens": self.spec.max_output_tokens,
            "audio": {"output": {"format": dict(PCM_FORMAT), "voice": self.spec.voice}},
            "usage": dict(usage) if usage is not None else None,
            "metadata": dict(self.spec.metadata) if self.spec.metadata is not None else None,
        }

    def opening_events(
        self, previous_item_id: str | None, *, created: bool = True
    ) -> list[dict[str, Any]]:
        """``response.created`` (unless it went out already) and the message's opening."""
        events: list[dict[str, Any]] = []
        if created:
            events.append(
                {"type": "response.created", "response": self.response_object("in_progress", [])}
            )
        if not self.with_message:
            return events
        self.message_previous_id = previous_item_id
        item = self.item("in_progress")
        events += [
            {
                "type": "response.output_item.added",
                "response_id": self.spec.response_id,
                "output_index": self.spec.message_index,
                "item": item,
            },
        ]
        if self.spec.in_conversation:
            events.append(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": previous_item_id,
                    "item": item,
                }
            )
        part = (
            {"type": "audio", "transcript": ""}
            if self.spec.modality == "audio"
            else {"type": "text", "text": ""}
        )
        events.append({"type": "response.content_part.added", **self._where(), "part": part})
        return events

    def pop_due(self, now: float) -> list[dict[str, Any]]:
        """Delta events whose time has come, in plan order."""
        events: list[dict[str, Any]] = []
        while self.pending and self.pending[0].due <= now:
            step = self.pending.popleft()
            events += _STEPS[step.kind](self, step)
        return events

    def _step_delta(self, step: PlannedDelta) -> list[dict[str, Any]]:
        if step.kind == "audio":
            self.sent_audio_bytes += step.audio_bytes
        else:
            self.sent_text.append(step.payload)
        kind: DeltaKind = step.kind  # type: ignore[assignment]  # one of the three delta kinds
        return [{"type": _DELTA_EVENT[kind], **self._where(), "delta": step.payload}]

    def _step_message_done(self, step: PlannedDelta) -> list[dict[str, Any]]:
        return self._message_closing("completed", self.message_previous_id)

    def _step_call_added(self, step: PlannedDelta) -> list[dict[str, Any]]:
        previous = self.calls[step.call - 1].item_id if step.call > 0 else self.spec.item_id
        return self.calls[step.call].opening_events(
            self.spec.response_id, previous, self.spec.in_conversation
        )

    def _step_call_args(self, step: PlannedDelta) -> list[dict[str, Any]]:
        return [self.calls[step.call].delta_event(self.spec.response_id, step.payload)]

    def _step_call_done(self, step: PlannedDelta) -> list[dict[str, Any]]:
        return self.calls[step.call].closing_events(
            self.spec.response_id, True, self.spec.in_conversation
        )

    def closing_events(
        self,
        status: Status,
        usage: Mapping[str, Any],
        previous_item_id: str | None,
        reason: CancelReason = "client_cancelled",
    ) -> list[dict[str, Any]]:
        """Everything after the last delta; on cancel, reflects only what was already sent."""
        self.pending.clear()
        events: list[dict[str, Any]] = []
        if self.with_message and self.message_status == "in_progress":
            events += self._message_closing(status, previous_item_id)
        for call in self.calls:
            if call.started and not call.closed:
                events += call.closing_events(
                    self.spec.response_id, status == "completed", self.spec.in_conversation
                )
        events.append(
            {
                "type": "response.done",
                "response": self.response_object(status, self.outputs(), usage, reason),
            }
        )
        return events

    def _message_closing(
        self, status: Status, previous_item_id: str | None
    ) -> list[dict[str, Any]]:
        """The message's done events, from its last delta to ``conversation.item.done``."""
        self.message_status = "completed" if status == "completed" else "incomplete"
        text = self.text_so_far
        if self.spec.modality == "audio":
            events: list[dict[str, Any]] = [
                {"type": "response.output_audio.done", **self._where()},
                {
                    "type": "response.output_audio_transcript.done",
                    **self._where(),
                    "transcript": text,
                },
            ]
            part = {"type": "audio", "transcript": text}
        else:
            events = [{"type": "response.output_text.done", **self._where(), "text": text}]
            part = {"type": "text", "text": text}
        item = self.item(self.message_status)
        events += [
            {"type": "response.content_part.done", **self._where(), "part": part},
            {
                "type": "response.output_item.done",
                "response_id": self.spec.response_id,
                "output_index": self.spec.message_index,
                "item": item,
            },
        ]
        if self.spec.in_conversation:
            events.append(
                {
                    "type": "conversation.item.done",
                    "previous_item_id": previous_item_id,
                    "item": item,
                }
            )
        return events


_Step = Callable[[ResponseStream, PlannedDelta], list[dict[str, Any]]]
_STEPS: dict[StepKind, _Step] = {
    "audio": ResponseStream._step_delta,
    "transcript": ResponseStream._step_delta,
    "text": ResponseStream._step_delta,
    "message_done": ResponseStream._step_message_done,
    "call_added": ResponseStream._step_call_added,
    "call_args": ResponseStream._step_call_args,
    "call_done": ResponseStream._step_call_done,
}


def text_pieces(text: str) -> list[tuple[int, str]]:
    """``text`` cut into word pieces (leading whitespace attached) that concatenate back to it,
    each with the index of its first non-space character."""
    pieces = [(m.start() + len(m.group(1)), m.group(0)) for m in re.finditer(r"(\s*)\S+", text)]
    covered = sum(len(piece) for _, piece in pieces)
    if covered < len(text):  # trailing whitespace, or whitespace only
        if pieces:
            start, last = pieces[-1]
            pieces[-1] = (start, last + text[covered:])
        else:
            pieces = [(0, text)]
    return pieces


def plan_audio(
    spec: ResponseSpec, text: str, speech: Speech, pacing: Pacing, start: float
) -> ResponseStream:
    """Audio in ``chunk_ms`` chunks, each preceded by the transcript of the words it begins."""
    total = speech.sample_count
    chunk = max(1, ms_to_samples(pacing.chunk_ms))
    count = max(1, total // chunk)
    ends = [(k + 1) * chunk for k in range(count - 1)] + [total]
    pieces = text_pieces(text)
    pending: deque[PlannedDelta] = deque()
    next_piece = 0
    begin = 0
    for end in ends:
        due = start + pacing.delay_s(samples_to_ms(end))
        while next_piece < len(pieces) and _piece_sample(speech, pieces[next_piece][0]) < end:
            pending.append(PlannedDelta(due, "transcript", pieces[next_piece][1]))
            next_piece += 1
        pcm = speech.pcm[begin * 2 : end * 2]
        pending.append(PlannedDelta(due, "audio", encode_b64(pcm), audio_bytes=len(pcm)))
        begin = end
    for _, piece in pieces[next_piece:]:  # only if speech is shorter than its offsets claim
        pending.append(PlannedDelta(pending[-1].due, "transcript", piece))
    return ResponseStream(spec, pending)


def plan_text(spec: ResponseSpec, text: str, pacing: Pacing, start: float) -> ResponseStream:
    """Text-only output: one delta per word, ``text_piece_ms`` of model time apart."""
    pending = deque(
        PlannedDelta(start + pacing.delay_s((index + 1) * pacing.text_piece_ms), "text", piece)
        for index, (_, piece) in enumerate(text_pieces(text))
    )
    return ResponseStream(spec, pending)


def _piece_sample(speech: Speech, char_index: int) -> int:
    offsets = speech.char_offsets
    return offsets[char_index] if char_index < len(offsets) else speech.sample_count
