"""``talk --plain`` (and ``talk`` with stdout not a terminal): the conversation as lines.

The conversation (``you (heard)>`` / ``assistant>`` lines, and ``[cut …]`` marks after a barge-in)
goes to stdout like ``chat``; state changes, mute and turn latency go to stderr as ``--`` lines.
The microphone level is not printed (it changes 10 times a second); the event-log lines are shown
only with ``events=True``.
"""

from __future__ import annotations

from typing import TextIO

from realtime_console.ui.plain import PlainView
from realtime_console.ui.view import TalkState


class PlainTalkView(PlainView):
    def __init__(
        self, out: TextIO | None = None, err: TextIO | None = None, *, events: bool = False
    ) -> None:
        super().__init__(out, err)
        self._state: TalkState | None = None
        self._events = events
        self.last_level_dbfs = -120.0
        self._cut: set[str] = set()

    def set_state(self, state: TalkState) -> None:
        if state is not self._state:
            self._state = state
            self.notice(state.value)

    def set_muted(self, muted: bool) -> None:
        self.notice("microphone muted" if muted else "microphone on")

    def mic_level(self, dbfs: float) -> None:
        self.last_level_dbfs = dbfs

    def turn_latency(self, ms: float) -> None:
        self.notice(f"turn latency {ms:.0f} ms (speech stopped → first audio)")

    def assistant_cut(self, response_id: str, heard_text: str, heard_ms: int) -> None:
        self._cut.add(response_id)
        if self._open_response == response_id:
            self._out.write(" [cut]\n")
            self._open_response = None
        else:
            self._end_open_line()
        heard = f"“{heard_text}”" if heard_text else "nothing"
        self._out.write(f"  [cut after {heard_ms} ms: the listener heard {heard}]\n")
        self._out.flush()

    def assistant_done(self, response_id: str, status: str) -> None:
        # A cut response was already ended by ``assistant_cut``; its cancelled status adds nothing.
        if response_id in self._cut:
            self._cut.discard(response_id)
            return
        super().assistant_done(response_id, status)

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        if self._events:
            self.notice(f"{direction} {event_type} {summary}".rstrip())
