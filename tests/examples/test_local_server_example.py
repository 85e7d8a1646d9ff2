"""``examples/local_server.py`` runs as the README says: a real process, real server, real SDK."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from tests.conftest import clean_env

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "local_server.py"


async def test_the_local_server_example_runs_and_recovers_from_the_injected_drop() -> None:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        str(EXAMPLE),
        "Is a cat a good family pet?",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=clean_env(),
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode == 0, err.decode()
    lines = out.decode().splitlines()
    # The server's lines and the program's own interleave as the two sides get to them.
    kinds = sorted(line.split(":")[0] for line in lines)
    assert kinds == sorted(
        ["-- client connected from 127.0.0.1"] * 2
        + ["-- client disconnected"] * 2
        + ["first connection dropped, as injected; asking again", "reply"]
    )
    assert lines[0].startswith("-- client connected")  # said before the session runs
    closed = [line for line in lines if line.startswith("-- client disconnected")]
    assert closed[0].endswith("close code 1006") and closed[1].endswith("close code 1000")
    assert 'reply: (local server) You said: "Is a cat a good family pet?".' in lines
