"""``talk --plain`` (and ``talk`` with stdout not a terminal): the conversation as lines.

The conversation (``you (heard)>`` / ``assistant>`` lines; a barge-in ends the reply's line with
``[cut at 4.4 s; heard “…”]``) goes to stdout like ``chat``; state changes, mute and turn latency
go to stderr as ``--`` lines. The microphone level is not printed (it changes 10 times a
second); the event-log lines are shown only with ``events=True``.

Those status lines never split a conversation line: while a ``you (heard)>`` or ``assistant>``
line is open they wait, and come out as soon as it ends (only the latest state: a state already
left is not worth a line). Errors and connection notices still break in at once.

The playback buffer is not printed as it changes; when playback ran dry during a reply, one
``playback ran dry N times in that reply; buffer now 80 ms`` line follows once the reply is
over (it waits, like the other status lines, for an open conversation line to end).

With push-to-talk, "listening" would be wrong (nothing is heard until the key is pressed): the
states say what the key does instead (``ready: press space to talk``, ``recording: press space
to send``).

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
from realtime_console.ui.view import TalkState, cut_words

HOLD_S = 1.5  # longest the assistant's text waits for the user's transcript
# While talk is in these states a reply is still on its way or playing: its underruns are said
# once it is over, in one line.
_REPLYING = frozenset({TalkState.THINKING, TalkState.ASSISTANT_SPEAKING})
PUSH_TO_TALK_KEY = "space"  # ui.keys: the key that starts and ends a push-to-talk turn

# Push-to-talk: what each state means to the person holding the key.
_PUSH_TO_TALK_STATES = {
    TalkState.LISTENING: f"ready: press {PUSH_TO_TALK_KEY} to talk",
    TalkState.USER_SPEAKING: f"recording: press {PUSH_TO_TALK_KEY} to send",
}


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
        push_to_talk: bool = False,
    ) -> None:
        super().__init__(out, err, redactor=redactor)
        self._state: TalkState | None = None
        self._push_to_talk = push_to_talk
        # Talk status waiting for the open conversation line to end: kind → text (the latest).
        self._waiting: dict[str, str] = {}
        self.shows_events = events
        self.last_level_dbfs = -120.0
        self._cut: set[str] = set()
        self._transcripts = transcripts  # input transcription is on: a transcript will come
        self._hold_s = hold_s
        self._user_pending = False
        self._held: list[tuple[str, str]] = []  # (response_id, text) waiting for the user line
        self._hold_timer: asyncio.TimerHandle | None = None
        self._underruns = 0  # playback underruns so far (talk's playback_status)
        self._underruns_said = 0  # of those, already said in a line
        self._buffer_ms = 0.0

    def set_state(self, state: TalkState) -> None:
        if state is TalkState.USER_SPEAKING and self._transcripts:
            self._user_pending = True
        if state is not self._state:
            self._state = state
            self._say_underruns()  # the reply just ended: its line comes before the new state
            said = _PUSH_TO_TALK_STATES.get(state) if self._push_to_talk else None
            self._talk_status("state", said or state.value)

    def _talk_status(self, kind: str, text: str) -> None:
        """A status line of the talk loop: now, or once the open line has ended."""
        self._raise_if_closed()
        if self._open_response is not None or self._open_user_item is not None:
            self._waiting.pop(kind, None)
            self._waiting[kind] = text
            return
        self.notice(text)

    def _end_open_line(self) -> None:
        super()._end_open_line()
        self._say_waiting()

    def _say_waiting(self) -> None:
        if self._open_response is not None or self._open_user_item is not None:
            return
        waiting, self._waiting = self._waiting, {}
        for text in waiting.values():
            self.notice(text)

    def _write(self, text: str) -> None:
        super()._write(text)
        if text.endswith("\n") and self._waiting:
            self._say_waiting()  # a conversation line just ended

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
        self._talk_status("muted", "microphone muted" if muted else "microphone on")

    def echo_status(self, on: bool, reduction_db: float | None) -> None:
        pass  # said once as a notice when talk starts; a changing figure is no line of text

    def playback_status(self, target_ms: float, underruns: int) -> None:
        # A figure that changes every second is no line of text: only underruns are said, once
        # per reply, after it (the count may come a second late: then here, not at its end).
        self._buffer_ms, self._underruns = target_ms, underruns
        self._say_underruns()

    def _say_underruns(self) -> None:
        new = self._underruns - self._underruns_said
        if new <= 0 or self._state in _REPLYING:
            return
        self._underruns_said = self._underruns
        times = "once" if new == 1 else f"{new} times"
        self._talk_status(
            "playback",
            f"playback ran dry {times} in that reply; buffer now {self._buffer_ms:.0f} ms",
        )

    def mic_level(self, dbfs: float) -> None:
        self.last_level_dbfs = dbfs

    def turn_latency(self, ms: float) -> None:
        self._talk_status("latency", f"turn latency {ms:.0f} ms (speech stopped → first audio)")

    def assistant_cut(
        self, response_id: str, heard_text: str, heard_ms: int, talked_over_ms: float | None = None
    ) -> None:
        """One mark, on the reply's own line when it is still open, else on a line that says
        whose it is: where the listener stopped hearing, what they heard of it, and how long
        the reply went on over them."""
        self._release()
        self._cut.add(response_id)
        heard = f"heard “{self._whole(heard_text)}”" if heard_text else "heard nothing"
        mark = f"[{cut_words(heard_ms, talked_over_ms)}; {heard}]"
        if self._open_response == response_id:
            self._open_response = None
            self._write(f"{self._stream.flush()} {mark}\n")
        else:
            self._end_open_line()
            self._write(f"assistant (cut)> {mark}\n")

    def assistant_done(self, response_id: str, status: str) -> None:
        # A cut response was already ended by ``assistant_cut``; its cancelled status adds nothing.
        if response_id in self._cut:
            self._cut.discard(response_id)
            return
        self._release()
        super().assistant_done(response_id, status)

    def finish(self) -> None:
        """Held reply text is printed before the open line is ended: nothing is lost at the end."""
        if self._closed is None:
            try:
                self._release()
            except OutputClosed:
                pass  # stdout is gone: the command's own end reports it
        super().finish()

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        if self.shows_events:
            self.notice(f"{direction} {event_type} {summary}".rstrip())
