"""``audio say|ask|chat`` through the real process: every mistake is one line and the right exit
code, checked before any request; the flows end to end against ``--local`` and an Azure-style
server given only the environment."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import wave
from pathlib import Path
from typing import Any

import pytest

from realtime_console.audio import codec
from realtime_console.eventlog import ReadReport, read_log
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions
from tests.conftest import (
    SERVER_KEY,
    Run,
    assert_no_traceback,
    azure_env,
    clean_env,
    restore_sigint,
    run_console,
)

QUESTION = "Is a golden retriever a good family dog?"
ASK_PROMPT = "Describe in detail the spoken audio input."
# What a process sees with no speaker: tests must never reach a real sound system.
NO_SOUND = {"PULSE_SERVER": "unix:/nonexistent/pulse", "AUDIODEV": "null"}


def one_error_line(run: Run) -> str:
    assert_no_traceback(run)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("realtime-console"), lines[0]
    return lines[0]


def env_for(tmp_path: Path) -> dict[str, str]:
    return clean_env(NO_SOUND, home=tmp_path)


async def console(tmp_path: Path, *args: str, stdin: str = "", timeout: float = 60.0) -> Run:
    return await run_console(
        *args, stdin=stdin, env=env_for(tmp_path), cwd=tmp_path, timeout=timeout
    )


def wav_seconds(path: Path) -> float:
    with wave.open(str(path), "rb") as wav:
        assert (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) == (24000, 1, 2)
        return wav.getnframes() / wav.getframerate()


def write_tone_wav(path: Path, seconds: float = 1.0) -> None:
    import numpy as np

    t = np.arange(int(24000 * seconds)) / 24000
    samples = (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()
    path.write_bytes(codec.encode(samples, "wav"))


# --- mistakes: one line, exit 2, no request ----------------------------------------------------


async def test_missing_text_is_a_usage_error(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say")
    assert run.code == 2
    assert "TEXT" in one_error_line(run)


async def test_dash_with_empty_stdin_is_exit_2(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "-", stdin="  \n")
    assert run.code == 2
    assert "stdin was empty" in one_error_line(run)
    assert not (tmp_path / "reply.wav").exists()


async def test_bad_format_is_exit_2(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "hi", "--format", "ogg")
    assert run.code == 2
    assert "--format" in one_error_line(run)


async def test_an_extension_that_contradicts_format_names_both(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "hi", "-o", "x.mp3", "--format", "wav")
    assert run.code == 2
    line = one_error_line(run)
    assert "x.mp3" in line and "mp3" in line and "--format is wav" in line


@pytest.mark.parametrize(
    ("out", "says"),
    [
        ("missing-dir/reply.wav", "does not exist"),
        ("adir", "is a directory"),
        ("afile/reply.wav", "is not a directory"),
    ],
)
async def test_an_unwritable_output_is_refused_before_the_request(
    tmp_path: Path, out: str, says: str
) -> None:
    (tmp_path / "adir").mkdir()
    (tmp_path / "afile").write_text("x")
    # --log-events proves no request was made: the log would hold its http lines.
    run = await console(
        tmp_path, "--local", "--log-events", "log.jsonl", "audio", "say", "hi", "-o", out
    )
    assert run.code == 2
    line = one_error_line(run)
    assert out in line and says in line
    assert not (tmp_path / "log.jsonl").exists()


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
async def test_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    run = await console(tmp_path, "--local", "audio", "say", "hi", "-o", "locked/r.wav")
    assert run.code == 2
    assert "permission denied" in one_error_line(run)


@pytest.mark.parametrize(
    ("make", "says"),
    [
        (None, "no such file"),
        (b"", "is empty"),
        (b"just some text, not audio at all\n" * 20, "not an audio file"),
        ("dir", "is a directory"),
        ("big", "over the 20 MB limit"),
    ],
)
async def test_a_bad_input_file_is_exit_2_before_any_request(
    tmp_path: Path, make: bytes | str | None, says: str
) -> None:
    path = tmp_path / "in.wav"
    if make == "dir":
        path.mkdir()
    elif make == "big":
        with path.open("wb") as fh:
            fh.truncate(21 * 1024 * 1024)  # sparse: the size check must not read it
    elif isinstance(make, bytes):
        path.write_bytes(make)
    run = await console(tmp_path, "--local", "--log-events", "log.jsonl", "audio", "ask", "in.wav")
    assert run.code == 2
    line = one_error_line(run)
    assert "in.wav" in line and says in line
    assert not (tmp_path / "log.jsonl").exists()


@pytest.mark.parametrize("flag", [["-o", "x.wav"], ["--play"], ["--format", "mp3"]])
async def test_text_only_with_audio_flags_names_both(tmp_path: Path, flag: list[str]) -> None:
    write_tone_wav(tmp_path / "in.wav")
    run = await console(tmp_path, "--local", "audio", "ask", "in.wav", "--text-only", *flag)
    assert run.code == 2
    line = one_error_line(run)
    assert "--text-only" in line and flag[0] in line


async def test_an_unusable_save_dir_is_exit_2(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    run = await console(tmp_path, "--local", "audio", "chat", "--save-audio", "afile")
    assert run.code == 2
    assert "afile" in one_error_line(run)


@pytest.mark.parametrize("args", [["say", "hi", "--play"], ["ask", "in.wav"], ["chat"]])
async def test_missing_credentials_are_the_shared_auth_error(
    tmp_path: Path, args: list[str]
) -> None:
    write_tone_wav(tmp_path / "in.wav")
    run = await console(tmp_path, "audio", *args, stdin="hello\n")
    assert run.code == 2
    line = one_error_line(run)
    for name in ("AZURE_OPENAI_ENDPOINT", "OPENAI_API_KEY", "--local"):
        assert name in line


# --- the flows, end to end ---------------------------------------------------------------------


def completions(log: Path) -> list[dict[str, Any]]:
    """The ``completion`` meta notes: one per exchange, with the audio's duration."""
    return [r.event for r in read_log(log) if r.dir == "meta" and r.event["type"] == "completion"]


