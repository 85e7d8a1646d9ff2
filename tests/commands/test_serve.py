"""``serve``: the server as a real process, its flags, and its one-line configuration errors."""

from __future__ import annotations

import asyncio
import json
import re
import resource
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path

import pytest
from openai import AsyncOpenAI, InternalServerError
from websockets.exceptions import ConnectionClosedError, ConnectionClosedOK, InvalidStatus

from realtime_console.server.espeak import espeak_available
from tests.conftest import (
    assert_no_traceback,
    azure_env,
    clean_env,
    restore_sigint,
    run_console,
)

KEY = "serve-test-key-0123456789"


def limited_descriptors(nofile: int) -> Callable[[], None]:
    """``preexec_fn``: Ctrl+C as in a terminal, and at most ``nofile`` open files."""

    def preexec() -> None:
        restore_sigint()
        _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        resource.setrlimit(resource.RLIMIT_NOFILE, (nofile, hard))

    return preexec


@asynccontextmanager
async def serving(
    *flags: str, preexec: Callable[[], None] = restore_sigint
) -> AsyncIterator[tuple[int, list[str]]]:
    """``serve --port 0`` as a process; yields its port and the stderr lines read so far."""
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "realtime_console", "serve", "--port", "0", "--api-key", KEY,
        *flags,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
        preexec_fn=preexec,
    )  # fmt: skip
    assert process.stderr is not None
    lines: list[str] = []
    try:
        while True:
            line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
            assert line, f"serve exited early: {lines}"
            lines.append(line)
            if found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
                break
        yield int(found.group(1)), lines
    finally:
        if process.returncode is None:
            process.send_signal(signal.SIGINT)
            _, rest = await asyncio.wait_for(process.communicate(), 20)
            lines.append(rest.decode())
    assert process.returncode == 130, lines
    assert "Traceback" not in "".join(lines)


def client(port: int) -> AsyncOpenAI:
    return AsyncOpenAI(websocket_base_url=f"ws://127.0.0.1:{port}/openai/v1", api_key=KEY)


async def test_serve_with_faults_refuses_then_drops() -> None:
    async with serving("--faults", "refuse=1,drop_after=2", "--voice-engine", "synthetic") as (
        port,
        lines,
    ):
        assert any("fault injection on: refuse=1,drop_after=2" in line for line in lines)
        with pytest.raises(InvalidStatus) as refused:
            async with client(port).realtime.connect(model="m"):
                pass
        assert refused.value.response.status_code == 503
        async with client(port).realtime.connect(model="m") as connection:
            first = json.loads(await asyncio.wait_for(connection.recv_bytes(), 5))
            assert first["type"] == "session.created"
            await connection.conversation.item.create(
                item={"type": "message", "role": "user",
                      "content": [{"type": "input_text", "text": "hi"}]}
            )  # fmt: skip
            await asyncio.wait_for(connection.recv_bytes(), 5)
            with pytest.raises(ConnectionClosedError) as cut:
                await asyncio.wait_for(connection.recv_bytes(), 5)
            assert cut.value.rcvd is None


async def test_serve_ends_a_session_at_max_session_s_with_1001() -> None:
    async with serving("--max-session-s", "0.5", "--voice-engine", "synthetic") as (port, _):
        async with client(port).realtime.connect(model="m") as connection:
            with pytest.raises(ConnectionClosedOK) as ended:
                while True:
                    await asyncio.wait_for(connection.recv_bytes(), 5)
    assert ended.value.rcvd is not None
    assert ended.value.rcvd.code == 1001
    assert ended.value.rcvd.reason == "Your session hit the maximum duration of 0.5 seconds."


async def test_serve_answers_chat_completions_with_its_audio_ttl_and_http_faults() -> None:
    flags = ("--audio-ttl-s", "90", "--faults", "http_status=503", "--voice-engine", "synthetic")
    async with serving(*flags, "--realtime-factor", "inf") as (port, lines):
        assert "POST /v1/chat/completions, /openai/v1/chat/completions" in lines[-1]
        chat = AsyncOpenAI(base_url=f"http://127.0.0.1:{port}/v1", api_key=KEY, max_retries=0)
        request = {
            "model": "gpt-audio-mini",
            "messages": [{"role": "user", "content": "Hello there"}],
            "modalities": ["text", "audio"],
            "audio": {"voice": "alloy", "format": "wav"},
        }
        with pytest.raises(InternalServerError) as overloaded:
            await chat.chat.completions.create(**request)  # type: ignore[call-overload]
        assert overloaded.value.status_code == 503
        answer = await chat.chat.completions.create(**request)  # type: ignore[call-overload]
        audio = answer.choices[0].message.audio
        assert audio is not None
        assert audio.transcript == '(local server) You said: "Hello there".'
        assert 89 <= audio.expires_at - answer.created <= 91


