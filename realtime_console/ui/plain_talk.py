"""``talk --plain`` (and ``talk`` with stdout not a terminal): the conversation as lines.

The conversation (``you (heard)>`` / ``assistant>`` lines, and ``[cut …]`` marks after a barge-in)
goes to stdout like ``chat``; state changes, mute and turn latency go to stderr as ``--`` lines.
The microphone level is not printed (it changes 10 times a second); the event-log lines are shown
only with ``events=True``.

Lines cannot be edited afterwards, and the service often finishes transcribing the user's speech
after the reply has begun. So, when input transcription is on, the assistant's text is held
while the user's transcript is pending (from "user speaking" until it arrives, at most
``HOLD_S`` after the first held delta), then printed after it: each turn reads in order. The
audio is not held, only its text.
"""

from __future__ import annotations

import asyncio
from typing import TextIO

from realtime_console.redact import Redactor
from realtime_console.ui.output import OutputClosed
from realtime_console.ui.plain import PlainView
from realtime_console.ui.view import TalkState

HOLD_S = 1.5  # longest the assistant's text waits for the user's transcript


class PlainTalkView(PlainView):
    def __init__(
        self,
        out: TextIO | None = None,
        err: TextIO | None = None,
        *,
        events: bool = False,
        transcripts: bool = True,
        hold_s: float = HOLD_S,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(out, err, redactor=redactor)
        self._state: TalkState | None = None
        self._events = events
        self.last_level_dbfs = -120.0
        self._cut: set[str] = set()
        self._transcripts = transcripts  # input transcription is on: a transcript will come
        self._hold_s = hold_s
        self._user_pending = False
        self._held: list[tuple[str, str]] = []  # (response_id, text) waiting for the user line
        self._hold_timer: asyncio.TimerHandle | None = None

    def set_state(self, state: TalkState) -> None:
        if state is TalkState.USER_SPEAKING and self._transcripts:
            self._user_pending = True
        if state is not self._state:
            self._state = state
            self.notice(state.value)

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        super().user_transcript(item_id, text, final)
        if final:
            self._release()

    def assistant_delta(self, response_id: str, text: str) -> None:
        if self._user_pending or self._held:
            self._held.append((response_id, text))
            self._arm_hold_timer()
            return
        super().assistant_delta(response_id, text)

    def _arm_hold_timer(self) -> None:
        if self._hold_timer is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop (a replay tool, a test): nothing would release it
            self._release()
            return
        self._hold_timer = loop.call_later(self._hold_s, self._release_on_time)

    def _release_on_time(self) -> None:
        try:
            self._release()
        except OutputClosed:
            pass  # a loop callback cannot end the session: the view's next call raises it

    def _release(self) -> None:
        """Print the held assistant text (the user's line is out, or it took too long)."""
        if self._hold_timer is not None:
            self._hold_timer.cancel()
            self._hold_timer = None
        self._user_pending = False
        held, self._held = self._held, []
        for response_id, text in held:
            super().assistant_delta(response_id, text)

    def assistant_final(self, response_id: str, text: str) -> None:
        if response_id in self._cut:
            return  # the cut line shows what was heard; a final text would contradict it
        held = [entry for entry in self._held if entry[0] == response_id]
        if held and self._open_response != response_id:
            # None of it is printed yet: print the final text instead of the deltas, once.
            first = self._held.index(held[0])
            self._held = [entry for entry in self._held if entry[0] != response_id]
            self._held.insert(first, (response_id, text))
            return
        self._release()
        super().assistant_final(response_id, text)

    def set_muted(self, muted: bool) -> None:
        self.notice("microphone muted" if muted else "microphone on")

    def mic_level(self, dbfs: float) -> None:
        self.last_level_dbfs = dbfs

    def turn_latency(self, ms: float) -> None:
        self.notice(f"turn latency {ms:.0f} ms (speech stopped → first audio)")

    def assistant_cut(self, response_id: str, heard_text: str, heard_ms: int) -> None:
        self._release()
        self._cut.add(response_id)
        if self._open_response == response_id:
            self._open_response = None
            self._write(self._stream.flush() + " [cut]\n")
        else:
            self._end_open_line()
        heard = f"“{self._whole(heard_text)}”" if heard_text else "nothing"
        self._write(f"  [cut after {heard_ms} ms: the listener heard {heard}]\n")

    def assistant_done(self, response_id: str, status: str) -> None:
        # A cut response was already ended by ``assistant_cut``; its cancelled status adds nothing.
        if response_id in self._cut:
            self._cut.discard(response_id)
            return
        self._release()
        super().assistant_done(response_id, status)

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        if self._events:
            self.notice(f"{direction} {event_type} {summary}".rstrip())
