"""Function calls in the full-screen conversation: one tool entry per call, screened."""

from __future__ import annotations

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.tui.conversation import Conversation, ToolEntry
from realtime_console.ui.tui.conversation_pane import TurnView
from realtime_console.ui.tui.render import css_class, render_turn
from realtime_console.ui.view import ToolCallsView
from tests.ui.test_tui_app import SIZE, frame, make_app, turn_texts


def test_a_call_is_an_entry_after_the_reply_it_came_with() -> None:
    conversation = Conversation(clock=lambda: 0.0)
    conversation.assistant_delta("r1", "Calling get_weather.")
    changes = conversation.tool_call("get_weather", '{"city": "Paris"}', '-> {"temp": 21}', 12.4)
    (entry,) = changes.updated
    assert isinstance(entry, ToolEntry)
    assert conversation.turns[-1] is entry
    text = render_turn(entry, Redactor()).plain
    assert text.startswith('⚙ tool get_weather {"city": "Paris"}')
    assert text.endswith('-> {"temp": 21}  (12 ms)')
    assert css_class(entry) == "tool"


def test_an_entry_is_screened_like_server_text() -> None:
    secret = "sk-abcdefghijklmnop0123456789"
    conversation = Conversation(clock=lambda: 0.0)
    (entry,) = conversation.tool_call("x", '{"a": "\x1b[2J"}', f"failed: {secret}", None).updated
    text = render_turn(entry, Redactor([secret])).plain
    assert "\x1b" not in text and secret not in text and MASK in text


async def test_the_app_shows_a_call() -> None:
    app, _ = make_app()
    assert isinstance(app, ToolCallsView)
    async with app.run_test(size=SIZE) as pilot:
        app.tool_call("get_weather", "{}", "timed out after 30 s", None)
        await frame(pilot)
        assert any("get_weather {}" in t and "timed out after 30 s" in t for t in turn_texts(app))
        assert "tool" in app.query(TurnView).last().classes
