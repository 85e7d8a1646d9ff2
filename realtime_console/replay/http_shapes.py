"""Where things sit in the HTTP exchange lines of the audio chat-completions commands.

``audio say|ask|chat`` log each exchange as ``dir: http`` lines (request, response or one chunk
per streamed piece, one line per failed attempt) and a ``completion`` meta line after it; their
shapes are in docs/event-log.md. The player, the summary, the event lines and the WAV read them
through these helpers only, so a shape is spelled out once and a line missing a field reads as
"not there" rather than failing.
"""

from __future__ import annotations

import base64
import binascii
import io
import wave
from collections.abc import Mapping, Sequence
from typing import Any

from realtime_console.eventlog import finite_number, recorded_byte_count, whole_number
from realtime_console.protocol import pcm

REQUEST = "chat.completions.request"
RESPONSE = "chat.completions.response"
CHUNK = "chat.completions.chunk"
ERROR = "chat.completions.error"
COMPLETION = "completion"  # the meta line written after each exchange

_EMPTY: Mapping[str, Any] = {}


def mapping(value: object) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def request_id(event: Mapping[str, Any]) -> str:
    return str(event.get("request_id", ""))


def _first_choice(body: Mapping[str, Any]) -> Mapping[str, Any]:
    choices = body.get("choices")
    if isinstance(choices, Sequence) and choices and not isinstance(choices, str):
        return mapping(choices[0])
    return _EMPTY


def request_format(event: Mapping[str, Any]) -> str | None:
    """The reply audio format a request asked for (``body.audio.format``)."""
    value = mapping(mapping(event.get("body")).get("audio")).get("format")
    return value if isinstance(value, str) else None


