"""The deterministic reply text of the chat-completions "model", so tests can predict it.

It is a test double's answer on purpose, marked ``(local server)``:

1. The last user message without audio: ``(local server) You said: "<its text>".`` The text is
   the message's text parts joined by one space, whitespace collapsed, quoted in full
   (``(nothing)`` when empty or when there is no user message).
2. The last user message with audio: ``(local server) I received 2.4 seconds of audio``, then
   `` and the text: "<its text>"`` when it has text too, then ``.``; the duration is all its
   input audio parts together, with one decimal.
3. When the request holds an assistant message (the last one counts), by audio id (its stored
   transcript) or by text content: `` Earlier I said: "<that text>".`` appended, so a test can
   see that an earlier reply was resolved. The text loses a leading ``(local server) `` and has
   its double quotes turned into single ones (a quote inside a quote stays readable), and is cut
   to at most 60 characters at a word boundary, marked with ``...``.

Example: ``(local server) I received 1.5 seconds of audio and the text: "What is this?".
Earlier I said: "You said: 'Hello'.".``
"""

from __future__ import annotations

from collections.abc import Sequence

from realtime_console.server.completions.rules import Turn

PREFIX = "(local server)"
MAX_EARLIER_CHARS = 60
NOTHING = "(nothing)"
_ELLIPSIS = "..."


def reply_text(turns: Sequence[Turn]) -> str:
    users = [turn for turn in turns if turn.role == "user"]
    last = users[-1] if users else None
    said = collapse(last.text) if last is not None else ""
    if last is not None and last.audio:
        reply = f"{PREFIX} I received {last.audio_s:.1f} seconds of audio"
        reply += f' and the text: "{said}".' if said else "."
    else:
        reply = f'{PREFIX} You said: "{said or NOTHING}".'
    earlier = [turn for turn in turns if turn.role == "assistant"]
    if earlier:
        reply += f' Earlier I said: "{shorten(as_quoted(earlier[-1].text))}".'
    return reply


def as_quoted(text: str) -> str:
    """An earlier reply as this one quotes it: without our own prefix, inner quotes single."""
    text = text.strip()
    if text.startswith(PREFIX):
        text = text[len(PREFIX) :]
    return text.replace('"', "'")


def collapse(text: str) -> str:
    return " ".join(text.split())


def shorten(text: str, limit: int = MAX_EARLIER_CHARS) -> str:
    """At most ``limit`` characters, cut at a word boundary and marked with ``...``."""
    words = collapse(text)
    if not words:
        return NOTHING
    if len(words) <= limit:
        return words
    cut = words[:limit]
    if " " in cut and words[limit] != " ":
        cut = cut[: cut.rindex(" ")]  # do not end on half a word
    return cut.rstrip() + _ELLIPSIS
