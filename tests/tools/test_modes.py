"""The auto / ask / confirm strategies, as the runner carries them out."""

from __future__ import annotations

import json
from typing import Literal

import pytest

from realtime_console.tools import (
    TOOL_MODES,
    AskMode,
    AutoMode,
    ConfirmMode,
    ToolCall,
    ToolRunner,
    make_mode,
)
from tests.tools.helpers import call, python_tools

RAN: list[str] = []


def weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, str]:
    """Weather in a city."""
    RAN.append(city)
    return {"city": city}


@pytest.fixture(autouse=True)
def _clear_ran() -> None:
    RAN.clear()


class Prompts:
    """What a UI supplies: records what it was asked."""

    def __init__(self, agree: bool = True, answer: str = "typed by the user") -> None:
        self.agree, self.answer = agree, answer
        self.asked: list[ToolCall] = []

    async def confirm(self, tool_call: ToolCall) -> bool:
        self.asked.append(tool_call)
        return self.agree

    async def ask_result(self, tool_call: ToolCall) -> str:
        self.asked.append(tool_call)
        return self.answer


async def test_confirm_accepted_runs_the_handler() -> None:
    prompts = Prompts(agree=True)
    run = ToolRunner(python_tools(weather), mode=ConfirmMode(prompts.confirm))
    result = await run.run(call("weather", {"city": "Oslo"}))
    assert json.loads(result.output) == {"city": "Oslo"} and not result.is_error
    assert RAN == ["Oslo"]
    assert prompts.asked == [call("weather", {"city": "Oslo"})]


async def test_confirm_refused_is_an_error_result_and_nothing_runs() -> None:
    prompts = Prompts(agree=False)
    run = ToolRunner(python_tools(weather), mode=make_mode("confirm", confirm=prompts.confirm))
    result = await run.run(call("weather", {"city": "Oslo"}))
    assert result.is_error
    assert result.error == "the user declined to run weather"
    assert json.loads(result.output) == {"error": "the user declined to run weather"}
    assert RAN == []


async def test_ask_sends_what_the_user_typed_and_skips_the_handler() -> None:
    prompts = Prompts(answer="12 degrees and raining")
    run = ToolRunner(python_tools(weather), mode=make_mode("ask", ask_result=prompts.ask_result))
    result = await run.run(call("weather", {"city": "Oslo"}))
    assert (result.output, result.is_error) == ("12 degrees and raining", False)
    assert RAN == []
    assert [c.name for c in prompts.asked] == ["weather"]


async def test_ask_answers_are_bounded_too() -> None:
    prompts = Prompts(answer="x" * 20)
    run = ToolRunner(python_tools(weather), mode=AskMode(prompts.ask_result), max_output_bytes=10)
    assert (await run.run(call("weather", {"city": "Oslo"}))).error.startswith(
        "weather returned 20"
    )


@pytest.mark.parametrize("mode", ["ask", "confirm"])
async def test_invalid_calls_never_reach_the_user(mode: str) -> None:
    prompts = Prompts()
    run = ToolRunner(
        python_tools(weather),
        mode=make_mode(mode, ask_result=prompts.ask_result, confirm=prompts.confirm),
    )
    assert (await run.run(call("weather", {"unit": "c"}))).is_error
    assert (await run.run(call("nope"))).is_error
    assert prompts.asked == []


async def test_auto_is_the_default() -> None:
    assert isinstance(make_mode("auto"), AutoMode)
    assert isinstance(ToolRunner(python_tools(weather)).mode, AutoMode)
    assert TOOL_MODES == ("auto", "ask", "confirm")


def test_a_mode_without_its_prompt_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="'confirm' needs a confirm prompt"):
        make_mode("confirm")
    with pytest.raises(ValueError, match="'ask' needs an ask_result prompt"):
        make_mode("ask")
    with pytest.raises(ValueError, match="unknown tools mode 'always'"):
        make_mode("always")
