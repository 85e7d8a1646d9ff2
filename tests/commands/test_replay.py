"""``replay`` end to end: logs recorded by the real console against the local server, replayed by
the real console (a subprocess), every option."""

from __future__ import annotations

import asyncio
import json
import random
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from realtime_console.eventlog import ReadReport, read_log
from realtime_console.protocol import pcm
from realtime_console.server.app import LocalServer
from tests.conftest import (
    SERVER_KEY,
    Run,
    assert_no_traceback,
    azure_env,
    clean_env,
    run_console,
)

TURNS = "hello there\nwhat time is it\n"


@dataclass
class ChatRecording:
    log: Path
    live: Run
    saved: list[Path]


@pytest.fixture(scope="module")
def chat(tmp_path_factory: pytest.TempPathFactory) -> ChatRecording:
    root = tmp_path_factory.mktemp("chat")
    log, saved = root / "chat.jsonl", root / "saved"
    live = asyncio.run(
        run_console(
            "--local", "--log-events", str(log), "chat", "--no-playback",
            "--save-audio", str(saved), stdin=TURNS,
        )
    )  # fmt: skip
    assert live.code == 0, live.stderr
    return ChatRecording(log, live, sorted(saved.glob("*.wav")))


async def replay(*args: str, timeout: float = 60.0) -> Run:
    run = await run_console("replay", *args, timeout=timeout)
    assert_no_traceback(run)
    return run


async def test_replay_renders_the_live_transcript(chat: ChatRecording) -> None:
    run = await replay(str(chat.log), "--no-audio")
    assert run.code == 0 and run.stdout == chat.live.stdout
    assert "you> hello there" in run.stdout and "assistant> " in run.stdout


async def test_replay_with_audio_plays_or_says_why_not(chat: ChatRecording) -> None:
    run = await replay(str(chat.log))
    assert run.code == 0 and run.stdout == chat.live.stdout
    assert run.stderr.count("no audio output device") <= 1


async def test_summary_and_json(chat: ChatRecording) -> None:
    table = await replay(str(chat.log), "--summary", "--no-audio")
    assert table.code == 0 and table.stdout.startswith(chat.live.stdout)
    assert "total: 2 turns" in table.stdout
    run = await replay(str(chat.log), "--json")
    data = json.loads(run.stdout)  # stdout is the JSON document only
    saved_s = 0.0
    for path in chat.saved:
        with wave.open(str(path)) as wav:
            saved_s += wav.getnframes() / wav.getframerate()
    assert data["totals"]["audio_generated_s"] == pytest.approx(saved_s, abs=1e-3)
    assert [t["user_text"] for t in data["turns"]] == ["hello there", "what time is it"]
    usage = [
        r.event["response"]["usage"]["total_tokens"]
        for r in read_log(chat.log)
        if r.event["type"] == "response.done"
    ]
    assert [t["total_tokens"] for t in data["turns"]] == usage
    assert data["bad_lines"] == 0
    assert "completions" not in data  # a realtime log's document is as it was


async def test_wav_assistant_channel_equals_audio_received(
    chat: ChatRecording, tmp_path: Path
) -> None:
    out = tmp_path / "heard.wav"
    run = await replay(str(chat.log), "--wav", str(out), "--no-audio")
    assert run.code == 0
    with wave.open(str(out)) as wav:
        assert (wav.getnchannels(), wav.getframerate()) == (2, 24000)
        right = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").reshape(-1, 2)[:, 1]
    arrivals: dict[str, float] = {}
    for r in read_log(chat.log):
        if r.event["type"] == "response.output_audio.delta":
            arrivals.setdefault(r.event["response_id"], r.t or 0.0)
    assert len(arrivals) == len(chat.saved) == 2
    end = 0
    for arrival, saved in zip(arrivals.values(), chat.saved, strict=True):
        with wave.open(str(saved)) as wav:
            audio = wav.readframes(wav.getnframes())
        # Each reply arrives faster than real time: it plays as one run, from its arrival or
        # the end of the previous reply, whichever is later.
        start = max(pcm.ms_to_samples(arrival * 1000), end)
        end = start + len(audio) // 2
        assert right[start:end].tobytes() == audio  # sample for sample
    assert not right[end:].any()


