"""Line-oriented renderer: the conversation on stdout, status and errors on stderr.

Keeping stdout to the conversation means ``chat`` output can be piped or diffed; everything the
console says about itself goes to stderr.

Everything the server chose (transcripts, error messages, ids) is printed cleaned of terminal
controls and redacted by the process's ``Redactor`` (``ui.sanitize``); a turn stays one line,
so a server cannot forge a ``you>`` line. A stdout that is gone ends the session
(``ui.output.OutputClosed``).
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import TextIO

from realtime_console.protocol.rate_limits import RateLimit, describe
from realtime_console.redact import Redactor, StreamRedactor, process_redactor
from realtime_console.ui.output import OutputClosed, write_output, write_status
from realtime_console.ui.sanitize import ID_LIMIT, clean, screen_line


class PlainView:
    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        redactor: Redactor | None = None,
    ) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self._redactor = redactor if redactor is not None else process_redactor()
        self._stream = StreamRedactor(self._redactor)  # the open line's streamed text
        self._open_response: str | None = None  # a response line is being streamed
        self._open_user_item: str | None = None
        self._broken = False  # a status line cut into the open line on a terminal
        self._closed: OutputClosed | None = None  # stdout is gone
        self._low_limits: set[str] = set()  # names said to be low: said again only after recovery
        # Tool lines that finished while a reply's line was open: printed after it, so the
        # reply stays one line.
        self._tool_lines: list[str] = []

    # -- output ---------------------------------------------------------------------------

    def _write(self, text: str) -> None:
        self._raise_if_closed()
        try:
            write_output(self._out, text)
        except OutputClosed as closed:
            self._closed = closed
            raise

    def _raise_if_closed(self) -> None:
        """Once stdout is gone every later call raises again: the first failure may have been
        in a loop callback (a timer), where nothing could end the session with it."""
        if self._closed is not None:
            raise self._closed

    def _status(self, line: str) -> None:
        self._raise_if_closed()
        self._make_room_for_status()
        write_status(self._err, line + "\n")

    def _whole(self, text: str) -> str:
        """A complete server text for the conversation: one line, cleaned, redacted."""
        return self._redactor.text(clean(text))

    def _piece(self, text: str) -> str:
        """A streamed piece of the open line: cleaned, and redacted across pieces."""
        return self._stream.feed(clean(text))

    def _out_is_terminal(self) -> bool:
        try:
            return self._out is not None and self._out.isatty()
        except ValueError:
            return False

    def _make_room_for_status(self) -> None:
        """Before a stderr line: on a shared terminal, end the open line (resumed later with
        "…"); when stdout is piped, leave it alone so the transcript stays one line per turn."""
        if (self._open_response or self._open_user_item) and self._out_is_terminal():
            self._write("\n")
            self._broken = True

    def _end_open_line(self) -> None:
        if self._open_response is not None or self._open_user_item is not None:
            self._open_response = None
            self._open_user_item = None
            self._write(self._stream.flush() + "\n")
        self._broken = False
        self._write_tool_lines()

    def _write_tool_lines(self) -> None:
        while self._tool_lines:
            self._write(self._tool_lines.pop(0))

    def finish(self) -> None:
        """The command is ending (normally or not): a line still open (a reply cut off, a
        transcript) is ended, so whatever comes next (an error, the shell's prompt) starts a
        line of its own."""
        if self._closed is not None:
            return
        try:
            self._end_open_line()
        except OutputClosed:
            pass  # stdout is gone: nothing to tidy; the command's own end reports it

    # -- ConsoleView ----------------------------------------------------------------------

    def session_started(self, session_id: str, model: str) -> None:
        self.notice(f"session {session_id} ({model})")

    def user_text(self, text: str) -> None:
        self._end_open_line()
        self._write(f"you> {self._whole(text)}\n")

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        if final:
            if self._open_user_item == item_id:
                self._open_user_item = None
                self._write(self._stream.flush() + "\n")  # deltas already printed the text
            else:
                self._end_open_line()
                self._write(f"you (heard)> {self._whole(text)}\n")
            return
        lead = ""
        if self._open_user_item != item_id:
            self._end_open_line()
            lead = "you (heard)> "
            self._open_user_item = item_id
        elif self._broken:
            lead = "you (heard)> …"
            self._broken = False
        self._write(lead + self._piece(text))

    def assistant_delta(self, response_id: str, text: str) -> None:
        lead = ""
        if self._open_response != response_id:
            self._end_open_line()
            lead = "assistant> "
            self._open_response = response_id
        elif self._broken:
            lead = "assistant> …"
            self._broken = False
        self._write(lead + self._piece(text))

    def assistant_done(self, response_id: str, status: str) -> None:
        if self._open_response == response_id:
            self._open_response = None
            suffix = "" if status == "completed" else f" [{screen_line(status, self._redactor)}]"
            self._write(f"{self._stream.flush()}{suffix}\n")
            self._write_tool_lines()
        elif status != "completed":
            self.notice(f"response {response_id} {status}")

    # -- ToolCallsView --------------------------------------------------------------------

    def tool_call(self, name: str, arguments: str, outcome: str, duration_ms: float | None) -> None:
        """``tool> get_weather {"city": "Paris"} -> {"temp": 21} (12 ms)``: one line, screened
        like all server text (the model chose the arguments, the tool the output)."""
        took = f" ({duration_ms:.0f} ms)" if duration_ms is not None else ""
        line = screen_line(f"tool> {name} {arguments} {outcome}", self._redactor) + took + "\n"
        self._tool_lines.append(line)
        if self._open_response is None and self._open_user_item is None:
            self._write_tool_lines()

    def mcp_status(self, text: str) -> None:
        """``mcp> notes: 3 tools (…)``, ``mcp> notes.get_forecast {…} -> … (12 ms)``: an MCP
        server's listing or call (modes/mcp_calls.py), held like a tool line during a reply."""
        self._tool_lines.append(screen_line(f"mcp> {text}", self._redactor) + "\n")
        if self._open_response is None and self._open_user_item is None:
            self._write_tool_lines()

    def prompt_answer(self, prompt: str, answer: str) -> None:
        """A prompt answered from piped input: the transcript shows what was asked and said."""
        self._end_open_line()
        self._write(f"{screen_line(prompt + answer, self._redactor)}\n")

    # -- ServerUpdatesView ----------------------------------------------------------------

    def assistant_final(self, response_id: str, text: str) -> None:
        """The deltas are printed already and a line cannot be edited: end it, then print the
        server's final text as a line of its own."""
        if self._open_response == response_id:
            self._open_response = None
            self._write(self._stream.flush() + "\n")
        else:
            self._end_open_line()
        self._write(f"assistant (final)> {self._whole(text)}\n")

    def rate_limits(self, limits: Sequence[RateLimit]) -> None:
        """One notice when a limit falls below 10 % left, none while it stays there (it is
        updated after every response), another once it recovered and falls again."""
        for limit in limits:
            if not limit.low:
                self._low_limits.discard(limit.name)
            elif limit.name not in self._low_limits:
                self._low_limits.add(limit.name)
                self.notice(f"rate limit low: {describe(limit)}")

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None:
        shown_code = screen_line(code, self._redactor, ID_LIMIT) if code else "unknown"
        where = f" (event {screen_line(event_id, self._redactor, ID_LIMIT)})" if event_id else ""
        self._status(f"server error [{shown_code}]: {screen_line(message, self._redactor)}{where}")

    def notice(self, text: str) -> None:
        # Notices are the console's words, but they quote the server (ids, close reasons,
        # a failing handler's exception), so they are screened like any server text.
        self._status(f"-- {screen_line(text, self._redactor)}")
