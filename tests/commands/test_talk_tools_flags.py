"""``talk`` with tools in a terminal: the full-screen UI takes every tool mode (its questions are
dialogs, tests/ui/test_tui_prompt_dialog.py); the run goes on to open the sound devices."""

from __future__ import annotations

import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import clean_env
from tests.modes.test_chat_tools import WEATHER
from tests.ui.test_lines import _read_until


@pytest.mark.parametrize("mode", ["ask", "confirm"])
def test_the_full_screen_ui_accepts_the_prompting_modes(tmp_path: Path, mode: str) -> None:
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "realtime_console",
            "--local",
            "talk",
            "--tools",
            WEATHER,
            "--tool-mode",
            mode,
            "--output-device",
            "no-such-device",
        ],  # fmt: skip
        stdin=terminal,
        stdout=terminal,
        stderr=terminal,
        env=clean_env(home=tmp_path),
        cwd=tmp_path,
    )
    os.close(terminal)
    try:
        shown = _read_until(controller, b"\x00", 30)  # everything, until it exits
        code = process.wait(10)
    finally:
        process.kill()
        os.close(controller)
    text = shown.decode()
    assert code == 2, text
    assert "Traceback" not in text and "cannot prompt" not in text
    # Past the tools (loaded, the mode accepted): the device named is what stops it.
    assert "no output device matches 'no-such-device'" in text
