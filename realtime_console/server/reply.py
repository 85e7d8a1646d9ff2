"""The deterministic reply text: what the local "model" says, so tests can predict it.

The rule, applied to the items a response sees (the conversation, or ``response.input``):

1. If the last item is a ``function_call_output``: ``The tool returned "<output>".``
2. Else, if no user message exists: ``Hello, this is the local realtime server.``
3. Else: ``You said "<last user message>".``, followed, when there is an earlier user message,
   by `` Before that you said "<the user message before it>".`` so a reply shows whether earlier
   turns (for example history restored after a reconnect) are in the context.

A user message's text is its parts joined by one space: ``input_text`` → its text,
``input_audio`` → its transcript, or ``(audio)`` without one, ``input_image`` → ``(image)``.
Quoted text has whitespace collapsed and is cut to at most 32 characters at a word boundary,
marked with ``...``; an empty message reads ``(nothing)``. Replies stay one or two short
sentences, a few seconds of speech.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

GREETING = "Hello, this is the local realtime server."
MAX_QUOTE_CHARS = 32
_ELLIPSIS = "..."


def reply_text(context: Sequence[Mapping[str, Any]]) -> str:
    if context and context[-1].get("type") == "function_call_output":
        return f'The tool returned "{quote(str(context[-1].get("output", "")))}".'
    said = [quote(message_text(item)) for item in context if is_user_message(item)]
    if not said:
        return GREETING
    reply = f'You said "{said[-1]}".'
    if len(said) >= 2:
        reply += f' Before that you said "{said[-2]}".'
    return reply


def is_user_message(item: Mapping[str, Any]) -> bool:
    return item.get("type") == "message" and item.get("role") == "user"


def message_text(item: Mapping[str, Any]) -> str:
    return " ".join(_part_text(part) for part in item.get("content") or ())


def _part_text(part: Mapping[str, Any]) -> str:
    kind = part.get("type")
    if kind == "input_audio":
        return str(part.get("transcript") or "(audio)")
    if kind == "input_image":
        return "(image)"
    return str(part.get("text") or "")


def quote(text: str) -> str:
    """``text`` as the reply quotes it: one line, at most ``MAX_QUOTE_CHARS`` plus ``...``."""
    words = " ".join(text.split())
    if not words:
        return "(nothing)"
    if len(words) <= MAX_QUOTE_CHARS:
        return words
    cut = words[:MAX_QUOTE_CHARS]
    if " " in cut and words[MAX_QUOTE_CHARS] != " ":
        cut = cut[: cut.rindex(" ")]  # do not end on half a word
    return cut.rstrip() + _ELLIPSIS
