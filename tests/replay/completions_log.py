"""A log of ``audio say|ask|chat`` exchanges (dir ``http``), in exactly the shapes of
docs/event-log.md, written through the real ``EventLogWriter`` (so ``--log-audio none`` is the
writer's own), at chosen times. Four exchanges:

1. a stream (pcm16) asked with text and a 1.0 s WAV; the first attempt gets a 429, the second
   streams "A bell ringing." in two audio pieces (0.2 s, 0.3 s);
2. a whole reply in wav (0.4 s), after history (an assistant ``audio.id`` reference);
3. a whole reply in mp3 (not decodable here);
4. a failure: 500 (retried), then 503 (given up).

Each is followed by its ``completion`` meta line, whose figures deliberately differ from the
log's times (the command measures around the SDK call), unless ``with_meta=False``.
"""

from __future__ import annotations

import io
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from realtime_console.eventlog import EventLogWriter
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor

SESSION = {"type": "chat.completions", "api": "openai", "voice": "alloy", "format": "pcm16"}
MODEL = "gpt-audio"
USAGE_1 = {
    "prompt_tokens": 120,
    "completion_tokens": 40,
    "total_tokens": 160,
    "prompt_tokens_details": {"audio_tokens": 25, "cached_tokens": 0},
    "completion_tokens_details": {"audio_tokens": 30, "reasoning_tokens": 0},
}
USAGE_2 = {
    "prompt_tokens": 200,
    "completion_tokens": 60,
    "total_tokens": 260,
    "prompt_tokens_details": {"audio_tokens": 25},
    "completion_tokens_details": {"audio_tokens": 50},
}
USAGE_3 = {"prompt_tokens": 210, "completion_tokens": 20, "total_tokens": 230}

STDOUT = [
    "you> What is this sound? [audio 1.0 s]",
    "assistant> A bell ringing.",
    "you> Say it again, slower.",
    "assistant> A bell, ringing.",
    "you> And in mp3?",
    "assistant> Here it is.",
    "you> Tell me more.",
]
ERRORS = [
    "-- chat completions request req_0001 attempt 1 failed: 429 rate_limit_exceeded: "
    "Too many requests; retrying in 0.5 s",
    "-- chat completions request req_0004 attempt 1 failed: 500 server_error: "
    "The server had an error; retrying in 1 s",
    "-- chat completions request req_0004 attempt 2 failed: 503: Service unavailable; giving up",
]


def tone(seconds: float, freq: float = 440.0) -> bytes:
    t = np.arange(pcm.ms_to_samples(seconds * 1000)) / pcm.SAMPLE_RATE
    return (np.sin(2 * np.pi * freq * t) * 8000).astype("<i2").tobytes()


def wav_file(samples: bytes) -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(pcm.SAMPLE_RATE)
        wav.writeframes(samples)
    return out.getvalue()


@dataclass
class CompletionsLog:
    path: Path
    pieces: list[tuple[float, bytes]]  # (arrival t, pcm16) of the streamed reply
    wav_reply: tuple[float, bytes]  # (arrival t, pcm16 inside the WAV) of the whole reply
    input_wav: bytes


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _request(
    request_id: str, attempt: int, messages: list[dict[str, Any]], *, stream: bool, fmt: str
) -> dict[str, Any]:
    return {
        "type": "chat.completions.request",
        "request_id": request_id,
        "attempt": attempt,
        "api": "openai",
        "model": MODEL,
        "stream": stream,
        "body": {
            "model": MODEL,
            "modalities": ["text", "audio"],
            "audio": {"voice": "alloy", "format": fmt},
            "messages": messages,
            "stream": stream,
        },
    }


def _chunk(request_id: str, delta: dict[str, Any] | None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, **extra}]
    chunk: dict[str, Any] = {
        "id": "chatcmpl-1",
        "object": "chat.completion.chunk",
        "choices": choices,
    }
    if "usage" in extra:
        chunk = {**chunk, "choices": [], "usage": extra["usage"]}
    return {"type": "chat.completions.chunk", "request_id": request_id, "chunk": chunk}


def _response(request_id: str, audio: dict[str, Any], usage: dict[str, Any]) -> dict[str, Any]:
    message = {"role": "assistant", "content": None, "audio": audio}
    return {
        "type": "chat.completions.response",
        "request_id": request_id,
        "status": 200,
        "body": {
            "id": f"chatcmpl-{request_id}",
            "object": "chat.completion",
            "choices": [{"index": 0, "finish_reason": "stop", "message": message}],
            "usage": usage,
        },
    }


def _error(
    request_id: str, attempt: int, status: int, code: str | None, message: str, retry: float | None
) -> dict[str, Any]:
    return {
        "type": "chat.completions.error",
        "request_id": request_id,
        "attempt": attempt,
        "status": status,
        "code": code,
        "message": message,
        "retry_in_s": retry,
    }


def _completion(request_id: str, *, stream: bool, fmt: str, **figures: Any) -> dict[str, Any]:
    return {"request_id": request_id, "model": MODEL, "stream": stream, "format": fmt, **figures}


