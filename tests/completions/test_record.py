"""The event log of audio chat completions: its lines, both audio policies, and no secrets."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from realtime_console.completions.errors import CompletionsError
from realtime_console.completions.record import input_audio_s
from realtime_console.completions.types import AudioRequest
from realtime_console.eventlog import read_log
from realtime_console.redact import Redactor
from tests.completions.conftest import (
    KEY,
    audio_message,
    azure_env,
    client_for,
    needs_routes,
    openai_env,
    serve,
)

pytestmark = needs_routes


def events(path: Path) -> list[tuple[str, dict[str, Any]]]:
    return [(record.dir, record.event) for record in read_log(path)]


def header(path: Path) -> dict[str, Any]:
    line: dict[str, Any] = json.loads(path.read_text().splitlines()[0])
    return line


async def test_whole_reply_lines_with_full_audio(tmp_path: Path) -> None:
    log = tmp_path / "say.jsonl"
    request = AudioRequest(messages=(audio_message(0.5, "Listen"),), voice="echo")
    async with serve() as server:
        async with client_for(azure_env(server), log__events=str(log)) as client:
            reply = await client.complete(request)
    assert header(log)["session"] == {
        "type": "chat.completions",
        "api": "azure-deployments",
        "voice": "alloy",
        "format": "wav",
    }
    (d1, sent), (d2, answer), (d3, note) = events(log)
    assert (d1, d2, d3) == ("http", "http", "meta")
    assert sent == {
        "type": "chat.completions.request",
        "request_id": reply.request_id,
        "attempt": 1,
        "api": "azure-deployments",
        "model": "gpt-audio",
        "stream": False,
        "body": {
            "model": "gpt-audio",
            "modalities": ["text", "audio"],
            "audio": {"voice": "echo", "format": "wav"},
            "messages": list(request.messages),
        },
    }
    assert answer["type"] == "chat.completions.response" and answer["status"] == 200
    audio = answer["body"]["choices"][0]["message"]["audio"]
    assert base64.b64decode(audio["data"]) == reply.audio
    assert note["type"] == "completion"
    assert note["request_id"] == reply.request_id and note["status"] == "completed"
    assert note["stream"] is False and note["format"] == "wav" and note["retries"] == 0
    assert note["transcript"] == reply.text and note["usage"] == reply.usage
    assert note["input_audio_s"] == 0.5
    assert note["audio_s"] > 0.5 and note["elapsed_s"] == round(reply.elapsed_s, 3)


async def test_stream_chunks_without_audio(tmp_path: Path) -> None:
    log = tmp_path / "stream.jsonl"
    request = AudioRequest(messages=(audio_message(0.3),), format="pcm16", stream=True)
    async with serve() as server:
        env = openai_env(server)
        async with client_for(env, log__events=str(log), log__audio="none") as client:
            reply = await client.complete(request)
    lines = events(log)
    sent = lines[0][1]
    assert sent["stream"] is True
    assert sent["body"]["stream"] is True
    assert sent["body"]["stream_options"] == {"include_usage": True}
    part = sent["body"]["messages"][0]["content"][0]["input_audio"]
    assert "data" not in part and part["audio_bytes"] > 0
    chunks = [event for _, event in lines if event["type"] == "chat.completions.chunk"]
    assert len(chunks) >= 3
    assert all(event["request_id"] == reply.request_id for event in chunks)
    deltas = [c["chunk"]["choices"][0]["delta"] for c in chunks if c["chunk"]["choices"]]
    pieces = [d["audio"] for d in deltas if "audio_bytes" in d.get("audio", {})]
    assert sum(p["audio_bytes"] for p in pieces) == len(reply.audio)
    assert not any("data" in d.get("audio", {}) for d in deltas)
    assert chunks[-1]["chunk"]["usage"]["total_tokens"] > 0
    note = lines[-1][1]
    assert note["type"] == "completion" and note["stream"] is True
    assert note["audio_s"] == round(len(reply.audio) / 48_000, 3)
    assert note["first_audio_s"] is not None and note["input_audio_s"] == 0.3


async def test_retries_and_failures_are_logged_without_the_key(tmp_path: Path) -> None:
    log = tmp_path / "fail.jsonl"
    redactor = Redactor()
    async with serve("http_status=429,http_errors=9,http_retry_after_s=0.05") as server:
        env = azure_env(server)
        async with client_for(
            env, redactor=redactor, log__events=str(log), completions__max_retries=1
        ) as client:
            with pytest.raises(CompletionsError):
                await client.complete(AudioRequest(messages=({"role": "user", "content": "Hi"},)))
    lines = [event for _, event in events(log)]
    assert [e["type"] for e in lines] == [
        "chat.completions.request",
        "chat.completions.error",
        "chat.completions.request",
        "chat.completions.error",
        "completion",
    ]
    first_error, last_error = lines[1], lines[3]
    assert first_error["attempt"] == 1 and first_error["retry_in_s"] == 0.05
    assert first_error["status"] == 429 and first_error["code"] == "rate_limit_exceeded"
    assert first_error["message"].startswith("Rate limit reached")
    assert last_error["attempt"] == 2 and last_error["retry_in_s"] is None
    assert lines[2]["attempt"] == 2
    assert lines[4]["status"] == "failed" and lines[4]["retries"] == 1
    text = log.read_text()
    assert KEY not in text and "api-key" not in text.lower() and "bearer" not in text.lower()


def test_input_audio_s_counts_the_last_user_turn_only() -> None:
    messages = (
        audio_message(1.0),
        {"role": "assistant", "content": "ok"},
        audio_message(0.25, "and this"),
    )
    assert input_audio_s(messages) == 0.25
    assert input_audio_s(({"role": "user", "content": "text only"},)) is None
