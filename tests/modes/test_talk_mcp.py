"""Remote MCP servers in ``talk`` end to end on fake sound devices: the real talk loop, the real
SDK client, the local server as the service and a real MCP server. The local server cannot
recognise speech, so ``tool_choice = "required"`` makes every spoken turn call the first listed
tool (docs/local-server.md), which asks for approval first (``require_approval`` "always")."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from realtime_console.config import ConnectionSettings, LogSettings, Settings
from realtime_console.config.settings import ToolsSettings
from realtime_console.eventlog import read_log
from realtime_console.modes.talk import run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.redact import Redactor
from realtime_console.ui.lines import StdinLines, ToolPrompts
from realtime_console.ui.view import TalkState
from tests.modes.test_talk import Devices, silence, start_talk, tone, until
from tests.modes.test_talk_handlers import RecordingView

pytest.importorskip("mcp", reason="the MCP tests need the mcp package (the 'mcp' extra)")

from tests.fixtures.mcp_server import RunningMcpServer, mcp_server  # noqa: E402


@pytest.fixture(scope="module")
def mcp() -> Iterator[RunningMcpServer]:
    with mcp_server() as running:
        yield running


async def test_auto_mode_approves_and_the_next_reply_is_asked_once_none_is_active(
    tmp_path: Path, mcp: RunningMcpServer
) -> None:
    log = tmp_path / "talk.jsonl"
    settings = Settings(
        connection=ConnectionSettings(provider="local"),
        log=LogSettings(events=str(log)),
        tools=ToolsSettings(mcp=(f"notes={mcp.url}",), tool_choice="required"),
    )
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(settings, devices, view, controls)

    def lines() -> list[str]:
        return [args[0] for args in view.named("mcp_status")]

    try:
        await until(lambda: TalkState.LISTENING in view.states)
        await until(lambda: "notes: 3 tools (get_forecast, delete_note, broken)" in lines())
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: any(line.startswith("notes.get_forecast ") for line in lines()), 30)
        await until(lambda: len(view.named("assistant_done")) >= 2)
        controls.quit()
        assert await asyncio.wait_for(talk, 10) == 0
    finally:
        talk.cancel()

    records = list(read_log(log))
    client = [r.event for r in records if r.dir == "client"]
    approvals = [
        e["item"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "mcp_approval_response"
    ]
    assert [a["approve"] for a in approvals] == [True]
    # The reply after the approval is asked by the console once, after the approval went out,
    # and while no response was active.
    order = [
        (r.dir, r.event["type"], r.event.get("item", {}).get("type"))
        for r in records
        if (r.dir, r.event["type"])
        in {
            ("server", "response.created"),
            ("server", "response.done"),
            ("client", "response.create"),
            ("client", "conversation.item.create"),
        }
    ]
    at = order.index(("client", "conversation.item.create", "mcp_approval_response"))
    assert order[at - 1][:2] == ("server", "response.done")
    assert order[at + 1][:2] == ("client", "response.create")
    assert sum(o[1] == "response.create" for o in order) == 1  # the voice turn's was the server's
    notes = [r.event for r in records if r.dir == "meta" and r.event["type"] == "tool_call"]
    assert [(n["server_label"], n["name"]) for n in notes] == [("notes", "get_forecast")]


async def test_speaking_over_an_approval_question_withdraws_it(
    tmp_path: Path, mcp: RunningMcpServer
) -> None:
    """``confirm``: the question waits for a line that never comes; the user speaks instead,
    so nothing is sent for the request and the new turn goes on."""
    log = tmp_path / "talk.jsonl"
    settings = Settings(
        connection=ConnectionSettings(provider="local"),
        log=LogSettings(events=str(log)),
        tools=ToolsSettings(mcp=(f"notes={mcp.url}",), tool_choice="required", mode="confirm"),
    )
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    read_end, write_end = os.pipe()  # stdin with no answer yet
    stdin = os.fdopen(read_end, "r")
    talk = asyncio.ensure_future(
        run_talk(
            settings,
            controls=controls,
            view=view,
            env=os.environ,
            redactor=Redactor(),
            backend=devices.backend(),
            tool_prompts=ToolPrompts(StdinLines(stdin), view),
        )
    )

    def requests() -> list[dict[str, object]]:
        return [
            r.event
            for r in read_log(log)
            if r.dir == "server"
            and r.event["type"] == "response.output_item.done"
            and r.event["item"]["type"] == "mcp_approval_request"
        ]

    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: len(requests()) == 1, 30)
        await asyncio.sleep(0.3)  # the question is waiting for its line
        devices.inputs[0].feed(tone(700) + silence(400))  # the user speaks instead
        await until(lambda: len(requests()) == 2, 30)  # the new turn's reply (asks again)
        controls.quit()
        assert await asyncio.wait_for(talk, 10) == 0
    finally:
        talk.cancel()
        os.close(write_end)
        stdin.close()

    records = list(read_log(log))
    sent = [
        r.event["item"]
        for r in records
        if r.dir == "client"
        and r.event["type"] == "conversation.item.create"
        and r.event["item"]["type"] == "mcp_approval_response"
    ]
    assert sent == []  # nothing for the withdrawn question, nor for the one left open at quit
    assert view.named("prompt_answer") == []  # never answered
    assert not [r for r in records if r.dir == "server" and r.event["type"] == "error"]
