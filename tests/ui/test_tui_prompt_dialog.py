"""Questions in the full-screen UI (tool prompts, MCP approvals): a modal dialog, under pilot."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import Any

from rich.text import Text
from textual.pilot import Pilot
from textual.widgets import Input, Static

from realtime_console.modes.tool_calls import ViewPrompts
from realtime_console.redact import MASK
from realtime_console.tools import ToolCall, ToolRunner, make_mode
from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.event_pane import EventPane
from realtime_console.ui.tui.prompt_dialog import (
    CALL_LIMIT,
    QuestionDialog,
    TextDialog,
    YesNoDialog,
)
from realtime_console.ui.view import Question, Questions
from tests.tools.helpers import call, python_tools
from tests.ui.test_tui_app import SIZE, frame, make_app, turn_texts

DELETE = Question("mcp call", "notes.delete_note", '{"id": 7}', ask="approve?")
WEATHER = Question("tool call", "get_weather", '{"city": "Paris"}', ask="result")


async def until(pilot: Pilot[int], condition: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await pilot.pause(0.01)


def dialog_of(app: TalkApp) -> QuestionDialog[Any] | None:
    screen = app.screen
    return screen if isinstance(screen, QuestionDialog) else None


async def shown(pilot: Pilot[int]) -> QuestionDialog[Any]:
    """The dialog on screen, once it is mounted (keys pressed before would go elsewhere)."""
    app = pilot.app
    assert isinstance(app, TalkApp)

    def up() -> bool:
        dialog = dialog_of(app)
        return dialog is not None and dialog.is_mounted

    await until(pilot, up)
    dialog = dialog_of(app)
    assert dialog is not None
    return dialog


def dialog_text(dialog: QuestionDialog[Any]) -> str:
    parts = []
    for static in dialog.query(Static):
        content = static.render()
        parts.append(content.plain if isinstance(content, Text) else str(content))
    return "\n".join(parts)


async def test_the_app_is_a_questions_view() -> None:
    app, _ = make_app()
    assert isinstance(app, Questions)


async def test_yes_no_answers_y_n_enter_and_escape() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        answers = []
        for key, default in (("y", False), ("n", True), ("enter", False), ("enter", True)):
            question = Question(DELETE.title, DELETE.name, DELETE.arguments, DELETE.ask, default)
            asked = asyncio.ensure_future(app.ask_yes_no(question))
            dialog = await shown(pilot)
            assert isinstance(dialog, YesNoDialog)
            await pilot.press(key)
            answers.append(await asyncio.wait_for(asked, 2))
            await until(pilot, lambda: dialog_of(app) is None)
        asked = asyncio.ensure_future(app.ask_yes_no(DELETE))
        await shown(pilot)
        await pilot.press("escape")
        answers.append(await asyncio.wait_for(asked, 2))
        assert answers == [True, False, False, True, False]
        await until(pilot, lambda: dialog_of(app) is None)
        assert app.questions.asked == 5


async def test_the_dialog_shows_title_call_question_and_keys() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(app.ask_yes_no(DELETE))
        dialog = await shown(pilot)
        text = dialog_text(dialog)
        assert dialog.query_one("#question").border_title == "mcp call"
        assert 'notes.delete_note({"id": 7})' in text
        assert "approve? [y/N]" in text
        assert "y yes · n no · Enter no · Esc no" in text
        await pilot.press("n")
        assert await asyncio.wait_for(asked, 2) is False


async def test_arguments_are_screened_and_bounded(process_secret: str) -> None:
    app, _ = make_app()
    # Raw controls (a JSON encoder would escape them; arguments that are not JSON are shown as
    # sent), a secret the process knows, and one 5,000-character word.
    arguments = (
        f'{{"key": "{process_secret}", "note": "\x1b[2Jcleared\x07", "text": "{"x" * 5000}"}}'
    )
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(
            app.ask_yes_no(Question("tool call", "save\x1b]0;t\x07", arguments))
        )
        dialog = await shown(pilot)
        text = dialog_text(dialog)
        assert process_secret not in text and MASK in text
        assert "\x1b" not in text and "\x07" not in text and "cleared" in text
        assert dialog.call_text.startswith("save(") and len(dialog.call_text) == CALL_LIMIT
        assert dialog.call_text.endswith("…")
        # Wrapped and bounded: the dialog fits the screen, the call scrolls inside it.
        box = dialog.query_one("#question")
        assert box.region.height <= SIZE[1] and box.region.width <= SIZE[0]
        assert dialog.query_one("#question-call").max_scroll_y > 0
        await pilot.press("escape")
        assert await asyncio.wait_for(asked, 2) is False


async def test_ask_returns_the_typed_line_and_escape_declines() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(app.ask_text(WEATHER))
        dialog = await shown(pilot)
        assert isinstance(dialog, TextDialog)
        await until(pilot, lambda: dialog.query_one(Input).has_focus)
        # Keys the app binds (m, space, q) are text here.
        await pilot.press(*"mq 21", "enter")
        assert await asyncio.wait_for(asked, 2) == "mq 21"
        await until(pilot, lambda: dialog_of(app) is None)

        asked = asyncio.ensure_future(app.ask_text(WEATHER))
        await shown(pilot)
        await pilot.press("x", "escape")
        assert await asyncio.wait_for(asked, 2) is None
        await until(pilot, lambda: dialog_of(app) is None)


async def test_cancelling_the_caller_closes_the_dialog() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(app.ask_yes_no(DELETE))
        await shown(pilot)
        asked.cancel()  # a barge-in: ToolCalls.cancel_all cancels the call's task
        await until(pilot, lambda: dialog_of(app) is None)
        assert asked.cancelled()
        # The next question shows normally; the withdrawn one's keys never answer it.
        typed = asyncio.ensure_future(app.ask_text(WEATHER))
        await shown(pilot)
        await pilot.press("o", "k", "enter")
        assert await asyncio.wait_for(typed, 2) == "ok"


async def test_questions_asked_at_once_are_shown_one_after_another() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        first = asyncio.ensure_future(app.ask_yes_no(DELETE))
        second = asyncio.ensure_future(app.ask_text(WEATHER))
        third = asyncio.ensure_future(app.ask_yes_no(DELETE))
        dialog = await shown(pilot)
        assert isinstance(dialog, YesNoDialog) and len(app.screen_stack) == 2
        third.cancel()  # withdrawn while waiting its turn: it never shows
        await pilot.press("y")
        assert await asyncio.wait_for(first, 2) is True
        await until(pilot, lambda: isinstance(dialog_of(app), TextDialog))
        assert not second.done() and len(app.screen_stack) == 2
        await shown(pilot)
        await pilot.press("4", "2", "enter")
        assert await asyncio.wait_for(second, 2) == "42"
        await until(pilot, lambda: dialog_of(app) is None)
        assert third.cancelled() and app.questions.asked == 2


async def test_the_conversation_goes_on_under_an_open_dialog() -> None:
    app, controls = make_app()
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(app.ask_yes_no(DELETE))
        await shown(pilot)
        app.assistant_delta("r1", "Still talking")
        app.echo_status(True, 12.0)
        app.event_line("server", "response.created", "r1")
        await frame(pilot)
        assert any("Still talking" in t for t in turn_texts(app))
        # The dialog has the keys: m, space, l, q neither answer it nor reach the talk loop.
        await pilot.press("m", "space", "l", "q")
        assert controls.calls == [] and not asked.done()
        assert not app.query_one(EventPane).display
        await pilot.press("y")
        assert await asyncio.wait_for(asked, 2) is True


async def test_ctrl_c_still_quits_under_a_dialog() -> None:
    app, controls = make_app()
    controls.exit_code_on_quit = 130  # the talk loop ends the app, which closes the question
    async with app.run_test(size=SIZE) as pilot:
        asked = asyncio.ensure_future(app.ask_yes_no(DELETE))
        await shown(pilot)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert controls.calls == ["quit"] and app.interrupted
    assert await asyncio.wait_for(asked, 2) is False
    assert app.return_value == 130


async def test_a_question_after_the_app_closed_is_declined() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        open_one = asyncio.ensure_future(app.ask_text(WEATHER))
        await shown(pilot)
        app.exit(0)
        await pilot.pause()
    assert await asyncio.wait_for(open_one, 2) is None
    assert await asyncio.wait_for(app.ask_yes_no(DELETE), 2) is False


async def test_view_prompts_carry_the_answers_through_the_runner() -> None:
    ran: list[str] = []

    def weather(city: str) -> dict[str, str]:
        """Weather in a city."""
        ran.append(city)
        return {"city": city}

    app, _ = make_app()
    prompts = ViewPrompts(app)
    confirm = ToolRunner(python_tools(weather), mode=make_mode("confirm", confirm=prompts.confirm))
    ask = ToolRunner(python_tools(weather), mode=make_mode("ask", ask_result=prompts.ask_result))
    oslo: ToolCall = call("weather", {"city": "Oslo"})
    async with app.run_test(size=SIZE) as pilot:
        result = asyncio.ensure_future(confirm.run(oslo))
        dialog = await shown(pilot)
        assert dialog.query_one("#question").border_title == "tool call"
        assert 'weather({"city": "Oslo"})' in dialog_text(dialog)
        assert "run it? [y/N]" in dialog_text(dialog)
        await pilot.press("y")
        assert (await asyncio.wait_for(result, 5)).output == '{"city": "Oslo"}'
        assert ran == ["Oslo"]

        result = asyncio.ensure_future(ask.run(oslo))
        await shown(pilot)
        await pilot.press("escape")  # declined: the model hears the runner's refusal
        declined = await asyncio.wait_for(result, 5)
        assert (
            declined.status == "declined" and declined.error == "the user declined to run weather"
        )
        assert json.loads(declined.output) == {"error": "the user declined to run weather"}
        assert ran == ["Oslo"]
