"""Local servers on port 0 for the integration tests."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from realtime_console.server import LocalServer, ServerOptions

API_KEY = "test-key-0123456789"


@pytest.fixture
async def server() -> AsyncIterator[LocalServer]:
    """Fast pacing (50x real time): a few seconds of speech stream in well under 100 ms."""
    async with LocalServer(ServerOptions(api_key=API_KEY, realtime_factor=50.0)) as running:
        yield running


@pytest.fixture
async def paced_server() -> AsyncIterator[LocalServer]:
    """The default pacing, for tests about timing and cancelling mid-response."""
    async with LocalServer(ServerOptions(api_key=API_KEY)) as running:
        yield running