@pytest.mark.skipif(not espeak_available(), reason="espeak-ng is not installed")
async def test_serve_speaks_with_espeak_by_default() -> None:
    async with serving("--realtime-factor", "inf") as (port, _):
        async with client(port).realtime.connect(model="m") as connection:
            await connection.response.create()
            audio = 0
            while True:
                event = json.loads(await asyncio.wait_for(connection.recv_bytes(), 10))
                if event["type"] == "response.output_audio.delta":
                    audio += len(event["delta"]) * 3 // 4
                if event["type"] == "response.done":
                    break
    # "Hello, this is the local realtime server." in eSpeak NG: a couple of seconds; the
    # synthetic voice would take 41 characters × 60 ms + pauses = 2.94 s exactly.
    assert 1.0 < audio / 48_000 < 5.0
    assert audio != round(2.94 * 48_000)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--faults", "explode=1"], "--faults: unknown fault 'explode'"),
        (["--faults", "drop_after=soon"], "--faults: drop_after must be a whole number"),
        (["--realtime-factor", "0"], "--realtime-factor: must be > 0"),
        (["--voice-engine", "opera"], "--voice-engine"),
        (["--audio-ttl-s", "0"], "--audio-ttl-s: must be a number of seconds > 0"),
        (["--max-session-s", "0"], "--max-session-s: must be a number of seconds > 0"),
        (["--max-sessions", "0"], "--max-sessions: must be a whole number >= 1"),
        (["--max-sessions", "many"], "--max-sessions"),
    ],
)
async def test_bad_flags_are_one_line_and_exit_2(flags: list[str], message: str) -> None:
    run = await run_console("serve", "--port", "0", "--api-key", KEY, *flags)
    assert run.code == 2, run
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1, run.stderr
    assert_no_traceback(run)


async def test_non_loopback_bind_warns_and_a_failed_bind_names_the_flags() -> None:
    # 192.0.2.1 (TEST-NET-1) is on no interface: the warning comes, then the bind fails.
    run = await run_console("serve", "--host", "192.0.2.1", "--port", "0", "--api-key", KEY)
    assert "local server binds 192.0.2.1: anyone who can reach it" in run.stderr
    assert run.code == 2, run
    assert "--host/--port: cannot listen on 192.0.2.1:0: cannot assign requested address" in (
        run.stderr
    )
    assert_no_traceback(run)


async def test_max_sessions_refuses_the_next_session_with_503() -> None:
    async with (
        serving("--max-sessions", "1", "--voice-engine", "synthetic") as (port, _),
        client(port).realtime.connect(model="m") as first,
    ):
        assert json.loads(await asyncio.wait_for(first.recv_bytes(), 5))["type"] == (
            "session.created"
        )
        with pytest.raises(InvalidStatus) as refused:
            async with client(port).realtime.connect(model="m"):
                pass
        assert refused.value.response.status_code == 503
        assert b"server_overloaded" in (refused.value.response.body or b"")


async def test_a_flood_of_idle_connections_at_the_descriptor_limit_keeps_serving() -> None:
    # 300 descriptors: the server keeps at most 108 connections (192 stay free), so 400 idle
    # sockets would exhaust it without the limit; asyncio then logs a traceback per accept.
    async with (
        serving("--voice-engine", "synthetic", preexec=limited_descriptors(300)) as (port, lines),
        AsyncExitStack() as stack,
    ):
        for _ in range(400):
            _, writer = await asyncio.open_connection("127.0.0.1", port)
            stack.callback(writer.close)
        async with client(port).realtime.connect(model="m") as connection:
            assert json.loads(await asyncio.wait_for(connection.recv_bytes(), 5))["type"] == (
                "session.created"
            )
            await connection.response.create()
            while json.loads(await asyncio.wait_for(connection.recv_bytes(), 5))["type"] != (
                "response.done"
            ):
                pass
    output = "".join(lines)  # everything the server wrote, to its exit
    assert "Too many open files" not in output
    assert output.count("connections open (its limit)") == 1, output


async def test_the_readme_fault_demo_recovers_and_serve_says_who_came_and_went(
    tmp_path: Path,
) -> None:
    faults = "drop_at=response.output_audio_transcript.delta,drop_connections=1"
    async with serving("--faults", faults, "--voice-engine", "synthetic") as (port, lines):
        env = azure_env(f"http://127.0.0.1:{port}", tmp_path, key=KEY)
        run = await run_console(
            "chat", "--no-playback", stdin="Is a golden retriever a good family dog?\n", env=env
        )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert run.stdout == (
        "you> Is a golden retriever a good family dog?\n"
        'assistant> (local server) You said: "Is a golden retriever a good family dog?".\n'
    )
    assert "-- connection lost (1006); reconnecting (attempt 1/5)" in run.stderr
    assert "-- reconnected; session and 1 item restored" in run.stderr
    said = "".join(lines).splitlines()
    opened = [line for line in said if line.startswith("-- client connected")]
    closed = [line for line in said if line.startswith("-- client disconnected")]
    assert len(opened) == len(closed) == 2
    assert all(
        re.fullmatch(
            r"-- client connected from 127\.0\.0\.1: session sess_\w+ on /openai/v1/realtime "
            r"\(model gpt-realtime\)",
            line,
        )
        for line in opened
    ), opened
    assert closed[0].endswith(", close code 1006")  # the injected drop
    assert closed[1].endswith(", close code 1000")  # the console quit cleanly


def test_help_wraps_between_words_only() -> None:
    env = clean_env({"COLUMNS": "60"})
    result = subprocess.run(
        [sys.executable, "-m", "realtime_console", "serve", "--help"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0
    words = result.stdout.split()
    assert "drop_after=40,drop_connections=1,delay_ms=50" in words  # one token, one line
    assert "drop_connections=N," in words and "wall-clock" in words
