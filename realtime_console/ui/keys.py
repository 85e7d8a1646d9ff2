"""Single-key input for ``talk --plain`` on a terminal: m mute, space talk, q quit.

The terminal is put in cbreak mode (keys arrive without Enter, Ctrl+C still interrupts) and a
daemon thread reads one key at a time with a short ``select`` timeout, so ``close()`` can stop it
promptly; each key is handed to the event loop with ``call_soon_threadsafe``. The terminal's
settings are restored on close, even after Ctrl+C.

A terminal reports key presses, not releases, so the talk key toggles: first press = pressed,
second press = released.
"""

from __future__ import annotations

import asyncio
import os
import select
import sys
import threading
from collections.abc import Callable
from typing import Any, TextIO

from realtime_console.ui.view import TalkControls

KEY_HELP = "keys: m mute, space talk, q quit"


class KeyReader:
    def __init__(
        self, controls: TalkControls, *, push_to_talk: bool, stream: TextIO | None = None
    ) -> None:
        self._controls = controls
        self._push_to_talk = push_to_talk
        self._stream = stream if stream is not None else sys.stdin
        self._talking = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._saved: Any = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._keys: dict[str, Callable[[], None]] = {
            "m": controls.toggle_mute,
            "M": controls.toggle_mute,
            " ": self._talk_key,
            "q": controls.quit,
            "Q": controls.quit,
        }

    def start(self) -> None:
        """Enter cbreak mode and start reading (call on the event loop thread)."""
        import termios
        import tty

        self._loop = asyncio.get_running_loop()
        fd = self._stream.fileno()
        self._saved = termios.tcgetattr(fd)
        tty.setcbreak(fd)
        self._thread = threading.Thread(target=self._run, name="talk-keys", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=1.0)
            self._thread = None
        if self._saved is not None:
            import termios

            termios.tcsetattr(self._stream.fileno(), termios.TCSADRAIN, self._saved)
            self._saved = None

    def handle(self, key: str) -> None:
        """Act on one key (on the event loop thread)."""
        action = self._keys.get(key)
        if action is not None:
            action()

    def _talk_key(self) -> None:
        if not self._push_to_talk:
            # Voice detection decides turns; the key only interrupts the assistant.
            self._controls.push_to_talk(True)
            self._controls.push_to_talk(False)
            return
        self._talking = not self._talking
        self._controls.push_to_talk(self._talking)

    def _run(self) -> None:
        fd = self._stream.fileno()
        while not self._stop.is_set():
            try:
                ready, _, _ = select.select([fd], [], [], 0.1)
                if not ready:
                    continue
                data = os.read(fd, 1)
            except (OSError, ValueError):
                return
            if not data:
                return
            loop = self._loop
            if loop is None:
                return
            try:
                loop.call_soon_threadsafe(self.handle, data.decode("latin-1"))
            except RuntimeError:  # loop closed
                return
