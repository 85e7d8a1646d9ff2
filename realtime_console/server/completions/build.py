"""The ``ChatCompletion`` and the ``ChatCompletionChunk`` stream of one reply, as plain dicts.

Pure: given the reply (text, speech, stored audio id) this says what to send and when. The
stream plan reuses the Realtime responses' pacing (``response.plan_audio`` / ``plan_text``):
audio is "generated" ``realtime_factor`` times faster than it plays, a chunk is due when its
last sample would exist, and each word's transcript piece goes just before the audio chunk in
which the word starts. Chunks come as the service sends them::

    {delta: {role: assistant, content: null, refusal: null}}   (content "" for text output)
    {delta: {audio: {id, transcript: "<word>"}}}  ┐ interleaved, every ``chunk_ms`` of audio
    {delta: {audio: {id, data: "<base64 pcm16>"}}} ┘ (text output: {delta: {content: "<word>"}})
    {delta: {audio: {expires_at}}}                  (audio output only)
    {delta: {}, finish_reason: stop}
    {choices: [], usage}                            (stream_options.include_usage only)

With ``include_usage`` every other chunk carries ``usage: null``, as on the service.
"""

from __future__ import annotations

import random
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from realtime_console.server.completions.audio_store import StoredAudio
from realtime_console.server.response import Pacing, PlannedDelta, ResponseSpec
from realtime_console.server.response import plan_audio as plan_realtime_audio
from realtime_console.server.response import plan_text as plan_realtime_text
from realtime_console.server.voice import Speech

SYSTEM_FINGERPRINT = "fp_local"
SERVICE_TIER = "default"
_ID_ALPHABET = string.ascii_letters + string.digits
_SYSTEM_RANDOM = random.SystemRandom()


def completion_id() -> str:
    """``chatcmpl-`` and 29 base-62 characters, like the service's."""
    return "chatcmpl-" + "".join(_SYSTEM_RANDOM.choices(_ID_ALPHABET, k=29))


@dataclass(frozen=True)
class Header:
    """What every object of one completion repeats."""

    id: str
    created: int
    model: str


def completion(
    header: Header,
    text: str,
    audio: StoredAudio | None,
    audio_data: str | None,
    usage: Mapping[str, Any],
) -> dict[str, Any]:
    """The non-streamed answer; with audio output the text is the audio's transcript and
    ``content`` is null, as on the service."""
    message: dict[str, Any] = {
        "role": "assistant",
        "content": None if audio is not None else text,
        "refusal": None,
        "annotations": [],
        "audio": None,
    }
    if audio is not None:
        message["audio"] = {
            "id": audio.id,
            "data": audio_data or "",
            "expires_at": audio.expires_at,
            "transcript": text,
        }
    return {
        **_common(header, "chat.completion"),
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}],
        "usage": dict(usage),
    }


@dataclass(frozen=True)
class TimedChunk:
    due_s: float  # seconds after the stream started
    chunk: dict[str, Any]


def plan_stream(
    header: Header,
    text: str,
    pacing: Pacing,
    *,
    speech: Speech | None,
    audio: StoredAudio | None,
    usage: Mapping[str, Any] | None,
) -> list[TimedChunk]:
    """Every chunk of the stream in order; ``speech``/``audio`` None for text output,
    ``usage`` None unless ``stream_options.include_usage``."""

    def chunk(delta: Mapping[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        choice = {"index": 0, "delta": dict(delta), "logprobs": None}
        return _chunk(header, [{**choice, "finish_reason": finish_reason}], usage)

    # The deltas' timing is the Realtime planner's; its ids are not used here.
    spec = ResponseSpec(response_id="", item_id="", modality="audio", voice="", conversation_id="")
    first = {"role": "assistant", "content": None if speech is not None else "", "refusal": None}
    timed = [TimedChunk(0.0, chunk(first))]
    if speech is not None and audio is not None:
        deltas = plan_realtime_audio(spec, text, speech, pacing, 0.0).pending
        timed += [TimedChunk(d.due, chunk({"audio": _audio_delta(audio.id, d)})) for d in deltas]
        timed.append(
            TimedChunk(timed[-1].due_s, chunk({"audio": {"expires_at": audio.expires_at}}))
        )
    else:
        deltas = plan_realtime_text(spec, text, pacing, 0.0).pending
        timed += [TimedChunk(d.due, chunk({"content": d.payload})) for d in deltas]
    end = timed[-1].due_s
    timed.append(TimedChunk(end, chunk({}, "stop")))
    if usage is not None:
        timed.append(TimedChunk(end, {**_chunk(header, [], None), "usage": dict(usage)}))
    return timed


def _audio_delta(audio_id: str, delta: PlannedDelta) -> dict[str, Any]:
    key = "data" if delta.kind == "audio" else "transcript"
    return {"id": audio_id, key: delta.payload}


def _chunk(
    header: Header, choices: list[dict[str, Any]], usage: Mapping[str, Any] | None
) -> dict[str, Any]:
    out = {**_common(header, "chat.completion.chunk"), "choices": choices}
    if usage is not None:
        out["usage"] = None  # announced: the last chunk carries it
    return out


def _common(header: Header, kind: str) -> dict[str, Any]:
    return {
        "id": header.id,
        "object": kind,
        "created": header.created,
        "model": header.model,
        "service_tier": SERVICE_TIER,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
