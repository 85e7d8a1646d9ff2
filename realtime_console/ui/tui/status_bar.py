"""The one-line status bar: talk state, microphone (mute / push-to-talk), level meter, echo
cancellation, turn info.

Each part is its own small widget holding reactives, so a change redraws only that part; the
level meter is sampled by the app's frame clock, never redrawn per microphone block.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.reactive import reactive
from textual.widget import Widget

from realtime_console.protocol.rate_limits import RateLimit, describe
from realtime_console.redact import process_redactor
from realtime_console.ui.sanitize import ID_LIMIT, screen_line
from realtime_console.ui.tui.meter import FLOOR_DB, MeterBallistics, render_meter
from realtime_console.ui.view import TalkState

METER_DEADBAND_DB = 2.0
"""Smaller moves (room noise wobbling) are not redrawn: less than a cell of the bar."""
METER_WIDTH = 14  # 60 dB over 14 cells in eighths: finer than anyone reads, fits 80 columns

STATE_LOOKS: dict[TalkState, tuple[str, str]] = {
    TalkState.CONNECTING: ("◌", "black on yellow"),
    TalkState.LISTENING: ("●", "black on green"),
    TalkState.USER_SPEAKING: ("◉", "black on cyan"),
    TalkState.THINKING: ("…", "black on magenta"),
    TalkState.ASSISTANT_SPEAKING: ("♪", "white on blue"),
    TalkState.RECONNECTING: ("↻", "white on red"),
}
"""Symbol and colours of each talk state in the status bar."""


STATE_WIDTH = max(len(state.value) for state in TalkState) + 4
"""Every state draws this wide, so the parts right of it never jump."""


class StateBadge(Widget):
    state: reactive[TalkState] = reactive(TalkState.CONNECTING)

    def render(self) -> Text:
        symbol, style = STATE_LOOKS[self.state]
        return Text(f" {symbol} {self.state.value}".ljust(STATE_WIDTH), style=f"bold {style}")


class MicBadge(Widget):
    """Mute and turn-taking: ``VAD`` (the server detects speech) or push-to-talk idle/talking."""

    muted: reactive[bool] = reactive(False)
    push_to_talk: reactive[bool] = reactive(False)
    talking: reactive[bool] = reactive(False)

    def render(self) -> Text:
        out = Text()
        if self.muted:
            out.append(" MUTED ", style="bold white on red")
        if not self.push_to_talk:
            if not self.muted:
                out.append(" VAD: just speak ", style="dim")
        elif self.talking:
            out.append(" ● REC · space sends ", style="bold white on dark_red")
        else:
            out.append(" ○ space to talk ", style="dim")
        return out


class LevelMeter(Widget):
    """Draws the ballistics the app feeds; small wobbles are not redrawn, so a quiet room costs
    no redraws."""

    shown_db: reactive[float] = reactive(FLOOR_DB)

    def __init__(self, ballistics: MeterBallistics, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ballistics = ballistics

    def sample(self) -> None:
        level = float(round(self._ballistics.tick(time.monotonic())))
        if abs(level - self.shown_db) >= METER_DEADBAND_DB or level in (FLOOR_DB, 0.0):
            self.shown_db = level

    def render(self) -> Text:
        return Text.assemble(("mic ", "dim"), render_meter(self.shown_db, METER_WIDTH))


class EchoBadge(Widget):
    """Echo cancellation: ``AEC −38 dB`` (on, with the echo reduction achieved while the
    assistant spoke), ``AEC on`` before anything was measured, ``AEC off``; empty until talk
    says which. Whole decibels, so the figure redraws about once a second at most."""

    on: reactive[bool | None] = reactive(None)
    reduction_db: reactive[int | None] = reactive(None)

    def show(self, on: bool, reduction_db: float | None) -> None:
        self.on = on
        self.reduction_db = None if reduction_db is None else round(reduction_db)

    def render(self) -> Text:
        if self.on is None:
            return Text()
        if not self.on:
            return Text(" AEC off ", style="dim")
        if self.reduction_db is None:
            return Text(" AEC on ", style="bold green")
        return Text.assemble((" AEC ", "bold green"), (f"−{self.reduction_db} dB ", "green"))


class RateLimitBadge(Widget):
    """The most constrained of the service's rate limits (``rate_limits.updated``); empty until
    the first update. Turns red, with the reset time, once less than 10 % is left."""

    limit: reactive[RateLimit | None] = reactive(None)

    def render(self) -> Text:
        if self.limit is None:
            return Text()
        # The name is the server's: screened like every server text.
        shown = screen_line(describe(self.limit), process_redactor(), ID_LIMIT)
        return Text(f" {shown} ", style="bold white on dark_red" if self.limit.low else "dim")


class TurnInfo(Widget):
    """Last turn's latency (speech stopped → first assistant audio); the session is in the
    header."""

    latency_ms: reactive[float | None] = reactive(None)

    def render(self) -> Text:
        value = "—" if self.latency_ms is None else f"{self.latency_ms:.0f} ms"
        return Text.assemble(("last turn ", "dim"), (value, "bold"), justify="right")


class StatusBar(Horizontal):
    def __init__(self, ballistics: MeterBallistics, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self._ballistics = ballistics

    def compose(self) -> ComposeResult:
        yield StateBadge(id="state")
        yield LevelMeter(self._ballistics, id="meter")
        yield MicBadge(id="mic")
        yield EchoBadge(id="echo")
        yield RateLimitBadge(id="limits")
        yield TurnInfo(id="turn-info")