async def test_timeline_png(chat: ChatRecording, tmp_path: Path) -> None:
    out = tmp_path / "t.png"
    run = await replay(str(chat.log), "--timeline", str(out), "--wav", str(tmp_path / "w.wav"))
    assert run.code == 0 and out.read_bytes()[:4] == b"\x89PNG"
    wrote = [line for line in run.stderr.splitlines() if line.startswith("-- wrote ")]
    assert wrote[0].startswith(f"-- wrote {tmp_path / 'w.wav'} (")
    assert wrote[0].endswith(" s, stereo: left microphone, right assistant)")
    assert wrote[1:] == [f"-- wrote {out}"]


async def test_types_lines_in_a_window(chat: ChatRecording) -> None:
    run = await replay(
        str(chat.log), "--types", "response.done,client:*", "--from", "#3", "--to", "#40"
    )
    assert run.code == 0
    lines = [line.split() for line in run.stdout.splitlines()]
    assert lines and all(3 <= int(line[0][1:]) <= 40 for line in lines)
    assert {line[3] for line in lines} <= {
        "response.done",
        "conversation.item.create",
        "response.create",
    }
    assert any(line[2] == "client" for line in lines) and "assistant>" not in run.stdout
    timed = await replay(
        str(chat.log), "--types", "*", "--from", "0.2s", "--until", "0.4", "--speed", "max"
    )
    times = [float(line.split()[1].rstrip("s")) for line in timed.stdout.splitlines()]
    assert times and all(0.2 <= t <= 0.4 for t in times)


async def test_speed_factor_replays(chat: ChatRecording) -> None:
    run = await replay(str(chat.log), "--speed", "50")
    assert run.code == 0 and run.stdout == chat.live.stdout
    assert run.stderr.count("no audio at --speed 50: audio plays at --speed 1 only") == 1
    # Where no sound was expected (max speed, a summary), nothing is said about it.
    quiet = await replay(str(chat.log), "--summary", "--speed", "max")
    assert quiet.code == 0 and "audio" not in quiet.stderr


async def test_help_fits_a_terminal() -> None:
    run = await run_console("replay", "--help", env=clean_env({"COLUMNS": "80"}))
    assert run.code == 0
    assert max(len(line) for line in run.stdout.splitlines()) <= 80
    assert "Feed a recorded event log" in run.stdout


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--speed", "fast"], "--speed 'fast'"),
        (["--from", "soon"], "--from 'soon'"),
        (["--to", "3", "--until", "4"], "--to and --until"),
        (["--to", "azure", "--send-to", "openai"], "--to PROFILE and --send-to"),
        (["--to", "azure", "--local"], "--local and --to"),
        (["--json", "--types", "*"], "--json and --types"),
        (["--send-to", "mini"], "--send-to mini: no such profile; looked for configs/mini.toml"),
        (["--to", "1.0x"], "--to 1.0x: not a time (12.5 or 12.5s), an index (#120) nor a profile"),
        (["--to", "nowhere/x.toml"], "--to nowhere/x.toml: no such settings file"),
    ],
)
async def test_usage_errors_are_one_line(
    chat: ChatRecording, args: list[str], message: str
) -> None:
    run = await replay(str(chat.log), *args)
    assert run.code == 2 and message in run.stderr and len(run.stderr.splitlines()) == 1


async def test_gzip_log_recorded_and_replayed(tmp_path: Path) -> None:
    log = tmp_path / "chat.jsonl.gz"
    live = await run_console(
        "--local", "--log-events", str(log), "chat", "--no-playback", stdin="hi\n"
    )
    assert live.code == 0, live.stderr
    run = await replay(str(log), "--summary", "--types", "response.done")
    lines = run.stdout.splitlines()
    assert run.code == 0 and lines[0].split()[3] == "response.done"
    assert lines[1].split()[0] == "turn" and lines[-1].startswith("total: 1 turns")


