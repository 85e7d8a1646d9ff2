from __future__ import annotations

import asyncio
import io
import os
import pty

import pytest

from realtime_console.ui.keys import KeyReader


class Controls:
    def __init__(self) -> None:
        self.calls: list[object] = []

    def toggle_mute(self) -> None:
        self.calls.append("mute")

    def push_to_talk(self, pressed: bool) -> None:
        self.calls.append(pressed)

    def quit(self) -> None:
        self.calls.append("quit")


def test_push_to_talk_key_toggles_pressed_and_released() -> None:
    controls = Controls()
    keys = KeyReader(controls, push_to_talk=True, stream=io.StringIO())
    for key in " m  xqM":
        keys.handle(key)
    assert controls.calls == [True, "mute", False, True, "quit", "mute"]


def test_in_voice_mode_the_talk_key_is_a_press_and_release() -> None:
    controls = Controls()
    keys = KeyReader(controls, push_to_talk=False, stream=io.StringIO())
    keys.handle(" ")
    keys.handle(" ")
    assert controls.calls == [True, False, True, False]


@pytest.mark.timeout(10)
async def test_reads_single_keys_from_a_terminal_and_restores_it() -> None:
    import termios

    controller, terminal = pty.openpty()
    stream = os.fdopen(terminal, "r")
    before = termios.tcgetattr(terminal)
    controls = Controls()
    keys = KeyReader(controls, push_to_talk=True, stream=stream)
    keys.start()
    try:
        assert not termios.tcgetattr(terminal)[3] & termios.ICANON  # no Enter needed
        os.write(controller, b"m q")
        for _ in range(200):
            if len(controls.calls) == 3:
                break
            await asyncio.sleep(0.01)
    finally:
        keys.close()
    assert controls.calls == ["mute", True, "quit"]
    assert termios.tcgetattr(terminal) == before
    stream.close()
    os.close(controller)
