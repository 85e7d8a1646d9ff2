"""Clients, messages and raw requests for the chat-completions tests (servers: tests/server)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import aiohttp
from multidict import CIMultiDictProxy
from openai import AsyncAzureOpenAI, AsyncOpenAI
from openai.types.chat import ChatCompletionUserMessageParam

from realtime_console.audio import codec
from realtime_console.server import LocalServer
from tests.server.completions.checks import b64
from tests.server.test_vad import tone

API_KEY = "test-key-0123456789"  # the key of tests/server/conftest.py's servers
AZURE_API_VERSION = "2025-01-01-preview"
AUDIO_OUT: dict[str, Any] = {
    "modalities": ["text", "audio"],
    "audio": {"voice": "alloy", "format": "wav"},
}

ClientFactory = Callable[[LocalServer], AsyncOpenAI]

# Every client made here, closed by the conftest at the end of the test that made it. An SDK
# client left open keeps its pooled keep-alive sockets; when the garbage collector finds it
# later, during another test, the SDK schedules its close on that test's loop, which then fails
# on the first loop's dead transports ("Event loop is closed", logged by asyncio).
OPEN_CLIENTS: list[AsyncOpenAI] = []


def _opened(client: AsyncOpenAI) -> AsyncOpenAI:
    OPEN_CLIENTS.append(client)
    return client


async def close_clients() -> None:
    while OPEN_CLIENTS:
        await OPEN_CLIENTS.pop().close()


def openai_client(server: LocalServer, *, api_key: str = API_KEY, **kwargs: Any) -> AsyncOpenAI:
    return _opened(AsyncOpenAI(base_url=server.http_url() + "/v1", api_key=api_key, **kwargs))


def azure_v1_client(server: LocalServer, **kwargs: Any) -> AsyncOpenAI:
    return _opened(
        AsyncOpenAI(base_url=server.http_url() + "/openai/v1", api_key=API_KEY, **kwargs)
    )


def azure_deployments_client(server: LocalServer, **kwargs: Any) -> AsyncOpenAI:
    """Key in an ``api-key`` header, URL /openai/deployments/{model}/chat/completions."""
    return _opened(
        AsyncAzureOpenAI(
            azure_endpoint=server.http_url(),
            api_version=AZURE_API_VERSION,
            api_key=API_KEY,
            **kwargs,
        )
    )


CLIENTS: list[ClientFactory] = [openai_client, azure_v1_client, azure_deployments_client]


def user(text: str) -> ChatCompletionUserMessageParam:
    return {"role": "user", "content": text}


def audio_part(data: bytes, fmt: str = "wav") -> dict[str, Any]:
    return {"type": "input_audio", "input_audio": {"data": b64(data), "format": fmt}}


def tone_file(ms: float, fmt: codec.AudioFormat = "wav") -> bytes:
    return codec.encode(tone(ms), fmt)


async def post(
    server: LocalServer,
    body: Any,
    *,
    path: str = "/v1/chat/completions",
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, Any], CIMultiDictProxy[str]]:
    """A raw POST (for what the SDK will not send): status, JSON body, headers."""
    sent = {"Authorization": f"Bearer {API_KEY}"} if headers is None else headers
    data = body if isinstance(body, bytes) else None
    async with aiohttp.ClientSession() as http:
        async with http.post(
            server.http_url() + path,
            json=None if data is not None else body,
            data=data,
            headers=sent,
        ) as response:
            return response.status, await response.json(), response.headers
