from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator

import pytest

from realtime_console.auth import Credential
from realtime_console.connection import (
    MAX_FRAME_BYTES,
    LinkSlot,
    Target,
    UnexpectedHttpRequest,
    azure_websocket_base_url,
    reconnect_delay_s,
    websocket_only_http_client,
)
from realtime_console.errors import ConfigError, ConnectionLost
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY
from tests.fixtures.relay import Injection, injecting_relay


@pytest.mark.parametrize(
    ("endpoint", "expected"),
    [
        ("https://res.openai.azure.com", "wss://res.openai.azure.com/openai/v1"),
        ("https://res.openai.azure.com/", "wss://res.openai.azure.com/openai/v1"),
        ("http://127.0.0.1:8765", "ws://127.0.0.1:8765/openai/v1"),
        ("https://res.openai.azure.com/openai/v1/", "wss://res.openai.azure.com/openai/v1"),
        ("wss://gateway.example/prefix", "wss://gateway.example/prefix/openai/v1"),
    ],
)
def test_endpoint_to_websocket_base(endpoint: str, expected: str) -> None:
    assert azure_websocket_base_url(endpoint) == expected


@pytest.mark.parametrize(
    "endpoint",
    [
        "res.openai.azure.com",
        "ftp://x",
        "https://",
        "http://[::1",
        "http://h:99999",
        "http://h:port",
        "http://exa mple.com",
    ],
)
def test_bad_endpoints_are_config_errors(endpoint: str) -> None:
    with pytest.raises(ConfigError, match="AZURE_OPENAI_ENDPOINT"):
        azure_websocket_base_url(endpoint)


def test_reconnect_back_off_doubles_from_half_a_second_up_to_8() -> None:
    assert [reconnect_delay_s(n) for n in range(1, 8)] == [0.5, 1, 2, 4, 8, 8, 8]


async def test_every_reopen_is_a_new_connect_that_awaits_the_token_provider_again() -> None:
    calls = 0

    async def token() -> str:
        nonlocal calls
        calls += 1
        return SERVER_KEY

    async with LocalServer(ServerOptions(api_key=SERVER_KEY)) as server:
        target = Target(
            "azure", "gpt-realtime", websocket_base_url=azure_websocket_base_url(server.http_url())
        )
        slot = LinkSlot(
            target,
            Credential(token, "test token provider"),
            event_log=None,
            on_notice=lambda text: None,
            connect_timeout_s=5.0,
        )
        try:
            first = await slot.open()
            first_created = await anext(first.events())
            second = await slot.open()  # closes the first link, opens a new session
            second_created = await anext(second.events())
        finally:
            await slot.aclose()
    assert calls == 2
    assert first is not second
    assert first_created["type"] == second_created["type"] == "session.created"
    assert first_created["session"]["id"] != second_created["session"]["id"]
    assert first.close_code is None  # closed by us (1000), not a drop seen by the reader


@pytest.mark.parametrize("kind", ["openai", "azure"])
async def test_both_kinds_of_target_connect_through_the_websocket_only_client(kind: str) -> None:
    """The SDK gets an HTTP client that refuses requests: the realtime session never needs one."""
    async with LocalServer(ServerOptions(api_key=SERVER_KEY)) as server:
        if kind == "openai":
            target = Target("openai", "gpt-realtime", base_url=server.http_url() + "/v1")
        else:
            base = azure_websocket_base_url(server.http_url())
            target = Target("azure", "gpt-realtime", websocket_base_url=base)
        slot = LinkSlot(
            target,
            Credential(SERVER_KEY, "test key"),
            event_log=None,
            on_notice=lambda text: None,
            connect_timeout_s=5.0,
        )
        try:
            link = await slot.open()
            created = await anext(link.events())
        finally:
            await slot.aclose()
    assert created["type"] == "session.created"


async def test_the_websocket_only_client_refuses_plain_http_with_a_clear_error() -> None:
    async with LocalServer(ServerOptions(api_key=SERVER_KEY)) as server:
        client = websocket_only_http_client()
        try:
            with pytest.raises(UnexpectedHttpRequest, match="GET /v1/models.*only WebSocket"):
                await client.get(server.http_url() + "/v1/models")
        finally:
            await client.aclose()


def slot_for(url: str, notices: list[str], connect_timeout_s: float = 5.0) -> LinkSlot:
    base = azure_websocket_base_url(url)
    return LinkSlot(
        Target("azure", "gpt-realtime", websocket_base_url=base),
        Credential(SERVER_KEY, "test key"),
        event_log=None,
        on_notice=notices.append,
        connect_timeout_s=connect_timeout_s,
    )


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    async with LocalServer(ServerOptions(api_key=SERVER_KEY)) as local:
        yield local


async def test_a_frame_over_the_limit_ends_the_link_with_1009_and_one_notice(
    server: LocalServer,
) -> None:
    huge = json.dumps({"type": "x.huge", "pad": "a" * (MAX_FRAME_BYTES + 2**20)})
    injection = Injection(after_type="session.created", frames=[huge])
    notices: list[str] = []
    async with injecting_relay(server.http_url(), injection) as url:
        slot = slot_for(url, notices)
        try:
            link = await slot.open()
            with pytest.raises(ConnectionLost) as lost:
                async for _ in link.events():
                    pass
        finally:
            await slot.aclose()
    assert link.close_code == 1009
    assert "the server sent a message over 16 MiB" in str(lost.value)
    assert notices == ["the server sent a message over 16 MiB; closed the connection (1009)"]


async def test_a_connect_timeout_over_10_s_is_honoured(server: LocalServer) -> None:
    # websockets' own open_timeout (10 s) used to cut this handshake short.
    async with injecting_relay(server.http_url(), Injection(handshake_delay_s=10.5)) as url:
        slot = slot_for(url, [], connect_timeout_s=12.0)
        try:
            link = await slot.open()
            assert (await anext(link.events()))["type"] == "session.created"
        finally:
            await slot.aclose()


async def test_closing_does_not_wait_long_for_a_server_that_ignores_the_close(
    server: LocalServer,
) -> None:
    injection = Injection(ignore_close=True)
    async with injecting_relay(server.http_url(), injection) as url:
        slot = slot_for(url, [])
        link = await slot.open()
        assert (await anext(link.events()))["type"] == "session.created"
        started = time.monotonic()
        await slot.aclose()
        took = time.monotonic() - started
    assert injection.client_close_codes == [1000]
    assert 0.9 <= took < 2.5  # websockets' default would wait 10 s
