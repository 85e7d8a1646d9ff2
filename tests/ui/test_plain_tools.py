"""Function calls in the line output: one ``tool>`` line each, never inside a reply's line."""

from __future__ import annotations

import io

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.plain import PlainView


def test_a_call_line_waits_for_the_open_reply_line_to_end() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err)
    view.assistant_delta("r1", "Calling get_weather.")
    view.tool_call("get_weather", '{"city": "Paris"}', '-> {"temp": 21}', 12.4)
    view.assistant_delta("r1", " Still r1.")
    view.assistant_done("r1", "completed")
    view.tool_call("get_weather", "{}", "timed out after 30 s", None)
    assert out.getvalue() == (
        "assistant> Calling get_weather. Still r1.\n"
        'tool> get_weather {"city": "Paris"} -> {"temp": 21} (12 ms)\n'
        "tool> get_weather {} timed out after 30 s\n"
    )
    assert err.getvalue() == ""


def test_a_call_line_is_screened_like_server_text() -> None:
    out, err = io.StringIO(), io.StringIO()
    secret = "sk-abcdefghijklmnop0123456789"
    view = PlainView(out, err, redactor=Redactor([secret]))
    view.tool_call("leak", '{"x": "\x1b[31mred\nline"}', f"-> key {secret}", 1.0)
    (line,) = out.getvalue().splitlines()
    assert "\x1b" not in line and secret not in line and MASK in line
    assert line.startswith("tool> leak ")


def test_a_piped_prompt_and_its_answer_are_one_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err)
    view.prompt_answer('tool get_weather({"city": "Paris"}) result> ', '{"temp": 99}')
    assert out.getvalue() == 'tool get_weather({"city": "Paris"}) result> {"temp": 99}\n'
