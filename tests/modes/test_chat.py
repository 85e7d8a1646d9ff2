"""``chat`` end to end: the real console process or loop, the real SDK, the real local server."""

from __future__ import annotations

import io
import json
import wave
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker
from realtime_console.config import Settings, load_settings
from realtime_console.errors import ConsoleError
from realtime_console.eventlog import ReadReport, read_log
from realtime_console.modes.chat import ChatOptions, run_chat
from realtime_console.protocol import pcm
from realtime_console.protocol.schema import validate_client_event, validate_server_event
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions
from realtime_console.server.reply import reply_text
from realtime_console.ui.plain import PlainView
from tests.conftest import SERVER_KEY, assert_no_traceback, azure_env, clean_env, run_console
from tests.fixtures.relay import Injection, injecting_relay

QUESTION = "Is a golden retriever a good family dog?"


def expected_reply(*said: str) -> str:
    items = [
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": s}]}
        for s in said
    ]
    return reply_text(items)


def wav_bytes(path: Path) -> bytes:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        return wav.readframes(wav.getnframes())


def delta_audio_by_response(log: Path) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for record in read_log(log):
        event = record.event
        if record.dir == "server" and event["type"] == "response.output_audio.delta":
            rid = event["response_id"]
            out[rid] = out.get(rid, b"") + pcm.decode_b64(event["delta"])
    return out


def check_log_against_sdk_types(log: Path) -> ReadReport:
    report = ReadReport()
    counts = {"client": 0, "server": 0}
    for record in read_log(log, report):
        if record.dir == "client":
            validate_client_event(record.event)
        elif record.dir == "server":
            validate_server_event(record.event)
        else:
            continue
        counts[record.dir] += 1
    assert report.bad_lines == []
    assert report.header is not None and report.header["version"] == 1
    assert counts["client"] >= 3 and counts["server"] >= 10
    return report


