"""The command line contract (DESIGN §2): exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import signal
import socket
import subprocess
import sys
import wave
from collections.abc import Callable
from pathlib import Path

import pytest

from realtime_console.redact import MASK
from realtime_console.server.app import LocalServer
from realtime_console.server.reply import reply_text
from tests.conftest import (
    SERVER_KEY,
    Run,
    assert_no_traceback,
    azure_env,
    clean_env,
    restore_sigint,
    run_console,
)
from tests.fixtures.relay import Injection, injecting_relay

HEAVY = ("openai", "numpy", "sounddevice", "azure.identity", "aiohttp", "textual", "websockets")


def one_error_line(run: Run) -> str:
    assert_no_traceback(run)
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1, run.stderr
    assert lines[0].startswith("realtime-console: "), lines[0]
    return lines[0]


def test_help_imports_no_heavy_module() -> None:
    code = (
        "import sys\n"
        "from realtime_console import cli\n"
        "try:\n    cli.main(['--help'])\nexcept SystemExit:\n    pass\n"
        f"print(sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
    assert "usage: realtime-console" in out.stdout


async def test_no_credentials_names_the_variables_and_offers_local(tmp_path: Path) -> None:
    run = await run_console("chat", "--no-playback", env=clean_env(home=tmp_path), cwd=tmp_path)
    assert run.code == 2
    line = one_error_line(run)
    for name in ("AZURE_OPENAI_ENDPOINT", "AZURE_OPENAI_API_KEY", "OPENAI_API_KEY", "--local"):
        assert name in line


async def test_a_profile_that_chose_azure_does_not_suggest_the_openai_key(tmp_path: Path) -> None:
    env = {**clean_env(home=tmp_path), "OPENAI_API_KEY": "sk-not-for-azure"}
    run = await run_console("--profile", "azure", "chat", "--no-playback", env=env, cwd=tmp_path)
    assert run.code == 2
    line = one_error_line(run)
    assert line.startswith("realtime-console: profile azure uses Azure OpenAI but names no")
    assert "AZURE_OPENAI_ENDPOINT" in line and "--local" in line
    assert "OPENAI_API_KEY" not in line.replace("AZURE_OPENAI_API_KEY", "")


async def test_bad_config_value_names_key_and_file(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    (tmp_path / "configs" / "bad.toml").write_text("[session.turn_detection]\nthreshold = 3\n")
    run = await run_console(
        "--profile", "bad", "--local", "chat", env=clean_env(home=tmp_path), cwd=tmp_path
    )
    assert run.code == 2
    line = one_error_line(run)
    assert "configs/bad.toml" in line and "session.turn_detection.threshold" in line


async def test_unknown_config_key_and_unknown_profile(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("[session]\nvoise = 'echo'\n")
    run = await run_console("--config", "x.toml", "--local", "chat", cwd=tmp_path)
    assert run.code == 2
    assert "session.voise" in one_error_line(run)
    run = await run_console("--profile", "nope", "chat", cwd=tmp_path)
    assert run.code == 2
    assert "nope" in one_error_line(run)


async def test_a_profile_with_several_mistakes_gets_one_line_for_each(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("[session]\nvoise = 'echo'\n[audio]\nblock_ms = 1\n")
    run = await run_console("--config", "x.toml", "--local", "chat", cwd=tmp_path)
    assert run.code == 2
    assert_no_traceback(run)
    assert run.stderr.splitlines() == [
        "realtime-console: x.toml: unknown key session.voise (did you mean session.voice?)",
        "realtime-console: x.toml: audio.block_ms = 1 is out of range (5..200)",
    ]
    assert run.stderr.endswith("\n")


async def test_bad_flag_is_one_line_exit_2() -> None:
    run = await run_console("chat", "--frobnicate")
    assert run.code == 2
    assert_no_traceback(run)
    assert run.stderr.count("\n") == 1 and "--frobnicate" in run.stderr


async def test_wrong_key_is_refused_with_401(tmp_path: Path, local_server: LocalServer) -> None:
    env = azure_env(local_server.http_url(), tmp_path, key="wrong-key-999")
    run = await run_console("chat", "--no-playback", stdin="hi\n", env=env, cwd=tmp_path)
    assert run.code == 1
    line = one_error_line(run)
    assert "HTTP 401" in line and "wrong-key-999" not in run.stderr


async def test_nothing_listening_is_a_clear_connection_error(tmp_path: Path) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = azure_env(f"http://127.0.0.1:{port}", tmp_path)
    run = await run_console("chat", "--no-playback", stdin="hi\n", env=env, cwd=tmp_path)
    assert run.code == 1
    assert "cannot connect" in one_error_line(run)


async def test_keyless_entra_failure_is_one_line(tmp_path: Path, local_server: LocalServer) -> None:
    env = clean_env(
        {
            "AZURE_OPENAI_ENDPOINT": local_server.http_url(),
            "AZURE_TOKEN_CREDENTIALS": "dev",  # developer credentials only: no network probes
            "PATH": str(tmp_path),  # and no `az` to ask
        },
        home=tmp_path,
    )
    run = await run_console("chat", "--no-playback", stdin="hi\n", env=env, cwd=tmp_path)
    assert run.code == 1
    line = one_error_line(run)
    assert "Entra ID" in line and "az login" in line


async def test_dropped_connection_mid_reply_exits_1_and_keeps_the_log(
    tmp_path: Path, local_server: LocalServer
) -> None:
    # With reconnects off (tests/modes/test_reconnect.py covers them on): the old behaviour.
    (tmp_path / "noretry.toml").write_text("[connection]\nreconnect_attempts = 0\n")
    async with injecting_relay(local_server.http_url(), Injection(drop_after=8)) as url:
        env = azure_env(url, tmp_path)
        run = await run_console(
            "--config",
            "noretry.toml",
            "--log-events",
            "log.jsonl",
            "chat",
            "--no-playback",
            stdin="hi\n",
            env=env,
            cwd=tmp_path,
        )
    assert run.code == 1
    assert_no_traceback(run)
    assert "lost" in run.stderr.strip().splitlines()[-1]
    log = (tmp_path / "log.jsonl").read_text().splitlines()
    assert '"connection_lost"' in log[-1]
    assert sum('"dir":"server"' in line for line in log) == 8


async def test_ctrl_c_exits_130_quickly(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime_console",
        "--local",
        "chat",
        "--no-playback",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
        preexec_fn=restore_sigint,
    )
    assert process.stderr is not None
    line = await asyncio.wait_for(process.stderr.readline(), 20)
    assert line.startswith(b"-- session "), line  # connected and waiting for input
    process.send_signal(signal.SIGINT)
    code = await asyncio.wait_for(process.wait(), 5)
    rest = await process.stderr.read()
    assert code == 130, rest
    assert b"Traceback" not in rest


@pytest.mark.parametrize("args", [["--version"], ["devices", "--help"], ["serve", "--help"]])
async def test_informational_commands_exit_0(args: list[str]) -> None:
    run = await run_console(*args)
    assert run.code == 0 and run.stdout


# --- hostile input: malformed settings, closed streams, signals, what the server says --------


def profile(tmp_path: Path, text: str) -> Path:
    (tmp_path / "p.toml").write_text(text)
    return tmp_path / "p.toml"


@pytest.mark.parametrize("url", ["http://[::1", "http://h:99999"])
@pytest.mark.parametrize(
    ("variable", "extra", "names"),
    [
        ("AZURE_OPENAI_ENDPOINT", {"AZURE_OPENAI_API_KEY": "k" * 12}, "AZURE_OPENAI_ENDPOINT"),
        ("OPENAI_BASE_URL", {"OPENAI_API_KEY": "k" * 12}, "OPENAI_BASE_URL"),
        (None, {"AZURE_OPENAI_API_KEY": "k" * 12}, "p.toml: connection.endpoint"),
    ],
)
async def test_a_malformed_endpoint_is_one_line_naming_its_source(
    tmp_path: Path, url: str, variable: str | None, extra: dict[str, str], names: str
) -> None:
    args = ["chat", "--no-playback"]
    env = dict(extra)
    if variable is None:
        profile(tmp_path, f'[connection]\nprovider = "azure"\nendpoint = "{url}"\n')
        args = ["--config", "p.toml", *args]
    else:
        env[variable] = url
    run = await run_console(*args, stdin="hi\n", env=clean_env(env, home=tmp_path), cwd=tmp_path)
    assert run.code == 2
    line = one_error_line(run)
    assert names in line and url in line


async def test_chat_with_stdin_closed_is_an_input_that_ended(tmp_path: Path) -> None:
    process = await asyncio.create_subprocess_exec(
        *CONSOLE,
        "--local",
        "chat",
        "--no-playback",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
        preexec_fn=lambda: os.close(0),  # `<&-`: Python starts with no sys.stdin
    )
    out, err = await asyncio.wait_for(process.communicate(), 30)
    run = Run(process.returncode or 0, out.decode(), err.decode())
    assert process.returncode == 0, run.stderr
    assert_no_traceback(run)


CONSOLE = (sys.executable, "-m", "realtime_console")
TURNS = "".join(f"turn {n}\n" for n in range(1, 6))


async def test_a_reader_that_goes_away_ends_the_session_quietly(tmp_path: Path) -> None:
    """``chat | head -c 5``: exit 0, no traceback, no "Exception ignored", and no more turns
    asked of the server once nobody reads the answers."""
    read_end, write_end = os.pipe()
    process = await asyncio.create_subprocess_exec(
        *CONSOLE,
        "--local",
        "--log-events",
        "log.jsonl",
        "chat",
        "--no-playback",
        stdin=asyncio.subprocess.PIPE,
        stdout=write_end,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    assert process.stdin is not None
    process.stdin.write(TURNS.encode())
    process.stdin.close()
    os.close(write_end)
    first = await asyncio.get_running_loop().run_in_executor(None, os.read, read_end, 5)
    os.close(read_end)  # `head -c 5` exits
    _, err = await asyncio.wait_for(process.communicate(), 30)
    assert first == b"you> "
    stderr = err.decode()
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "Exception ignored" not in stderr
    assert "realtime-console:" not in stderr
    log = (tmp_path / "log.jsonl").read_text()
    assert log.count('"response.create"') < 5  # it stopped instead of talking to nobody


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
async def test_a_full_output_device_is_exit_1_with_one_line(tmp_path: Path) -> None:
    full = os.open("/dev/full", os.O_WRONLY)
    try:
        process = await asyncio.create_subprocess_exec(
            *CONSOLE,
            "--local",
            "chat",
            "--no-playback",
            stdin=asyncio.subprocess.PIPE,
            stdout=full,
            stderr=asyncio.subprocess.PIPE,
            env=clean_env(home=tmp_path),
            cwd=tmp_path,
        )
    finally:
        os.close(full)
    _, err = await asyncio.wait_for(process.communicate(b"hi\n"), 30)
    lines = [line for line in err.decode().splitlines() if not line.startswith("-- ")]
    assert process.returncode == 1
    assert lines == ["realtime-console: cannot write to standard output: No space left on device"]


def ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a background job of a non-interactive shell


@pytest.mark.parametrize("sigint", [restore_sigint, ignore_sigint], ids=["sigint", "no-sigint"])
async def test_kill_ends_chat_like_q(
    tmp_path: Path, local_server: LocalServer, sigint: Callable[[], None]
) -> None:
    """SIGTERM mid-reply: exit 0, the socket closed with 1000, the event log and the WAV
    finished (a .gz without its trailer, or a WAV without its sizes, would not read)."""
    injection = Injection(frames=[])
    async with injecting_relay(local_server.http_url(), injection) as url:
        process = await asyncio.create_subprocess_exec(
            *CONSOLE,
            "--log-events",
            "log.jsonl.gz",
            "chat",
            "--no-playback",
            "--save-audio",
            "out",
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=azure_env(url, tmp_path),
            cwd=tmp_path,
            preexec_fn=sigint,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(b"Tell me a long story please\n")
        await process.stdin.drain()
        await asyncio.wait_for(process.stdout.readuntil(b"assistant> "), 20)
        process.send_signal(signal.SIGTERM)
        _, err = await asyncio.wait_for(process.communicate(), 5)
    assert process.returncode == 0, err.decode()
    assert b"Traceback" not in err
    assert injection.client_close_codes == [1000]
    with gzip.open(tmp_path / "log.jsonl.gz", "rt") as log:
        assert sum(1 for _ in log) > 3
    (wav,) = (tmp_path / "out").glob("*.wav")
    with wave.open(str(wav)) as reader:
        assert reader.getnframes() * 2 == wav.stat().st_size - 44


async def test_what_the_server_says_reaches_the_screen_cleaned_and_masked(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """A server that echoes the API key, sends terminal escapes, bidi overrides, a lone
    surrogate and a 5,000-character error: the screen shows what the event log would."""
    delta = {"type": "response.output_audio_transcript.delta", "response_id": "{response_id}"}
    hostile = "\x1b[2J\x1b]0;pwned\x07\r\u202e\x9b"
    frames = [
        json.dumps({**delta, "delta": f" [{SERVER_KEY[:9]}"}),
        json.dumps({**delta, "delta": f"{SERVER_KEY[9:]}] {hostile}caf\ud800"}),
        json.dumps(
            {
                "type": "error",
                "error": {
                    "type": "invalid_request_error",
                    "code": "invalid_api_key\x1b[8m",
                    "message": f"Incorrect API key provided: {SERVER_KEY}.{hostile}" + "x" * 5000,
                },
            }
        ),
    ]
    injection = Injection(after_type="response.output_audio_transcript.delta", frames=frames)
    async with injecting_relay(local_server.http_url(), injection) as url:
        run = await run_console(
            "--log-events",
            "log.jsonl",
            "chat",
            "--no-playback",
            stdin="hi\n",
            env=azure_env(url, tmp_path),
            cwd=tmp_path,
        )
    assert injection.done
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    for shown in (run.stdout, run.stderr):
        assert SERVER_KEY not in shown and SERVER_KEY[:9] not in shown
        assert not set("\x1b\r\u202e\x9b") & set(shown)
    assert f"[{MASK}] caf\ufffd" in run.stdout
    (error,) = [line for line in run.stderr.splitlines() if line.startswith("server error")]
    assert error.startswith(f"server error [invalid_api_key]: Incorrect API key provided: {MASK}.")
    assert len(error) < 400 and "…" in error
    assert "handler for" not in run.stderr
    assert "x" * 5000 in (tmp_path / "log.jsonl").read_text()  # the log keeps the original


async def test_an_oversized_frame_is_one_notice_then_a_normal_reconnect(
    tmp_path: Path, local_server: LocalServer
) -> None:
    huge = json.dumps({"type": "x.huge", "pad": "a" * (17 * 2**20)})
    injection = Injection(frames=[huge])
    async with injecting_relay(local_server.http_url(), injection) as url:
        run = await run_console(
            "chat", "--no-playback", stdin="hi\n", env=azure_env(url, tmp_path), cwd=tmp_path
        )
    assert run.code == 0, run.stderr
    assert_no_traceback(run)
    notices = run.stderr.splitlines()
    assert notices.count("-- the server sent a message over 16 MiB; closed the connection (1009)")
    assert sum("16 MiB" in line for line in notices) == 1
    assert any(line.startswith("-- connection lost (1009); reconnecting") for line in notices)
    assert any(line.startswith("-- reconnected") for line in notices)
    said = [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hi"}]}]
    assert f"assistant> {reply_text(said)}\n" in run.stdout  # asked again, answered whole


async def test_an_error_line_never_carries_terminal_controls(tmp_path: Path) -> None:
    run = await run_console("--config", "evil\x1b]0;title\x07\r.toml", "chat", cwd=tmp_path)
    assert run.code == 2
    assert one_error_line(run) == "realtime-console: evil.toml: no such file"
