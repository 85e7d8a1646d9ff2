"""Text from the server made safe to print: no terminal control, no bidi tricks, bounded lines.

A server (or anything between it and us) chooses the transcripts, error messages and ids the
views print. Raw, an ESC sequence could recolour or clear the screen, set the window title or
write the clipboard (OSC 52); ``\\r`` could overwrite a line already printed; bidi overrides
could show text in another order than it reads; a 5,000-character error would flood the
terminal. Every view passes such text through :func:`clean` (and one-line messages through
:func:`screen_line`); the event log keeps the original.
"""

from __future__ import annotations

import re

from realtime_console.redact import Redactor

LINE_LIMIT = 300
"""Longest one-line message (server error, notice) shown; the rest becomes "…"."""
ID_LIMIT = 64
"""Longest id or code shown (real ones are under 40 characters)."""

ELLIPSIS = "…"
REPLACEMENT = "\ufffd"

# A whole escape sequence goes, not just its ESC: "[2J" left on screen would only puzzle.
# CSI (ESC [ … final), OSC/DCS/APC/PM/SOS strings (up to BEL or ST), then any other ESC pair.
_ESCAPE_SEQUENCE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]PX^_][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[ -~]?"
)
# C0 except \t and \n (handled below), DEL, C1, and the bidi embeddings, overrides, isolates
# and marks. Zero-width joiners stay: emoji sequences need them.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# A JSON "\ud800" decodes to a lone surrogate, which no encoder can write.
_SURROGATE = re.compile("[\ud800-\udfff]")
_LINE_BREAK = re.compile("[\n\u2028\u2029]")


def clean(text: str, *, newlines: bool = False) -> str:
    """``text`` without terminal controls; a tab becomes a space, a lone surrogate U+FFFD.

    ``newlines=True`` keeps ``\\n`` (for a view that prints multi-line text on purpose); else
    every line break becomes a space, so one message stays one line.
    """
    if text.isprintable():  # the common case, checked in C: nothing to strip
        return text
    text = _ESCAPE_SEQUENCE.sub("", text)
    text = _CONTROL.sub("", text.replace("\t", " "))
    text = _SURROGATE.sub(REPLACEMENT, text)
    if newlines:
        return text.replace("\u2028", "\n").replace("\u2029", "\n")
    return _LINE_BREAK.sub(" ", text)


def shorten(text: str, limit: int) -> str:
    """At most ``limit`` characters: a longer text ends in "…"."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def screen_line(text: str, redactor: Redactor, limit: int = LINE_LIMIT) -> str:
    """A one-line message as it may reach the terminal: cleaned, redacted, then bounded.

    Redaction runs on the cleaned text (a control character inside a key must not hide it) and
    before the bound (a cut through a key would show its start unmasked).
    """
    return shorten(redactor.text(clean(text)), limit)