async def test_the_issue_command_on_the_built_in_server(tmp_path: Path) -> None:
    run = await run_console(
        "--local",
        "--log-events",
        "log.jsonl",
        "chat",
        "--save-audio",
        "out",
        "--no-playback",
        stdin=f"{QUESTION}\n",
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert f"you> {QUESTION}\n" in run.stdout
    assert f"assistant> {expected_reply(QUESTION)}\n" in run.stdout

    report = check_log_against_sdk_types(tmp_path / "log.jsonl")
    assert report.header is not None and report.header["provider"] == "local"
    received = delta_audio_by_response(tmp_path / "log.jsonl")
    assert len(received) == 1
    (wav,) = sorted((tmp_path / "out").glob("*.wav"))
    (response_id, audio) = next(iter(received.items()))
    assert response_id in wav.name
    assert wav_bytes(wav) == audio
    assert len(audio) > pcm.ms_to_bytes(500)  # a spoken sentence, not a click


async def test_azure_ga_path_from_environment_only(
    tmp_path: Path, local_server: LocalServer
) -> None:
    env = azure_env(local_server.http_url(), tmp_path, AZURE_OPENAI_DEPLOYMENT_NAME="my-deployment")
    run = await run_console(
        "--log-events",
        "log.jsonl.gz",
        "chat",
        "--save-audio",
        "out",
        "--no-playback",
        stdin=f"{QUESTION}\n\nAnd a cat?\n",
        env=env,
        cwd=tmp_path,
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    lines = [line for line in run.stdout.splitlines() if line.startswith("assistant> ")]
    assert lines == [
        f"assistant> {expected_reply(QUESTION)}",
        f"assistant> {expected_reply(QUESTION, 'And a cat?')}",
    ]
    log = tmp_path / "log.jsonl.gz"
    report = check_log_against_sdk_types(log)
    assert report.header is not None
    assert report.header["model"] == "my-deployment"
    assert report.header["session"]["audio"]["input"]["turn_detection"]["type"] == "server_vad"
    received = delta_audio_by_response(log)
    wavs = sorted((tmp_path / "out").glob("*.wav"))
    assert [wav_bytes(w) for w in wavs] == list(received.values())
    import gzip

    assert SERVER_KEY not in gzip.open(log, "rt").read()


async def test_unknown_events_malformed_frames_and_mid_response_errors_are_survived(
    tmp_path: Path, local_server: LocalServer
) -> None:
    injection = Injection()
    async with injecting_relay(local_server.http_url(), injection) as relay_url:
        env = azure_env(relay_url, tmp_path)
        run = await run_console(
            "--log-events",
            "log.jsonl",
            "chat",
            "--save-audio",
            "out",
            "--no-playback",
            stdin=f"{QUESTION}\nSecond turn\n",
            env=env,
            cwd=tmp_path,
        )
    assert injection.done
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert f"assistant> {expected_reply(QUESTION)}\n" in run.stdout
    assert f"assistant> {expected_reply(QUESTION, 'Second turn')}\n" in run.stdout
    assert "server error [injected_transient]: injected mid-response error" in run.stderr
    assert "skipped a malformed frame" in run.stderr
    records = list(read_log(tmp_path / "log.jsonl"))
    assert any(r.dir == "meta" and r.event["type"] == "malformed_frame" for r in records)
    assert any(r.event["type"] == "future.event_we_never_heard_of" for r in records)
    received = delta_audio_by_response(tmp_path / "log.jsonl")
    wavs = sorted((tmp_path / "out").glob("*.wav"))
    assert [wav_bytes(w) for w in wavs] == list(received.values())


async def test_a_rejected_session_update_is_shown_and_the_chat_goes_on(tmp_path: Path) -> None:
    run = await run_console(
        "--local",
        "chat",
        "--no-playback",
        "--voice",
        "no-such-voice",
        stdin=f"{QUESTION}\n",
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert "server error [" in run.stderr and "(event evt_" in run.stderr
    assert "rejected the session settings" in run.stderr
    assert f"assistant> {expected_reply(QUESTION)}\n" in run.stdout


async def test_q_quits_before_sending_anything(tmp_path: Path) -> None:
    run = await run_console(
        "--local",
        "--log-events",
        "log.jsonl",
        "chat",
        "--no-playback",
        stdin="q\nnever sent\n",
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    assert run.code == 0, run.stderr
    assert "assistant>" not in run.stdout
    sent = [r.event["type"] for r in read_log(tmp_path / "log.jsonl") if r.dir == "client"]
    assert sent == ["session.update"]


class ListLines:
    def __init__(self, *lines: str) -> None:
        self._lines = list(lines)

    async def read(self) -> str | None:
        return self._lines.pop(0) if self._lines else None


async def test_playback_plays_exactly_the_received_audio(
    tmp_path: Path, local_server: LocalServer
) -> None:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        stream = FakeOutputStream(realtime=True, record=True, **kwargs)
        streams.append(stream)
        return stream

    speaker = Speaker(block_ms=20, prebuffer_ms=60, stream_factory=factory)
    speaker.start()
    playback = Playback(speaker)
    settings = load_settings(
        env={
            "AZURE_OPENAI_ENDPOINT": local_server.http_url(),
            "AZURE_OPENAI_DEPLOYMENT_NAME": "gpt-realtime",
        },
        overrides={"log.events": str(tmp_path / "log.jsonl")},
    )
    out, err = io.StringIO(), io.StringIO()
    try:
        code = await run_chat(
            settings,
            ChatOptions(),
            lines=ListLines("Hello there"),
            view=PlainView(out, err),
            env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
            redactor=Redactor(),
            playback=playback,
        )
    finally:
        playback.close()
    assert code == 0, err.getvalue()
    assert out.getvalue() == f"assistant> {expected_reply('Hello there')}\n"
    (audio,) = delta_audio_by_response(tmp_path / "log.jsonl").values()
    played = streams[0].recorded_bytes()
    # Everything received was played, in order, with only silence around it.
    start = played.find(audio[:4800])
    assert start >= 0 and played[start : start + len(audio)] == audio
    assert played[:start].strip(b"\x00") == b""
    assert played[start + len(audio) :].strip(b"\x00") == b""
    assert speaker.stats.underruns == 0
    json.dumps(speaker.stats.__dict__, default=str)  # stats are plain data


# ---- replies that never finish, and response.done events that are not the turn's -------


@asynccontextmanager
async def faulty_server(spec: str) -> AsyncIterator[LocalServer]:
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, faults=FaultPlan.parse(spec))
    async with LocalServer(options) as server:
        yield server


def quick_settings(server: LocalServer, log: Path, response_timeout_s: float) -> Settings:
    return load_settings(
        env={"AZURE_OPENAI_ENDPOINT": server.http_url()},
        overrides={
            "log.events": str(log),
            "connection.response_timeout_s": response_timeout_s,
        },
    )


async def chat_in_process(settings: Settings, *lines: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = await run_chat(
        settings,
        ChatOptions(),
        lines=ListLines(*lines),
        view=PlainView(out, err),
        env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
        redactor=Redactor(),
    )
    assert code == 0, err.getvalue()
    return out.getvalue(), err.getvalue()


async def test_a_reply_that_never_finishes_is_abandoned_and_the_chat_goes_on(
    tmp_path: Path,
) -> None:
    (tmp_path / "quick.toml").write_text("[connection]\nresponse_timeout_s = 1\n")
    async with faulty_server("no_done=1") as server:
        run = await run_console(
            "--config",
            "quick.toml",
            "--log-events",
            "log.jsonl",
            "chat",
            "--no-playback",
            stdin="first question\nsecond question\n",
            env=azure_env(server.http_url(), tmp_path),
            cwd=tmp_path,
        )
    assert_no_traceback(run)
    assert run.code == 1, run.stderr
    first, second = (
        expected_reply("first question"),
        expected_reply("first question", "second question"),
    )
    assert run.stdout.splitlines() == [
        "you> first question",
        f"assistant> {first} [incomplete]",
        "you> second question",
        f"assistant> {second}",
    ]
    notices = [line for line in run.stderr.splitlines() if line.startswith("-- no reply")]
    assert len(notices) == 1, run.stderr
    assert notices[0].startswith("-- no reply for 1 s; turn abandoned (response resp_")
    assert "server error" not in run.stderr  # the cancel's expected refusal is not shown
    assert run.stderr.strip().splitlines()[-1] == (
        "realtime-console: 1 of 2 turns got no reply (nothing from the server for 1 s)"
    )
    records = list(read_log(tmp_path / "log.jsonl"))
    (timeout,) = [r.event for r in records if r.event["type"] == "response_timeout"]
    abandoned = timeout["response_id"]
    assert notices[0].endswith(f"(response {abandoned})") and timeout["timeout_s"] == 1
    (cancel,) = [r.event for r in records if r.event["type"] == "response.cancel"]
    assert cancel["response_id"] == abandoned
    refusal = [r.event for r in records if r.dir == "server" and r.event["type"] == "error"]
    assert [e["error"]["event_id"] for e in refusal] == [cancel["event_id"]]


async def test_an_ignored_response_create_is_abandoned_and_the_next_turn_answered(
    tmp_path: Path,
) -> None:
    async with faulty_server("ignore_create=1") as server:
        with pytest.raises(ConsoleError) as caught:
            await chat_in_process(quick_settings(server, tmp_path / "log.jsonl", 0.5), "a", "b")
    assert str(caught.value) == "1 of 2 turns got no reply (nothing from the server for 0.5 s)"
    assert caught.value.exit_code == 1
    meta = [r.event for r in read_log(tmp_path / "log.jsonl") if r.dir == "meta"]
    assert [(e["type"], e["response_id"]) for e in meta] == [("response_timeout", None)]


async def test_a_long_reply_is_never_cut_while_its_events_keep_coming(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    # Every delta waits 150 ms: the reply takes far longer than the 0.6 s timeout, but it is
    # never silent that long.
    async with faulty_server("delay_ms=150") as server:
        out, err = await chat_in_process(quick_settings(server, log, 0.6), "Hello there")
    assert out == f"assistant> {expected_reply('Hello there')}\n"
    assert "no reply" not in err
    times = [r.t for r in read_log(log) if r.dir == "server" and "response_id" in r.event]
    assert times[-1] is not None and times[0] is not None
    assert times[-1] - times[0] > 0.6  # the test means something: the reply outlasted it


STALE_DONE = {
    "type": "response.done",
    "event_id": "event_stale_done",
    "response": {"id": "resp_stale", "object": "realtime.response", "status": "completed"},
}
OUT_OF_BAND = [
    {
        "type": f"response.{kind}",
        "event_id": f"event_oob_{kind}",
        "response": {
            "id": "resp_out_of_band",
            "object": "realtime.response",
            "conversation_id": None,
            "status": status,
            "output": [],
        },
    }
    for kind, status in (("created", "in_progress"), ("done", "completed"))
]


async def test_a_stale_bare_or_out_of_band_done_does_not_end_the_turn(
    tmp_path: Path, local_server: LocalServer
) -> None:
    frames = [json.dumps(f) for f in ({"type": "response.done"}, STALE_DONE, *OUT_OF_BAND)]
    injection = Injection(after_type="response.output_audio_transcript.delta", frames=frames)
    said = ("one", "two", "three")
    async with injecting_relay(local_server.http_url(), injection) as relay_url:
        run = await run_console(
            "chat",
            "--no-playback",
            stdin="".join(f"{line}\n" for line in said),
            env=azure_env(relay_url, tmp_path),
            cwd=tmp_path,
        )
    assert injection.done
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert run.stdout.splitlines() == [
        line
        for n, text in enumerate(said)
        for line in (f"you> {text}", f"assistant> {expected_reply(*said[: n + 1])}")
    ]
    assert "server error" not in run.stderr, run.stderr
