"""Shared fixtures: a real local server on a free port, and the console run as a real process."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import pytest

from realtime_console.server.app import LocalServer
from realtime_console.server.options import ServerOptions

SERVER_KEY = "test-server-key-0123456789"

# Variables that would point the console at a real service or change how it authenticates.
_SCRUBBED_PREFIXES = ("AZURE_", "OPENAI_", "REALTIME_CONSOLE_")


@pytest.fixture
async def local_server() -> AsyncIterator[LocalServer]:
    async with LocalServer(ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0)) as server:
        yield server


@dataclass
class Run:
    code: int
    stdout: str
    stderr: str


def restore_sigint() -> None:
    """``preexec_fn`` for a child a test will Ctrl+C. A shell's background job (CI runners,
    tool wrappers) starts with SIGINT ignored and children inherit that; a user's terminal
    always delivers Ctrl+C to a program with the default handler."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def clean_env(extra: Mapping[str, str] | None = None, home: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SCRUBBED_PREFIXES)}
    if home is not None:
        env["HOME"] = str(home)
        env["XDG_CONFIG_HOME"] = str(home / ".config")
    env.update(extra or {})
    return env


def azure_env(endpoint: str, home: Path, key: str = SERVER_KEY, **extra: str) -> dict[str, str]:
    """The environment of a user pointing the console at an Azure GA endpoint with a key."""
    return clean_env(
        {"AZURE_OPENAI_ENDPOINT": endpoint, "AZURE_OPENAI_API_KEY": key, **extra}, home=home
    )


async def run_console(
    *args: str,
    stdin: str = "",
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 30.0,
) -> Run:
    """Run ``python -m realtime_console ARGS`` with piped stdin; the test's loop keeps serving."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime_console",
        *args,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=dict(env) if env is not None else clean_env(),
        cwd=cwd,
    )
    try:
        out, err = await asyncio.wait_for(process.communicate(stdin.encode()), timeout)
    except asyncio.TimeoutError:
        process.kill()
        await process.wait()
        raise
    assert process.returncode is not None
    return Run(process.returncode, out.decode(), err.decode())


def assert_no_traceback(run: Run) -> None:
    assert "Traceback" not in run.stderr, run.stderr
    assert "Traceback" not in run.stdout, run.stdout
