"""Line-oriented renderer: the conversation on stdout, status and errors on stderr.

Keeping stdout to the conversation means ``chat`` output can be piped or diffed; everything the
console says about itself goes to stderr.
"""

from __future__ import annotations

import sys
from typing import TextIO


class PlainView:
    def __init__(self, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self._out = out if out is not None else sys.stdout
        self._err = err if err is not None else sys.stderr
        self._open_response: str | None = None  # a response line is being streamed
        self._open_user_item: str | None = None
        self._broken = False  # a status line cut into the open line on a terminal

    def _out_is_terminal(self) -> bool:
        try:
            return self._out.isatty()
        except ValueError:
            return False

    def _make_room_for_status(self) -> None:
        """Before a stderr line: on a shared terminal, end the open line (resumed later with
        "…"); when stdout is piped, leave it alone so the transcript stays one line per turn."""
        if (self._open_response or self._open_user_item) and self._out_is_terminal():
            self._out.write("\n")
            self._out.flush()
            self._broken = True

    def _end_open_line(self) -> None:
        if self._open_response is not None or self._open_user_item is not None:
            self._out.write("\n")
            self._out.flush()
            self._open_response = None
            self._open_user_item = None
        self._broken = False

    def session_started(self, session_id: str, model: str) -> None:
        self.notice(f"session {session_id} ({model})")

    def user_text(self, text: str) -> None:
        self._end_open_line()
        self._out.write(f"you> {text}\n")
        self._out.flush()

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        if final:
            if self._open_user_item == item_id:
                self._out.write("\n")  # deltas already printed the text
            else:
                self._end_open_line()
                self._out.write(f"you (heard)> {text}\n")
            self._open_user_item = None
        else:
            if self._open_user_item != item_id:
                self._end_open_line()
                self._out.write("you (heard)> ")
                self._open_user_item = item_id
            elif self._broken:
                self._out.write("you (heard)> …")
                self._broken = False
            self._out.write(text)
        self._out.flush()

    def assistant_delta(self, response_id: str, text: str) -> None:
        if self._open_response != response_id:
            self._end_open_line()
            self._out.write("assistant> ")
            self._open_response = response_id
        elif self._broken:
            self._out.write("assistant> …")
            self._broken = False
        self._out.write(text)
        self._out.flush()

    def assistant_done(self, response_id: str, status: str) -> None:
        if self._open_response == response_id:
            suffix = "" if status == "completed" else f" [{status}]"
            self._out.write(f"{suffix}\n")
            self._out.flush()
            self._open_response = None
        elif status != "completed":
            self.notice(f"response {response_id} {status}")

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None:
        self._make_room_for_status()
        where = f" (event {event_id})" if event_id else ""
        self._err.write(f"server error [{code or 'unknown'}]: {message}{where}\n")
        self._err.flush()

    def notice(self, text: str) -> None:
        self._make_room_for_status()
        self._err.write(f"-- {text}\n")
        self._err.flush()