async def test_the_demo_sequence_say_then_ask_then_a_three_turn_chat(tmp_path: Path) -> None:
    say = await console(
        tmp_path, "--local", "--log-events", "say.jsonl", "audio", "say", QUESTION, "-o", "dog.wav"
    )
    assert_no_traceback(say)
    assert say.code == 0, say.stderr
    assert say.stdout == f'(local server) You said: "{QUESTION}".\n'
    dog_s = wav_seconds(tmp_path / "dog.wav")
    (note,) = completions(tmp_path / "say.jsonl")
    assert abs(dog_s - note["audio_s"]) < 0.002 and dog_s > 1.0
    assert say.stderr == f"-- saved dog.wav ({dog_s:.1f} s, wav)\n"

    ask = await console(tmp_path, "--local", "audio", "ask", "dog.wav", "-o", "analysis.wav")
    assert_no_traceback(ask)
    assert ask.code == 0, ask.stderr
    heard = f"I received {dog_s:.1f} seconds of audio"
    assert ask.stdout == f'(local server) {heard} and the text: "{ASK_PROMPT}".\n'
    assert wav_seconds(tmp_path / "analysis.wav") > dog_s  # a longer sentence
    assert ask.stderr.startswith("-- saved analysis.wav (")

    chat = await console(
        tmp_path,
        "--local",
        "--log-events",
        "chat.jsonl",
        "audio",
        "chat",
        "--save-audio",
        "replies",
        stdin="Is a cat a good family pet?\n/audio dog.wav What did I ask?\nThanks!\n",
    )
    assert_no_traceback(chat)
    assert chat.code == 0, chat.stderr
    out = chat.stdout.splitlines()
    assert out[0] == "you> Is a cat a good family pet?"
    assert out[1] == """assistant> (local server) You said: "Is a cat a good family pet?"."""
    assert out[2] == "you> /audio dog.wav What did I ask?"
    assert out[3].startswith(f'assistant> (local server) {heard} and the text: "What did I ask?".')
    assert out[4] == "you> Thanks!"
    assert out[5].startswith('assistant> (local server) You said: "Thanks!". Earlier I said: ')
    assert len(out) == 6
    saved = sorted((tmp_path / "replies").iterdir())
    assert [p.name[:4] for p in saved] == ["001-", "002-", "003-"]
    notes = completions(tmp_path / "chat.jsonl")
    for path, note in zip(saved, notes, strict=True):
        assert abs(wav_seconds(path) - note["audio_s"]) < 0.002
    assert "Traceback" not in chat.stderr and "failed" not in chat.stderr


