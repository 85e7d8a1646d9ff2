"""``audio chat`` in-process: the real loop, SDK and local server over real HTTP; what was sent is
read back from the event log's ``chat.completions.request`` bodies."""

from __future__ import annotations

import asyncio
import io
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from realtime_console.completions.output import Lines
from realtime_console.config import Settings, load_settings
from realtime_console.eventlog import read_log
from realtime_console.modes.audio_chat import EXPIRED, AudioChatOptions, run_audio_chat
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions
from tests.conftest import SERVER_KEY

ENV = {"AZURE_OPENAI_API_KEY": SERVER_KEY}


class ListLines:
    """Lines as if piped; ``pause_s`` before each line after the first (time for ids to expire)."""

    def __init__(self, *lines: str, pause_s: float = 0.0) -> None:
        self._lines = list(lines)
        self._pause_s = pause_s
        self._first = True

    async def read(self) -> str | None:
        if not self._first and self._pause_s:
            await asyncio.sleep(self._pause_s)
        self._first = False
        return self._lines.pop(0) if self._lines else None


@pytest.fixture
async def server(request: pytest.FixtureRequest) -> AsyncIterator[LocalServer]:
    extra: dict[str, Any] = getattr(request, "param", {})
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=float("inf"), **extra)
    async with LocalServer(options) as running:
        yield running


def settings_for(server: LocalServer, log: Path, **overrides: object) -> Settings:
    return load_settings(
        env={
            "AZURE_OPENAI_ENDPOINT": server.http_url(),
            "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-audio",
        },
        overrides={"log.events": str(log), **overrides},
    )


class Chat:
    def __init__(self, code: int, out: str, err: str, log: Path) -> None:
        self.code, self.out, self.err, self.log = code, out, err, log

    def requests(self) -> list[dict[str, Any]]:
        return [
            r.event
            for r in read_log(self.log)
            if r.dir == "http" and r.event["type"] == "chat.completions.request"
        ]

    def responses(self) -> list[dict[str, Any]]:
        return [
            r.event["body"]
            for r in read_log(self.log)
            if r.dir == "http" and r.event["type"] == "chat.completions.response"
        ]


async def chat(
    tmp_path: Path,
    server: LocalServer,
    lines: ListLines,
    *,
    clock: Callable[[], float] = time.time,
    overrides: dict[str, object] | None = None,
) -> Chat:
    log = tmp_path / "log.jsonl"
    out, err = io.StringIO(), io.StringIO()
    code = await run_audio_chat(
        settings_for(server, log, **(overrides or {})),
        AudioChatOptions(format="wav", echo_input=True),
        lines=lines,
        out=Lines(out, err),
        env=ENV,
        redactor=Redactor(),
        clock=clock,
    )
    return Chat(code, out.getvalue(), err.getvalue(), log)


def assistant_lines(run: Chat) -> list[str]:
    return [line for line in run.out.splitlines() if line.startswith("assistant> ")]


async def test_the_second_request_refers_to_the_first_reply_by_its_audio_id(
    tmp_path: Path, server: LocalServer
) -> None:
    run = await chat(tmp_path, server, ListLines("Hello there", "And a cat?"))
    assert run.code == 0, run.err
    first, second = run.requests()
    first_reply = run.responses()[0]["choices"][0]["message"]
    assert first["body"]["messages"] == [{"role": "user", "content": "Hello there"}]
    assert second["body"]["messages"] == [
        {"role": "user", "content": "Hello there"},
        {"role": "assistant", "audio": {"id": first_reply["audio"]["id"]}},
        {"role": "user", "content": "And a cat?"},
    ]
    # The local server resolved the id: its reply quotes what the first reply said.
    said = first_reply["audio"]["transcript"]
    quoted = said.removeprefix("(local server) ").replace('"', "'")
    assert assistant_lines(run) == [
        f"assistant> {said}",
        f'assistant> (local server) You said: "And a cat?". Earlier I said: "{quoted}".',
    ]
    assert run.err == ""


