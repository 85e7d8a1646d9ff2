"""The command line contract (DESIGN §2): exit codes, one-line errors, no tracebacks."""

from __future__ import annotations

import asyncio
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from realtime_console.server.app import LocalServer
from tests.conftest import (
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
