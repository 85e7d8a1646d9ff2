"""MCP servers across a session renewal: the new session gets the servers again (and lists their
tools again), the conversation's messages come back, the MCP items are not re-created, and the
next turn calls the server as before. The real chat loop, the real SDK, the local server and a
real MCP server."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from realtime_console.config.settings import ToolsSettings
from realtime_console.modes.recycle import RecyclePolicy
from realtime_console.protocol.schema import validate_client_event
from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY
from tests.modes.test_reconnect import chat, chat_settings, log_events

pytest.importorskip("mcp", reason="the MCP tests need the mcp package (the 'mcp' extra)")

from tests.fixtures.mcp_server import RunningMcpServer, mcp_server  # noqa: E402


@pytest.fixture(scope="module")
def mcp() -> Iterator[RunningMcpServer]:
    with mcp_server() as running:
        yield running


async def test_a_renewed_session_lists_the_tools_again_and_calls_them(
    tmp_path: Path, mcp: RunningMcpServer
) -> None:
    log = tmp_path / "log.jsonl"
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, max_session_s=60.0)
    async with LocalServer(options) as server:
        tools = ToolsSettings(mcp=(f"notes={mcp.url}",))  # mode auto: approved
        settings = replace(chat_settings(server, log), tools=tools)
        policy = RecyclePolicy(limit_s=60.0, margin_s=59.8)  # renew once the first turn is over
        code, out, err = await asyncio.wait_for(
            chat(settings, "get_forecast city=Oslo", "get_forecast city=Rome", recycle=policy), 60
        )
    assert code == 0, err
    assert "session renewed" in err
    client, server_events, meta = log_events(log)
    (recycled, *_) = [e for e in meta if e["type"] == "session_recycled"]
    assert recycled["skipped"] == 3  # the first call: approval request, its answer, the call
    updates = [e for e in client if e["type"] == "session.update"]
    assert len(updates) == 2 and all(u["session"]["tools"][0]["type"] == "mcp" for u in updates)
    restored = [
        e["item"]["type"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["type"].startswith("mcp")
    ]
    assert restored == ["mcp_approval_response", "mcp_approval_response"]  # sent, never restored
    lines = [x for x in out.splitlines() if x.startswith("mcp> ")]
    assert lines.count("mcp> notes: 3 tools (get_forecast, delete_note, broken)") == 2
    assert [x.split(" -> ")[1].split(" (")[0] for x in lines if " -> " in x] == [
        "Sunny in Oslo for 3 days.",
        "Sunny in Rome for 3 days.",
    ]
    for event in client:
        validate_client_event(event)
    assert not [e for e in server_events if e["type"] == "error"]
