"""``--types PATTERN``: one line per matching event, for reading a log like a packet trace.

A line is ``#INDEX  T  DIR  TYPE  SUMMARY``, e.g.::

    #42     3.217s  server  response.output_audio.delta  resp_1/item_2 4800 B (100 ms)

Patterns are ``fnmatch`` globs on the GA event type, comma-separated (``response.*,error``); a
pattern may be prefixed with a direction (``client:*``, ``meta:*``, ``http:*``). Summaries come
from a table keyed by type; an event type without an entry shows its ids.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from realtime_console.eventlog import DIRECTIONS, LogRecord, audio_byte_count, finite_number
from realtime_console.protocol import pcm
from realtime_console.replay import http_shapes as shapes
from realtime_console.replay.summary import content_parts

_DIRECTIONS: tuple[str, ...] = DIRECTIONS
_TEXT_LIMIT = 60


@dataclass(frozen=True)
class _Pattern:
    direction: str | None
    glob: str

    def matches(self, direction: str, event_type: str) -> bool:
        if self.direction is not None and self.direction != direction:
            return False
        return fnmatch.fnmatchcase(event_type, self.glob)


class TypeFilter:
    def __init__(self, spec: str) -> None:
        self.spec = spec
        self._patterns = [_parse(part.strip()) for part in spec.split(",") if part.strip()]

    def matches(self, record: LogRecord) -> bool:
        event_type = str(record.event.get("type", ""))
        return any(p.matches(record.dir, event_type) for p in self._patterns)


def _parse(part: str) -> _Pattern:
    head, sep, rest = part.partition(":")
    if sep and head in _DIRECTIONS:
        return _Pattern(head, rest or "*")
    return _Pattern(None, part)


def _clip(text: str) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _ids(event: Mapping[str, Any]) -> str:
    keys = ("request_id", "response_id", "item_id")
    return "/".join(str(event[k]) for k in keys if isinstance(event.get(k), str))


def _audio(event: Mapping[str, Any]) -> str:
    n = audio_byte_count(event)
    return f"{_ids(event)} {n} B ({pcm.bytes_to_ms(n):.0f} ms)".strip()


def _text_delta(event: Mapping[str, Any]) -> str:
    return f"{_ids(event)} {_clip(str(event.get('delta', '')))!r}".strip()


def _transcript(event: Mapping[str, Any]) -> str:
    return f"{_ids(event)} {_clip(str(event.get('transcript', '')))!r}".strip()


def _response(event: Mapping[str, Any]) -> str:
    response = event.get("response")
    response = response if isinstance(response, Mapping) else {}
    usage = response.get("usage")
    tokens = usage.get("total_tokens") if isinstance(usage, Mapping) else None
    extra = f" {tokens} tokens" if tokens is not None else ""
    return f"{response.get('id', '?')} {response.get('status', '')}{extra}".strip()


def _error(event: Mapping[str, Any]) -> str:
    error = event.get("error")
    error = error if isinstance(error, Mapping) else {}
    code = error.get("code") or error.get("type") or "unknown"
    return f"[{code}] {_clip(str(error.get('message', '')))}"


def _ms(value: object) -> str:
    """A position in ms as the log holds it; ``?`` when it is not a number a float holds."""
    number = finite_number(value)
    if number is None:
        return "?"
    return str(value) if isinstance(value, int) else f"{number:g}"


def _speech(event: Mapping[str, Any]) -> str:
    ms = event.get("audio_start_ms", event.get("audio_end_ms"))
    return f"{event.get('item_id', '')} at {_ms(ms)} ms".strip()


def _truncate(event: Mapping[str, Any]) -> str:
    return f"{event.get('item_id', '?')} audio_end_ms={_ms(event.get('audio_end_ms'))}"


def _call(fields: Mapping[str, Any]) -> str:
    """A function call as the model asked for it: ``call_id name(arguments)``."""
    arguments = fields.get("arguments")
    shown = _clip(arguments) if isinstance(arguments, str) else ""
    return f"{fields.get('call_id', '?')} {fields.get('name', '?')}({shown})"


def _call_output(item: Mapping[str, Any]) -> str:
    output = item.get("output")
    return f"{item.get('call_id', '?')} → {_clip(str(output))!r}"


def _call_arguments_done(event: Mapping[str, Any]) -> str:
    return f"{_ids(event)} {_call(event)}".strip()


def _tool_call_meta(event: Mapping[str, Any]) -> str:
    duration = event.get("duration_ms")
    took = f" in {_ms(duration)} ms" if duration is not None else ""
    name = str(event.get("name", "?"))
    if "server_label" in event:  # an MCP server's tool
        name = f"{event['server_label']}.{name}"
    return (
        f"{event.get('call_id', '?')} {name} {event.get('status', '?')}{took} "
        f"→ {_clip(str(event.get('output', '')))!r}"
    )


def _mcp_item(item: Mapping[str, Any]) -> str:
    """An MCP item (the service calls remote MCP servers itself; docs/tools.md)."""
    kind = item.get("type")
    if kind == "mcp_list_tools":
        tools = item.get("tools")
        count = f": {len(tools)} tools" if isinstance(tools, list) else ""
        return f"{item.get('server_label', '?')}{count}"
    if kind == "mcp_approval_response":
        return f"{item.get('approval_request_id', '?')} approve={item.get('approve')}"
    call = f"{item.get('server_label', '?')}.{_call({**item, 'call_id': ''}).strip()}"
    error = item.get("error")
    if error:
        message = error.get("message") if isinstance(error, Mapping) else error
        return f"{call} failed: {_clip(str(message))!r}"
    output = item.get("output")
    return f"{call} → {_clip(str(output))!r}" if isinstance(output, str) else call


_MCP_ITEMS = ("mcp_list_tools", "mcp_call", "mcp_approval_request", "mcp_approval_response")


def _item(event: Mapping[str, Any]) -> str:
    item = event.get("item")
    item = item if isinstance(item, Mapping) else {}
    kind = item.get("type")
    if kind in _MCP_ITEMS:
        return f"{item.get('id', '')} {kind} {_mcp_item(item)}".strip()
    if kind == "function_call":
        return f"{item.get('id', '')} function_call {_call(item)}".strip()
    if kind == "function_call_output":
        return f"{item.get('id', '')} function_call_output {_call_output(item)}".strip()
    texts = [str(part.get("text") or part.get("transcript") or "") for part in content_parts(item)]
    text = " ".join(t for t in texts if t)
    who = f"{item.get('id', '')} {item.get('role', item.get('type', ''))}".strip()
    return f"{who} {_clip(text)!r}" if text else who


def _output_item(event: Mapping[str, Any]) -> str:
    return f"{_ids(event)} {_item(event)}".strip()


def _mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _session(event: Mapping[str, Any]) -> str:
    """What a session is set to: its id, who ends a turn, the voice, transcription."""
    session = _mapping(event.get("session"))
    audio = _mapping(session.get("audio"))
    heard, spoken = _mapping(audio.get("input")), _mapping(audio.get("output"))
    turns = _mapping(heard.get("turn_detection")).get("type") or "push-to-talk"
    parts = [str(session["id"])] if isinstance(session.get("id"), str) else []
    if session:
        parts.append(str(turns))
    if spoken.get("voice"):
        parts.append(f"voice {spoken['voice']}")
    if heard.get("transcription"):
        parts.append("transcription on")
    return ", ".join(parts)


def _rate_limits(event: Mapping[str, Any]) -> str:
    limits = event.get("rate_limits")
    shown = [
        f"{limit.get('name', '?')} {limit.get('remaining', '?')}/{limit.get('limit', '?')} left"
        for limit in (limits if isinstance(limits, list) else [])
        if isinstance(limit, Mapping)
    ]
    return ", ".join(shown)


def _meta(event: Mapping[str, Any]) -> str:
    return " ".join(f"{k}={v}" for k, v in event.items() if k != "type")


def _http_audio(audio: Mapping[str, Any]) -> str:
    n = shapes.encoded_bytes(audio)
    return f" audio {n} B" if n else ""


def _http_request(event: Mapping[str, Any]) -> str:
    mode = "stream" if event.get("stream") else "whole"
    head = (
        f"{_ids(event)} attempt {event.get('attempt', '?')} {event.get('api', '?')} "
        f"{event.get('model', '?')} {mode}"
    )
    said = shapes.user_line(event)
    return f"{head} {_clip(said)!r}" if said else head


def _http_response(event: Mapping[str, Any]) -> str:
    message = shapes.reply_message(event)
    audio = _http_audio(shapes.mapping(message.get("audio")))
    tokens = shapes.usage_of(event).get("total_tokens")
    extra = f" {tokens} tokens" if tokens is not None else ""
    text = _clip(shapes.spoken_text(message))
    return f"{_ids(event)} {event.get('status', '')}{audio}{extra} {text!r}"


def _http_chunk(event: Mapping[str, Any]) -> str:
    delta = shapes.chunk_delta(event)
    audio = shapes.mapping(delta.get("audio"))
    n = shapes.encoded_bytes(audio)
    shown = f" {n} B ({pcm.bytes_to_ms(n):.0f} ms)" if n else ""
    text = shapes.spoken_text(delta)
    tokens = shapes.usage_of(event).get("total_tokens")
    extra = f" {tokens} tokens" if tokens is not None else ""
    return f"{_ids(event)}{shown}{extra}" + (f" {_clip(text)!r}" if text else "")


def _http_error(event: Mapping[str, Any]) -> str:
    then = f", retry in {shapes.retry_wait(event)} s" if shapes.retried(event) else ""
    return (
        f"{_ids(event)} attempt {event.get('attempt', '?')} {_clip(shapes.error_text(event))}{then}"
    )


def _completion(event: Mapping[str, Any]) -> str:
    def seconds(key: str) -> str:
        value = finite_number(event.get(key))
        return f"{value:.3f}s" if value is not None else "-"

    return (
        f"{_ids(event)} {event.get('status', '?')} first audio {seconds('first_audio_s')} "
        f"elapsed {seconds('elapsed_s')} audio {seconds('audio_s')} "
        f"retries {event.get('retries', 0)}"
    )


_SUMMARIES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    "input_audio_buffer.append": _audio,
    "response.output_audio.delta": _audio,
    "response.output_audio_transcript.delta": _text_delta,
    "response.output_text.delta": _text_delta,
    "conversation.item.input_audio_transcription.delta": _text_delta,
    "conversation.item.input_audio_transcription.completed": _transcript,
    "response.output_audio_transcript.done": _transcript,
    "response.created": _response,
    "response.done": _response,
    "error": _error,
    "input_audio_buffer.speech_started": _speech,
    "input_audio_buffer.speech_stopped": _speech,
    "conversation.item.truncate": _truncate,
    "conversation.item.truncated": _truncate,
    "conversation.item.create": _item,
    "conversation.item.added": _item,
    "conversation.item.done": _item,
    "response.output_item.added": _output_item,
    "response.output_item.done": _output_item,
    "response.function_call_arguments.delta": _text_delta,
    "response.function_call_arguments.done": _call_arguments_done,
    "session.update": _session,
    "session.created": _session,
    "session.updated": _session,
    "rate_limits.updated": _rate_limits,
    "input_audio_buffer.committed": _ids,
    shapes.REQUEST: _http_request,
    shapes.RESPONSE: _http_response,
    shapes.CHUNK: _http_chunk,
    shapes.ERROR: _http_error,
}
_META_SUMMARIES: Mapping[str, Callable[[Mapping[str, Any]], str]] = {
    shapes.COMPLETION: _completion,
    "tool_call": _tool_call_meta,
}


def summarize_event(direction: str, event: Mapping[str, Any]) -> str:
    """One event's summary: the ids and sizes that matter, text clipped, never audio. The one
    summariser of the console: ``replay --types`` lines, the live event pane of ``talk`` and
    its demo all show events through it."""
    if direction == "meta":
        return _META_SUMMARIES.get(str(event.get("type", "")), _meta)(event)
    describe = _SUMMARIES.get(str(event.get("type", "")), _ids)
    return describe(event)


def summarize(record: LogRecord) -> str:
    return summarize_event(record.dir, record.event)


def format_line(record: LogRecord) -> str:
    t = "-" if record.t is None else f"{record.t:.3f}s"
    return (
        f"#{record.index:<6} {t:>10}  {record.dir:<6}  {record.event.get('type', '?')}  "
        f"{summarize(record)}"
    ).rstrip()
