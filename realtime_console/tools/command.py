"""Runs a command handler: the arguments as JSON on stdin, the result from stdout.

The child gets its own process group, so a timeout or a cancellation kills it together with
anything it started (a shell script's children would otherwise live on). Its stdout is read
up to a bound and the child is killed past it; its stderr is kept up to a smaller bound and
the rest drained, so a chatty child cannot block on a full pipe.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from realtime_console._compat import TaskGroup

__all__ = [
    "CREDENTIAL_VARIABLES",
    "CommandOutcome",
    "OutputTooLarge",
    "child_environment",
    "run_command",
]

STDERR_KEPT_BYTES = 16 * 1024
_CHUNK = 64 * 1024

# The console's own credentials (auth.py, and azure-identity's EnvironmentCredential): a tool
# has no business with them, and a tool that echoed its environment would send them to the
# model. Other variables pass through; a tool may need its own keys.
CREDENTIAL_VARIABLES = frozenset(
    {
        "OPENAI_API_KEY",
        "AZURE_OPENAI_API_KEY",
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_PASSWORD",
    }
)


class OutputTooLarge(Exception):
    """The command wrote more to stdout than the bound; it has been killed."""


@dataclass(frozen=True)
class CommandOutcome:
    returncode: int
    stdout: str
    stderr: str  # at most STDERR_KEPT_BYTES of it


def child_environment(environ: Mapping[str, str]) -> dict[str, str]:
    return {k: v for k, v in environ.items() if k.upper() not in CREDENTIAL_VARIABLES}


async def run_command(
    argv: tuple[str, ...],
    stdin: bytes,
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    max_output_bytes: int,
) -> CommandOutcome:
    """Runs ``argv`` to its end; cancelling (a timeout is one) kills its process group."""
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=cwd,
        env=dict(env),
        start_new_session=sys.platform != "win32",
    )
    assert process.stdin and process.stdout and process.stderr  # all three are pipes
    # The pipe tasks never raise: on Python 3.11 a TaskGroup whose last task fails leaves a
    # stray cancellation on this task, which would hit the ``wait()`` below.
    try:
        async with TaskGroup() as group:
            group.create_task(_feed(process.stdin, stdin))
            stdout = group.create_task(
                _read_bounded(process.stdout, max_output_bytes, lambda: _kill_group(process))
            )
            stderr = group.create_task(_read_kept(process.stderr, STDERR_KEPT_BYTES))
        returncode = await process.wait()
    except BaseException:
        # Even when the command itself has ended, what it started may hold the pipes open.
        _kill_group(process)
        await process.wait()
        raise
    output = stdout.result()
    if output is None:
        raise OutputTooLarge
    return CommandOutcome(
        returncode,
        output.decode("utf-8", errors="replace"),
        stderr.result().decode("utf-8", errors="replace"),
    )


async def _feed(pipe: asyncio.StreamWriter, data: bytes) -> None:
    try:
        pipe.write(data)
        await pipe.drain()
        pipe.close()
        await pipe.wait_closed()
    except OSError:  # a broken pipe: the command did not read its arguments, its choice
        pass


async def _read_bounded(
    pipe: asyncio.StreamReader, limit: int, overflow: Callable[[], None]
) -> bytes | None:
    """Stdout up to ``limit`` bytes; past it, ``overflow()`` (kills the command) and ``None``."""
    data = bytearray()
    while chunk := await pipe.read(_CHUNK):
        data += chunk
        if len(data) > limit:
            overflow()
            return None
    return bytes(data)


async def _read_kept(pipe: asyncio.StreamReader, keep: int) -> bytes:
    data = bytearray()
    while chunk := await pipe.read(_CHUNK):
        if len(data) < keep:
            data += chunk[: keep - len(data)]
    return bytes(data)


def _kill_group(process: asyncio.subprocess.Process) -> None:
    try:
        if sys.platform == "win32":  # pragma: no cover - no process groups to kill there
            process.kill()
        else:
            os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass  # it ended on its own just now
