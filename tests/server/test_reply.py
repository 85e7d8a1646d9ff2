"""The documented reply-text rule."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from realtime_console.server.reply import GREETING, MAX_QUOTE_CHARS, quote, reply_text


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
    assert reply_text([user(text("Hello there"))]) == 'You said "Hello there".'


def test_later_turns_also_quote_the_turn_before() -> None:
    context = [user(text("My name is Ada")), assistant("ok"), user(text("What is my name?"))]
    assert reply_text(context) == (
        'You said "What is my name?". Before that you said "My name is Ada".'
    )


def test_message_parts_are_joined_and_audio_and_images_are_named() -> None:
    item = user(
        text("look"),
        {"type": "input_image", "image_url": "data:,"},
        {"type": "input_audio", "transcript": None},
        {"type": "input_audio", "transcript": "spoken"},
    )
    assert reply_text([item]) == 'You said "look (image) (audio) spoken".'


def test_a_tool_result_is_reported_when_it_is_the_last_item() -> None:
    context = [
        user(text("weather?")),
        {"type": "function_call_output", "call_id": "c", "output": "sunny"},
    ]
    assert reply_text(context) == 'The tool returned "sunny".'


def test_long_text_is_cut_at_a_word_boundary() -> None:
    assert quote("one two three four five six seven eight nine") == "one two three four five six..."
    assert quote("x" * 40) == "x" * MAX_QUOTE_CHARS + "..."
    assert quote("  spaced \n out  ") == "spaced out"
    assert quote("   ") == "(nothing)"


@given(st.text())
def test_quotes_are_one_short_line(value: str) -> None:
    quoted = quote(value)
    assert "\n" not in quoted
    assert 0 < len(quoted) <= MAX_QUOTE_CHARS + 3
