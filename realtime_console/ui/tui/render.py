"""How each kind of turn looks: one Rich ``Text`` per turn, chosen from a table by turn type.

The model keeps the server's text as it came; every render cleans it of terminal controls and
redacts it (``ui.sanitize``). Redacting the whole turn each time masks a secret that arrived
split across deltas; while a turn streams, an end that could be the start of a secret waits
for the next delta.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text

from realtime_console.redact import Redactor, process_redactor
from realtime_console.ui.sanitize import ID_LIMIT, clean, screen_line
from realtime_console.ui.tui.conversation import (
    AssistantTurn,
    Notice,
    ServerError,
    ToolEntry,
    Turn,
    UserSpeech,
    UserText,
)
from realtime_console.ui.view import cut_words

STREAMING_CURSOR = "▍"
CUT_MARK = "⟂"

STATUS_STYLES = {
    "cancelled": "bold yellow",
    "incomplete": "bold dark_orange",
    "failed": "bold red",
}
"""Response statuses worth a tag after the transcript; ``completed`` needs none."""


def clock_label(at: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(at))


def _header(label: str, style: str, at: float, *extra: Text | str) -> Text:
    header = Text.assemble((label, style), "  ", (clock_label(at), "dim"))
    for part in extra:
        header.append("  ")
        header.append(part)
    return header


def cut_label(heard_ms: int, talked_over_ms: float | None = None) -> str:
    return f" {CUT_MARK} {cut_words(heard_ms, talked_over_ms)} "


def screen_text(text: str, redactor: Redactor, *, streaming: bool = False) -> str:
    """A turn's text as shown: multi-line, cleaned, redacted; held back at a possible secret's
    start while ``streaming``."""
    shown = redactor.text(clean(text, newlines=True))
    if streaming:
        shown = shown[: len(shown) - redactor.held_tail(shown)]
    return shown


def render_user_speech(turn: UserSpeech, redactor: Redactor) -> Text:
    out = _header("you", "bold cyan", turn.at, Text("(voice)", style="dim"))
    out.append("\n")
    if turn.item_id is None and not turn.text:
        placeholder = "speaking…" if turn.speaking else "(spoke; no transcript yet)"
        out.append(placeholder, style="dim italic")
    elif turn.final:
        text = screen_text(turn.text, redactor)
        out.append(text or "(no words recognised)", style="" if text else "dim italic")
    else:
        out.append(screen_text(turn.text, redactor, streaming=True), style="italic")
        out.append(" …", style="dim")
    return out


def render_user_text(turn: UserText, redactor: Redactor) -> Text:
    out = _header("you", "bold cyan", turn.at, Text("(typed)", style="dim"))
    out.append("\n")
    out.append(screen_text(turn.text, redactor))
    return out


def _assistant_parts(turn: AssistantTurn, redactor: Redactor) -> tuple[str, str]:
    """(heard, unheard) as shown. A secret across the cut shows masked, all on the heard side:
    redacting each side alone would show both halves of it."""
    streaming = turn.status is None
    whole = screen_text(turn.text, redactor, streaming=streaming)
    if turn.cut is None:
        return whole, ""
    heard = screen_text(turn.split_at_cut()[0], redactor)
    if whole.startswith(heard):
        return heard, whole[len(heard) :]
    return whole, ""


def render_assistant(turn: AssistantTurn, redactor: Redactor) -> Text:
    extra: list[Text | str] = []
    if turn.latency_ms is not None:
        extra.append(Text(f"↳ {turn.latency_ms:.0f} ms", style="dim"))
    out = _header("assistant", "bold green", turn.at, *extra)
    out.append("\n")
    heard, unheard = _assistant_parts(turn, redactor)
    out.append(heard)
    if turn.cut is not None:
        # foreground only: the label may wrap, and a background band broken across lines
        # reads as two marks
        out.append(cut_label(turn.cut.heard_ms, turn.cut.talked_over_ms), style="bold yellow")
        out.append(unheard, style="dim strike")
    if turn.status is None:
        out.append(STREAMING_CURSOR, style="green")
    elif turn.status in STATUS_STYLES:
        out.append(f" [{turn.status}]", style=STATUS_STYLES[turn.status])
    elif turn.status != "completed":
        out.append(f" [{screen_line(turn.status, redactor, ID_LIMIT)}]", style="bold")
    if not turn.text and turn.status is not None and turn.cut is None:
        out.append(" (no transcript)", style="dim italic")
    return out


def render_server_error(turn: ServerError, redactor: Redactor) -> Text:
    code = screen_line(turn.code, redactor, ID_LIMIT) if turn.code else "unknown"
    out = Text.assemble(
        ("✖ server error", "bold red"),
        (f" [{code}]", "red"),
        "  ",
        (clock_label(turn.at), "dim"),
        "\n",
        (screen_line(turn.message, redactor), "red"),
    )
    if turn.event_id:
        out.append(f"  (event {screen_line(turn.event_id, redactor, ID_LIMIT)})", style="dim red")
    return out


def render_notice(turn: Notice, redactor: Redactor) -> Text:
    return Text.assemble(("· ", "dim"), (screen_line(turn.text, redactor), "dim italic"))


def render_tool(turn: ToolEntry, redactor: Redactor) -> Text:
    """``⚙ get_weather {"city": "Paris"}`` then its outcome, screened like server text."""
    failed = not turn.outcome.startswith("->")
    took = f"  ({turn.duration_ms:.0f} ms)" if turn.duration_ms is not None else ""
    return Text.assemble(
        ("⚙ tool ", "bold magenta"),
        (screen_line(f"{turn.name} {turn.arguments}", redactor), "magenta"),
        "  ",
        (clock_label(turn.at), "dim"),
        "\n",
        (screen_line(turn.outcome, redactor), "yellow" if failed else ""),
        (took, "dim"),
    )


_RENDERERS: dict[type[Turn], Callable[[Any, Redactor], Text]] = {
    UserSpeech: render_user_speech,
    UserText: render_user_text,
    AssistantTurn: render_assistant,
    ServerError: render_server_error,
    Notice: render_notice,
    ToolEntry: render_tool,
}

CSS_CLASSES: dict[type[Turn], str] = {
    UserSpeech: "user",
    UserText: "user",
    AssistantTurn: "assistant",
    ServerError: "error",
    Notice: "notice",
    ToolEntry: "tool",
}


def render_turn(turn: Turn, redactor: Redactor | None = None) -> Text:
    """``turn`` as shown; ``redactor`` defaults to the process's."""
    return _RENDERERS[type(turn)](turn, redactor if redactor is not None else process_redactor())


def css_class(turn: Turn) -> str:
    return CSS_CLASSES[type(turn)]
