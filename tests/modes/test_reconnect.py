"""Reconnection end to end: the real chat/talk loops, the real SDK client and a real local server
whose injected faults cut the TCP connection (the client sees 1006, as after a network cut)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import numpy as np

from realtime_console.config import ConnectionSettings, LogSettings, Settings, load_settings
from realtime_console.errors import BaseExceptionGroup, ConnectionLost
from realtime_console.eventlog import read_log
from realtime_console.modes.chat import ChatOptions, run_chat
from realtime_console.modes.recycle import RecyclePolicy
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.protocol.schema import validate_client_event, validate_server_event
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions
from realtime_console.ui.plain import PlainView
from realtime_console.ui.view import TalkState
from tests.conftest import SERVER_KEY, assert_no_traceback, azure_env, run_console
from tests.modes.test_chat import ListLines, expected_reply
from tests.modes.test_talk import Devices, silence, start_talk, tone, until
from tests.modes.test_talk_handlers import RecordingView

MID_REPLY = "response.output_audio_transcript.delta"


@asynccontextmanager
async def faulty_server(**faults: Any) -> AsyncIterator[LocalServer]:
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, faults=FaultPlan(**faults))
    async with LocalServer(options) as server:
        yield server


def chat_settings(server: LocalServer, log: Path, attempts: int = 5) -> Settings:
    return load_settings(
        env={"AZURE_OPENAI_ENDPOINT": server.http_url()},
        overrides={"log.events": str(log), "connection.reconnect_attempts": attempts},
    )


async def chat(
    settings: Settings, *lines: str, recycle: RecyclePolicy | None = None
) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_chat(
        settings,
        ChatOptions(),
        lines=ListLines(*lines),
        view=PlainView(out, err),
        env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
        redactor=Redactor(),
        recycle=recycle,
    )
    return code, out.getvalue(), err.getvalue()


def log_events(
    log: Path,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]]]:
    records = list(read_log(log))
    by_dir: dict[str, list[dict[str, Any]]] = {"client": [], "server": [], "meta": []}
    for record in records:
        by_dir[record.dir].append(record.event)
    return by_dir["client"], by_dir["server"], by_dir["meta"]


async def test_a_drop_mid_reply_reconnects_restores_and_answers_both_turns(
    tmp_path: Path,
) -> None:
    log = tmp_path / "log.jsonl"
    async with faulty_server(drop_at=MID_REPLY, drop_connections=1) as server:
        code, out, err = await chat(chat_settings(server, log), "first question", "second question")
    assert code == 0, err
    first, second = (
        expected_reply("first question"),
        expected_reply("first question", "second question"),
    )
    assert "Before that you said" in second  # the reply rule shows the restored first turn
    assert out == f"assistant> {first}\nassistant> {second}\n"
    assert "connection lost (1006); reconnecting (attempt 1/5) in 0.5 s" in err
    assert "reconnected; session and 1 item restored (1 could not be restored)" in err
    client, server_events, meta = log_events(log)
    for event in client:
        validate_client_event(event)
    for event in server_events:
        validate_server_event(event)
    reconnect = [e for e in meta if e["type"] == "reconnect"]
    reconnected = [e for e in meta if e["type"] == "reconnected"]
    assert reconnect == [{"type": "reconnect", "attempt": 1, "of": 5, "code": 1006, "delay_s": 0.5}]
    # The user item came back; the cut reply (never finished) could not.
    assert reconnected == [{"type": "reconnected", "attempt": 1, "restored": 1, "skipped": 1}]
    assert [e["type"] for e in client].count("session.update") == 2
    # The first turn was asked again after the reconnect; its item was not sent twice.
    assert [e["type"] for e in client].count("response.create") == 3
    user_items = [
        e["item"]["content"][0]["text"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["role"] == "user"
    ]
    assert user_items == ["first question", "first question", "second question"]
    assert sum(e["type"] == "session.created" for e in server_events) == 2
    assert not [e for e in server_events if e["type"] == "error"]


async def test_a_finished_reply_is_restored_as_an_assistant_message(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    # Cut just before response.done: the reply item is complete, the turn is not known done.
    async with faulty_server(drop_at="response.done", drop_connections=1) as server:
        code, out, err = await chat(chat_settings(server, log), "hello", "again")
    assert code == 0, err
    assert out.endswith(f"assistant> {expected_reply('hello', 'again')}\n")
    client, server_events, meta = log_events(log)
    restored = [
        e["item"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["role"] == "assistant"
    ]
    assert restored == [
        {
            "id": restored[0]["id"],
            "type": "message",
            "role": "assistant",
            "content": [{"type": "output_text", "text": expected_reply("hello")}],
        }
    ]
    for event in client:
        validate_client_event(event)
    assert not [e for e in server_events if e["type"] == "error"]
    assert [e for e in meta if e["type"] == "reconnected"][0]["restored"] == 2


async def test_a_server_that_drops_every_connection_is_given_up_after_the_attempts(
    tmp_path: Path,
) -> None:
    async with faulty_server(drop_at=MID_REPLY) as server:
        (tmp_path / "two.toml").write_text("[connection]\nreconnect_attempts = 2\n")
        run = await run_console(
            "--config",
            "two.toml",
            "--log-events",
            "log.jsonl",
            "chat",
            "--no-playback",
            stdin="hi\n",
            env=azure_env(server.http_url(), tmp_path),
            cwd=tmp_path,
        )
    assert run.code == 1
    assert_no_traceback(run)
    last = run.stderr.strip().splitlines()[-1]
    assert "lost for good after 2 reconnect attempts" in last, run.stderr
    assert run.stdout.endswith("\n") and run.stderr.endswith("\n")  # no line left open
    _, _, meta = log_events(tmp_path / "log.jsonl")
    assert [e["attempt"] for e in meta if e["type"] == "reconnect"] == [1, 2]
    assert [e["delay_s"] for e in meta if e["type"] == "reconnect"] == [0.5, 1.0]


def leaf_errors(exc: BaseException) -> list[BaseException]:
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_errors(inner)]
    return [exc]


async def test_a_server_gone_for_good_ends_with_connection_lost(tmp_path: Path) -> None:
    server = LocalServer(ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0))
    await server.__aenter__()
    stopped = False

    class StopAfterFirst(ListLines):
        async def read(self) -> str | None:
            nonlocal stopped
            line = await super().read()
            if line == "second" and not stopped:
                stopped = True
                await server.__aexit__(None, None, None)
            return line

    out, err = io.StringIO(), io.StringIO()
    try:
        code = await run_chat(
            chat_settings(server, tmp_path / "log.jsonl", attempts=2),
            ChatOptions(),
            lines=StopAfterFirst("first", "second"),
            view=PlainView(out, err),
            env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
            redactor=Redactor(),
        )
    except Exception as exc:  # the TaskGroup wraps it; the CLI shows its one line
        leaves = leaf_errors(exc)
        assert all(isinstance(leaf, ConnectionLost) for leaf in leaves), leaves
        message = str(leaves[0])
        assert "lost for good after 2 reconnect attempts" in message
        assert "cannot connect" in message
    else:
        raise AssertionError(f"chat ended with {code}: {err.getvalue()}")
    finally:
        if not stopped:
            await server.__aexit__(None, None, None)
    _, _, meta = log_events(tmp_path / "log.jsonl")
    assert [e["attempt"] for e in meta if e["type"] == "reconnect"] == [1, 2]
    assert not [e for e in meta if e["type"] == "reconnected"]


def azure_settings(server: LocalServer, log: Path) -> Settings:
    """The console pointed at ``server`` on the Azure GA path, logging to ``log``."""
    return Settings(
        connection=ConnectionSettings(provider="azure", endpoint=server.http_url()),
        log=LogSettings(events=str(log)),
    )


async def test_talk_shows_reconnecting_then_listens_again(tmp_path: Path) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    # Events 1 and 2 are session.created and session.updated: the cut comes while listening.
    async with faulty_server(drop_after=2, drop_connections=1) as server:
        talk = start_talk(
            azure_settings(server, log),
            devices,
            view,
            controls,
            env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
        )
        try:
            await until(lambda: TalkState.RECONNECTING in view.states)
            await until(lambda: view.states[-1] is TalkState.LISTENING)
            await asyncio.sleep(0.3)  # the microphone streams on the new connection
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    states = view.states
    assert states.index(TalkState.RECONNECTING) < len(states) - 1
    notices = [args[0] for args in view.named("notice")]
    assert any(n.startswith("connection lost (1006); reconnecting") for n in notices), notices
    assert any(n.startswith("reconnected; session and 0 items restored") for n in notices)
    records = list(read_log(log))
    kinds = [(r.dir, r.event["type"]) for r in records]
    back = kinds.index(("meta", "reconnected"))
    assert ("client", "input_audio_buffer.append") in kinds[back:]


async def test_talk_cuts_the_reply_in_flight_and_listens_again(tmp_path: Path) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    # All of the reply's audio arrives, then the connection is cut before the response ends.
    async with faulty_server(drop_at="response.output_audio.done", drop_connections=1) as server:
        talk = start_talk(
            azure_settings(server, log),
            devices,
            view,
            controls,
            env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
        )
        try:
            await until(lambda: TalkState.LISTENING in view.states)
            devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
            await until(lambda: TalkState.RECONNECTING in view.states)
            await until(lambda: view.states[-1] is TalkState.LISTENING)
            await asyncio.sleep(0.2)
            output = devices.outputs[0]
            assert any(np.any(block) for block in output.blocks)  # the reply was playing
            assert not np.any(output.blocks[-1])  # the cut reply is no longer playing
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    cut = [args for args in view.named("assistant_done") if args[1] == "incomplete"]
    assert len(cut) == 1
    _, _, meta = log_events(log)
    assert [e["type"] for e in meta if e["type"].startswith("reconnect")] == [
        "reconnect",
        "reconnected",
    ]
