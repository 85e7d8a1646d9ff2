"""``TalkApp``: the Textual UI of ``talk``, a :class:`~realtime_console.ui.view.TalkView`.

The talk loop creates the app, runs ``await app.run_async()`` as one task of its TaskGroup and
calls the view methods from that same event loop: possibly before the first frame, and possibly
after the app has exited. Every view call therefore goes first into plain models (the
conversation, the event history, the status fields); widgets mirror them only while mounted, and
draw the models whole when they mount. A call before mount is shown once mounted, a call after
exit changes a model nobody draws, and no view call ever raises for either.

Keys (also in the footer):

- ``m`` mute toggle → ``controls.toggle_mute()``; the bar shows what ``set_muted`` reports.
- ``space`` push-to-talk: terminals report no key release, so the first press starts the turn
  (``controls.push_to_talk(True)``) and the next sends it (``push_to_talk(False)``). With server
  or semantic VAD (``push_to_talk=False``) there is nothing to press: space only says so.
- ``l`` event-log pane; ``end`` follow the newest turn again after scrolling up.
- ``q`` / ``ctrl+q`` and ``ctrl+c`` → ``controls.quit()``. The talk loop then shuts down and
  calls ``app.exit(code)``. If it has not within :data:`QUIT_GRACE_S`, or on a second quit key,
  the app exits by itself with 0 (``q``) or 130 (``ctrl+c``; also :attr:`TalkApp.interrupted`).

Questions (``ask_yes_no`` / ``ask_text`` of :class:`~realtime_console.ui.view.Questions`: tool
calls in ``confirm`` / ``ask`` mode, MCP approvals) open a modal dialog over the conversation,
which goes on underneath (``prompt_dialog``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widgets import Footer, Header

from realtime_console.protocol.rate_limits import RateLimit, most_constrained
from realtime_console.ui.tui.conversation import Changes, Conversation
from realtime_console.ui.tui.conversation_pane import ConversationPane
from realtime_console.ui.tui.event_lines import EventLines
from realtime_console.ui.tui.event_pane import EventPane
from realtime_console.ui.tui.meter import MeterBallistics
from realtime_console.ui.tui.prompt_dialog import DialogQueue, TextDialog, YesNoDialog
from realtime_console.ui.tui.status_bar import (
    EchoBadge,
    LevelMeter,
    MicBadge,
    PlaybackBadge,
    RateLimitBadge,
    StateBadge,
    StatusBar,
    TurnInfo,
)
from realtime_console.ui.view import Question, TalkControls, TalkState

FRAME_S = 0.1
"""The UI's frame clock: what view calls changed is drawn together, at most 10 times a second.
Transcript deltas and events can come 50 times a second and each Textual layout pass costs
milliseconds; one frame for all of them keeps the UI to a few percent of a core."""
EVENT_PANE_EVERY = 3
"""The event-log pane scrolls on every third frame only: repainting a scrolled log is the
costliest draw, and nobody reads 50 lines a second as they pass."""
QUIT_GRACE_S = 1.0
"""How long a quit key waits for the talk loop to end the app before the app exits itself."""
EXIT_QUIT = 0
EXIT_INTERRUPTED = 130

VAD_HINT = (
    "Voice activity detection is on: just speak. Start talk with --push-to-talk to take turns "
    "with the space key."
)

CSS = """
Screen {
    layout: vertical;
}
#conversation {
    height: 1fr;
    padding: 0 1;
    scrollbar-size-vertical: 1;
}
TurnView {
    height: auto;
    margin: 1 0 0 0;
    padding: 0 1;
}
TurnView.user {
    border-left: outer ansi_bright_cyan;
}
TurnView.assistant {
    border-left: outer $success;
}
TurnView.error {
    border-left: outer $error;
    background: $error 10%;
}
TurnView.notice {
    margin: 0;
    padding: 0 2;
}
TurnView.tool {
    border-left: outer $warning;
}
#events {
    height: 40%;
    border-top: solid $secondary;
    border-title-color: $text-muted;
    padding: 0 1;
    background: $surface;
    scrollbar-size-vertical: 1;
}
#status {
    height: 1;
    background: $panel;
}
#state, #mic, #echo, #playback, #limits {
    width: auto;
}
#meter {
    width: auto;
    padding: 0 1;
}
#turn-info {
    width: 1fr;
    padding: 0 1;
}
"""


@dataclass(frozen=True)
class _Widgets:
    """The widgets view calls reach, looked up once at mount (view calls come 50 a second)."""

    conversation: ConversationPane
    events: EventPane
    meter: LevelMeter
    state: StateBadge
    mic: MicBadge
    limits: RateLimitBadge
    turn_info: TurnInfo


class TalkApp(App[int]):
    """The ``talk`` terminal UI; see the module docstring for keys and lifecycle."""

    TITLE = "realtime-console talk"
    CSS = CSS
    ENABLE_COMMAND_PALETTE = False
    shows_events = True  # the event pane (toggled with l) keeps its lines while hidden
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "toggle_mute", "Mute"),
        Binding("space", "push_to_talk", "Talk / send"),
        Binding("space", "vad_hint", "Talk", show=False),
        Binding("l", "toggle_events", "Events"),
        Binding("end", "follow", "Latest", show=False),
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "interrupt", "Quit", show=False, priority=True),
    ]

    def __init__(self, controls: TalkControls, *, title: str, push_to_talk: bool) -> None:
        super().__init__()
        self.title = title
        self.controls = controls
        self.push_to_talk_mode = push_to_talk
        self.conversation = Conversation()
        self.events = EventLines()
        self.meter = MeterBallistics()
        self.state = TalkState.CONNECTING
        self.muted = False
        self.talking = False  # push-to-talk: a turn is being captured
        self.latency_ms: float | None = None
        self.rate_limit: RateLimit | None = None  # the most constrained, as last reported
        self.session_label = ""
        self.interrupted = False  # the user quit with ctrl+c (exit code 130)
        self._quit_requested = False
        self._widgets: _Widgets | None = None  # set while the widgets mirror the models
        self._frames = 0
        self.questions = DialogQueue(self)  # tool prompts, MCP approvals: one dialog at a time

    # -- layout and lifecycle ------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield Header()
        yield ConversationPane(self.conversation, id="conversation")
        yield EventPane(self.events, id="events")
        yield StatusBar(self.meter, id="status")
        yield Footer()

    def on_mount(self) -> None:
        self._widgets = _Widgets(
            conversation=self.query_one(ConversationPane),
            events=self.query_one(EventPane),
            meter=self.query_one(LevelMeter),
            state=self.query_one(StateBadge),
            mic=self.query_one(MicBadge),
            limits=self.query_one(RateLimitBadge),
            turn_info=self.query_one(TurnInfo),
        )
        self._sync_status()
        self.set_interval(FRAME_S, self.draw_frame)
        self.questions.ready()

    def on_unmount(self) -> None:
        self._widgets = None
        self.questions.close()

    async def run_async(self, *args: Any, **kwargs: Any) -> int | None:
        try:
            return await super().run_async(*args, **kwargs)
        finally:
            self._widgets = None  # also when the task running the app was cancelled
            self.questions.close()

    @property
    def showing(self) -> bool:
        """The widgets are up and mirror every view call (False before mount and once the app
        is shutting down: Textual stops ``is_running`` first thing, then removes widgets)."""
        return self._widgets is not None and self.is_running

    def _shown_widgets(self) -> _Widgets | None:
        return self._widgets if self.showing else None

    def draw_frame(self) -> None:
        """Draw what changed since the last frame (the frame clock calls this)."""
        widgets = self._shown_widgets()
        if widgets is None:
            return
        self._frames += 1
        widgets.meter.sample()
        widgets.conversation.draw_pending()
        if self._frames % EVENT_PANE_EVERY == 0:
            widgets.events.draw_pending()

    def _sync_status(self) -> None:
        widgets = self._shown_widgets()
        if widgets is None:
            return
        widgets.state.state = self.state
        widgets.mic.muted = self.muted
        widgets.mic.push_to_talk = self.push_to_talk_mode
        widgets.mic.talking = self.talking
        widgets.limits.limit = self.rate_limit
        widgets.turn_info.latency_ms = self.latency_ms

    def _show(self, changes: Changes) -> None:
        widgets = self._shown_widgets()
        if widgets is not None and (changes.updated or changes.dropped):
            widgets.conversation.apply(changes)

    # -- TalkView ------------------------------------------------------------------------------

    def session_started(self, session_id: str, model: str) -> None:
        self.session_label = f"{model} · {session_id}"
        self.sub_title = self.session_label
        self._show(self.conversation.notice(f"session {session_id} started ({model})"))
        self._sync_status()

    def user_text(self, text: str) -> None:
        self._show(self.conversation.user_text(text))

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        self._show(self.conversation.user_transcript(item_id, text, final))

    def assistant_delta(self, response_id: str, text: str) -> None:
        self._show(self.conversation.assistant_delta(response_id, text))

    def assistant_done(self, response_id: str, status: str) -> None:
        self._show(self.conversation.assistant_done(response_id, status))

    def assistant_final(self, response_id: str, text: str) -> None:
        self._show(self.conversation.assistant_final(response_id, text))

    def rate_limits(self, limits: Sequence[RateLimit]) -> None:
        self.rate_limit = most_constrained(limits)
        self._sync_status()

    def assistant_cut(
        self, response_id: str, heard_text: str, heard_ms: int, talked_over_ms: float | None = None
    ) -> None:
        self._show(
            self.conversation.assistant_cut(response_id, heard_text, heard_ms, talked_over_ms)
        )

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None:
        self._show(self.conversation.server_error(code, message, event_id))

    def notice(self, text: str) -> None:
        self._show(self.conversation.notice(text))

    def tool_call(self, name: str, arguments: str, outcome: str, duration_ms: float | None) -> None:
        self._show(self.conversation.tool_call(name, arguments, outcome, duration_ms))

    def set_state(self, state: TalkState) -> None:
        previous, self.state = self.state, state
        if state is TalkState.USER_SPEAKING and previous is not TalkState.USER_SPEAKING:
            self._show(self.conversation.speech_started())
        elif previous is TalkState.USER_SPEAKING and state is not TalkState.USER_SPEAKING:
            self._show(self.conversation.speech_stopped())
        self._sync_status()

    def set_muted(self, muted: bool) -> None:
        self.muted = muted
        self._sync_status()

    def echo_status(self, on: bool, reduction_db: float | None) -> None:
        if self._widgets is not None:  # about once a second: a lookup is cheap enough
            self.query_one(EchoBadge).show(on, reduction_db)

    def playback_status(self, target_ms: float, underruns: int) -> None:
        if self._widgets is not None:  # at most once a second, as the echo badge
            self.query_one(PlaybackBadge).show(target_ms, underruns)

    def mic_level(self, dbfs: float) -> None:
        self.meter.feed(dbfs)  # a compare and a store; the frame clock draws it

    def turn_latency(self, ms: float) -> None:
        self.latency_ms = ms
        self._show(self.conversation.turn_latency(ms))
        self._sync_status()

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        line = self.events.add(direction, event_type, summary)
        widgets = self._shown_widgets()
        if widgets is not None:
            widgets.events.add(line)

    # -- Questions (ui.view): a modal dialog; the conversation goes on underneath -------------

    async def ask_yes_no(self, question: Question) -> bool:
        return await self.questions.ask(YesNoDialog(question))

    async def ask_text(self, question: Question) -> str | None:
        return await self.questions.ask(TextDialog(question))

    # -- after the app closed ------------------------------------------------------------------

    def closing_report(self, log_path: str | None) -> tuple[list[str], str]:
        """What to leave on the terminal once the screen is restored: the conversation as lines
        (for stdout) and one line saying how the session ended and where its log is (stderr)."""
        from realtime_console.redact import process_redactor
        from realtime_console.ui.tui.transcript import ended_line, transcript_lines

        turns = self.conversation.turns
        return transcript_lines(turns, process_redactor()), ended_line(turns, log_path)

    # -- keys ----------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "push_to_talk":
            return self.push_to_talk_mode
        if action == "vad_hint":
            return not self.push_to_talk_mode
        return True

    def action_toggle_mute(self) -> None:
        self.controls.toggle_mute()

    def action_push_to_talk(self) -> None:
        self.talking = not self.talking
        self.controls.push_to_talk(self.talking)
        self._sync_status()

    def action_vad_hint(self) -> None:
        self.notify(VAD_HINT, title="No push-to-talk", timeout=4)

    def action_toggle_events(self) -> None:
        self.query_one(EventPane).toggle()

    def action_follow(self) -> None:
        self.query_one(ConversationPane).scroll_end(animate=False)

    async def action_quit(self) -> None:
        self._request_quit(EXIT_QUIT)

    def action_interrupt(self) -> None:
        self.interrupted = True
        self._request_quit(EXIT_INTERRUPTED)

    def _request_quit(self, code: int) -> None:
        if self._quit_requested:  # asked twice: the user means it
            self.exit(code)
            return
        self._quit_requested = True
        self.notify("Stopping…", timeout=QUIT_GRACE_S)
        self.controls.quit()
        self.set_timer(QUIT_GRACE_S, lambda: self.exit(code))