@pytest.mark.parametrize("server", [{"audio_ttl_s": 0.2}], indirect=True)
async def test_an_expired_audio_id_falls_back_to_the_transcript_with_one_status_line(
    tmp_path: Path, server: LocalServer
) -> None:
    # A client clock an hour slow: the ids look live to it, the server has already forgotten
    # them (as when the service drops audio before the time it said).
    def slow_clock() -> float:
        return time.time() - 3600

    lines = ListLines("Hello there", "And a cat?", "And a hamster?", pause_s=0.5)
    run = await chat(tmp_path, server, lines, clock=slow_clock)
    assert run.code == 0, run.err
    assert run.err.splitlines() == [f"-- {EXPIRED}"]
    assert len(assistant_lines(run)) == 3
    requests = run.requests()
    # turn 2 by id, refused (audio_not_found); turn 2 again by transcript; turn 3 by transcript.
    assert len(requests) == 4
    said = run.responses()[0]["choices"][0]["message"]["audio"]["transcript"]
    assert requests[1]["body"]["messages"][1]["audio"]["id"].startswith("audio_")
    assert requests[2]["body"]["messages"][1] == {"role": "assistant", "content": said}
    assert all("audio" not in m for m in requests[3]["body"]["messages"] if m["role"] != "user")
    errors = [
        r.event
        for r in read_log(run.log)
        if r.dir == "http" and r.event["type"] == "chat.completions.error"
    ]
    assert [e.get("code") for e in errors] == ["audio_not_found"]


@pytest.mark.parametrize("server", [{"audio_ttl_s": 0.2}], indirect=True)
async def test_an_id_about_to_expire_is_sent_as_its_transcript_without_a_word(
    tmp_path: Path, server: LocalServer
) -> None:
    run = await chat(tmp_path, server, ListLines("Hello there", "And a cat?"))
    assert run.code == 0, run.err
    assert run.err == ""
    said = run.responses()[0]["choices"][0]["message"]["audio"]["transcript"]
    assert run.requests()[1]["body"]["messages"][1] == {"role": "assistant", "content": said}


@pytest.mark.parametrize(
    "server", [{"faults": FaultPlan(http_status=500, http_errors=1)}], indirect=True
)
async def test_a_failed_turn_is_one_line_is_forgotten_and_the_chat_goes_on(
    tmp_path: Path, server: LocalServer
) -> None:
    lines = ListLines("This one fails", "This one works")
    run = await chat(tmp_path, server, lines, overrides={"completions.max_retries": 0})
    assert run.code == 1
    err = run.err.splitlines()
    assert len(err) == 2, run.err
    assert err[0].startswith("realtime-console: ") and "HTTP 500" in err[0]
    assert err[1] == "realtime-console: 1 of 2 lines failed (see above)"
    assert assistant_lines(run) == ['assistant> (local server) You said: "This one works".']
    # The failed turn is not resent with the next one.
    assert run.requests()[-1]["body"]["messages"] == [{"role": "user", "content": "This one works"}]


async def test_commands_reset_save_help_and_a_bad_file_leave_the_chat_going(
    tmp_path: Path, server: LocalServer
) -> None:
    lines = ListLines(
        "/help",
        "First",
        "/reset",
        "/audio missing.wav what is this?",
        f"/save {tmp_path / 'replies'}",
        "Second",
        "q",
        "never sent",
    )
    run = await chat(tmp_path, server, lines)
    assert run.code == 1  # the missing file
    assert "/audio FILE [TEXT]" in run.err
    assert "conversation forgotten" in run.err
    assert "realtime-console: /audio missing.wav: no such file" in run.err
    assert run.err.splitlines()[-1] == "realtime-console: 1 of 6 lines failed (see above)"
    # /reset: the second request does not carry the first turn.
    assert [r["body"]["messages"] for r in run.requests()] == [
        [{"role": "user", "content": "First"}],
        [{"role": "user", "content": "Second"}],
    ]
    (saved,) = sorted((tmp_path / "replies").iterdir())
    completion_id = run.responses()[1]["id"]
    assert saved.name == f"002-{completion_id}.wav"  # numbered by reply, saved or not
    assert f"-- saved {saved} (" in run.err
    assert "never sent" not in run.out
