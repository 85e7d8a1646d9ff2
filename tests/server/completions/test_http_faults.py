"""Injected HTTP faults on the chat-completions routes, seen by the real SDK and raw clients."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Any

import aiohttp
import openai
import pytest

from realtime_console.server import FaultPlan, LocalServer, ServerOptions
from tests.server.completions.checks import check_chunk, check_completion
from tests.server.completions.clients import (
    API_KEY,
    AUDIO_OUT,
    azure_deployments_client,
    openai_client,
    post,
    user,
)

REQUEST: dict[str, Any] = {"model": "gpt-audio", "messages": [user("hi")], **AUDIO_OUT}
STREAM: dict[str, Any] = {
    **REQUEST,
    "stream": True,
    "audio": {"voice": "alloy", "format": "pcm16"},
}


def serving(spec: str, **options: Any) -> LocalServer:
    return LocalServer(
        ServerOptions(
            api_key=API_KEY, realtime_factor=50.0, faults=FaultPlan.parse(spec), **options
        )
    )


async def test_429_carries_retry_after_then_requests_are_served() -> None:
    async with serving("http_status=429,http_errors=2,http_retry_after_s=0.1") as server:
        for _ in range(2):
            status, body, headers = await post(server, REQUEST)
            assert status == 429
            assert (headers["retry-after"], headers["retry-after-ms"]) == ("0.1", "100")
            assert body["error"]["code"] == "rate_limit_exceeded"
            assert body["error"]["type"] == "requests"
            assert "try again in 0.1s" in body["error"]["message"]
        status, body, _ = await post(server, REQUEST)
        assert status == 200 and check_completion(body)


async def test_the_sdk_sees_a_rate_limit_and_its_retries_honour_retry_after() -> None:
    async with serving("http_status=429,http_errors=1,http_retry_after_s=0.1") as server:
        with pytest.raises(openai.RateLimitError) as limited:
            await openai_client(server, max_retries=0).chat.completions.create(**REQUEST)
        assert limited.value.response.headers["retry-after"] == "0.1"
    async with serving("http_status=429,http_errors=2,http_retry_after_s=0.1") as server:
        started = time.monotonic()
        answer = await openai_client(server, max_retries=2).chat.completions.create(**REQUEST)
        assert 0.2 <= time.monotonic() - started < 1.5  # two waits of 0.1 s, not the backoff
        assert answer.choices[0].message.audio is not None


@pytest.mark.parametrize(
    ("status", "code", "error_type", "sdk_error"),
    [
        (500, "server_error", "server_error", openai.InternalServerError),
        (502, "bad_gateway", "server_error", openai.InternalServerError),
        (503, "server_overloaded", "server_error", openai.InternalServerError),
        (404, "DeploymentNotFound", "invalid_request_error", openai.NotFoundError),
        (403, "PermissionDenied", "invalid_request_error", openai.PermissionDeniedError),
    ],
)
async def test_each_status_has_the_service_shaped_body(
    status: int, code: str, error_type: str, sdk_error: type[openai.APIStatusError]
) -> None:
    async with serving(f"http_status={status}") as server:
        with pytest.raises(sdk_error) as refused:
            await azure_deployments_client(server, max_retries=0).chat.completions.create(**REQUEST)
        assert refused.value.status_code == status
        assert refused.value.code == code
        assert refused.value.body == {
            "message": refused.value.body["message"],  # type: ignore[index]
            "type": error_type,
            "param": None,
            "code": code,
        }
        if status == 404:
            assert refused.value.message.startswith(
                "Error code: 404 - The API deployment for this resource does not exist."
            )
        # Only the first request (http_errors defaults to 1); streams count too.
        stream = await openai_client(server).chat.completions.create(**STREAM)
        assert [check_chunk(chunk.model_dump()) async for chunk in stream]


async def test_faults_come_after_auth() -> None:
    async with serving("http_status=503") as server:
        status, body, _ = await post(server, REQUEST, headers={"api-key": "wrong"})
        assert (status, body["error"]["code"]) == (401, "invalid_api_key")
        status, _, _ = await post(server, REQUEST)
        assert status == 503


async def read_events(response: aiohttp.ClientResponse, count: int) -> list[bytes]:
    """``count`` whole SSE events (``data: …`` and the blank line that ends it)."""
    events = []
    for _ in range(count):
        events.append(await asyncio.wait_for(response.content.readline(), 2.0))
        assert await asyncio.wait_for(response.content.readline(), 2.0) == b"\n"
    return events


@pytest.mark.parametrize("chunks", [0, 3])
async def test_a_stalled_stream_sends_n_chunks_then_holds_the_socket_open(
    chunks: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="realtime_console.server")
    async with serving(f"http_stall_after_chunks={chunks}") as server:
        async with aiohttp.ClientSession() as http:
            async with http.post(
                server.http_url() + "/v1/chat/completions",
                json=STREAM,
                headers={"Authorization": f"Bearer {API_KEY}"},
            ) as response:
                assert response.status == 200  # headers arrive even with 0 chunks
                events = await read_events(response, chunks)
                assert all(e.startswith(b"data: {") for e in events)
                with pytest.raises(asyncio.TimeoutError):
                    await asyncio.wait_for(response.content.readline(), 0.3)
                assert not response.content.at_eof()
        for _ in range(50):
            if "the client hung up" in caplog.text:
                break
            await asyncio.sleep(0.02)
        assert "stalled chat-completions stream: the client hung up" in caplog.text
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.WARNING]


async def test_the_sdk_times_out_on_a_stalled_stream_and_shutdown_is_prompt() -> None:
    server = serving("http_stall_after_chunks=2")
    await server.start()
    try:
        client = openai_client(server, max_retries=0, timeout=0.3)
        stream = await client.chat.completions.create(**STREAM)
        received = []
        with pytest.raises((openai.APITimeoutError, openai.APIConnectionError)):
            async for chunk in stream:
                received.append(chunk)
        assert len(received) == 2
        # A second client still stalled while the server stops: shutdown does not wait for it.
        async with aiohttp.ClientSession() as http:
            response = await http.post(
                server.http_url() + "/v1/chat/completions",
                json=STREAM,
                headers={"Authorization": f"Bearer {API_KEY}"},
            )
            await read_events(response, 2)
            started = time.monotonic()
            await server.stop()
            assert time.monotonic() - started < 1.0
            response.close()
    finally:
        await server.stop()


async def test_http_faults_leave_the_realtime_routes_alone() -> None:
    async with serving("http_status=500,http_errors=5") as server:
        async with openai_client(server).realtime.connect(model="gpt-realtime") as connection:
            first = await asyncio.wait_for(connection.recv(), 5)
        assert first.type == "session.created"
