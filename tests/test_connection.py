from __future__ import annotations

import pytest

from realtime_console.connection import azure_websocket_base_url
from realtime_console.errors import ConfigError


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
