"""What the full-screen UI leaves on the terminal when it closes: the conversation as lines.

Textual restores the screen it took over, so without this ``q`` would leave nothing of the
session behind. The lines read as ``talk --plain`` prints them (``you (heard)>``,
``assistant>``, a cut as ``[cut at 4.4 s; heard “…”]``), and one closing line says how the
session went and where its event log is. Server text is cleaned of terminal controls and
redacted, as on the screen.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from realtime_console.redact import Redactor
from realtime_console.ui.sanitize import ID_LIMIT, clean, screen_line
from realtime_console.ui.tui.conversation import (
    AssistantTurn,
    ServerError,
    ToolEntry,
    Turn,
    UserSpeech,
    UserText,
)
from realtime_console.ui.view import cut_words


def transcript_lines(turns: Sequence[Turn], redactor: Redactor) -> list[str]:
    """One line per turn of the conversation, in order; notices are left out (they were
    status, not conversation)."""
    lines = []
    for turn in turns:
        render = _RENDERERS.get(type(turn))
        line = render(turn, redactor) if render is not None else None
        if line is not None:
            lines.append(line)
    return lines


def ended_line(turns: Sequence[Turn], log_path: str | None) -> str:
    """The closing status line: the turns, the cuts, the errors, and where the log is."""
    answers = [turn for turn in turns if isinstance(turn, AssistantTurn)]
    cut = sum(1 for turn in answers if turn.cut is not None)
    errors = sum(1 for turn in turns if isinstance(turn, ServerError))
    parts = [f"{len(answers)} {'reply' if len(answers) == 1 else 'replies'}"]
    if cut:
        parts.append(f"{cut} cut")
    if errors:
        parts.append(f"{errors} server {'error' if errors == 1 else 'errors'}")
    where = f"event log: {log_path}" if log_path else "no event log (--log-events FILE keeps one)"
    return f"-- talk ended: {', '.join(parts)}; {where}"


def _text(text: str, redactor: Redactor) -> str:
    return redactor.text(clean(text))


def _user_speech(turn: Turn, redactor: Redactor) -> str | None:
    assert isinstance(turn, UserSpeech)
    if not turn.text:
        return None  # speech that never got a transcript (or transcription was off)
    return f"you (heard)> {_text(turn.text, redactor)}"


def _user_text(turn: Turn, redactor: Redactor) -> str | None:
    assert isinstance(turn, UserText)
    return f"you> {_text(turn.text, redactor)}"


def _assistant(turn: Turn, redactor: Redactor) -> str | None:
    assert isinstance(turn, AssistantTurn)
    line = f"assistant> {_text(turn.text, redactor)}".rstrip()
    if turn.cut is not None:
        heard = turn.cut.heard_text
        said = f"heard “{_text(heard, redactor)}”" if heard else "heard nothing"
        return f"{line} [{cut_words(turn.cut.heard_ms, turn.cut.talked_over_ms)}; {said}]"
    if turn.status not in (None, "completed"):
        return f"{line} [{screen_line(turn.status or '', redactor, ID_LIMIT)}]"
    return line


def _server_error(turn: Turn, redactor: Redactor) -> str | None:
    assert isinstance(turn, ServerError)
    code = screen_line(turn.code, redactor, ID_LIMIT) if turn.code else "unknown"
    return f"server error [{code}]: {screen_line(turn.message, redactor)}"


def _tool(turn: Turn, redactor: Redactor) -> str | None:
    assert isinstance(turn, ToolEntry)
    return f"tool> {screen_line(f'{turn.name}({turn.arguments}) {turn.outcome}', redactor)}"


_RENDERERS: Mapping[type[Turn], Callable[[Turn, Redactor], str | None]] = {
    UserSpeech: _user_speech,
    UserText: _user_text,
    AssistantTurn: _assistant,
    ServerError: _server_error,
    ToolEntry: _tool,
}
