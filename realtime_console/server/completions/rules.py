"""Chat-completions request validation (pure): a JSON body in, a ``ChatRequest`` or a
``ServiceError`` (400 unless it says otherwise) out, worded like the service's errors.

The rules, in the order they are checked:

- the body is a JSON object of parameters the SDK knows (``CompletionCreateParamsStreaming``);
- ``model`` is a non-empty string (on the Azure deployments path the deployment is the model and
  a body ``model`` is ignored);
- ``messages`` is a non-empty array; roles system, developer, user, assistant; content a string
  or an array of parts: ``text`` (every role), ``input_audio`` (user: ``{data: base64, format:
  "wav"|"mp3"}``), ``refusal`` (assistant); an assistant message may carry ``audio: {id}`` (an
  earlier reply, resolved against the audio store afterwards) instead of content;
- ``n`` is 1;
- ``modalities`` (default ``["text"]``) holds "text" and "audio" only, and "audio" needs "text";
- ``audio`` (``{voice, format}``; required for audio output): format wav, mp3, flac, opus, aac or
  pcm16, voice a known name or ``{"id": …}``;
- ``stream`` is a boolean; ``stream_options`` only with ``stream`` (``include_usage`` boolean);
- audio somewhere: the model answers text-only input only with audio output;
- a streamed audio reply is pcm16;
- every input audio part is valid base64 of at most 20 MB that really is its format (decoded).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from openai.types.chat.completion_create_params import CompletionCreateParamsStreaming

from realtime_console.audio.codec import OUTPUT_FORMATS, AudioFormat
from realtime_console.server.completions.audio_store import StoredAudio
from realtime_console.server.completions.errors import HttpError
from realtime_console.server.completions.input_audio import INPUT_FORMATS, input_audio_seconds
from realtime_console.server.service_errors import (
    ServiceError,
    invalid_type,
    invalid_value,
    missing_parameter,
    unknown_parameter,
)
from realtime_console.server.voice import VOICES

# Chat completions offer three voices the Realtime API does not (spoken here with the fallback
# voice of each synthesizer).
CHAT_VOICES: tuple[str, ...] = (*VOICES, "fable", "nova", "onyx")

Role = Literal["system", "developer", "user", "assistant"]
Modality = Literal["text", "audio"]
ROLES: tuple[Role, ...] = ("system", "developer", "user", "assistant")
MODALITIES: tuple[Modality, ...] = ("text", "audio")

# Every parameter the SDK can send; the service refuses anything else.
KNOWN_PARAMETERS = frozenset(
    CompletionCreateParamsStreaming.__required_keys__
    | CompletionCreateParamsStreaming.__optional_keys__
)
_AUDIO_KEYS = frozenset({"voice", "format"})
_STREAM_OPTION_KEYS = frozenset({"include_usage", "include_obfuscation"})

# The content part types each role may send (the model takes no images or files).
_PART_TYPES: Mapping[Role, tuple[str, ...]] = {
    "system": ("text",),
    "developer": ("text",),
    "user": ("text", "input_audio"),
    "assistant": ("text", "refusal"),
}

AudioDecoder = Callable[[str, AudioFormat, str], float]


@dataclass(frozen=True)
class AudioPart:
    data: str  # base64, not yet decoded
    format: AudioFormat
    param: str  # e.g. messages[0].content[1].input_audio.data


@dataclass(frozen=True)
class Turn:
    """One message as the reply sees it."""

    index: int  # in ``messages``
    role: Role
    text: str = ""  # text parts joined by one space (an audio reference: its transcript)
    audio: tuple[AudioPart, ...] = ()
    audio_s: float = 0.0  # input audio, or the referenced reply's audio (after resolving)
    audio_ref: str | None = None  # assistant: ``audio.id`` of an earlier reply


@dataclass(frozen=True)
class ChatRequest:
    model: str
    turns: tuple[Turn, ...]
    modalities: tuple[Modality, ...]
    voice: str | None  # a voice name or a custom voice's id; None without audio output
    audio_format: AudioFormat | None  # None: text-only output
    stream: bool
    include_usage: bool

    @property
    def audio_out(self) -> bool:
        return "audio" in self.modalities


def parse_request(
    raw: bytes, *, deployment: str | None = None, decode: AudioDecoder = input_audio_seconds
) -> ChatRequest:
    """The body of a request as it came; ``deployment`` when the URL names the model."""
    try:
        body = json.loads(raw)
    except (UnicodeDecodeError, ValueError):
        body = None
    if not isinstance(body, dict):
        raise ServiceError(
            "invalid_json",
            "We could not parse the JSON body of your request: the API expects a JSON object.",
        )
    return check_body(body, deployment=deployment, decode=decode)


def check_body(
    body: Mapping[str, Any],
    *,
    deployment: str | None = None,
    decode: AudioDecoder = input_audio_seconds,
) -> ChatRequest:
    for name in body:
        if name not in KNOWN_PARAMETERS:
            raise ServiceError(
                "unknown_parameter", f"Unrecognized request argument supplied: {name}", param=name
            )
    model = _model(body, deployment)
    turns = _messages(body.get("messages"))
    _check_n(body.get("n"))
    modalities = _modalities(body.get("modalities"))
    audio_out = "audio" in modalities
    voice, fmt = _audio(body.get("audio"), required=audio_out)
    stream = _boolean(body.get("stream"), "stream")
    include_usage = _stream_options(body.get("stream_options"), stream)
    if not audio_out and not any(turn.audio or turn.audio_ref for turn in turns):
        # Text in, text out is the one combination an audio model refuses.
        raise ServiceError(
            "invalid_value",
            "This model requires that either input content or output modality contain audio.",
            param="model",
        )
    if stream and audio_out and fmt != "pcm16":
        raise ServiceError(
            "unsupported_value",
            f"Audio format {fmt} is not supported when stream=true; use pcm16.",
            param="audio.format",
        )
    # Last: decoding is the expensive check.
    decoded = tuple(
        dataclasses.replace(
            turn, audio_s=sum(decode(p.data, p.format, p.param) for p in turn.audio)
        )
        if turn.audio
        else turn
        for turn in turns
    )
    return ChatRequest(
        model=model,
        turns=decoded,
        modalities=modalities,
        voice=voice if audio_out else None,
        audio_format=fmt if audio_out else None,
        stream=stream,
        include_usage=include_usage,
    )


def resolve_references(
    turns: tuple[Turn, ...], lookup: Callable[[str], StoredAudio | None]
) -> tuple[Turn, ...]:
    """Assistant audio references replaced by what they refer to; ``audio_not_found`` for an
    unknown or expired id."""
    resolved = []
    for turn in turns:
        if turn.audio_ref is not None:
            stored = lookup(turn.audio_ref)
            if stored is None:
                raise ServiceError(
                    "audio_not_found",
                    f"Audio with id {turn.audio_ref} not found.",
                    param=f"messages[{turn.index}].audio",
                )
            turn = dataclasses.replace(turn, text=stored.transcript, audio_s=stored.duration_s)
        resolved.append(turn)
    return tuple(resolved)


def missing_api_version() -> HttpError:
    return HttpError(
        400,
        "missing_required_parameter",
        "Missing required query parameter: 'api-version' (for example "
        "?api-version=2025-01-01-preview).",
        param="api-version",
    )


def _model(body: Mapping[str, Any], deployment: str | None) -> str:
    model = body.get("model")
    if model is not None and not isinstance(model, str):
        raise invalid_type("model", "a string", model)
    if deployment is not None:
        return deployment
    if not model:
        raise missing_parameter("model")
    return model


def _messages(messages: Any) -> tuple[Turn, ...]:
    if messages is None:
        raise missing_parameter("messages")
    if not isinstance(messages, list):
        raise invalid_type("messages", "an array", messages)
    if not messages:
        raise _empty_array("messages")
    return tuple(_message(index, message) for index, message in enumerate(messages))


def _message(index: int, message: Any) -> Turn:
    where = f"messages[{index}]"
    if not isinstance(message, dict):
        raise invalid_type(where, "an object", message)
    role = message.get("role")
    if role is None:
        raise missing_parameter(f"{where}.role")
    if not isinstance(role, str):
        raise invalid_type(f"{where}.role", "a string", role)
    if role not in ROLES:
        raise invalid_value(f"{where}.role", role, ROLES)
    audio_ref = _audio_reference(where, message.get("audio")) if role == "assistant" else None
    content = message.get("content")
    if content is None:
        # An assistant turn may be only an audio reference, a refusal or tool calls.
        said_otherwise = role == "assistant" and any(
            message.get(key) is not None for key in ("refusal", "tool_calls", "function_call")
        )
        if audio_ref is None and not said_otherwise:
            raise missing_parameter(f"{where}.content")
        return Turn(index, role, audio_ref=audio_ref)
    if isinstance(content, str):
        return Turn(index, role, text=content, audio_ref=audio_ref)
    if not isinstance(content, list):
        raise invalid_type(f"{where}.content", "a string or an array", content)
    if not content:
        raise _empty_array(f"{where}.content")
    texts: list[str] = []
    audio: list[AudioPart] = []
    for number, part in enumerate(content):
        text, sound = _part(role, f"{where}.content[{number}]", part)
        texts += [text] if text is not None else []
        audio += [sound] if sound is not None else []
    return Turn(index, role, text=" ".join(texts), audio=tuple(audio), audio_ref=audio_ref)


def _part(role: Role, where: str, part: Any) -> tuple[str | None, AudioPart | None]:
    """A content part's text or audio (a refusal part contributes neither)."""
    if not isinstance(part, dict):
        raise invalid_type(where, "an object", part)
    kind = part.get("type")
    if kind is None:
        raise missing_parameter(f"{where}.type")
    if kind not in _PART_TYPES[role]:
        raise invalid_value(f"{where}.type", kind, _PART_TYPES[role])
    if kind == "text":
        return _string(part.get("text"), f"{where}.text"), None
    if kind == "refusal":
        _string(part.get("refusal"), f"{where}.refusal")
        return None, None
    audio = part.get("input_audio")
    if audio is None:
        raise missing_parameter(f"{where}.input_audio")
    if not isinstance(audio, dict):
        raise invalid_type(f"{where}.input_audio", "an object", audio)
    data = _string(audio.get("data"), f"{where}.input_audio.data")
    fmt = _string(audio.get("format"), f"{where}.input_audio.format")
    if fmt not in INPUT_FORMATS:
        raise invalid_value(f"{where}.input_audio.format", fmt, INPUT_FORMATS)
    return None, AudioPart(data, cast(AudioFormat, fmt), f"{where}.input_audio.data")


