"""MCP tools on the local server: a real MCP server (tests/fixtures/mcp_server.py) over
Streamable HTTP, the real SDK client on the Realtime side, every server event checked against
the SDK's types.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from openai import AsyncOpenAI

from realtime_console.server import LocalServer
from realtime_console.server.testing import EventRecorder, collapse_deltas, types_of
from tests.server.conftest import API_KEY

pytest.importorskip("mcp", reason="the MCP tests need the mcp package (the 'mcp' extra)")

from tests.fixtures.mcp_server import RunningMcpServer, mcp_server, unused_url  # noqa: E402

TOKEN = "Bearer mcp-secret-token-42"


@pytest.fixture(scope="module")
def mcp() -> Iterator[RunningMcpServer]:
    with mcp_server() as running:
        yield running


def mcp_tool(url: str, **fields: Any) -> dict[str, Any]:
    return {"type": "mcp", "server_label": "notes", "server_url": url, **fields}


@asynccontextmanager
async def session(
    server: LocalServer, tools: list[dict[str, Any]], **settings: Any
) -> AsyncIterator[tuple[Any, EventRecorder, list[dict[str, Any]]]]:
    """A text session with ``tools``; yields the events up to the end of the tool listing."""
    client = AsyncOpenAI(
        websocket_base_url=f"ws://127.0.0.1:{server.port}/openai/v1", api_key=API_KEY
    )
    async with client.realtime.connect(model="gpt-realtime") as connection:
        events = EventRecorder(connection)
        await events.expect("session.created")
        update = {"type": "realtime", "output_modalities": ["text"], "tools": tools, **settings}
        await connection.send_raw(json.dumps({"type": "session.update", "session": update}))
        listing = await events.until("conversation.item.done")
        yield connection, events, listing


async def ask(connection: Any, events: EventRecorder, text: str) -> list[dict[str, Any]]:
    await connection.conversation.item.create(
        item={"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}
    )
    await events.until("conversation.item.done")
    await connection.response.create()
    return await events.until("rate_limits.updated")


def output_of(answer: list[dict[str, Any]]) -> list[dict[str, Any]]:
    done = next(e for e in answer if e["type"] == "response.done")
    assert done["response"]["status"] == "completed"
    return list(done["response"]["output"])


def said(answer: list[dict[str, Any]]) -> str:
    message = next(i for i in output_of(answer) if i["type"] == "message")
    return str(message["content"][0]["text"])


async def test_the_tools_are_listed_with_the_headers_sent(
    server: LocalServer, mcp: RunningMcpServer
) -> None:
    tool = mcp_tool(mcp.url, headers={"Authorization": TOKEN}, require_approval="never")
    async with session(server, [tool]) as (_, _events, listing):
        pass
    assert types_of(listing) == [
        "session.updated",
        "conversation.item.added",
        "mcp_list_tools.in_progress",
        "mcp_list_tools.completed",
        "conversation.item.done",
    ]
    added, done = listing[1]["item"], listing[-1]["item"]
    assert (added["type"], added["server_label"], added["tools"]) == ("mcp_list_tools", "notes", [])
    assert done["id"] == added["id"] == listing[2]["item_id"] == listing[3]["item_id"]
    tools = {t["name"]: t for t in done["tools"]}
    assert sorted(tools) == ["broken", "delete_note", "get_forecast"]
    assert tools["get_forecast"]["input_schema"]["required"] == ["city"]
    assert tools["get_forecast"]["annotations"]["readOnlyHint"] is True
    assert any(h.get("authorization") == TOKEN for h in mcp.requests_headers)
    # Credentials are write-only: the echo keeps the tool, never its headers.
    echoed = listing[0]["session"]["tools"][0]
    assert echoed["server_label"] == "notes" and "headers" not in echoed
    assert "mcp-secret-token-42" not in json.dumps(listing)


async def test_allowed_tools_limit_the_listing(server: LocalServer, mcp: RunningMcpServer) -> None:
    tool = mcp_tool(mcp.url, allowed_tools=["get_forecast", "nonexistent"])
    async with session(server, [tool]) as (connection, events, listing):
        answer = await ask(connection, events, "delete_note now")
    assert [t["name"] for t in listing[-1]["item"]["tools"]] == ["get_forecast"]
    assert [i["type"] for i in output_of(answer)] == ["message"]  # not listed: not called


async def test_a_named_tool_is_called_directly_without_approval(
    server: LocalServer, mcp: RunningMcpServer
) -> None:
    tool = mcp_tool(mcp.url, require_approval="never")
    async with session(server, [tool]) as (connection, events, _):
        answer = await ask(connection, events, "What will it be? get_forecast city=Oslo days=2")
    assert collapse_deltas(types_of(answer)) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "*.delta",
        "response.mcp_call_arguments.done",
        "response.mcp_call.in_progress",
        "response.mcp_call.completed",
        "response.output_item.done",
        "conversation.item.done",
        "response.output_item.added",
        "conversation.item.added",
        "response.content_part.added",
        "*.delta",
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
    ]
    call, message = output_of(answer)
    assert call["type"] == "mcp_call" and call["server_label"] == "notes"
    assert (call["name"], json.loads(call["arguments"])) == (
        "get_forecast",
        {"city": "Oslo", "days": 2},
    )
    assert (call["output"], call["error"], call["approval_request_id"]) == (
        "Sunny in Oslo for 2 days.",
        None,
        None,
    )
    assert said(answer) == "(local server) get_forecast returned Sunny in Oslo for 2 days."
    deltas = [e["delta"] for e in answer if e["type"] == "response.mcp_call_arguments.delta"]
    assert "".join(deltas) == call["arguments"]
    added = [e for e in answer if e["type"] == "response.output_item.added"]
    assert [e["output_index"] for e in added] == [0, 1]
    assert added[0]["item"]["output"] is None and added[0]["item"]["arguments"] == ""


async def test_approval_required_and_granted(server: LocalServer, mcp: RunningMcpServer) -> None:
    tool = mcp_tool(mcp.url, require_approval="always")
    async with session(server, [tool]) as (connection, events, _):
        first = await ask(connection, events, 'delete_note title="Old list"')
        (request,) = output_of(first)
        await connection.conversation.item.create(
            item={
                "type": "mcp_approval_response",
                "id": "item_approval_1",
                "approval_request_id": request["id"],
                "approve": True,
            }
        )
        await events.until("conversation.item.done")
        await connection.response.create()
        second = await events.until("rate_limits.updated")
    assert types_of(first) == [
        "response.created",
        "response.output_item.added",
        "conversation.item.added",
        "response.output_item.done",
        "conversation.item.done",
        "response.done",
        "rate_limits.updated",
    ]
    assert request == {
        "id": request["id"],
        "type": "mcp_approval_request",
        "server_label": "notes",
        "name": "delete_note",
        "arguments": '{"title":"Old list"}',
    }
    call, _message = output_of(second)
    assert (call["type"], call["approval_request_id"]) == ("mcp_call", request["id"])
    assert call["output"] == "Deleted Old list."
    assert said(second) == "(local server) delete_note returned Deleted Old list."


async def test_approval_refused_calls_nothing(server: LocalServer, mcp: RunningMcpServer) -> None:
    tool = mcp_tool(mcp.url)  # require_approval unset: always, as on the service
    async with session(server, [tool]) as (connection, events, _):
        (request,) = output_of(await ask(connection, events, "delete_note please"))
        requests_before = len(mcp.requests_headers)
        await connection.conversation.item.create(
            item={
                "type": "mcp_approval_response",
                "id": "item_no",
                "approval_request_id": request["id"],
                "approve": False,
                "reason": "not now",
            }
        )
        await events.until("conversation.item.done")
        await connection.response.create()
        answer = await events.until("rate_limits.updated")
    assert [i["type"] for i in output_of(answer)] == ["message"]
    assert said(answer) == "(local server) The call of delete_note was refused."
    assert len(mcp.requests_headers) == requests_before  # the MCP server heard nothing


async def test_an_approval_filter_asks_only_where_it_must(
    server: LocalServer, mcp: RunningMcpServer
) -> None:
    tool = mcp_tool(mcp.url, require_approval={"never": {"read_only": True}})
    async with session(server, [tool]) as (connection, events, _):
        read = await ask(connection, events, "get_forecast city=Rome")
        write = await ask(connection, events, "delete_note")
    assert [i["type"] for i in output_of(read)] == ["mcp_call", "message"]
    assert [i["type"] for i in output_of(write)] == ["mcp_approval_request"]


async def test_a_failing_tool_is_a_failed_call_and_said(
    server: LocalServer, mcp: RunningMcpServer
) -> None:
    async with session(server, [mcp_tool(mcp.url, require_approval="never")]) as (c, events, _):
        answer = await ask(c, events, "broken")
    assert "response.mcp_call.failed" in types_of(answer)
    call, _ = output_of(answer)
    assert call["output"] is None
    assert call["error"]["type"] == "tool_execution_error"
    assert said(answer).startswith("(local server) broken failed: ")


async def test_an_unreachable_server_fails_the_listing_and_the_session_goes_on(
    server: LocalServer,
) -> None:
    async with session(server, [mcp_tool(unused_url())]) as (connection, events, listing):
        answer = await ask(connection, events, "get_forecast city=Oslo")
    assert types_of(listing)[-2:] == ["mcp_list_tools.failed", "conversation.item.done"]
    assert listing[-1]["item"]["tools"] == []
    assert [i["type"] for i in output_of(answer)] == ["message"]  # nothing listed, nothing called
    assert said(answer).startswith("(local server) You said")


async def test_an_answer_to_no_approval_request_is_refused(
    server: LocalServer, mcp: RunningMcpServer
) -> None:
    async with session(server, [mcp_tool(mcp.url)]) as (connection, events, _):
        await connection.conversation.item.create(
            item={
                "type": "mcp_approval_response",
                "id": "item_stray",
                "approval_request_id": "mcpr_nope",
                "approve": True,
            }
        )
        error = (await events.expect("error"))["error"]
    assert (error["code"], error["param"]) == ("invalid_value", "item.approval_request_id")


async def test_headers_never_reach_the_log(
    server: LocalServer, mcp: RunningMcpServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    tools = [
        mcp_tool(mcp.url, headers={"Authorization": TOKEN}, require_approval="never"),
        {**mcp_tool(unused_url(), headers={"Authorization": TOKEN}), "server_label": "gone"},
    ]
    async with session(server, tools) as (connection, events, _):
        await events.until("conversation.item.done")  # the second listing
        await ask(connection, events, "get_forecast city=Oslo")
    assert caplog.records  # something was logged (the failed listing, HTTP requests)
    assert "mcp-secret-token-42" not in caplog.text