def write_completions_log(
    path: Path, *, audio: str = "full", with_meta: bool = True
) -> CompletionsLog:
    clock = _Clock()
    input_wav = wav_file(tone(1.0, 300.0))
    piece_1, piece_2 = tone(0.2, 500.0), tone(0.3, 600.0)
    reply_pcm = tone(0.4, 700.0)
    b64 = pcm.encode_b64
    with EventLogWriter(
        path,
        provider="openai",
        model=MODEL,
        session=SESSION,
        program_version="test",
        redactor=Redactor(),
        audio=audio,  # type: ignore[arg-type]
        clock=clock,
    ) as log:

        def http(t: float, event: dict[str, Any]) -> None:
            clock.now = t
            log.write("http", event)

        def meta(t: float, figures: dict[str, Any]) -> None:
            if with_meta:
                clock.now = t
                log.note("completion", **figures)

        first_user = {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is this sound?"},
                {"type": "input_audio", "input_audio": {"data": b64(input_wav), "format": "wav"}},
            ],
        }
        history: list[dict[str, Any]] = [{"role": "system", "content": "Be brief."}, first_user]
        http(0.0, _request("req_0001", 1, history, stream=True, fmt="pcm16"))
        http(0.12, _error("req_0001", 1, 429, "rate_limit_exceeded", "Too many requests", 0.5))
        http(0.65, _request("req_0001", 2, history, stream=True, fmt="pcm16"))
        http(
            0.9,
            _chunk(
                "req_0001",
                {"role": "assistant", "audio": {"id": "audio_1", "transcript": "A bell"}},
            ),
        )
        http(0.95, _chunk("req_0001", {"audio": {"data": b64(piece_1)}}))
        http(1.0, _chunk("req_0001", {"audio": {"transcript": " ringing."}}))
        http(
            1.05, _chunk("req_0001", {"audio": {"data": b64(piece_2), "expires_at": 1_900_000_000}})
        )
        http(1.08, _chunk("req_0001", {}, finish_reason="stop"))
        http(1.1, _chunk("req_0001", None, usage=USAGE_1))
        meta(
            1.105,
            _completion(
                "req_0001", stream=True, fmt="pcm16", status="completed", first_audio_s=0.302,
                elapsed_s=1.1, audio_s=0.5, input_audio_s=1.0, usage=USAGE_1, retries=1,
                transcript="A bell ringing.",
            ),
        )  # fmt: skip

        history += [
            {"role": "assistant", "audio": {"id": "audio_1"}},
            {"role": "user", "content": [{"type": "text", "text": "Say it again, slower."}]},
        ]
        http(3.0, _request("req_0002", 1, history, stream=False, fmt="wav"))
        reply = {
            "id": "audio_2",
            "data": b64(wav_file(reply_pcm)),
            "expires_at": 1_900_000_000,
            "transcript": "A bell, ringing.",
        }
        http(3.8, _response("req_0002", reply, USAGE_2))
        meta(
            3.805,
            _completion(
                "req_0002", stream=False, fmt="wav", status="completed", first_audio_s=0.79,
                elapsed_s=0.8, audio_s=0.4, input_audio_s=None, usage=USAGE_2, retries=0,
                transcript="A bell, ringing.",
            ),
        )  # fmt: skip

        history += [
            {"role": "assistant", "audio": {"id": "audio_2"}},
            {"role": "user", "content": "And in mp3?"},
        ]
        http(5.0, _request("req_0003", 1, history, stream=False, fmt="mp3"))
        mp3 = {"id": "audio_3", "data": b64(b"ID3\x04" + bytes(400)), "transcript": "Here it is."}
        http(5.5, _response("req_0003", mp3, USAGE_3))
        meta(
            5.505,
            _completion(
                "req_0003", stream=False, fmt="mp3", status="completed", first_audio_s=0.5,
                elapsed_s=0.5, audio_s=1.2, input_audio_s=None, usage=USAGE_3, retries=0,
                transcript="Here it is.",
            ),
        )  # fmt: skip

        history += [
            {"role": "assistant", "content": "Here it is."},
            {"role": "user", "content": "Tell me more."},
        ]
        http(7.0, _request("req_0004", 1, history, stream=True, fmt="pcm16"))
        http(7.2, _error("req_0004", 1, 500, "server_error", "The server had an error", 1.0))
        http(8.2, _request("req_0004", 2, history, stream=True, fmt="pcm16"))
        http(8.4, _error("req_0004", 2, 503, None, "Service unavailable", None))
        meta(
            8.41,
            _completion(
                "req_0004", stream=True, fmt="pcm16", status="failed", first_audio_s=None,
                elapsed_s=1.4, audio_s=None, input_audio_s=None, usage=None, retries=1,
                transcript=None,
            ),
        )  # fmt: skip
    return CompletionsLog(path, [(0.95, piece_1), (1.05, piece_2)], (3.8, reply_pcm), input_wav)