def _audio_reference(where: str, audio: Any) -> str | None:
    if audio is None:
        return None
    if not isinstance(audio, dict):
        raise invalid_type(f"{where}.audio", "an object", audio)
    return _string(audio.get("id"), f"{where}.audio.id")


def _check_n(n: Any) -> None:
    if n is None:
        return
    if not isinstance(n, int) or isinstance(n, bool):
        raise invalid_type("n", "an integer", n)
    if n != 1:
        raise ServiceError(
            "invalid_value",
            f"The local server gives one choice: 'n' must be 1, got {n}.",
            param="n",
        )


def _modalities(value: Any) -> tuple[Modality, ...]:
    if value is None:
        return ("text",)
    if not isinstance(value, list):
        raise invalid_type("modalities", "an array", value)
    if not value:
        raise _empty_array("modalities")
    for number, modality in enumerate(value):
        if modality not in MODALITIES:
            raise invalid_value(f"modalities[{number}]", modality, MODALITIES)
    chosen = tuple(m for m in MODALITIES if m in value)
    if chosen == ("audio",):
        raise ServiceError(
            "invalid_value",
            "Invalid 'modalities': audio output comes with its transcript; "
            'use ["text", "audio"].',
            param="modalities",
        )
    return chosen


def _audio(audio: Any, *, required: bool) -> tuple[str | None, AudioFormat | None]:
    if audio is None:
        if required:
            raise ServiceError(
                "missing_required_parameter",
                "Missing required parameter: 'audio'. Audio output (modalities "
                '["text", "audio"]) needs audio: {"voice": …, "format": …}.',
                param="audio",
            )
        return None, None
    if not isinstance(audio, dict):
        raise invalid_type("audio", "an object", audio)
    for name in audio:
        if name not in _AUDIO_KEYS:
            raise unknown_parameter(f"audio.{name}")
    fmt = _string(audio.get("format"), "audio.format")
    if fmt not in OUTPUT_FORMATS:
        raise invalid_value("audio.format", fmt, OUTPUT_FORMATS)
    return _voice(audio.get("voice")), fmt


