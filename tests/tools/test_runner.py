"""ToolRunner against real handlers: sync, async, commands, canned results, and every failure."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import sys
import threading
from pathlib import Path
from typing import Any, Literal

import pytest

from realtime_console.redact import Redactor
from realtime_console.tools import (
    CommandHandler,
    Tool,
    ToolRunner,
    ToolSet,
    load_tools,
)
from tests.tools.helpers import call, canned_tool, command_tool, python_tools

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "tools"


def weather(city: str, unit: Literal["c", "f"] = "c") -> dict[str, Any]:
    """Weather in a city."""
    return {"city": city, "unit": unit, "thread": threading.current_thread().name}


async def greet(name: str) -> str:
    """Greet."""
    await asyncio.sleep(0)
    return f"hello {name}"


def fails(reason: str) -> str:
    """Fails."""
    raise ValueError(reason)


def exits(code: int) -> str:
    """Calls sys.exit."""
    sys.exit(code)


async def exits_async(code: int) -> str:
    """Calls sys.exit from a coroutine."""
    sys.exit(code)


def unencodable() -> object:
    """Returns something JSON has no form for."""
    return object()


def big(size: int) -> str:
    """Returns size characters."""
    return "x" * size


def nothing() -> None:
    """Returns None."""


def leak() -> dict[str, str]:
    """Returns a secret."""
    raise RuntimeError("key sk-secret-0123456789 rejected")


def leak_output() -> dict[str, str]:
    """Returns a secret."""
    return {"key": "sk-secret-0123456789"}


def runner(*tools: Tool, **options: Any) -> ToolRunner:
    return ToolRunner(ToolSet(tools), **options)


async def test_sync_handler_runs_in_another_thread_and_returns_json() -> None:
    result = await ToolRunner(python_tools(weather)).run(call("weather", {"city": "Paris"}))
    assert not result.is_error and result.error == ""
    output = json.loads(result.output)
    assert output["city"] == "Paris" and output["unit"] == "c"
    assert output["thread"] != threading.current_thread().name
    assert result.call_id == "call_1" and result.name == "weather"
    assert result.duration_s >= 0


async def test_async_handler_and_str_results_pass_unencoded() -> None:
    result = await ToolRunner(python_tools(greet)).run(call("greet", {"name": "Ann"}))
    assert (result.output, result.is_error) == ("hello Ann", False)


async def test_none_is_json_null() -> None:
    result = await ToolRunner(python_tools(nothing)).run(call("nothing", ""))
    assert (result.output, result.is_error) == ("null", False)


async def test_canned_results() -> None:
    run = runner(canned_tool("text", "Paris"), canned_tool("table", {"city": "Paris"}))
    assert (await run.run(call("text"))).output == "Paris"
    assert json.loads((await run.run(call("table"))).output) == {"city": "Paris"}


async def test_the_examples_run_for_real() -> None:
    tools = load_tools([str(EXAMPLES / "weather.py"), str(EXAMPLES / "tools.toml")])
    run = ToolRunner(tools)
    weather_now = await run.run(call("get_weather", {"city": "Paris", "unit": "fahrenheit"}))
    assert json.loads(weather_now.output)["temperature"] == 64.4
    forecast = json.loads(
        (await run.run(call("get_forecast", {"city": "tokyo", "days": 2}))).output
    )
    assert [day["day"] for day in forecast] == [1, 2]
    assert (
        await run.run(call("convert_temperature", {"value": 212, "to": "celsius"}))
    ).output == "100.0 °C"
    defined = await run.run(call("define_word", {"word": "latency"}))
    assert json.loads(defined.output)["word"] == "latency"
    unknown = await run.run(call("define_word", {"word": "blorp"}))
    assert unknown.is_error
    assert unknown.error == "define_word exited with code 1: no definition for 'blorp'"
    location = await run.run(call("get_user_location"))
    assert json.loads(location.output) == {"city": "Paris", "country": "France"}
    no_city = await run.run(call("get_weather", {"city": "Atlantis"}))
    assert no_city.error.startswith("get_weather raised ValueError: no weather data for 'Atlantis'")


@pytest.mark.parametrize(
    ("name", "arguments", "error"),
    [
        ("nope", {}, "there is no tool named 'nope' (tools: weather)"),
        (
            "weather",
            "{city:",
            "the arguments for weather are not valid JSON (Expecting property name",
        ),
        ("weather", "[1]", "the arguments for weather must be a JSON object"),
        ("weather", {}, "invalid arguments for weather: city: Field required"),
        (
            "weather",
            {"city": "P", "unit": "k"},
            "invalid arguments for weather: unit: Input should be 'c' or 'f'",
        ),
    ],
)
async def test_bad_calls_become_error_results(name: str, arguments: Any, error: str) -> None:
    result = await ToolRunner(python_tools(weather)).run(call(name, arguments))
    assert result.is_error
    assert result.error.startswith(error), result.error
    assert json.loads(result.output)["error"].startswith(error)


async def test_file_schema_violations_never_reach_the_command(tmp_path: Path) -> None:
    (tmp_path / "t.toml").write_text(
        "[[tools]]\nname = 'touch'\ndescription = 'Touch.'\n"
        f"command = ['{sys.executable}', '-c', 'open(\"ran\", \"w\").close()']\n"
        "parameters = { type = 'object', required = ['n'], "
        "properties = { n = { type = 'integer' } } }\n"
    )
    run = ToolRunner(load_tools([str(tmp_path / "t.toml")]))
    result = await run.run(call("touch", {"n": "two"}))
    assert result.error == 'invalid arguments for touch: arguments.n: expected integer, got "two"'
    assert not (tmp_path / "ran").exists()
    assert not (await run.run(call("touch", {"n": 2}))).is_error
    assert (tmp_path / "ran").exists()  # commands run in the tool file's folder


@pytest.mark.parametrize(
    ("function", "arguments", "error"),
    [
        (fails, {"reason": "bad\ncity"}, "fails raised ValueError: bad city"),
        (exits, {"code": 3}, "exits raised SystemExit: 3"),
        (exits_async, {"code": 4}, "exits_async raised SystemExit: 4"),
        (unencodable, {}, "unencodable returned a object, which cannot be encoded as JSON"),
    ],
)
async def test_handler_failures_are_one_line_error_results(
    function: Any, arguments: dict[str, Any], error: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG", logger="realtime_console.tools.runner")
    result = await ToolRunner(python_tools(function)).run(call(function.__name__, arguments))
    assert (result.is_error, result.error) == (True, error)
    assert json.loads(result.output) == {"error": error}
    assert "Traceback" not in result.output


async def test_handler_tracebacks_go_to_the_debug_log_only(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level("DEBUG", logger="realtime_console.tools.runner")
    await ToolRunner(python_tools(fails)).run(call("fails", {"reason": "x"}))
    record = next(r for r in caplog.records if r.getMessage() == "tool fails raised")
    assert record.levelname == "DEBUG" and record.exc_info is not None


async def test_results_larger_than_the_bound_are_refused() -> None:
    run = ToolRunner(python_tools(big), max_output_bytes=1000)
    assert not (await run.run(call("big", {"size": 1000}))).is_error
    result = await run.run(call("big", {"size": 1001}))
    assert result.error == "big returned 1001 bytes, more than the 1000 bytes limit"
    default = await ToolRunner(python_tools(big)).run(call("big", {"size": 2 * 1024 * 1024}))
    assert default.error == "big returned 2 MiB, more than the 1 MiB limit"


async def test_secrets_are_masked_in_outputs_and_errors() -> None:
    redactor = Redactor(["sk-secret-0123456789"])
    run = ToolRunner(python_tools(leak, leak_output), redactor=redactor)
    failed = await run.run(call("leak"))
    assert failed.error == "leak raised RuntimeError: key *** rejected"
    assert "sk-secret" not in failed.output
    ok = await run.run(call("leak_output"))
    assert json.loads(ok.output) == {"key": "***"}


async def test_command_stdout_is_the_result_and_arguments_arrive_on_stdin() -> None:
    script = "import json, sys; a = json.load(sys.stdin); print(a['x'] * 2)"
    tool = dataclasses.replace(command_tool("double", script), check=lambda a: a)
    result = await runner(tool).run(call("double", {"x": 21}))
    assert (result.output, result.is_error) == ("42", False)


async def test_a_command_that_ignores_stdin_still_works() -> None:
    result = await runner(command_tool("hi", "print('hi')")).run(call("hi", {"x": "y" * 500_000}))
    assert (result.output, result.is_error) == ("hi", False)


async def test_command_failures() -> None:
    script = "import sys; print('partial'); print('first', file=sys.stderr); sys.exit('it broke')"
    result = await runner(command_tool("broken", script)).run(call("broken"))
    assert result.error == "broken exited with code 1: it broke"
    assert json.loads(result.output) == {
        "error": "broken exited with code 1: it broke",
        "detail": "first\nit broke",
    }
    killed = await runner(command_tool("k", "import os; os.kill(os.getpid(), 9)")).run(call("k"))
    assert killed.error == "k was killed by signal 9"
    missing = Tool(
        name="missing",
        description="Gone.",
        parameters={"type": "object"},
        handler=CommandHandler(("/nonexistent/program",)),
        source="tests",
    )
    gone = await runner(missing).run(call("missing"))
    assert gone.error == "missing: cannot run /nonexistent/program: No such file or directory"


async def test_command_output_past_the_bound_kills_it() -> None:
    script = "import sys\nwhile True: sys.stdout.write('x' * 65536)"
    result = await runner(command_tool("flood", script), max_output_bytes=100_000).run(
        call("flood")
    )
    assert result.error == "flood wrote more than 97.7 KiB of output"


async def test_commands_do_not_get_the_consoles_credentials() -> None:
    script = (
        "import os, json; print(json.dumps(sorted(k for k in os.environ if k.endswith('KEY'))))"
    )
    env = {
        "PATH": os.environ.get("PATH", ""),
        "OPENAI_API_KEY": "a" * 20,
        "AZURE_OPENAI_API_KEY": "b" * 20,
        "WEATHER_KEY": "w",
    }
    result = await runner(command_tool("env", script), env=env).run(call("env"))
    assert json.loads(result.output) == ["WEATHER_KEY"]


async def test_timeouts_use_the_tool_s_own_limit_first() -> None:
    async def slow() -> str:
        """Sleeps."""
        await asyncio.sleep(30)
        return "late"

    run = ToolRunner(python_tools(slow), timeout_s=0.2)
    result = await run.run(call("slow"))
    assert result.error == "slow timed out after 0.2 s"
    own = dataclasses.replace(python_tools(slow)["slow"], timeout_s=0.1)
    assert (await runner(own, timeout_s=30).run(call("slow"))).error == "slow timed out after 0.1 s"


def test_a_runner_needs_a_positive_timeout() -> None:
    with pytest.raises(ValueError):
        ToolRunner(ToolSet(), timeout_s=0)
