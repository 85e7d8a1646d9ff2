"""The documented reply-text rule."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from realtime_console.server.reply import (
    GREETING,
    MAX_EARLIER_CHARS,
    MAX_QUOTE_CHARS,
    quote,
    reply_text,
)


def user(*parts: dict[str, Any]) -> dict[str, Any]:
    return {"type": "message", "role": "user", "content": list(parts)}


def text(value: str) -> dict[str, Any]:
    return {"type": "input_text", "text": value}


def assistant(value: str) -> dict[str, Any]:
    return {
        "type": "message",
        "role": "assistant",
        "content": [{"type": "output_text", "text": value}],
    }


def test_no_user_message_gets_the_greeting() -> None:
    assert reply_text([]) == GREETING
    assert reply_text([assistant("hi")]) == GREETING


def test_one_turn_quotes_the_user() -> None:
    assert reply_text([user(text("Hello there"))]) == '(local server) You said: "Hello there".'


def test_later_turns_also_quote_the_turn_before() -> None:
    context = [user(text("My name is Ada")), assistant("ok"), user(text("What is my name?"))]
    assert reply_text(context) == (
        '(local server) You said: "What is my name?". Before that you said: "My name is Ada".'
    )


def test_message_parts_are_joined_and_audio_and_images_are_named() -> None:
    item = user(
        text("look"),
        {"type": "input_image", "image_url": "data:,"},
        {"type": "input_audio", "transcript": None},
        {"type": "input_audio", "transcript": "spoken"},
    )
    assert reply_text([item]) == '(local server) You said: "look (image) (audio) spoken".'


def test_a_tool_result_is_reported_when_it_is_the_last_item() -> None:
    context = [
        user(text("weather?")),
        {"type": "function_call_output", "call_id": "c", "output": "sunny"},
    ]
    assert reply_text(context) == "(local server) c returned sunny."  # c: no call in context


def test_the_last_message_is_echoed_in_full_up_to_the_limit() -> None:
    long = "Is a golden retriever a good family dog, and what about a cat?"
    assert reply_text([user(text(long))]) == f'(local server) You said: "{long}".'
    words = " ".join(["word"] * 60)  # 299 characters
    echoed = reply_text([user(text(words))])
    assert echoed.startswith('(local server) You said: "word word')
    assert echoed.endswith('word...".')
    assert len(echoed) <= len('(local server) You said: "".') + MAX_QUOTE_CHARS + 3


def test_the_earlier_message_is_quoted_shorter() -> None:
    first = "one two three four five six seven eight nine ten eleven twelve thirteen"
    reply = reply_text([user(text(first)), user(text("and?"))])
    assert reply == (
        '(local server) You said: "and?". Before that you said: '
        '"one two three four five six seven eight nine ten eleven..."'
        "."
    )


def test_long_text_is_cut_at_a_word_boundary() -> None:
    assert quote("one two three four five six seven eight nine", 30) == (
        "one two three four five six..."
    )
    assert quote("x" * 240) == "x" * MAX_QUOTE_CHARS + "..."
    assert quote("x" * 90, MAX_EARLIER_CHARS) == "x" * MAX_EARLIER_CHARS + "..."
    assert quote("  spaced \n out  ") == "spaced out"
    assert quote("   ") == "(nothing)"


@given(st.text())
def test_quotes_are_one_short_line(value: str) -> None:
    quoted = quote(value)
    assert "\n" not in quoted
    assert 0 < len(quoted) <= MAX_QUOTE_CHARS + 3