def _voice(voice: Any) -> str:
    if voice is None:
        raise missing_parameter("audio.voice")
    if isinstance(voice, dict):
        return _string(voice.get("id"), "audio.voice.id")  # a custom voice: its id
    if not isinstance(voice, str):
        raise invalid_type("audio.voice", "a string or an object with an id", voice)
    if voice not in CHAT_VOICES:
        raise invalid_value("audio.voice", voice, CHAT_VOICES)
    return voice


def _stream_options(options: Any, stream: bool) -> bool:
    if options is None:
        return False
    if not stream:
        raise ServiceError(
            "invalid_value",
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
            param="stream_options",
        )
    if not isinstance(options, dict):
        raise invalid_type("stream_options", "an object", options)
    for name in options:
        if name not in _STREAM_OPTION_KEYS:
            raise unknown_parameter(f"stream_options.{name}")
    return _boolean(options.get("include_usage"), "stream_options.include_usage")


def _boolean(value: Any, param: str) -> bool:
    if value is None:
        return False
    if not isinstance(value, bool):
        raise invalid_type(param, "a boolean", value)
    return value


def _string(value: Any, param: str) -> str:
    if value is None:
        raise missing_parameter(param)
    if not isinstance(value, str):
        raise invalid_type(param, "a string", value)
    return value


def _empty_array(param: str) -> ServiceError:
    return ServiceError(
        "empty_array",
        f"Invalid '{param}': empty array. Expected an array with minimum length 1, "
        "but got an empty array instead.",
        param=param,
    )