def last_user_message(event: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The turn's own input: the last user message (earlier ones are the history)."""
    messages = mapping(event.get("body")).get("messages")
    if not isinstance(messages, Sequence):
        return None
    for message in reversed(messages):
        if isinstance(message, Mapping) and message.get("role") == "user":
            return message
    return None


def user_parts(message: Mapping[str, Any]) -> tuple[list[str], list[Mapping[str, Any]]]:
    """(texts, input_audio objects) of a user message; content is a string or a list of parts."""
    content = message.get("content")
    if isinstance(content, str):
        return [content], []
    texts: list[str] = []
    audio: list[Mapping[str, Any]] = []
    for part in content if isinstance(content, Sequence) else ():
        part = mapping(part)
        if part.get("type") == "text" and isinstance(part.get("text"), str):
            texts.append(part["text"])
        elif part.get("type") == "input_audio":
            audio.append(mapping(part.get("input_audio")))
    return texts, audio


def encoded_bytes(audio: Mapping[str, Any]) -> int:
    """Size of the audio an ``{"data": …}`` object held: decoded length, or ``audio_bytes`` when
    the log was written with ``--log-audio none``."""
    data = audio.get("data")
    if isinstance(data, str):
        return pcm.b64_decoded_len(data)
    return recorded_byte_count(audio.get("audio_bytes"))


def wav_duration_s(data: bytes) -> float | None:
    """Seconds in a WAV file, from its header; None when it is not one."""
    try:
        with wave.open(io.BytesIO(data)) as wav:
            rate = wav.getframerate()
            return wav.getnframes() / rate if rate > 0 else None
    except (wave.Error, EOFError, ValueError):
        return None


def decode_file(data: str) -> bytes | None:
    """The bytes of a base64 audio file (any length: a WAV's chunks need not be even); None when
    the base64 is bad."""
    try:
        return base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return None


def input_audio_seconds(audio: Mapping[str, Any]) -> float | None:
    """Length of an input audio part when it can be known without a decoder (a WAV kept whole)."""
    data = audio.get("data")
    if audio.get("format") != "wav" or not isinstance(data, str):
        return None
    decoded = decode_file(data)
    return wav_duration_s(decoded) if decoded is not None else None


def input_audio_label(audio: Mapping[str, Any]) -> str:
    """``[audio 2.4 s]``; ``[audio 38.4 kB mp3]`` when the length cannot be known (an mp3, or a
    log with ``--log-audio none``, which keeps only the byte count)."""
    seconds = input_audio_seconds(audio)
    if seconds is not None:
        return f"[audio {seconds:.1f} s]"
    fmt = audio.get("format")
    return f"[audio {encoded_bytes(audio) / 1000:.1f} kB {fmt if isinstance(fmt, str) else ''}]"


def user_line(event: Mapping[str, Any]) -> str | None:
    """What ``you>`` shows for a request: the last user message's text and its audio parts."""
    message = last_user_message(event)
    if message is None:
        return None
    texts, audio = user_parts(message)
    shown = [" ".join(t for t in texts if t)] + [input_audio_label(a) for a in audio]
    line = " ".join(part.strip() for part in shown if part.strip())
    return line or None


def reply_message(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``choices[0].message`` of a response's ChatCompletion."""
    return mapping(_first_choice(mapping(event.get("body"))).get("message"))


def chunk_delta(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """``choices[0].delta`` of a chunk's ChatCompletionChunk."""
    return mapping(_first_choice(mapping(event.get("chunk"))).get("delta"))


def finish_reason(event: Mapping[str, Any]) -> str | None:
    """``choices[0].finish_reason`` of a chunk: set on the stream's last content chunk."""
    value = _first_choice(mapping(event.get("chunk"))).get("finish_reason")
    return value if isinstance(value, str) else None


def spoken_text(message_or_delta: Mapping[str, Any]) -> str:
    """The audio's transcript, else the text content (a text-only reply)."""
    transcript = mapping(message_or_delta.get("audio")).get("transcript")
    if isinstance(transcript, str) and transcript:
        return transcript
    content = message_or_delta.get("content")
    return content if isinstance(content, str) else ""


def usage_of(event: Mapping[str, Any]) -> Mapping[str, Any]:
    """The usage a response body or a (last) chunk carries; empty when none."""
    return mapping(mapping(event.get("body") or event.get("chunk")).get("usage"))


def token_counts(usage: Mapping[str, Any]) -> dict[str, int]:
    """Chat-completions usage → the summary's token fields (only those present)."""
    where = {
        "prompt_tokens": (usage, "prompt_tokens"),
        "completion_tokens": (usage, "completion_tokens"),
        "total_tokens": (usage, "total_tokens"),
        "prompt_audio_tokens": (mapping(usage.get("prompt_tokens_details")), "audio_tokens"),
        "completion_audio_tokens": (
            mapping(usage.get("completion_tokens_details")),
            "audio_tokens",
        ),
    }
    out: dict[str, int] = {}
    for name, (source, key) in where.items():
        value = whole_number(source.get(key))
        if value is not None:
            out[name] = value
    return out


def error_text(event: Mapping[str, Any]) -> str:
    """``429 rate_limit_exceeded: Too many requests`` (status and code when known)."""
    status, code = event.get("status"), event.get("code")
    head = " ".join(str(x) for x in (status, code) if x not in (None, ""))
    return f"{head or 'error'}: {event.get('message', '')}".rstrip(": ")


def retried(event: Mapping[str, Any]) -> bool:
    """Whether the console tried a failed attempt again: ``retry_in_s`` is a number (null when it
    gave up). A number no float holds still says it retried; only the wait is unknown."""
    retry = event.get("retry_in_s")
    return isinstance(retry, int | float) and not isinstance(retry, bool)


def retry_wait(event: Mapping[str, Any]) -> str:
    """The wait before the next attempt, ``1.5``; ``?`` when the number is not finite."""
    seconds = finite_number(event.get("retry_in_s"))
    return "?" if seconds is None else f"{seconds:g}"


def error_line(event: Mapping[str, Any]) -> str:
    """One line for a failed attempt, as the replay shows it on stderr."""
    then = f"; retrying in {retry_wait(event)} s" if retried(event) else "; giving up"
    return (
        f"chat completions request {request_id(event)} attempt {event.get('attempt', '?')} "
        f"failed: {error_text(event)}{then}"
    )
