"""Remote MCP servers in ``chat`` end to end: the real CLI process, the local server as the
service (it calls the MCP server itself, docs/local-server.md) and a real MCP server over
Streamable HTTP (tests/fixtures/mcp_server.py)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest

from realtime_console.eventlog import read_log
from realtime_console.protocol.schema import validate_client_event
from realtime_console.server.app import LocalServer
from tests.conftest import Run, assert_no_traceback, azure_env, run_console

pytest.importorskip("mcp", reason="the MCP tests need the mcp package (the 'mcp' extra)")

from tests.fixtures.mcp_server import RunningMcpServer, mcp_server, unused_url  # noqa: E402

SECRET = "mcp-token-7f3e9a2b41"  # only ever in the environment


@pytest.fixture(scope="module")
def mcp() -> Iterator[RunningMcpServer]:
    with mcp_server() as running:
        yield running


class Exchange:
    def __init__(self, log: Path) -> None:
        self.text = log.read_text()
        records = list(read_log(log))
        self.all = [(r.dir, r.event) for r in records]
        self.client = [r.event for r in records if r.dir == "client"]
        self.server = [r.event for r in records if r.dir == "server"]
        self.meta = [r.event for r in records if r.dir == "meta"]

    def approvals(self) -> list[Mapping[str, Any]]:
        return [
            e["item"]
            for e in self.client
            if e["type"] == "conversation.item.create"
            and e["item"]["type"] == "mcp_approval_response"
        ]

    def requests(self) -> list[Mapping[str, Any]]:
        return [
            e["item"]
            for e in self.server
            if e["type"] == "response.output_item.done"
            and e["item"]["type"] == "mcp_approval_request"
        ]

    def notes(self) -> list[Mapping[str, Any]]:
        return [e for e in self.meta if e["type"] == "tool_call"]

    def creates(self) -> int:
        return sum(e["type"] == "response.create" for e in self.client)


def profile(tmp_path: Path, url: str, **extra: str) -> str:
    lines = [
        "[tools]",
        *(f'{key} = "{value}"' for key, value in extra.items()),
        "[[tools.mcp]]",
        f'server_url = "{url}"',
        'server_label = "notes"',
        'headers = { Authorization = "Bearer ${NOTES_MCP_TOKEN}" }',
    ]
    path = tmp_path / "mcp.toml"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


async def chat(
    server: LocalServer, tmp_path: Path, stdin: str, *flags: str, config: str | None = None
) -> tuple[Run, Exchange]:
    log = tmp_path / "chat.jsonl"
    run = await run_console(
        *(["--config", config] if config else []),
        "--log-events",
        str(log),
        "chat",
        "--no-playback",
        *flags,
        stdin=stdin,
        env=azure_env(server.http_url(), tmp_path, NOTES_MCP_TOKEN=SECRET),
        cwd=tmp_path,
        timeout=60,
    )
    assert_no_traceback(run)
    return run, Exchange(log)


def assert_secret_nowhere(run: Run, exchange: Exchange) -> None:
    for text in (run.stdout, run.stderr, exchange.text):
        assert SECRET not in text


async def test_an_approved_call_is_made_and_the_reply_quotes_it(
    tmp_path: Path, local_server: LocalServer, mcp: RunningMcpServer
) -> None:
    config = profile(tmp_path, mcp.url, mode="confirm")
    run, exchange = await chat(
        local_server, tmp_path, 'delete_note title="Old list"\ny\n', config=config
    )
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert "mcp> notes: 3 tools (get_forecast, delete_note, broken)" in lines
    assert 'mcp call notes.delete_note({"title": "Old list"}) approve? [y/N] y' in lines, run.stdout
    (call_line,) = [line for line in lines if line.startswith("mcp> notes.delete_note")]
    assert call_line.startswith('mcp> notes.delete_note {"title": "Old list"} -> Deleted Old list.')
    assert call_line.endswith(" ms)")
    assert "assistant> (local server) delete_note returned Deleted Old list." in lines
    # The exchange: request, one approval, then one response.create (never two), all valid.
    (request,) = exchange.requests()
    (approval,) = exchange.approvals()
    assert approval["approval_request_id"] == request["id"] and approval["approve"] is True
    # After the request's response is done: the approval, then one response.create.
    order = [
        e.get("item", {}).get("type") or e["type"]
        for d, e in exchange.all
        if (d, e["type"])
        in {
            ("server", "response.done"),
            ("client", "response.create"),
            ("client", "conversation.item.create"),
        }
    ]
    assert order == [
        "message",  # the user's line
        "response.create",
        "response.done",  # the one with the approval request
        "mcp_approval_response",
        "response.create",
        "response.done",  # the call and the reply quoting it
    ]
    assert exchange.creates() == 2
    for event in exchange.client:
        validate_client_event(event)
    (note,) = exchange.notes()
    assert (note["call_id"], note["server_label"], note["name"], note["status"]) == (
        request["id"],
        "notes",
        "delete_note",
        "ok",
    )
    assert note["duration_ms"] >= 0
    # The MCP server got the credential; nothing the console wrote holds it.
    assert any(h.get("authorization") == f"Bearer {SECRET}" for h in mcp.requests_headers)
    assert '"Authorization":"***"' in exchange.text
    assert_secret_nowhere(run, exchange)
    # replay --summary counts the call (request and call are one), with the meta line's status.
    summary = await run_console("replay", "--summary", "--json", str(tmp_path / "chat.jsonl"))
    assert summary.code == 0, summary.stderr
    turns = json.loads(summary.stdout)["turns"]
    calls = [call for turn in turns for call in turn["tool_calls"]]
    assert [(c["call_id"], c["name"], c["status"]) for c in calls] == [
        (request["id"], "notes.delete_note", "ok")
    ]


async def test_a_refused_call_is_not_made(
    tmp_path: Path, local_server: LocalServer, mcp: RunningMcpServer
) -> None:
    config = profile(tmp_path, mcp.url, mode="confirm")
    run, exchange = await chat(local_server, tmp_path, "delete_note please\nn\n", config=config)
    assert run.code == 0, run.stderr
    lines = run.stdout.splitlines()
    assert 'mcp> notes.delete_note {"title": "example"} declined' in lines
    assert "assistant> (local server) The call of delete_note was refused." in lines
    (approval,) = exchange.approvals()
    assert approval["approve"] is False
    assert not [e for e in exchange.server if e["type"] == "response.mcp_call.in_progress"]
    assert [n["status"] for n in exchange.notes()] == ["declined"]
    assert exchange.creates() == 2
    assert_secret_nowhere(run, exchange)


async def test_end_of_input_refuses(
    tmp_path: Path, local_server: LocalServer, mcp: RunningMcpServer
) -> None:
    config = profile(tmp_path, mcp.url, mode="confirm")
    run, exchange = await chat(local_server, tmp_path, "delete_note please\n", config=config)
    assert run.code == 0, run.stderr
    assert "approve? [y/N] (end of input)" in run.stdout
    assert [a["approve"] for a in exchange.approvals()] == [False]
    assert "assistant> (local server) The call of delete_note was refused." in run.stdout


async def test_tool_mode_auto_approves(
    tmp_path: Path, local_server: LocalServer, mcp: RunningMcpServer
) -> None:
    run, exchange = await chat(
        local_server,
        tmp_path,
        "get_forecast city=Oslo days=2\n",
        "--mcp",
        f"notes={mcp.url}",
        "--tool-mode",
        "auto",
    )
    assert run.code == 0, run.stderr
    assert "approve?" not in run.stdout
    assert "mcp> notes.get_forecast" in run.stdout
    assert "assistant> (local server) get_forecast returned Sunny in Oslo for 2 days." in run.stdout
    assert [a["approve"] for a in exchange.approvals()] == [True]
    sent = next(e for e in exchange.client if e["type"] == "session.update")
    (tool,) = sent["session"]["tools"]
    assert tool == {
        "type": "mcp",
        "server_label": "notes",
        "server_url": mcp.url,
        "require_approval": "always",
    }


async def test_a_failing_tool_is_one_failed_line(
    tmp_path: Path, local_server: LocalServer, mcp: RunningMcpServer
) -> None:
    run, exchange = await chat(local_server, tmp_path, "broken\n", "--mcp", mcp.url)
    assert run.code == 0, run.stderr
    (line,) = [x for x in run.stdout.splitlines() if x.startswith("mcp> 127_0_0_1.broken")]
    assert line.startswith("mcp> 127_0_0_1.broken {} failed: Error executing tool broken (")
    assert [n["status"] for n in exchange.notes()] == ["error"]


async def test_an_unreachable_server_is_one_line_and_the_chat_goes_on(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server, tmp_path, "hello there\n", "--mcp", f"gone={unused_url()}"
    )
    assert run.code == 0, run.stderr
    failed = [x for x in run.stdout.splitlines() if x.startswith("mcp> ")]
    assert failed == ["mcp> gone: listing failed; its tools cannot be called"]
    assert "assistant> (local server) You said" in run.stdout
    assert exchange.creates() == 1


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("ftp://example.com/mcp", "is not an http:// or https:// URL"),
        ("https://user:pw-secret@example.com/mcp", "user name or password"),
        ("bad label=https://example.com/mcp", "has label 'bad label'"),
    ],
)
async def test_a_bad_mcp_value_is_exit_2_and_one_line(
    tmp_path: Path, local_server: LocalServer, value: str, says: str
) -> None:
    run = await run_console(
        "chat",
        "--no-playback",
        "--mcp",
        value,
        stdin="hi\n",
        env=azure_env(local_server.http_url(), tmp_path),
        cwd=tmp_path,
    )
    assert run.code == 2
    assert_no_traceback(run)
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("realtime-console: --mcp: tools.mcp ") and says in line
    assert "pw-secret" not in run.stderr


async def test_an_unset_header_variable_is_exit_2(
    tmp_path: Path, local_server: LocalServer
) -> None:
    config = profile(tmp_path, "https://notes.example.com/mcp")
    run = await run_console(
        "--config",
        config,
        "chat",
        "--no-playback",
        stdin="hi\n",
        env=azure_env(local_server.http_url(), tmp_path),
        cwd=tmp_path,
    )
    assert run.code == 2
    assert_no_traceback(run)
    assert run.stderr.strip().splitlines() == [
        "realtime-console: tools.mcp [notes] header Authorization: environment variable "
        "NOTES_MCP_TOKEN is not set"
    ]


async def test_a_literal_secret_in_a_profile_is_refused_without_showing_it(
    tmp_path: Path, local_server: LocalServer
) -> None:
    path = tmp_path / "leaky.toml"
    path.write_text(
        '[[tools.mcp]]\nserver_url = "https://n.example.com/mcp"\n'
        'headers = { X-Api-Key = "sk-literal-123456" }\n'
    )
    run = await run_console(
        "--config",
        str(path),
        "chat",
        "--no-playback",
        stdin="hi\n",
        env=azure_env(local_server.http_url(), tmp_path),
        cwd=tmp_path,
    )
    assert run.code == 2
    assert_no_traceback(run)
    (line,) = run.stderr.strip().splitlines()
    assert "header X-Api-Key holds a literal value" in line
    assert "sk-literal" not in line
