"""What the server admits, over real loopback sockets and the real SDK: the session cap (503),
the handshake timeout, and the connection limit that closes idle connections to let good
clients in. Every test bounds its connections and closes them."""

from __future__ import annotations

import asyncio
import json
import logging
import math
import resource
import time
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from typing import Any

import pytest
from openai.resources.realtime.realtime import AsyncRealtimeConnection
from websockets.exceptions import InvalidStatus

from realtime_console.errors import ConfigError
from realtime_console.server import LocalServer, ServerOptions
from realtime_console.server.admission import FD_RESERVE, fitting_limit
from realtime_console.server.testing import EventRecorder
from tests.server.test_app import API_KEY, azure_ga, say, session

Stream = tuple[asyncio.StreamReader, asyncio.StreamWriter]


@asynccontextmanager
async def idle_connections(server: LocalServer, count: int) -> AsyncIterator[list[Stream]]:
    """``count`` TCP connections to the server that send nothing; all closed afterwards."""
    streams: list[Stream] = []
    try:
        for _ in range(count):
            streams.append(await asyncio.open_connection("127.0.0.1", server.port))
        yield streams
    finally:
        for _, writer in streams:
            writer.close()
        for _, writer in streams:
            try:
                await writer.wait_closed()
            except ConnectionError:
                pass  # the server had already reset it


async def closed_by_server(stream: Stream, timeout: float) -> bool:
    """True once the server has closed this connection (EOF or reset) within ``timeout``."""
    reader, _ = stream
    try:
        while await asyncio.wait_for(reader.read(4096), timeout):
            pass
    except asyncio.TimeoutError:
        return False
    except ConnectionError:
        pass
    return True


async def first_event(connection: AsyncRealtimeConnection) -> dict[str, Any]:
    return await EventRecorder(connection).next()


async def assert_usable(connection: AsyncRealtimeConnection) -> None:
    events = EventRecorder(connection)
    await say(connection, "still there?")
    done = (await events.until("conversation.item.done"))[-1]
    assert done["item"]["content"][0]["text"] == "still there?"


# ---- the session cap -------------------------------------------------------------------------


async def test_the_session_after_the_cap_is_refused_503_until_one_closes(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="realtime_console.server.admission")
    options = ServerOptions(api_key=API_KEY, max_sessions=3)
    async with LocalServer(options) as server, AsyncExitStack() as stack:
        client = azure_ga(server, API_KEY)
        opened = []
        for _ in range(3):
            connection = await stack.enter_async_context(client.realtime.connect(model="m"))
            assert (await first_event(connection))["type"] == "session.created"
            opened.append(connection)
        for _ in range(4):  # a burst of refusals
            with pytest.raises(InvalidStatus) as refused:
                async with client.realtime.connect(model="m"):
                    pass
            assert refused.value.response.status_code == 503
        body = json.loads(refused.value.response.body or b"{}")
        assert body["error"]["type"] == "server_error"
        assert body["error"]["code"] == "server_overloaded"
        assert "all 3 sessions in use" in body["error"]["message"]
        for connection in opened[1:]:
            await assert_usable(connection)  # the sessions already open are untouched

        await opened[0].close()
        deadline = time.monotonic() + 5
        while True:  # the server frees the slot once it has seen the close
            try:
                async with client.realtime.connect(model="m") as again:
                    assert (await first_event(again))["type"] == "session.created"
                    await assert_usable(again)
                break
            except InvalidStatus as still_full:
                assert still_full.response.status_code == 503
                assert time.monotonic() < deadline, "the closed session's slot never came back"
                await asyncio.sleep(0.05)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "3 Realtime sessions open" in warnings[0].getMessage()
    ends = [r.getMessage() for r in caplog.records if "taking Realtime sessions again" in r.msg]
    assert len(ends) == 1 and "refused while full" in ends[0]


# ---- the handshake timeout -------------------------------------------------------------------


async def test_a_half_sent_request_is_closed_after_the_handshake_timeout() -> None:
    options = ServerOptions(api_key=API_KEY, handshake_timeout_s=0.5)
    async with LocalServer(options) as server, idle_connections(server, 2) as streams:
        silent, trickling = streams
        trickling[1].write(b"GET /v1/realtime HTTP/1.1\r\nHost: 127.0.0.1\r\n")
        started = time.monotonic()
        for _ in range(8):  # a header byte every 100 ms does not keep it open
            await asyncio.sleep(0.1)
            if trickling[1].is_closing():
                break
            trickling[1].write(b"X")
        assert await closed_by_server(trickling, 3) and await closed_by_server(silent, 3)
        assert time.monotonic() - started < 3
        assert server.open_connections == 0


async def test_a_session_outlives_the_handshake_timeout() -> None:
    options = ServerOptions(api_key=API_KEY, handshake_timeout_s=0.3)
    async with (
        LocalServer(options) as server,
        azure_ga(server, API_KEY).realtime.connect(model="m") as connection,
    ):
        assert (await first_event(connection))["type"] == "session.created"
        await asyncio.sleep(1.0)  # over three handshake timeouts with nothing sent
        await assert_usable(connection)


# ---- the connection limit --------------------------------------------------------------------


async def test_200_idle_connections_do_not_keep_a_real_client_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="realtime_console.server.admission")
    options = ServerOptions(api_key=API_KEY, realtime_factor=50.0, max_connections=50)
    async with LocalServer(options) as server, idle_connections(server, 200) as idle:
        async with session(server) as (connection, _):  # connects past 200 idle sockets
            await assert_usable(connection)
            assert server.open_connections <= 51
        closed = await asyncio.gather(*(closed_by_server(stream, 2) for stream in idle[:150]))
        assert all(closed)  # the oldest idle ones made room, newest-first kept
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "50 connections open (its limit)" in warnings[0].getMessage()


async def test_busy_connections_are_never_closed_to_make_room() -> None:
    options = ServerOptions(api_key=API_KEY, max_connections=2)
    async with LocalServer(options) as server, AsyncExitStack() as stack:
        client = azure_ga(server, API_KEY)
        sessions = []
        for _ in range(2):
            connection = await stack.enter_async_context(client.realtime.connect(model="m"))
            assert (await first_event(connection))["type"] == "session.created"
            sessions.append(connection)
        async with idle_connections(server, 3) as newcomers:
            reader, _ = newcomers[-1]
            answer = await asyncio.wait_for(reader.read(), 5)  # 503 and closed, unasked
        head, _, body = answer.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 503 ")
        assert json.loads(body)["error"]["code"] == "server_overloaded"
        with pytest.raises(InvalidStatus) as refused:  # what an SDK client sees
            async with client.realtime.connect(model="m"):
                pass
        assert refused.value.response.status_code == 503
        for connection in sessions:
            await assert_usable(connection)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("max_sessions", 0),
        ("max_sessions", True),
        ("max_connections", -1),
        ("max_context_bytes", 0),
        ("handshake_timeout_s", 0.0),
        ("handshake_timeout_s", math.inf),
    ],
)
def test_bad_admission_options_are_config_errors(option: str, value: object) -> None:
    with pytest.raises(ConfigError, match=f"local server: {option} must be"):
        ServerOptions(api_key=API_KEY, **{option: value})  # type: ignore[arg-type]


def test_the_connection_limit_leaves_descriptors_for_the_rest_of_the_process() -> None:
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    assert fitting_limit(10**9) == max(1, soft - FD_RESERVE)
    assert fitting_limit(5) == 5
