"""The deterministic reply text: what the local "model" says, so tests can predict it.

It is a test double's answer on purpose, marked ``(local server)`` so nobody mistakes it for a
broken model. The rule, applied to the items a response sees (the conversation, or
``response.input``):

1. If the context ends with ``function_call_output`` items: each output quoted, in call order
   (``(local server) get_weather returned {"temp": 21}.``; see ``tool_reply``).
2. Else, if no user message exists: ``Hello, this is the local realtime server.``
3. Else: ``(local server) You said: "<last user message>".``, followed, when there is an earlier
   user message, by `` Before that you said: "<the user message before it>".`` so a reply shows
   whether earlier turns (for example history restored after a reconnect) are in the context.

A user message's text is its parts joined by one space: ``input_text`` → its text,
``input_audio`` → its transcript, or ``(audio)`` without one, ``input_image`` → ``(image)``.
Quoted text has whitespace collapsed; the last message is quoted in full up to
``MAX_QUOTE_CHARS`` (200) characters, the earlier one up to ``MAX_EARLIER_CHARS`` (60), each cut
at a word boundary and marked with ``...``; an empty message reads ``(nothing)``. So a reply
stays under about 20 seconds of speech (eSpeak NG reads about 15 characters a second).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from realtime_console.server import tool_reply

PREFIX = "(local server)"
GREETING = "Hello, this is the local realtime server."
MAX_QUOTE_CHARS = 200
MAX_EARLIER_CHARS = 60
_ELLIPSIS = "..."


def reply_text(context: Sequence[Mapping[str, Any]]) -> str:
    if context and context[-1].get("type") == "function_call_output":
        return tool_reply.outputs_text(context)  # quotes each answer: see tool_reply
    said = [message_text(item) for item in context if is_user_message(item)]
    if not said:
        return GREETING
    reply = f'{PREFIX} You said: "{quote(said[-1])}".'
    if len(said) >= 2:
        reply += f' Before that you said: "{quote(said[-2], MAX_EARLIER_CHARS)}".'
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


def quote(text: str, limit: int = MAX_QUOTE_CHARS) -> str:
    """``text`` as the reply quotes it: one line, at most ``limit`` characters plus ``...``."""
    words = " ".join(text.split())
    if not words:
        return "(nothing)"
    if len(words) <= limit:
        return words
    cut = words[:limit]
    if " " in cut and words[limit] != " ":
        cut = cut[: cut.rindex(" ")]  # do not end on half a word
    return cut.rstrip() + _ELLIPSIS
