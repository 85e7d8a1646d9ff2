"""The service's session limit: at ``max_session_s`` the server closes with 1001 and its reason,
seen through the real SDK whatever the session is doing."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from openai import AsyncOpenAI
from websockets.exceptions import ConnectionClosedOK

from realtime_console.errors import ConfigError
from realtime_console.server import LocalServer, ServerOptions
from realtime_console.server.session_limit import max_duration_reason
from tests.server.conftest import API_KEY


def test_the_reason_is_worded_as_the_service_words_it() -> None:
    assert max_duration_reason(3600) == "Your session hit the maximum duration of 60 minutes."
    assert max_duration_reason(60) == "Your session hit the maximum duration of 1 minute."
    assert max_duration_reason(2.5) == "Your session hit the maximum duration of 2.5 seconds."


@pytest.mark.parametrize("value", [0.0, -1.0, float("inf"), float("nan")])
def test_max_session_s_must_be_a_finite_positive_number(value: float) -> None:
    with pytest.raises(ConfigError, match="max_session_s"):
        ServerOptions(api_key=API_KEY, max_session_s=value)


async def test_a_session_mid_reply_is_closed_at_the_limit_with_1001_and_the_reason() -> None:
    # Slow pacing: the reply is still streaming when the limit comes.
    options = ServerOptions(api_key=API_KEY, realtime_factor=1.0, max_session_s=0.6)
    async with LocalServer(options) as server:
        client = AsyncOpenAI(
            websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=API_KEY
        )
        started = time.monotonic()
        async with client.realtime.connect(model="gpt-realtime") as connection:
            await connection.response.create()
            seen: list[str] = []
            with pytest.raises(ConnectionClosedOK) as ended:
                while True:
                    seen.append(
                        json.loads(await asyncio.wait_for(connection.recv_bytes(), 5))["type"]
                    )
        lasted = time.monotonic() - started
        await asyncio.sleep(0.05)
        assert server.open_connections == 0
    assert ended.value.rcvd is not None
    assert ended.value.rcvd.code == 1001
    assert ended.value.rcvd.reason == "Your session hit the maximum duration of 0.6 seconds."
    assert "response.output_audio.delta" in seen and "response.done" not in seen
    assert 0.5 < lasted < 2.0
