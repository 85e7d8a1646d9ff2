"""How each kind of turn looks: one Rich ``Text`` per turn, chosen from a table by turn type."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from rich.text import Text

from realtime_console.ui.tui.conversation import (
    AssistantTurn,
    Notice,
    ServerError,
    Turn,
    UserSpeech,
    UserText,
)

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


def cut_label(heard_ms: int) -> str:
    return f" {CUT_MARK} cut at {heard_ms / 1000:.1f} s "


def render_user_speech(turn: UserSpeech) -> Text:
    out = _header("you", "bold cyan", turn.at, Text("(voice)", style="dim"))
    out.append("\n")
    if turn.item_id is None and not turn.text:
        placeholder = "speaking…" if turn.speaking else "(spoke; no transcript yet)"
        out.append(placeholder, style="dim italic")
    elif turn.final:
        out.append(turn.text or "(no words recognised)", style="" if turn.text else "dim italic")
    else:
        out.append(turn.text, style="italic")
        out.append(" …", style="dim")
    return out


def render_user_text(turn: UserText) -> Text:
    out = _header("you", "bold cyan", turn.at, Text("(typed)", style="dim"))
    out.append("\n")
    out.append(turn.text)
    return out


def render_assistant(turn: AssistantTurn) -> Text:
    extra: list[Text | str] = []
    if turn.latency_ms is not None:
        extra.append(Text(f"↳ {turn.latency_ms:.0f} ms", style="dim"))
    out = _header("assistant", "bold green", turn.at, *extra)
    out.append("\n")
    heard, unheard = turn.split_at_cut()
    out.append(heard)
    if turn.cut is not None:
        # foreground only: the label may wrap, and a background band broken across lines
        # reads as two marks
        out.append(cut_label(turn.cut.heard_ms), style="bold yellow")
        out.append(unheard, style="dim strike")
    if turn.status is None:
        out.append(STREAMING_CURSOR, style="green")
    elif turn.status in STATUS_STYLES:
        out.append(f" [{turn.status}]", style=STATUS_STYLES[turn.status])
    elif turn.status != "completed":
        out.append(f" [{turn.status}]", style="bold")
    if not turn.text and turn.status is not None and turn.cut is None:
        out.append(" (no transcript)", style="dim italic")
    return out


def render_server_error(turn: ServerError) -> Text:
    out = Text.assemble(
        ("✖ server error", "bold red"),
        (f" [{turn.code or 'unknown'}]", "red"),
        "  ",
        (clock_label(turn.at), "dim"),
        "\n",
        (turn.message, "red"),
    )
    if turn.event_id:
        out.append(f"  (event {turn.event_id})", style="dim red")
    return out


def render_notice(turn: Notice) -> Text:
    return Text.assemble(("· ", "dim"), (turn.text, "dim italic"))


_RENDERERS: dict[type[Turn], Callable[[Any], Text]] = {
    UserSpeech: render_user_speech,
    UserText: render_user_text,
    AssistantTurn: render_assistant,
    ServerError: render_server_error,
    Notice: render_notice,
}

CSS_CLASSES: dict[type[Turn], str] = {
    UserSpeech: "user",
    UserText: "user",
    AssistantTurn: "assistant",
    ServerError: "error",
    Notice: "notice",
}


def render_turn(turn: Turn) -> Text:
    return _RENDERERS[type(turn)](turn)


def css_class(turn: Turn) -> str:
    return CSS_CLASSES[type(turn)]
