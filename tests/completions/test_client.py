"""Replies, streaming, retries and every failure's one line, against the real local server."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest

from realtime_console.completions.errors import AudioNotFound, CompletionsError
from realtime_console.completions.types import AudioRequest
from realtime_console.server.app import LocalServer
from tests.completions.conftest import (
    Notices,
    audio_message,
    azure_env,
    client_for,
    needs_routes,
    openai_env,
    serve,
)

pytestmark = needs_routes

HELLO = ({"role": "user", "content": "Hello"},)
SAY = AudioRequest(messages=HELLO)
STREAM = AudioRequest(messages=HELLO, format="pcm16", stream=True)


async def test_whole_reply(server: LocalServer) -> None:
    async with client_for(openai_env(server)) as client:
        reply = await client.complete(AudioRequest(messages=HELLO, voice="echo"))
    assert reply.text == '(local server) You said: "Hello".'
    assert reply.audio.startswith(b"RIFF") and reply.format == "wav"
    assert reply.audio_id and reply.audio_id.startswith("audio_")
    assert reply.expires_at and reply.expires_at > time.time()
    assert reply.usage["total_tokens"] > 0
    assert reply.request_id.startswith("req_") and reply.retries == 0
    assert reply.first_audio_s == reply.elapsed_s > 0


async def test_text_only_reply_has_no_audio(server: LocalServer) -> None:
    request = AudioRequest(messages=(audio_message(0.5),), audio_out=False)
    async with client_for(openai_env(server)) as client:
        reply = await client.complete(request)
    assert reply.text == "(local server) I received 0.5 seconds of audio."
    assert not reply.has_audio and reply.audio_id is None and reply.first_audio_s is None


async def test_stream_hands_over_each_piece_as_it_arrives() -> None:
    # Real pacing (4x real time), so the pieces are spread over the reply's generation.
    async with serve(realtime_factor=4.0) as paced:
        arrivals: list[tuple[float, int]] = []
        async with client_for(openai_env(paced)) as client:
            started = time.monotonic()
            reply = await client.complete(
                STREAM, on_audio=lambda pcm: arrivals.append((time.monotonic(), len(pcm)))
            )
            ended = time.monotonic()
    assert len(arrivals) >= 3
    assert b"".join(b"\0" * n for _, n in arrivals) == b"\0" * len(reply.audio)
    first, last, total = arrivals[0][0] - started, arrivals[-1][0] - started, ended - started
    # Handed over as they arrived: the first piece early (one 200 ms chunk at 4x is 50 ms of
    # generation), the rest spread over the stream, not all at its end.
    assert first < 0.25 * total
    assert last - first > 0.5 * total
    assert reply.first_audio_s is not None and reply.first_audio_s < reply.elapsed_s
    assert reply.format == "pcm16" and len(reply.audio) % 2 == 0
    assert reply.audio_id and reply.expires_at and reply.text.endswith('"Hello".')
    assert reply.usage["completion_tokens"] > 0  # include_usage


async def test_stream_needs_pcm16(server: LocalServer) -> None:
    async with client_for(openai_env(server)) as client:
        with pytest.raises(ValueError, match="pcm16"):
            await client.complete(AudioRequest(messages=HELLO, format="wav", stream=True))


async def test_429_is_retried_after_retry_after_with_a_notice_each() -> None:
    notices = Notices()
    async with serve("http_status=429,http_errors=2,http_retry_after_s=0.1") as limited:
        async with client_for(openai_env(limited), notice=notices) as client:
            started = time.monotonic()
            reply = await client.complete(SAY)
            waited = time.monotonic() - started
    assert notices == [
        "rate limited (HTTP 429); retrying in 0.1 s (retry 1 of 2)",
        "rate limited (HTTP 429); retrying in 0.1 s (retry 2 of 2)",
    ]
    assert reply.retries == 2 and reply.text.endswith('"Hello".')
    assert waited >= 0.2


async def test_a_stream_is_retried_too_before_any_chunk() -> None:
    notices = Notices()
    async with serve("http_status=429,http_errors=1,http_retry_after_s=0.05") as limited:
        async with client_for(openai_env(limited), notice=notices) as client:
            pieces: list[bytes] = []
            reply = await client.complete(STREAM, on_audio=pieces.append)
    assert len(notices) == 1 and reply.retries == 1
    assert b"".join(pieces) == reply.audio  # played once, not twice


async def test_gives_up_after_max_retries() -> None:
    notices = Notices()
    async with serve("http_status=429,http_errors=5,http_retry_after_s=0.05") as limited:
        async with client_for(openai_env(limited), notice=notices, completions__max_retries=2) as c:
            with pytest.raises(CompletionsError) as caught:
                await c.complete(SAY)
    assert len(notices) == 2
    line = str(caught.value)
    assert line.startswith("still rate limited after 2 retries by openai model")
    assert "(HTTP 429): Rate limit reached for requests" in line
    assert line.endswith("wait a minute and try again, or raise completions.max_retries")
    assert caught.value.status == 429 and caught.value.exit_code == 1


async def test_a_retry_after_beyond_a_minute_is_not_waited_for() -> None:
    notices = Notices()
    async with serve("http_status=429,http_retry_after_s=120") as limited:
        async with client_for(openai_env(limited), notice=notices) as client:
            with pytest.raises(CompletionsError, match="asks to wait 120 s") as caught:
                await client.complete(SAY)
    assert notices == [] and "try again later" in str(caught.value)


async def test_503_is_retried_with_back_off() -> None:
    notices = Notices()
    async with serve("http_status=503") as overloaded:
        async with client_for(openai_env(overloaded), notice=notices) as client:
            reply = await client.complete(SAY)
    assert notices == ["service unavailable (HTTP 503); retrying in 1 s (retry 1 of 2)"]
    assert reply.retries == 1


async def test_wrong_key_names_the_variable(server: LocalServer) -> None:
    async with client_for(azure_env(server, key="wrong-key-0123456789")) as client:
        with pytest.raises(CompletionsError) as caught:
            await client.complete(SAY)
    line = str(caught.value)
    assert line == (
        f"azure deployment gpt-audio at {server.http_url()} (api-version 2025-01-01-preview) "
        "rejected the credential (AZURE_OPENAI_API_KEY, HTTP 401): Incorrect API key provided.; "
        "check that AZURE_OPENAI_API_KEY is a key of this resource (or unset it to sign in with "
        "Entra ID)"
    )
    assert "wrong-key" not in line


async def test_openai_wrong_key(server: LocalServer) -> None:
    async with client_for(openai_env(server, key="sk-wrong-0123456789")) as client:
        with pytest.raises(CompletionsError, match=r"\(OPENAI_API_KEY, HTTP 401\).*OPENAI_API_KEY"):
            await client.complete(SAY)


async def test_404_on_the_deployments_path_names_deployment_and_api_version() -> None:
    async with serve("http_status=404") as missing:
        async with client_for(azure_env(missing)) as client:
            with pytest.raises(CompletionsError) as caught:
                await client.complete(SAY)
    line = str(caught.value)
    assert line.startswith(
        f"no deployment named gpt-audio at {missing.http_url()} (HTTP 404 with api-version "
        "2025-01-01-preview): The API deployment for this resource does not exist."
    )
    assert "check AZURE_OPENAI_DEPLOYMENT_NAME / completions.model" in line
    assert "connection.api_version (OPENAI_API_VERSION)" in line
    assert caught.value.status == 404 and caught.value.code == "DeploymentNotFound"


async def test_404_on_the_v1_path() -> None:
    async with serve("http_status=404") as missing:
        async with client_for(azure_env(missing), completions__azure_api="v1") as client:
            with pytest.raises(CompletionsError) as caught:
                await client.complete(SAY)
    line = str(caught.value)
    assert line.startswith(
        f"no deployment named gpt-audio at {missing.http_url()}/openai/v1 (HTTP 404)"
    )
    assert line.endswith("check AZURE_OPENAI_DEPLOYMENT_NAME / completions.model")
    assert "api-version" not in line


async def test_403() -> None:
    async with serve("http_status=403") as denied:
        async with client_for(azure_env(denied)) as client:
            with pytest.raises(CompletionsError) as caught:
                await client.complete(SAY)
    line = str(caught.value)
    assert "denied access (HTTP 403): Principal does not have access" in line
    assert line.endswith("check the resource's network rules and the credential's access")


async def test_500_after_no_retries() -> None:
    async with serve("http_status=500") as broken:
        async with client_for(openai_env(broken), completions__max_retries=0) as client:
            with pytest.raises(CompletionsError) as caught:
                await client.complete(SAY)
    assert str(caught.value) == (
        f"openai model gpt-audio-1.5 at {broken.http_url()}/v1 failed (HTTP 500): The server had "
        "an error while processing your request. Sorry about that! (injected fault); "
        "try again later"
    )


async def test_400_quotes_the_service_and_its_param(server: LocalServer) -> None:
    bad = AudioRequest(messages=({"role": "robot", "content": "Hello"},))
    async with client_for(openai_env(server)) as client:
        with pytest.raises(CompletionsError) as caught:
            await client.complete(bad)
    line = str(caught.value)
    assert line.startswith("the service refused the request (HTTP 400): ")
    assert "(param messages[0].role)" in line
    assert type(caught.value) is CompletionsError


async def test_a_stalled_stream_times_out_and_is_not_retried() -> None:
    notices = Notices()
    async with serve("http_stall_after_chunks=2") as stalling:
        env = openai_env(stalling)
        async with client_for(env, notice=notices, completions__timeout_s=0.5) as client:
            pieces: list[bytes] = []
            started = time.monotonic()
            with pytest.raises(CompletionsError) as caught:
                await client.complete(STREAM, on_audio=pieces.append)
            waited = time.monotonic() - started
    assert str(caught.value) == (
        f"no answer within completions.timeout_s = 0.5 s from openai model gpt-audio-1.5 at "
        f"{stalling.http_url()}/v1; try again, or raise completions.timeout_s"
    )
    assert notices == [] and 0.4 < waited < 3


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


async def test_connection_refused() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    env = {"OPENAI_API_KEY": "sk-unused-0123456789", "OPENAI_BASE_URL": url}
    async with client_for(env, completions__max_retries=0) as client:
        with pytest.raises(CompletionsError) as caught:
            await client.complete(SAY)
    assert str(caught.value) == (
        f"cannot connect to openai model gpt-audio-1.5 at {url}: connection refused; "
        "check the endpoint (OPENAI_BASE_URL) and the network"
    )


async def test_connection_refused_is_retried() -> None:
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    notices = Notices()
    env = {"OPENAI_API_KEY": "sk-unused-0123456789", "OPENAI_BASE_URL": url}
    async with client_for(env, notice=notices, completions__max_retries=1) as client:
        with pytest.raises(CompletionsError, match="connection refused after 1 retry;"):
            await client.complete(SAY)
    assert notices == ["cannot connect (connection refused); retrying in 1 s (retry 1 of 1)"]


async def test_expired_audio_id_is_audio_not_found() -> None:
    async with serve(audio_ttl_s=0.2) as forgetful:
        async with client_for(openai_env(forgetful)) as client:
            first = await client.complete(SAY)
            await asyncio.sleep(0.3)
            later = AudioRequest(
                messages=(*HELLO, {"role": "assistant", "audio": {"id": first.audio_id}}, *HELLO)
            )
            with pytest.raises(AudioNotFound) as caught:
                await client.complete(later)
    assert caught.value.status == 400 and caught.value.code == "audio_not_found"
    assert caught.value.exit_code == 1
