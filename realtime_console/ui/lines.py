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
from typing import Protocol, TextIO, runtime_checkable

from realtime_console.redact import process_redactor
from realtime_console.ui.sanitize import screen_line
from realtime_console.ui.view import Question


class LineSource(Protocol):
    async def read(self) -> str | None:
        """The next line without its newline, or None at end of input."""


class PromptedLines(Protocol):
    async def read(self, prompt: str | None = None) -> str | None:
        """As ``LineSource.read``; ``prompt`` replaces the source's own prompt for this line
        (a tool call's question)."""


class StdinLines:
    """Lines of ``stream`` (stdin by default). A stdin closed before we started (``<&-``:
    Python then has no ``sys.stdin``) is an input that has already ended."""

    def __init__(self, stream: TextIO | None = None, prompt: str | None = None) -> None:
        self._stream: TextIO | None = stream if stream is not None else sys.stdin
        self._prompt = prompt
        self._requests: list[tuple[Callable[[str | None], None], str | None]] = []
        self._ended = False  # end of input was reached: every later read is None at once
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

    async def read(self, prompt: str | None = None) -> str | None:
        if self._stream is None or self._ended:
            return None
        loop = asyncio.get_running_loop()
        future: asyncio.Future[str | None] = loop.create_future()

        def deliver(line: str | None) -> None:
            loop.call_soon_threadsafe(_resolve, future, line)

        with self._lock:
            self._requests.append((deliver, prompt))
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
            deliver, prompt = request
            line = self._read_one(prompt)
            if line is None:
                self._ended = True
                with self._lock:
                    waiting, self._requests = self._requests, []
                for other, _ in waiting:
                    other(None)
            deliver(line)
            if line is None:
                return

    def _read_one(self, prompt: str | None = None) -> str | None:
        if self._stream is None:
            return None
        prompt = prompt if prompt is not None else self._prompt
        prompted = prompt is not None and self.interactive and self._stream is sys.stdin
        try:
            if prompted:
                return input(prompt)  # readline editing and history when available
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


@runtime_checkable
class PromptEcho(Protocol):
    def prompt_answer(self, prompt: str, answer: str) -> None: ...


YES_WORDS = frozenset({"y", "yes"})


class ToolPrompts:
    """The ``confirm`` and ``ask`` prompts of tool calls, answered with lines of ``lines``.

    Interactive: the question is the prompt (``tool get_weather({"city": "Paris"}) result> ``).
    Piped: the next input line is the answer, and ``echo`` (the view) prints question and answer
    so the transcript shows both. End of input declines, or answers ``(no answer)``.
    """

    def __init__(self, lines: PromptedLines, echo: PromptEcho | None = None) -> None:
        self._lines = lines
        self._echo = echo

    async def _answer(self, question: str) -> str | None:
        # The model chose the name and arguments: no terminal controls, no secrets, one line.
        prompt = screen_line(question, process_redactor())
        line = await self._lines.read(prompt)
        if self._echo is not None:
            self._echo.prompt_answer(prompt, line if line is not None else "(end of input)")
        return line

    async def confirm(self, call: _Call) -> bool:
        line = await self._answer(f"tool {call.name}({call.shown_arguments}) run it? [y/n] ")
        return line is not None and line.strip().lower() in YES_WORDS

    async def ask_result(self, call: _Call) -> str:
        line = await self._answer(f"tool {call.name}({call.shown_arguments}) result> ")
        return line if line is not None else "(no answer)"

    # The general questions (ui.view.Questions), e.g. "mcp call notes.delete_note({…})
    # approve? [y/N] "; the tool prompts above keep their own wording.

    async def ask_yes_no(self, question: Question) -> bool:
        choices = "[Y/n]" if question.default else "[y/N]"
        line = await self._answer(f"{_subject(question)} {choices} ")
        if line is None:
            return False
        word = line.strip().lower()
        return question.default if not word else word in YES_WORDS

    async def ask_text(self, question: Question) -> str | None:
        return await self._answer(f"{_subject(question)}> ")


def _subject(question: Question) -> str:
    return f"{question.title} {question.name}({question.arguments}) {question.ask}"


class _Call(Protocol):
    """What a prompt shows of a call (``tools.ToolCall``)."""

    @property
    def name(self) -> str: ...

    @property
    def shown_arguments(self) -> str: ...