async def test_missing_log_is_exit_2(tmp_path: Path) -> None:
    run = await replay(str(tmp_path / "nope.jsonl"))
    assert run.code == 2 and "cannot read event log" in run.stderr


async def test_log_cut_at_a_random_byte_replays_with_a_warning(
    chat: ChatRecording, tmp_path: Path
) -> None:
    data = chat.log.read_bytes()
    lines = data.count(b"\n")
    cut = tmp_path / "cut.jsonl"
    rng = random.Random(5)
    while True:
        at = rng.randrange(len(data) // 3, len(data) - 1)
        if data[at - 1 : at] != b"\n" and data[at : at + 1] != b"\n":
            break
    cut.write_bytes(data[:at])
    run = await replay(str(cut), "--no-audio", "--summary")
    bad_line = data[:at].count(b"\n") + 1
    assert run.code == 0 and bad_line <= lines
    warnings = [line for line in run.stderr.splitlines() if line.startswith("warning:")]
    assert warnings == [f"warning: {cut}: skipped 1 bad line: line {bad_line} (not valid JSON)"]


async def test_a_log_that_ends_mid_reply_leaves_a_whole_last_line(
    chat: ChatRecording, tmp_path: Path
) -> None:
    lines = chat.log.read_bytes().splitlines(keepends=True)
    deltas = [
        i for i, line in enumerate(lines) if b'"response.output_audio_transcript.delta"' in line
    ]
    cut = tmp_path / "mid-reply.jsonl"
    cut.write_bytes(b"".join(lines[: deltas[-1]]))  # the last reply, less its last word
    run = await replay(str(cut), "--no-audio")
    assert run.code == 0 and run.stderr.endswith("\n")
    shown = run.stdout.splitlines(keepends=True)
    assert shown[-1].startswith("assistant> ") and shown[-1].endswith("\n")
    assert not shown[-1].rstrip().endswith('".')  # the reply really is cut short


async def test_resend_to_the_local_server(chat: ChatRecording, tmp_path: Path) -> None:
    new_log = tmp_path / "again.jsonl"
    run = await run_console("--log-events", str(new_log), "replay", str(chat.log), "--local")
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert 'assistant> (local server) You said: "hello there".' in run.stdout
    assert "total: 2 turns" in run.stdout and "first_audio_ms_median" in run.stdout
    turns_row = next(line.split() for line in run.stdout.splitlines() if line.startswith("turns "))
    assert turns_row[1:] == ["2", "2", "+0"]
    assert f"new log {new_log}" in run.stderr
    new = [r.event["type"] for r in read_log(new_log) if r.dir == "client"]
    assert new == [r.event["type"] for r in read_log(chat.log) if r.dir == "client"]


async def test_the_global_local_flag_also_re_sends(chat: ChatRecording, tmp_path: Path) -> None:
    new_log = tmp_path / "again.jsonl"
    run = await run_console("--local", "--log-events", str(new_log), "replay", str(chat.log))
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    assert "total: 2 turns" in run.stdout and f"new log {new_log}" in run.stderr


async def test_resend_to_a_config_profile(
    chat: ChatRecording, local_server: LocalServer, tmp_path: Path
) -> None:
    profile = tmp_path / "target.toml"
    profile.write_text(
        f'[connection]\nprovider = "azure"\nendpoint = "{local_server.http_url()}"\n'
        'deployment = "gpt-realtime-mini"\n[session]\nvoice = "echo"\n'
    )
    new_log = tmp_path / "target.jsonl"
    env = azure_env(local_server.http_url(), tmp_path, key=SERVER_KEY)
    run = await run_console(
        "--log-events", str(new_log), "replay", str(chat.log), "--to", str(profile),
        "--session", "profile", "--json", env=env,
    )  # fmt: skip
    assert_no_traceback(run)
    assert run.code == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["new_log"] == str(new_log) and data["diff"]["turns"]["change"] == 0
    report = ReadReport()
    sent = [r.event for r in read_log(new_log, report) if r.dir == "client"]
    assert report.header is not None and report.header["model"] == "gpt-realtime-mini"
    assert sent[0]["session"]["audio"]["output"]["voice"] == "echo"