async def test_say_reads_stdin_and_names_the_format_by_extension(tmp_path: Path) -> None:
    run = await console(
        tmp_path,
        "--local",
        "--log-events",
        "log.jsonl",
        "audio",
        "say",
        "-",
        "-o",
        "out.mp3",
        stdin="Hello\nthere\n",
    )
    assert run.code == 0, run.stderr
    assert run.stdout == '(local server) You said: "Hello there".\n'  # one line
    decoded = codec.decode((tmp_path / "out.mp3").read_bytes(), "mp3")
    (note,) = completions(tmp_path / "log.jsonl")
    assert note["format"] == "mp3"  # asked of the service, not encoded here
    assert abs(decoded.duration_s - note["audio_s"]) < 0.1
    assert f"-- saved out.mp3 ({note['audio_s']:.1f} s, mp3)" in run.stderr


async def test_format_flag_names_the_default_file(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "hi", "--format", "flac")
    assert run.code == 0, run.stderr
    assert codec.decode((tmp_path / "reply.flac").read_bytes(), "flac").duration_s > 0.3


async def test_play_without_an_output_device_says_so_once_and_still_saves(tmp_path: Path) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "hi", "--play", "-o", "hi.opus")
    assert run.code == 0, run.stderr
    err = run.stderr.splitlines()
    assert len(err) == 2 and "no audio output device" in err[0]
    assert err[1].startswith("-- saved hi.opus (") and err[1].endswith(" s, opus)")
    assert codec.decode((tmp_path / "hi.opus").read_bytes(), "opus").duration_s > 0.3


async def test_ask_text_only_asks_for_text_and_writes_nothing(tmp_path: Path) -> None:
    write_tone_wav(tmp_path / "tone.wav", 2.4)
    run = await console(
        tmp_path,
        "--local",
        "--log-events",
        "log.jsonl",
        "audio",
        "ask",
        "tone.wav",
        "--text-only",
        "-p",
        "What is this?",
    )
    assert run.code == 0, run.stderr
    assert run.stdout == (
        '(local server) I received 2.4 seconds of audio and the text: "What is this?".\n'
    )
    assert run.stderr == ""
    assert sorted(os.listdir(tmp_path)) == ["log.jsonl", "tone.wav"]
    (request,) = [
        r.event["body"]
        for r in read_log(tmp_path / "log.jsonl")
        if r.dir == "http" and r.event["type"] == "chat.completions.request"
    ]
    assert request["modalities"] == ["text"] and "audio" not in request
    text_part, audio_part = request["messages"][0]["content"]
    assert text_part == {"type": "text", "text": "What is this?"}
    assert audio_part["input_audio"]["format"] == "wav"


