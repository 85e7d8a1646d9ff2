"""Every request rule: the status, code, param and wording of each refusal, over real HTTP.

Raw aiohttp requests, because the SDK will not send most of these bodies; one test checks that
the SDK turns such a refusal into ``BadRequestError`` with the code and param.
"""

from __future__ import annotations

from typing import Any

import openai
import pytest

from realtime_console.audio import codec
from realtime_console.server import LocalServer
from tests.server.completions.checks import b64, check_completion
from tests.server.completions.clients import (
    AUDIO_OUT,
    audio_part,
    openai_client,
    post,
    tone_file,
    user,
)

WAV = tone_file(300)
MP3 = tone_file(300, "mp3")
GOOD: dict[str, Any] = {"model": "gpt-audio-mini", "messages": [user("hi")], **AUDIO_OUT}


def with_(**changes: Any) -> dict[str, Any]:
    body = {**GOOD, **changes}
    return {key: value for key, value in body.items() if value is not ...}


def user_parts(*parts: Any) -> dict[str, Any]:
    return with_(messages=[{"role": "user", "content": list(parts)}])


def part_with(data: str, fmt: str = "wav") -> dict[str, Any]:
    return {"type": "input_audio", "input_audio": {"data": data, "format": fmt}}


CASES: list[tuple[str, Any, str, str | None, str]] = [
    # (id, body, code, param, a piece of the message)
    ("not-json", b"{nope", "invalid_json", None, "could not parse the JSON body"),
    ("not-an-object", b"[1, 2]", "invalid_json", None, "expects a JSON object"),
    ("unknown-parameter", with_(colour="blue"), "unknown_parameter", "colour",
     "Unrecognized request argument supplied: colour"),
    ("no-model", with_(model=...), "missing_required_parameter", "model", "'model'"),
    ("model-not-a-string", with_(model=4), "invalid_type", "model", "expected a string"),
    ("no-messages", with_(messages=...), "missing_required_parameter", "messages", "'messages'"),
    ("messages-not-an-array", with_(messages="hi"), "invalid_type", "messages", "an array"),
    ("no-message", with_(messages=[]), "empty_array", "messages", "empty array"),
    ("message-not-an-object", with_(messages=["hi"]), "invalid_type", "messages[0]", "an object"),
    ("no-role", with_(messages=[{"content": "hi"}]), "missing_required_parameter",
     "messages[0].role", "'messages[0].role'"),
    ("unknown-role", with_(messages=[{"role": "tool", "content": "x"}]), "invalid_value",
     "messages[0].role", "Supported values are: 'system', 'developer', 'user', and 'assistant'"),
    ("no-content", with_(messages=[{"role": "user"}]), "missing_required_parameter",
     "messages[0].content", "'messages[0].content'"),
    ("content-a-number", with_(messages=[{"role": "user", "content": 3}]), "invalid_type",
     "messages[0].content", "a string or an array"),
    ("content-empty", user_parts(), "empty_array", "messages[0].content", "empty array"),
    ("image-part", user_parts({"type": "image_url", "image_url": {"url": "x"}}), "invalid_value",
     "messages[0].content[0].type", "Supported values are: 'text' and 'input_audio'"),
    ("audio-in-a-system-message",
     with_(messages=[{"role": "system", "content": [audio_part(WAV)]}, user("hi")]),
     "invalid_value", "messages[0].content[0].type", "Supported values are: 'text'."),
    ("text-part-without-text", user_parts({"type": "text"}), "missing_required_parameter",
     "messages[0].content[0].text", "'messages[0].content[0].text'"),
    ("input-audio-flac", user_parts({"type": "text", "text": "x"}, part_with(b64(WAV), "flac")),
     "invalid_value", "messages[0].content[1].input_audio.format",
     "Supported values are: 'wav' and 'mp3'"),
    ("input-audio-not-base64", user_parts({"type": "text", "text": "x"}, part_with("!!not base64")),
     "invalid_value", "messages[0].content[1].input_audio.data", "not valid base64"),
    ("input-audio-wav-said-mp3", user_parts(part_with(b64(WAV), "mp3")), "invalid_value",
     "messages[0].content[0].input_audio.data", "not mp3 audio (it looks like wav)"),
    ("input-audio-mp3-said-wav", user_parts(part_with(b64(MP3), "wav")), "invalid_value",
     "messages[0].content[0].input_audio.data", "not wav audio (it looks like mp3)"),
    ("input-audio-random-bytes", user_parts(part_with(b64(bytes(range(256)) * 8))),
     "invalid_value", "messages[0].content[0].input_audio.data", "not wav audio"),
    ("input-audio-corrupt-wav", user_parts(part_with(b64(WAV[:12] + b"\xff" * 200))),
     "invalid_value", "messages[0].content[0].input_audio.data", "wav audio cannot be decoded"),
    ("input-audio-corrupt-mp3", user_parts(part_with(b64(b"ID3\x04\x00\x00\x00\x00\x00\x00"
                                                         + b"\x13\x37" * 400), "mp3")),
     "invalid_value", "messages[0].content[0].input_audio.data", "mp3 audio cannot be decoded"),
    ("assistant-with-nothing", with_(messages=[user("a"), {"role": "assistant"}, user("b")]),
     "missing_required_parameter", "messages[1].content", "'messages[1].content'"),
    ("assistant-audio-without-id",
     with_(messages=[user("a"), {"role": "assistant", "audio": {}}, user("b")]),
     "missing_required_parameter", "messages[1].audio.id", "'messages[1].audio.id'"),
    ("unknown-audio-id",
     with_(messages=[user("a"), {"role": "assistant", "audio": {"id": "audio_x"}}, user("b")]),
     "audio_not_found", "messages[1].audio", "Audio with id audio_x not found."),
    ("n-2", with_(n=2), "invalid_value", "n", "'n' must be 1"),
    ("modalities-a-string", with_(modalities="audio"), "invalid_type", "modalities", "an array"),
    ("modality-video", with_(modalities=["text", "video"]), "invalid_value", "modalities[1]",
     "Supported values are: 'text' and 'audio'"),
    ("audio-without-text", with_(modalities=["audio"]), "invalid_value", "modalities",
     '["text", "audio"]'),
    ("audio-out-without-audio", with_(audio=...), "missing_required_parameter", "audio",
     "'audio'"),
    ("audio-format-ogg", with_(audio={"voice": "alloy", "format": "ogg"}), "invalid_value",
     "audio.format", "'wav', 'mp3', 'flac', 'opus', 'aac', and 'pcm16'"),
    ("no-audio-format", with_(audio={"voice": "alloy"}), "missing_required_parameter",
     "audio.format", "'audio.format'"),
    ("unknown-voice", with_(audio={"voice": "bob", "format": "wav"}), "invalid_value",
     "audio.voice", "Invalid value: 'bob'."),
    ("no-voice", with_(audio={"format": "wav"}), "missing_required_parameter", "audio.voice",
     "'audio.voice'"),
    ("voice-a-number", with_(audio={"voice": 7, "format": "wav"}), "invalid_type", "audio.voice",
     "a string or an object with an id"),
    ("audio-extra-key", with_(audio={"voice": "alloy", "format": "wav", "speed": 2}),
     "unknown_parameter", "audio.speed", "'audio.speed'"),
    ("text-in-text-out", with_(modalities=["text"], audio=...), "invalid_value", "model",
     "This model requires that either input content or output modality contain audio."),
    ("text-in-text-out-by-default", with_(modalities=..., audio=...), "invalid_value", "model",
     "either input content or output modality contain audio"),
    ("stream-a-string", with_(stream="yes"), "invalid_type", "stream", "a boolean"),
    ("stream-wav", with_(stream=True), "unsupported_value", "audio.format",
     "Audio format wav is not supported when stream=true; use pcm16."),
    ("stream-mp3", with_(stream=True, audio={"voice": "ash", "format": "mp3"}),
     "unsupported_value", "audio.format", "Audio format mp3 is not supported when stream=true"),
    ("stream-options-without-stream", with_(stream_options={"include_usage": True}),
     "invalid_value", "stream_options", "only allowed when 'stream' is enabled"),
    ("include-usage-a-string",
     with_(stream=True, audio={"voice": "ash", "format": "pcm16"},
           stream_options={"include_usage": "yes"}),
     "invalid_type", "stream_options.include_usage", "a boolean"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("body", "code", "param", "message"), [case[1:] for case in CASES], ids=[c[0] for c in CASES]
)
async def test_a_bad_request_is_refused_like_the_service(
    server: LocalServer, body: Any, code: str, param: str | None, message: str
) -> None:
    status, answer, _ = await post(server, body)
    assert status == 400, answer
    assert set(answer) == {"error"}
    error = answer["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert (error["code"], error["param"], error["type"]) == (code, param, "invalid_request_error")
    assert message in error["message"]


@pytest.mark.parametrize(
    "body",
    [
        GOOD,
        with_(modalities=["audio", "text"]),
        with_(model="x", temperature=0.2, max_completion_tokens=50, user="u", store=False),
        with_(
            messages=[
                {"role": "developer", "content": [{"type": "text", "text": "Be nice"}]},
                user("hi"),
            ]
        ),  # fmt: skip
        with_(
            messages=[
                user("hi"),
                {"role": "assistant", "content": None, "refusal": "no", "audio": None},
                user("ok"),
            ]
        )  # fmt: skip
        | {"modalities": ["text", "audio"]},
        with_(
            messages=[
                user("a"),
                {
                    "role": "assistant",
                    "content": [{"type": "text", "text": "b"}, {"type": "refusal", "refusal": "c"}],
                },
                user("d"),
            ]
        ),
        with_(
            modalities=["text"],
            audio=...,
            messages=[
                {"role": "user", "content": [{"type": "text", "text": "q"}, audio_part(MP3, "mp3")]}
            ],
        ),  # fmt: skip
        with_(stream=False, n=1, stream_options=None, modalities=["text", "audio"]),
        with_(audio={"voice": "onyx", "format": "wav"}),
    ],
    ids=[
        "minimal",
        "audio-first",
        "ignored-knobs",
        "developer-parts",
        "null-fields",
        "assistant-parts",
        "mp3-in-text-out",
        "explicit-defaults",
        "chat-only-voice",
    ],  # fmt: skip
)
async def test_good_requests_pass(server: LocalServer, body: dict[str, Any]) -> None:
    status, answer, _ = await post(server, body)
    assert status == 200, answer
    check_completion(answer)


async def test_input_audio_over_20_mb_is_audio_too_large(server: LocalServer) -> None:
    # Checked before decoding: the bytes need not even be audio.
    body = user_parts(part_with(b64(bytes(20 * 1024 * 1024 + 1))))
    status, answer, _ = await post(server, body)
    assert status == 400
    assert answer["error"]["code"] == "audio_too_large"
    assert answer["error"]["param"] == "messages[0].content[0].input_audio.data"
    assert "20 MB" in answer["error"]["message"]


async def test_the_sdk_raises_bad_request_with_the_code_and_param(server: LocalServer) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await openai_client(server).chat.completions.create(
            model="gpt-audio",
            messages=[user("hi")],
            modalities=["text", "audio"],
            audio={"voice": "alloy", "format": "wav"},
            stream=True,
        )
    assert refused.value.status_code == 400
    assert (refused.value.code, refused.value.param) == ("unsupported_value", "audio.format")
    assert refused.value.request_id is not None and refused.value.request_id.startswith("req_")


def test_the_test_files_are_what_they_claim() -> None:
    assert (codec.sniff(WAV), codec.sniff(MP3)) == ("wav", "mp3")
