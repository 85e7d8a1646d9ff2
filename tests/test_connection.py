from __future__ import annotations

import pytest

from realtime_console.auth import Credential
from realtime_console.connection import (
    LinkSlot,
    Target,
    azure_websocket_base_url,
    reconnect_delay_s,
)
from realtime_console.errors import ConfigError
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY


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


@pytest.mark.parametrize("endpoint", ["res.openai.azure.com", "ftp://x", "https://"])
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