async def test_an_odd_wav_is_converted_with_a_notice(tmp_path: Path) -> None:
    import numpy as np

    stereo = (np.zeros((44100, 2)) + 0.1).astype("<i2")
    with wave.open(str(tmp_path / "cd.wav"), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(44100)
        wav.writeframes(stereo.tobytes())
    run = await console(tmp_path, "--local", "audio", "ask", "cd.wav", "--text-only")
    assert run.code == 0, run.stderr
    assert run.stderr.startswith("-- cd.wav: converted from 16-bit PCM 44.1 kHz stereo WAV")
    assert "I received 1.0 seconds of audio" in run.stdout


# --- a served endpoint: Azure's deployments path from the environment alone -------------------


def azure_audio_env(server: LocalServer, home: Path) -> dict[str, str]:
    return azure_env(
        server.http_url(),
        home,
        AZURE_OPENAI_DEPLOYMENT_NAME="my-audio",
        OPENAI_API_VERSION="2025-01-01-preview",
        **NO_SOUND,
    )


async def test_say_and_ask_on_the_azure_deployments_path(
    tmp_path: Path, local_server: LocalServer
) -> None:
    env = azure_audio_env(local_server, tmp_path)
    say = await run_console(
        "--log-events",
        "log.jsonl",
        "audio",
        "say",
        QUESTION,
        "-o",
        "dog.wav",
        env=env,
        cwd=tmp_path,
    )
    assert say.code == 0, say.stderr
    assert say.stdout == f'(local server) You said: "{QUESTION}".\n'
    report = ReadReport()
    list(read_log(tmp_path / "log.jsonl", report))
    header = report.header
    assert header is not None and header["model"] == "my-audio"
    assert header["session"]["api"] == "azure-deployments"
    ask = await run_console("audio", "ask", "dog.wav", "-o", "analysis.wav", env=env, cwd=tmp_path)
    assert ask.code == 0, ask.stderr
    assert f"I received {wav_seconds(tmp_path / 'dog.wav'):.1f} seconds" in ask.stdout
    assert wav_seconds(tmp_path / "analysis.wav") > 1.0
    assert SERVER_KEY not in (tmp_path / "log.jsonl").read_text()


# --- service errors: exit 1, one line ---------------------------------------------------------


async def test_a_service_error_is_one_line_and_exit_1(tmp_path: Path) -> None:
    options = ServerOptions(api_key=SERVER_KEY, faults=FaultPlan(http_status=404, http_errors=9))
    async with LocalServer(options) as server:
        env = azure_audio_env(server, tmp_path)
        say = await run_console("audio", "say", "hi", env=env, cwd=tmp_path)
        write_tone_wav(tmp_path / "in.wav")
        ask = await run_console("audio", "ask", "in.wav", env=env, cwd=tmp_path)
    for run in (say, ask):
        assert run.code == 1
        line = one_error_line(run)
        assert "no deployment named my-audio" in line and "HTTP 404" in line
    assert not (tmp_path / "reply.wav").exists()


async def test_a_wrong_key_is_one_line_and_exit_1(
    tmp_path: Path, local_server: LocalServer
) -> None:
    env = azure_env(local_server.http_url(), tmp_path, key="not-the-key-000000", **NO_SOUND)
    run = await run_console("audio", "say", "hi", env=env, cwd=tmp_path)
    assert run.code == 1
    assert "AZURE_OPENAI_API_KEY" in one_error_line(run)


async def test_a_5xx_is_retried_with_a_notice(tmp_path: Path) -> None:
    options = ServerOptions(api_key=SERVER_KEY, faults=FaultPlan(http_status=503))
    async with LocalServer(options) as server:
        run = await run_console(
            "audio", "say", "hi", env=azure_audio_env(server, tmp_path), cwd=tmp_path
        )
    assert run.code == 0, run.stderr
    assert "retrying in" in run.stderr
    assert (tmp_path / "reply.wav").exists()


async def test_a_failed_write_after_the_reply_is_exit_1_and_claims_nothing(
    tmp_path: Path,
) -> None:
    run = await console(tmp_path, "--local", "audio", "say", "hi", "-o", "/dev/full")
    assert run.code == 1
    assert run.stdout == '(local server) You said: "hi".\n'
    line = one_error_line(run)
    assert "/dev/full" in line and "No space left" in line


# --- the chat process: failures, Ctrl+C, a closed stdout --------------------------------------


async def test_a_piped_chat_with_a_bad_file_goes_on_and_exits_1(tmp_path: Path) -> None:
    run = await console(
        tmp_path,
        "--local",
        "audio",
        "chat",
        "--no-playback",
        stdin="/audio nope.wav\nHello there\n",
    )
    assert_no_traceback(run)
    assert run.code == 1
    assert 'assistant> (local server) You said: "Hello there".' in run.stdout
    err = run.stderr.splitlines()
    assert err[0].startswith("realtime-console: /audio nope.wav: no such file")
    assert err[-1] == "realtime-console: 1 of 2 lines failed (see above)"


async def test_ctrl_c_in_a_chat_request_exits_130_without_a_traceback(tmp_path: Path) -> None:
    # Slow enough that the signal lands while the reply is being generated.
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=0.5)
    async with LocalServer(options) as server:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "realtime_console",
            "audio",
            "chat",
            "--no-playback",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=azure_audio_env(server, tmp_path),
            cwd=tmp_path,
            preexec_fn=restore_sigint,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(f"{QUESTION}\n".encode())
        await process.stdin.drain()
        echoed = await asyncio.wait_for(process.stdout.readline(), 20)
        assert echoed == f"you> {QUESTION}\n".encode()
        await asyncio.sleep(0.3)
        process.send_signal(signal.SIGINT)
        code = await asyncio.wait_for(process.wait(), 5)
        assert process.stderr is not None
        err = await process.stderr.read()
    assert code == 130, err
    assert b"Traceback" not in err


async def test_a_closed_stdout_ends_the_chat_quietly(tmp_path: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # nobody will ever read: the first write is EPIPE
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "realtime_console",
            "--local",
            "audio",
            "chat",
            "--no-playback",
            stdin=asyncio.subprocess.PIPE,
            stdout=write_end,
            stderr=asyncio.subprocess.PIPE,
            env=env_for(tmp_path),
            cwd=tmp_path,
        )
    finally:
        os.close(write_end)
    _, err = await asyncio.wait_for(process.communicate(b"Hello\nAgain\n"), 30)
    assert process.returncode == 0, err
    assert err == b""
