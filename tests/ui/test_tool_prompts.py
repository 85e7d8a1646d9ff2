"""The ``confirm`` and ``ask`` prompts of tool calls, answered by lines of (piped) input."""

from __future__ import annotations

import asyncio
import io

from realtime_console.tools import ToolCall
from realtime_console.ui.lines import StdinLines, ToolPrompts
from realtime_console.ui.plain import PlainView

CALL = ToolCall(name="get_weather", call_id="c1", arguments='{"city":"Paris"}')


async def test_the_next_line_is_the_result_and_the_transcript_shows_both() -> None:
    out = io.StringIO()
    prompts = ToolPrompts(StdinLines(io.StringIO('{"temp": 21}\ny\nnope\n')), PlainView(out))
    assert await prompts.ask_result(CALL) == '{"temp": 21}'
    assert await prompts.confirm(CALL) is True
    assert await prompts.confirm(CALL) is False
    assert out.getvalue() == (
        'tool get_weather({"city": "Paris"}) result> {"temp": 21}\n'
        'tool get_weather({"city": "Paris"}) run it? [y/n] y\n'
        'tool get_weather({"city": "Paris"}) run it? [y/n] nope\n'
    )


async def test_end_of_input_declines_and_every_later_read_ends_at_once() -> None:
    lines = StdinLines(io.StringIO(""))
    prompts = ToolPrompts(lines)
    assert await prompts.confirm(CALL) is False
    assert await prompts.ask_result(CALL) == "(no answer)"
    # The reader thread is gone: a read after the end must not wait for it.
    assert await asyncio.wait_for(lines.read(), 1) is None


async def test_reads_waiting_when_input_ends_all_get_the_end() -> None:
    lines = StdinLines(io.StringIO("only\n"))
    first, second, third = await asyncio.wait_for(
        asyncio.gather(lines.read(), lines.read(), lines.read()), 2
    )
    assert (first, second, third) == ("only", None, None)


async def test_general_questions_read_a_line_too() -> None:
    """``Questions`` in plain views (an MCP approval): yes/no with a default, and a text."""
    from realtime_console.ui.view import Question, Questions

    out = io.StringIO()
    lines = StdinLines(io.StringIO("y\n\nno\n\n42\n"))
    prompts = ToolPrompts(lines, PlainView(out))
    assert isinstance(prompts, Questions)
    approve = Question("mcp call", "notes.delete_note", '{"id": 7}', ask="approve?")
    assert await prompts.ask_yes_no(approve) is True
    assert await prompts.ask_yes_no(approve) is False  # Enter: the default, no
    eager = Question("mcp call", "notes.list", "{}", ask="approve?", default=True)
    assert await prompts.ask_yes_no(eager) is False
    assert await prompts.ask_yes_no(eager) is True  # Enter: the default, yes
    assert await prompts.ask_text(Question("tool call", "f", "{}", ask="result")) == "42"
    assert await prompts.ask_yes_no(eager) is False  # end of input: no, whatever the default
    assert await prompts.ask_text(Question("tool call", "f", "{}", ask="result")) is None
    assert out.getvalue().splitlines() == [
        'mcp call notes.delete_note({"id": 7}) approve? [y/N] y',
        'mcp call notes.delete_note({"id": 7}) approve? [y/N] ',
        "mcp call notes.list({}) approve? [Y/n] no",
        "mcp call notes.list({}) approve? [Y/n] ",
        "tool call f({}) result> 42",
        "mcp call notes.list({}) approve? [Y/n] (end of input)",
        "tool call f({}) result> (end of input)",
    ]
