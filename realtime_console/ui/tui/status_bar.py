"""The one-line status bar: talk state, microphone (mute / push-to-talk), level meter, echo
cancellation, the playback buffer, turn info.

Each part is its own small widget holding reactives, so a change redraws only that part; the
level meter is sampled by the app's frame clock, never redrawn per microphone block. A part
whose text changes width lays the bar out again, and when the terminal is too narrow for every
part the least needed ones give way (``StatusBar.fit``) rather than being cut off at the edge:
the last turn's latency first (the conversation shows it with each answer too), then the
playback buffer. State, meter, microphone, echo and rate limit always stay.
"""

from __future__ import annotations

import time

from rich.text import Text
from textual import events
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.geometry import Size
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


class _Part(Widget):
    """A part of the status bar: when its width changes the bar checks what still fits."""

    def on_resize(self, event: events.Resize) -> None:
        self.refit()

    def refit(self) -> None:
        if isinstance(self.parent, StatusBar):
            self.parent.fit()


class StateBadge(Widget):
    state: reactive[TalkState] = reactive(TalkState.CONNECTING)

    def render(self) -> Text:
        symbol, style = STATE_LOOKS[self.state]
        return Text(f" {symbol} {self.state.value}".ljust(STATE_WIDTH), style=f"bold {style}")


class MicBadge(_Part):
    """Mute and turn-taking: ``VAD`` (the server detects speech) or push-to-talk idle/talking."""

    # layout: the width follows the text (" MUTED " alone, " ● REC · space sends ").
    muted: reactive[bool] = reactive(False, layout=True)
    push_to_talk: reactive[bool] = reactive(False, layout=True)
    talking: reactive[bool] = reactive(False, layout=True)

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


class EchoBadge(_Part):
    """Echo cancellation: ``AEC −38 dB`` (on, with the echo reduction achieved while the
    assistant spoke), ``AEC on`` before anything was measured, ``AEC off``; empty until talk
    says which. Whole decibels, so the figure redraws about once a second at most."""

    on: reactive[bool | None] = reactive(None, layout=True)  # layout: the width follows the text
    reduction_db: reactive[int | None] = reactive(None, layout=True)

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


class PlaybackBadge(_Part):
    """The adaptive playback buffer: ``buffer 40 ms``, then ``· 2 underruns`` once playback ran
    dry; empty until talk reports it. Whole milliseconds, fed at most once a second. Where the
    bar is short of room, ``compact`` keeps only the underruns (``2 underruns``), the figure
    that says something went wrong."""

    # layout: the badge's width follows its text (``· 2 underruns`` appears, 40 → 120 ms).
    target_ms: reactive[int | None] = reactive(None, layout=True)
    underruns: reactive[int] = reactive(0, layout=True)
    compact: reactive[bool] = reactive(False, layout=True)

    def show(self, target_ms: float, underruns: int) -> None:
        self.target_ms = round(target_ms)
        self.underruns = underruns
        self.refit()  # also while hidden, when it has no size to change

    def text(self, compact: bool) -> Text:
        if self.target_ms is None:
            return Text()
        out = Text()
        if not (compact and self.underruns):
            out.append_text(Text.assemble((" buffer ", "dim"), (f"{self.target_ms} ms ", "bold")))
        if self.underruns:
            plural = "underrun" if self.underruns == 1 else "underruns"
            dot = " " if compact else "· "
            out.append(f"{dot}{self.underruns} {plural} ", style="bold yellow")
        return out

    def render(self) -> Text:
        return self.text(self.compact)


class RateLimitBadge(_Part):
    """The most constrained of the service's rate limits (``rate_limits.updated``); empty until
    the first update. Turns red, with the reset time, once less than 10 % is left."""

    limit: reactive[RateLimit | None] = reactive(None)

    def render(self) -> Text:
        if self.limit is None:
            return Text()
        # The name is the server's: screened like every server text.
        shown = screen_line(describe(self.limit), process_redactor(), ID_LIMIT)
        return Text(f" {shown} ", style="bold white on dark_red" if self.limit.low else "dim")


class TurnInfo(_Part):
    """Last turn's latency (speech stopped → first assistant audio); the session is in the
    header."""

    latency_ms: reactive[float | None] = reactive(None)

    def watch_latency_ms(self) -> None:
        self.refit()  # its share of the bar does not change with its text: no resize says so

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
        yield PlaybackBadge(id="playback")
        yield RateLimitBadge(id="limits")
        yield TurnInfo(id="turn-info")

    def on_resize(self, event: events.Resize) -> None:
        self.fit()

    def fit(self) -> None:
        """Show what fits the bar's width: while the parts' texts are wider than the bar, hide
        the turn info, then shorten the playback badge to its underruns, then hide it."""
        badges = self.query(PlaybackBadge)
        width = self.size.width
        if not width or not badges:
            return  # not laid out yet
        playback = badges.first()
        needed = {part.id: _needed_width(part, self.size) for part in self.children}
        needed["playback"] = playback.text(compact=False).cell_len
        total = sum(needed.values())
        hidden: set[str] = set()
        compact = False
        if total > width:
            hidden.add("turn-info")
            total -= needed["turn-info"]
        if total > width and playback.underruns:
            compact = True
            total += playback.text(compact=True).cell_len - needed["playback"]
        if total > width:
            hidden.add("playback")
        playback.compact = compact
        for part in self.children:
            shown = part.id not in hidden
            if part.display != shown:  # only a real change lays the bar out again
                part.display = shown


def _needed_width(part: Widget, container: Size) -> int:
    """The cells a part's text needs, padding included (a ``1fr`` part too, not its share)."""
    return part.get_content_width(container, container) + part.styles.gutter.width
