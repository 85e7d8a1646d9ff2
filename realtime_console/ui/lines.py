"""Typed input for ``chat``: one line at a time, read on a daemon thread.

A blocking ``input()`` in the event loop would freeze the socket; one in the default executor would
keep the process alive after Ctrl+C until Enter is pressed. A daemon thread that reads only when
asked does neither, and the prompt appears only once the previous reply has finished.
"""

from __future__ import annotations

import asyncio
import sys
import threading
from collections.abc import Callable
from typing import Protocol, TextIO


class LineSource(Protocol):
    async def read(self) -> str | None:
        """The next line without its newline, or None at end of input."""


class StdinLines:
    """Lines of ``stream`` (stdin by default). A stdin closed before we started (``<&-``:
    Python then has no ``sys.stdin``) is an input that has already ended."""

    def __init__(self, stream: TextIO | None = None, prompt: str | None = None) -> None:
        self._stream: TextIO | None = stream if stream is not None else sys.stdin
        self._prompt = prompt
        self._requests: list[Callable[[str | None], None]] = []
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    @property
    def interactive(self) -> bool:
        if self._stream is None:
            return False
        try:
            return self._stream.isatty()
        except ValueError:  # closed stream
            return False

    async def read(self) -> str | None:
        if self._stream is None:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            loop.call_soon_threadsafe(_resolve, future, line)

        with self._lock:
            self._requests.append(deliver)
        self._wake.set()
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="stdin-lines", daemon=True)
            self._thread.start()
        return await future

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                request = self._requests.pop(0) if self._requests else None
                if not self._requests:
                    self._wake.clear()
            if request is None:
                continue
            line = self._read_one()
            request(line)
            if line is None:
                return

    def _read_one(self) -> str | None:
        if self._stream is None:
            return None
        prompted = self._prompt is not None and self.interactive and self._stream is sys.stdin
        try:
            if prompted:
                return input(self._prompt)  # readline editing and history when available
            text = self._stream.readline()
        except EOFError:
            if prompted:  # Ctrl+D at the prompt: the shell's prompt must not follow "you> "
                sys.stdout.write("\n")
                sys.stdout.flush()
            return None
        except (OSError, ValueError):
            return None
        return text.rstrip("\r\n") if text else None


def _resolve(future: asyncio.Future[str | None], line: str | None) -> None:
    if not future.done():
        future.set_result(line)
