"""Every SDK client a chat-completions test makes is closed on that test's own loop."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.server.completions.clients import close_clients


@pytest.fixture(autouse=True)
async def _close_sdk_clients() -> AsyncIterator[None]:
    yield
    await close_clients()
