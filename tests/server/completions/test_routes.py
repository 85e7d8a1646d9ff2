"""The chat-completions routes end to end, through the real openai SDK over real sockets.

Every body and chunk goes through ``check_completion`` / ``check_chunk`` (strict SDK types).
The servers use the synthetic voice, so each reply's audio length is known to the sample.
"""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import pytest

from realtime_console.audio import codec
from realtime_console.server import LocalServer, ServerOptions
from realtime_console.server.espeak import espeak_available
from realtime_console.server.voice import SyntheticVoice
from tests.server.completions.checks import check_chunk, check_completion, parse_sse, unb64
from tests.server.completions.clients import (
    API_KEY,
    AUDIO_OUT,
    CLIENTS,
    ClientFactory,
    audio_part,
    openai_client,
    post,
    tone_file,
    user,
)

HELLO_REPLY = '(local server) You said: "Hello there".'


def seconds_of(text: str) -> float:
    return SyntheticVoice().sample_count(text) / 24_000


def audio_tokens_of(text: str) -> int:
    """Ten tokens a second, rounded up: one per started 2400 samples."""
    return -(-SyntheticVoice().sample_count(text) // 2400)


async def create(server: LocalServer, **params: Any) -> dict[str, Any]:
    """A non-streamed completion through the SDK, as the JSON the server sent (checked)."""
    params.setdefault("model", "gpt-audio-mini")
    raw = await openai_client(server).chat.completions.with_raw_response.create(**params)
    body: dict[str, Any] = raw.http_response.json()
    check_completion(body)
    return body


async def stream_chunks(server: LocalServer, **params: Any) -> list[dict[str, Any]]:
    """A streamed completion read raw: framing, content type and every chunk checked."""
    body = {"model": "gpt-audio-mini", "stream": True, **params}
    async with aiohttp.ClientSession() as http:
        async with http.post(
            server.http_url() + "/v1/chat/completions",
            json=body,
            headers={"Authorization": f"Bearer {API_KEY}"},
        ) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "text/event-stream"
            chunks = parse_sse(await response.read())
    for chunk in chunks:
        check_chunk(chunk)
    return chunks


@pytest.mark.parametrize("client", CLIENTS)
async def test_every_route_answers_with_audio_and_echoes_the_model(
    server: LocalServer, client: ClientFactory
) -> None:
    answer = await client(server).chat.completions.create(
        model="my-audio-deployment", messages=[user("Hello   there")], **AUDIO_OUT
    )
    check_completion(answer.model_dump())
    assert answer.model == "my-audio-deployment"
    message = answer.choices[0].message
    assert message.content is None
    assert message.audio is not None and message.audio.transcript == HELLO_REPLY
    assert codec.decode(unb64(message.audio.data), "wav").duration_s == seconds_of(HELLO_REPLY)


@pytest.mark.parametrize("fmt", codec.OUTPUT_FORMATS)
async def test_each_output_format_decodes_to_the_spoken_length(
    server: LocalServer, fmt: codec.AudioFormat
) -> None:
    before = time.time()
    body = await create(
        server,
        messages=[user("Hello there")],
        modalities=["text", "audio"],
        audio={"voice": "coral", "format": fmt},
    )
    audio = body["choices"][0]["message"]["audio"]
    data = unb64(audio["data"])
    assert codec.sniff(data) == (None if fmt == "pcm16" else fmt)
    # Lossy codecs pad to whole frames (AAC: 1024 samples, plus its priming).
    tolerance = {"aac": 0.1, "mp3": 0.03, "opus": 0.03}.get(fmt, 0.0)
    assert codec.decode(data, fmt).duration_s == pytest.approx(
        seconds_of(HELLO_REPLY), abs=tolerance
    )
    assert audio["transcript"] == HELLO_REPLY
    assert before + 3600 <= audio["expires_at"] <= time.time() + 3601
    assert before - 1 <= body["created"] <= time.time()


async def test_usage_counts_words_and_ten_audio_tokens_a_second(server: LocalServer) -> None:
    wav = tone_file(1500)
    body = await create(
        server,
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [{"type": "text", "text": "what is"}, audio_part(wav)]},
        ],
        **AUDIO_OUT,
    )
    reply = '(local server) I received 1.5 seconds of audio and the text: "what is".'
    assert body["choices"][0]["message"]["audio"]["transcript"] == reply
    out_audio = audio_tokens_of(reply)
    assert body["usage"] == {
        "prompt_tokens": 4 + 15,
        "completion_tokens": len(reply.split()) + out_audio,
        "total_tokens": 4 + 15 + len(reply.split()) + out_audio,
        "prompt_tokens_details": {
            "audio_tokens": 15,
            "cached_tokens": 0,
            "text_tokens": 4,
            "image_tokens": 0,
        },
        "completion_tokens_details": {
            "audio_tokens": out_audio,
            "text_tokens": len(reply.split()),
            "reasoning_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


@pytest.mark.parametrize(
    ("content", "modalities", "reply"),
    [
        ("Hi", ["text", "audio"], '(local server) You said: "Hi".'),
        (
            [audio_part(tone_file(2400))],
            ["text"],
            "(local server) I received 2.4 seconds of audio.",
        ),
        (
            [audio_part(tone_file(1000, "mp3"), "mp3")],
            ["text", "audio"],
            "(local server) I received 1.0 seconds of audio.",
        ),
        (
            [{"type": "text", "text": " Is\nthis   it? "}, audio_part(tone_file(500))],
            ["text"],
            '(local server) I received 0.5 seconds of audio and the text: "Is this it?".',
        ),
    ],
    ids=["text-in-audio-out", "audio-in-text-out", "mp3-in-audio-out", "both-in-text-out"],
)
async def test_the_modality_table_and_the_reply_rule(
    server: LocalServer, content: Any, modalities: list[str], reply: str
) -> None:
    extra = {"audio": AUDIO_OUT["audio"]} if "audio" in modalities else {}
    body = await create(
        server, messages=[{"role": "user", "content": content}], modalities=modalities, **extra
    )
    message = body["choices"][0]["message"]
    assert (message["audio"]["transcript"] if message["audio"] else message["content"]) == reply


async def test_a_custom_voice_id_is_accepted(server: LocalServer) -> None:
    body = await create(
        server,
        messages=[user("Hello there")],
        modalities=["text", "audio"],
        audio={"voice": {"id": "voice_1234"}, "format": "pcm16"},
    )
    data = unb64(body["choices"][0]["message"]["audio"]["data"])
    assert len(data) == 2 * SyntheticVoice().sample_count(HELLO_REPLY)


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
async def test_the_app_synthesizer_speaks_espeak_when_asked() -> None:
    options = ServerOptions(api_key=API_KEY, realtime_factor=float("inf"), voice_engine="espeak")
    async with LocalServer(options) as server:
        body = await create(server, messages=[user("Hello there")], **AUDIO_OUT)
    data = unb64(body["choices"][0]["message"]["audio"]["data"])
    seconds = codec.decode(data, "wav").duration_s
    assert 1.0 < seconds < 5.0 and seconds != seconds_of(HELLO_REPLY)  # speech, not tones


async def test_a_later_turn_refers_to_an_earlier_reply_by_audio_id(server: LocalServer) -> None:
    long = "Please remember that my favourite colour is a deep and quiet blue"
    first = await create(server, messages=[user(long)], **AUDIO_OUT)
    earlier = first["choices"][0]["message"]["audio"]
    second = await create(
        server,
        messages=[
            user(long),
            {"role": "assistant", "audio": {"id": earlier["id"]}},
            user("What is it?"),
        ],
        **AUDIO_OUT,
    )
    assert second["choices"][0]["message"]["audio"]["transcript"] == (
        '(local server) You said: "What is it?". Earlier I said: '
        '"You said: \'Please remember that my favourite colour is a...".'
    )
    # The referenced reply counts as audio in the prompt, as on the service.
    details = second["usage"]["prompt_tokens_details"]
    assert details["audio_tokens"] == audio_tokens_of(earlier["transcript"])
    # The transcript fallback: an assistant message with text content.
    third = await create(
        server,
        messages=[{"role": "assistant", "content": "I like owls."}, user("And?")],
        **AUDIO_OUT,
    )
    assert third["choices"][0]["message"]["audio"]["transcript"] == (
        '(local server) You said: "And?". Earlier I said: "I like owls.".'
    )


async def test_an_expired_or_unknown_audio_id_is_audio_not_found() -> None:
    options = ServerOptions(api_key=API_KEY, realtime_factor=float("inf"), audio_ttl_s=0.3)
    async with LocalServer(options) as server:
        first = await create(server, messages=[user("Hi")], **AUDIO_OUT)
        audio_id = first["choices"][0]["message"]["audio"]["id"]
        turns = [user("Hi"), {"role": "assistant", "audio": {"id": audio_id}}, user("Again")]
        await create(server, messages=turns, **AUDIO_OUT)  # still there
        await asyncio.sleep(0.35)
        for gone in (audio_id, "audio_0123456789abcdef0123456789abcdef"):
            turns[1] = {"role": "assistant", "audio": {"id": gone}}
            status, body, _ = await post(server, {"model": "m", "messages": turns, **AUDIO_OUT})
            assert status == 400
            assert body == {
                "error": {
                    "message": f"Audio with id {gone} not found.",
                    "type": "invalid_request_error",
                    "param": "messages[1].audio",
                    "code": "audio_not_found",
                }
            }


async def test_a_stream_reassembles_to_the_whole_reply(server: LocalServer) -> None:
    params: dict[str, Any] = {
        "messages": [user("Hello there, how are you today?")],
        "modalities": ["text", "audio"],
        "audio": {"voice": "verse", "format": "pcm16"},
    }
    whole = (await create(server, **params))["choices"][0]["message"]["audio"]
    chunks = await stream_chunks(server, **params)
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks]
    assert deltas[0] == {"role": "assistant", "content": None, "refusal": None}
    pieces = [delta["audio"] for delta in deltas[1:-2]]
    audio_id = pieces[0]["id"]
    assert all(piece.keys() in ({"id", "transcript"}, {"id", "data"}) for piece in pieces)
    assert {piece["id"] for piece in pieces} == {audio_id} and audio_id != whole["id"]
    assert "".join(p.get("transcript", "") for p in pieces) == whole["transcript"]
    assert b"".join(unb64(p["data"]) for p in pieces if "data" in p) == unb64(whole["data"])
    # Transcript and audio interleave; audio comes in chunk_ms (200 ms) pieces, the tail longer.
    kinds = ["data" if "data" in p else "transcript" for p in pieces]
    assert kinds[0] == "transcript" and kinds.index("data") < kinds.index("transcript", 2)
    sizes = [len(unb64(p["data"])) for p in pieces if "data" in p]
    assert all(size == 9600 for size in sizes[:-1]) and 9600 <= sizes[-1] < 19200
    expiry = deltas[-2]["audio"]
    assert list(expiry) == ["expires_at"] and expiry["expires_at"] >= time.time() + 3599
    assert deltas[-1] == {} and chunks[-1]["choices"][0]["finish_reason"] == "stop"
    assert all(c["choices"][0]["finish_reason"] is None for c in chunks[:-1])
    assert len({(c["id"], c["created"], c["model"]) for c in chunks}) == 1
    assert "usage" not in chunks[-1]


async def test_the_sdk_reads_the_stream_and_the_usage_chunk(server: LocalServer) -> None:
    stream = await openai_client(server).chat.completions.create(
        model="gpt-audio",
        messages=[user("Hi")],
        modalities=["text", "audio"],
        audio={"voice": "alloy", "format": "pcm16"},
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    for chunk in chunks:
        check_chunk(chunk.model_dump())
    *rest, last = chunks
    assert last.choices == [] and last.usage is not None
    assert last.usage.completion_tokens_details is not None
    assert last.usage.completion_tokens_details.audio_tokens == audio_tokens_of(
        '(local server) You said: "Hi".'
    )
    assert all(chunk.usage is None for chunk in rest)
    transcript = "".join(
        c.choices[0].delta.audio.transcript or ""
        for c in rest
        if c.choices[0].delta.audio is not None
    )
    assert transcript == '(local server) You said: "Hi".'


async def test_a_text_stream_sends_content_pieces(server: LocalServer) -> None:
    chunks = await stream_chunks(
        server,
        messages=[{"role": "user", "content": [audio_part(tone_file(800))]}],
        stream_options={"include_usage": True},
    )
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    assert deltas[0] == {"role": "assistant", "content": "", "refusal": None}
    words = [delta["content"] for delta in deltas[1:-1]]
    assert words == ["(local", " server)", " I", " received", " 0.8", " seconds", " of", " audio."]
    assert chunks[-1]["choices"] == [] and chunks[-1]["usage"]["completion_tokens"] == 8
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


async def test_streams_and_whole_replies_are_paced_by_the_realtime_factor(
    paced_server: LocalServer,
) -> None:
    text = "One two three four"  # 2.6 s of reply: 0.65 s at 4x
    expected = seconds_of(f'(local server) You said: "{text}".') / 4.0
    params: dict[str, Any] = {
        "messages": [user(text)],
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "pcm16"},
    }
    arrivals = []
    stream = await openai_client(paced_server).chat.completions.create(
        model="m", stream=True, **params
    )
    async for _ in stream:
        arrivals.append(time.monotonic())
    # The role chunk goes at once, audio as it is "generated": spread over the reply's time.
    assert expected * 0.9 <= arrivals[-1] - arrivals[0] <= expected + 0.2
    assert arrivals[1] - arrivals[0] < expected / 3
    started = time.monotonic()
    await openai_client(paced_server).chat.completions.create(model="m", **params)
    assert expected * 0.9 <= time.monotonic() - started <= expected + 0.5


async def test_a_client_leaving_mid_stream_logs_no_traceback(
    paced_server: LocalServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {
        "model": "m",
        "stream": True,
        "messages": [user("A reply long enough to leave in the middle of it")],
        "modalities": ["text", "audio"],
        "audio": {"voice": "alloy", "format": "pcm16"},
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(
            paced_server.http_url() + "/v1/chat/completions",
            json=body,
            headers={"api-key": API_KEY},
        ) as response:
            await response.content.readline()
    for _ in range(50):  # the server notices at one of its next writes
        if "client went away" in caplog.text:
            break
        await asyncio.sleep(0.02)
    assert "client went away during a chat-completions stream" in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]
    answer = await create(paced_server, messages=[user("Still there?")], **AUDIO_OUT)
    assert answer["choices"][0]["message"]["audio"]["transcript"].endswith('"Still there?".')


@pytest.mark.parametrize(
    ("headers", "code"),
    [
        ({}, "missing_api_key"),
        ({"Authorization": "Bearer nope"}, "invalid_api_key"),
        ({"api-key": "nope"}, "invalid_api_key"),
        ({"Authorization": f"Basic {API_KEY}"}, "missing_api_key"),
    ],
)
@pytest.mark.parametrize(
    "path",
    [
        "/v1/chat/completions",
        "/openai/deployments/d/chat/completions?api-version=2025-01-01-preview",
    ],
)
async def test_requests_without_the_key_get_401_shaped_like_the_service(
    server: LocalServer, headers: dict[str, str], code: str, path: str
) -> None:
    status, body, _ = await post(
        server, {"model": "m", "messages": [user("hi")]}, path=path, headers=headers
    )
    assert status == 401
    assert body["error"]["code"] == code and body["error"]["type"] == "invalid_request_error"
    assert "nope" not in str(body) and API_KEY not in str(body)


async def test_the_sdk_raises_authentication_error_for_a_wrong_key(server: LocalServer) -> None:
    import openai

    client = openai_client(server, api_key="wrong")
    with pytest.raises(openai.AuthenticationError) as refused:
        await client.chat.completions.create(model="m", messages=[user("hi")], **AUDIO_OUT)
    assert refused.value.code == "invalid_api_key"


async def test_the_deployments_path_needs_api_version_and_takes_the_model_from_the_url(
    server: LocalServer,
) -> None:
    path = "/openai/deployments/dep-1/chat/completions"
    body = {"messages": [user("hi")], **AUDIO_OUT}
    status, answer, _ = await post(server, body, path=path, headers={"api-key": API_KEY})
    assert (status, answer["error"]["param"]) == (400, "api-version")
    assert answer["error"]["code"] == "missing_required_parameter"
    assert "api-version" in answer["error"]["message"]
    status, answer, _ = await post(
        server, body, path=path + "?api-version=2024-10-21", headers={"api-key": API_KEY}
    )
    assert status == 200 and check_completion(answer).model == "dep-1"
    # The OpenAI-style paths need the body's model.
    for openai_path in ("/v1/chat/completions", "/openai/v1/chat/completions"):
        status, answer, _ = await post(server, body, path=openai_path)
        assert (status, answer["error"]["param"]) == (400, "model"), openai_path


async def test_a_body_over_32_mib_gets_413_with_a_json_body(server: LocalServer) -> None:
    big = b'{"model": "m", "messages": [], "pad": "' + b"x" * (32 * 1024 * 1024) + b'"}'
    status, body, _ = await post(
        server,
        big,
        headers={"Authorization": f"Bearer {API_KEY}", "Content-Type": "application/json"},
    )
    assert status == 413
    assert body["error"]["code"] == "request_too_large"
    assert body["error"]["type"] == "invalid_request_error"
