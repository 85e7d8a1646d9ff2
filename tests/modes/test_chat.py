"""``chat`` end to end: the real console process or loop, the real SDK, the real local server."""

from __future__ import annotations

import io
import json
import wave
from pathlib import Path
from typing import Any

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker
from realtime_console.config import load_settings
from realtime_console.eventlog import ReadReport, read_log
from realtime_console.modes.chat import ChatOptions, run_chat
from realtime_console.protocol import pcm
from realtime_console.protocol.schema import validate_client_event, validate_server_event
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
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
