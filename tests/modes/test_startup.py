"""Start-up failures of ``chat``, through the real process against the real local server: each is
one line naming what did not arrive, exit 1, within ``connection.connect_timeout_s`` (1 s here;
the process gets 10 s, where it used to take 16 s and end in an ExceptionGroup traceback)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from realtime_console.eventlog import read_log
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import REJECTED_UPDATE, FaultPlan
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY, Run, assert_no_traceback, azure_env, run_console
from tests.modes.test_chat import expected_reply

QUICK = "[connection]\nconnect_timeout_s = 1\n"


@asynccontextmanager
async def faulty(spec: str) -> AsyncIterator[LocalServer]:
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, faults=FaultPlan.parse(spec))
    async with LocalServer(options) as server:
        yield server


async def chat(server: LocalServer, tmp_path: Path, stdin: str = "hello\n") -> Run:
    (tmp_path / "quick.toml").write_text(QUICK)
    run = await run_console(
        "--config",
        "quick.toml",
        "--log-events",
        "log.jsonl",
        "chat",
        "--no-playback",
        stdin=stdin,
        env=azure_env(server.http_url(), tmp_path),
        cwd=tmp_path,
        timeout=10,
    )
    assert_no_traceback(run)
    return run


def where(server: LocalServer) -> str:
    return f"azure gpt-realtime at ws://127.0.0.1:{server.port}/openai/v1"


def only_line(run: Run) -> str:
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    return lines[0]


async def test_no_session_created_is_one_line(tmp_path: Path) -> None:
    async with faulty("no_session_created=1") as server:
        run = await chat(server, tmp_path)
    assert run.code == 1
    assert only_line(run) == (
        f"realtime-console: the server did not send session.created within 1 s ({where(server)})"
    )
    assert run.stdout == ""


async def test_no_session_updated_is_one_line(tmp_path: Path) -> None:
    async with faulty("no_session_updated=1") as server:
        run = await chat(server, tmp_path)
    assert run.code == 1
    assert run.stderr.strip().splitlines()[-1] == (
        f"realtime-console: the server did not send session.updated within 1 s ({where(server)})"
    )
    sent = [r.event["type"] for r in read_log(tmp_path / "log.jsonl") if r.dir == "client"]
    assert sent == ["session.update"]  # no turn was started on an unconfigured session


async def test_a_drop_while_configuring_is_one_line_and_not_retried(tmp_path: Path) -> None:
    # After session.created the connection is cut, before session.updated can arrive.
    async with faulty("drop_after=1") as server:
        run = await chat(server, tmp_path)
    assert run.code == 1
    last = run.stderr.strip().splitlines()[-1]
    assert last == (
        f"realtime-console: connection to {where(server)} ended (close code 1006) "
        "before the server sent session.updated"
    )
    assert "reconnecting" not in run.stderr  # nothing to restore yet: a start-up failure
    meta = [r.event["type"] for r in read_log(tmp_path / "log.jsonl") if r.dir == "meta"]
    assert "reconnect" not in meta


async def test_an_update_rejected_without_an_event_id_is_its_answer(tmp_path: Path) -> None:
    async with faulty("reject_update=1") as server:
        run = await chat(server, tmp_path)
    assert run.code == 0, run.stderr
    assert f"server error [invalid_value]: {REJECTED_UPDATE}" in run.stderr
    assert "-- the server rejected the session settings; it keeps its own defaults" in run.stderr
    assert f"assistant> {expected_reply('hello')}\n" in run.stdout
