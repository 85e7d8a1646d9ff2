"""What the handlers need from a renderer; every UI implements this."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from realtime_console.protocol.rate_limits import RateLimit
from realtime_console.protocol.turns import TalkState as TalkState  # where the views look for it


class ConsoleView(Protocol):
    def session_started(self, session_id: str, model: str) -> None: ...

    def user_text(self, text: str) -> None:
        """A user turn the console sent as text (shown when input is not typed live)."""

    def user_transcript(self, item_id: str, text: str, final: bool) -> None:
        """Transcription of the user's speech: a delta, or the final text when ``final``."""

    def assistant_delta(self, response_id: str, text: str) -> None: ...

    def assistant_done(self, response_id: str, status: str) -> None:
        """End of a response; ``status`` is the service's (completed, cancelled, …)."""

    def server_error(self, code: str | None, message: str, event_id: str | None) -> None: ...

    def notice(self, text: str) -> None:
        """A one-line status message from the console itself."""


@runtime_checkable
class ServerUpdatesView(Protocol):
    """What a view may show beyond ``ConsoleView``. Kept apart so a ``ConsoleView`` written
    before these existed (replay's ``SilentView``) still is one: ``ConsoleHandlers`` calls them
    only on a view that has them. Every view of ours (plain, plain talk, the TUI) does."""

    def rate_limits(self, limits: Sequence[RateLimit]) -> None:
        """The service's remaining budgets (``rate_limits.updated``), the whole list each time."""

    def assistant_final(self, response_id: str, text: str) -> None:
        """The response's final text (``…transcript.done`` / ``output_text.done``) differs from
        the deltas shown: the server corrected or completed it. Never called when they match."""


@runtime_checkable
class ToolCallsView(Protocol):
    """A view that shows the model's function calls (every view of ours; replay's silent
    view does not need to)."""

    def tool_call(self, name: str, arguments: str, outcome: str, duration_ms: float | None) -> None:
        """One finished call: ``outcome`` is ``-> OUTPUT``, ``failed: …``, ``timed out after
        30 s``, ``declined`` or ``cancelled (…)``; ``duration_ms`` when worth showing."""


@dataclass(frozen=True)
class Question:
    """One question put to the user while a session runs: a tool call in ``confirm`` or
    ``ask`` mode, an MCP approval. ``name`` and ``arguments`` come from the model: the view
    screens them (no terminal controls, secrets masked, bounded) before showing them."""

    title: str  # what asks, the dialog's title: "tool call", "mcp call"
    name: str  # what would run: "get_weather", "notes.delete_note"
    arguments: str = ""  # its arguments as the model wrote them (JSON text)
    ask: str = "run it?"  # the question itself: "run it?", "approve?", "result"
    default: bool = False  # a yes/no: the answer of Enter alone (plain: an empty line)


@runtime_checkable
class Questions(Protocol):
    """Asks the user without stopping the session: the conversation, audio and events go on
    while the answer is awaited, and cancelling the awaiting task (a barge-in, the call's
    response cut off, quitting) withdraws the question. Questions asked at once are put one
    after another.

    Implemented by the plain views' ``ui.lines.ToolPrompts`` (a line of stdin) and by the
    full-screen ``ui.tui.app.TalkApp`` (a modal dialog, ``ui.tui.prompt_dialog``); the
    ``Prompts`` a mode gets (``modes.tool_calls``) is one too. An MCP approval is
    ``await prompts.ask_yes_no(Question("mcp call", "notes.delete_note", args, "approve?"))``.
    """

    async def ask_yes_no(self, question: Question) -> bool:
        """True for yes. Enter alone answers ``question.default``; Esc or end of input: no."""

    async def ask_text(self, question: Question) -> str | None:
        """One line the user typed; None when they declined (Esc; end of input)."""


class TalkView(ConsoleView, ServerUpdatesView, Protocol):
    """A renderer for ``talk`` (plain lines or the Textual UI): the conversation plus live state."""

    def set_state(self, state: TalkState) -> None: ...

    def set_muted(self, muted: bool) -> None: ...

    def mic_level(self, dbfs: float) -> None:
        """Microphone level of the latest block, in dBFS (-120 for silence). Called often."""

    def turn_latency(self, ms: float) -> None:
        """Last turn's latency: user speech stopped → first assistant audio, in ms."""

    def echo_status(self, on: bool, reduction_db: float | None) -> None:
        """Echo cancellation on or off, and the echo reduction it achieves (dB over the last
        second or so of playback; None until measured). Called about once a second."""

    def playback_status(self, target_ms: float, underruns: int) -> None:
        """The adaptive playback buffer's current playout delay and the underruns so far (the
        speaker's stats). Called from the talk loop, at most about once a second, when either
        changed."""

    def assistant_cut(
        self, response_id: str, heard_text: str, heard_ms: int, talked_over_ms: float | None = None
    ) -> None:
        """The user barged in: the listener heard ``heard_ms`` of this response, which covers
        about ``heard_text`` of its transcript; show the transcript as cut at that point.
        ``talked_over_ms``: how long the assistant went on after the user began speaking, to
        silence at the listener (the ``barge_in`` note's ``onset_to_silence_ms``; None when
        unknown)."""

    # False: event_line is never called, so talk does not summarise every event for nothing.
    shows_events: bool

    def event_line(self, direction: str, event_type: str, summary: str) -> None:
        """One line for the event-log pane (``direction``: client, server or meta)."""


def cut_words(heard_ms: int, talked_over_ms: float | None = None) -> str:
    """How every view words a barge-in's cut: where the listener stopped hearing the reply,
    and how long it went on after they began speaking (when known)."""
    over = "" if talked_over_ms is None else f", {talked_over_ms:.0f} ms after you spoke"
    return f"cut at {heard_ms / 1000:.1f} s{over}"


class TalkControls(Protocol):
    """What a renderer can ask of the running ``talk`` loop (keys, buttons)."""

    def toggle_mute(self) -> None: ...

    def push_to_talk(self, pressed: bool) -> None:
        """Push-to-talk: True starts capturing a turn, False ends it (commit + response)."""

    def quit(self) -> None: ...
