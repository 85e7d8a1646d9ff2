from __future__ import annotations

import io
import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

from realtime_console.ui.lines import StdinLines
from tests.conftest import clean_env


async def test_lines_then_end_of_input() -> None:
    lines = StdinLines(io.StringIO("one\r\ntwo\n"))
    assert not lines.interactive
    assert [await lines.read(), await lines.read(), await lines.read()] == ["one", "two", None]


async def test_a_closed_stream_is_an_input_that_has_ended() -> None:
    stream = io.StringIO("never read")
    stream.close()
    lines = StdinLines(stream)
    assert not lines.interactive
    assert await lines.read() is None


def _read_until(fd: int, wanted: bytes, timeout_s: float) -> bytes:
    """What the terminal showed, until ``wanted`` appears, the program exits or time is up."""
    seen = b""
    deadline = time.monotonic() + timeout_s
    while wanted not in seen and (left := deadline - time.monotonic()) > 0:
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            break
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the program closed the terminal (it exited)
            break
        if not chunk:
            break
        seen += chunk
    return seen


def test_ctrl_d_at_the_prompt_leaves_the_terminal_on_a_clean_line(tmp_path: Path) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime_console", "--local", "chat", "--no-playback"],
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    os.close(terminal)
    try:
        shown = _read_until(controller, b"you> ", 30)
        assert shown.endswith(b"you> "), shown
        os.write(controller, b"\x04")  # Ctrl+D: end of input
        shown += _read_until(controller, b"\x00", 10)  # everything, until it exits
        assert process.wait(10) == 0
    finally:
        process.kill()
        os.close(controller)
    # The shell's next prompt starts a line of its own: "you> " is followed by a line end.
    assert shown.endswith(b"you> \r\n"), shown
