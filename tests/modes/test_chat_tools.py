"""Function calling in ``chat`` end to end: the real CLI process, the real SDK client and the local
server, whose "model" calls each tool named in the user's line (docs/local-server.md)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from realtime_console.eventlog import read_log
from realtime_console.protocol.schema import validate_client_event
from realtime_console.server.app import LocalServer
from tests.conftest import Run, assert_no_traceback, azure_env, run_console

REPO = Path(__file__).resolve().parents[2]
WEATHER = str(REPO / "examples" / "tools" / "weather.py")
SCHEMA_TOOLS = str(REPO / "examples" / "tools" / "tools.toml")
FIXTURES = REPO / "tests" / "fixtures" / "tools"
CLOCK = str(FIXTURES / "clock_tools.py")
SLOW = str(FIXTURES / "slow.toml")

PARIS = {
    "city": "Paris",
    "temperature": 18.0,
    "unit": "celsius",
    "conditions": "partly cloudy",
    "humidity_percent": 62,
}


class Exchange:
    """What one recorded chat says about its function calls."""

    def __init__(self, log: Path) -> None:
        records = list(read_log(log))
        self.client = [r.event for r in records if r.dir == "client"]
        self.server = [r.event for r in records if r.dir == "server"]
        self.meta = [r.event for r in records if r.dir == "meta"]
        self.all = [(r.dir, r.event) for r in records]

    def calls(self) -> list[Mapping[str, Any]]:
        """The function_call items the model finished, in order."""
        return [
            e["item"]
            for e in self.server
            if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
        ]

    def outputs(self) -> list[Mapping[str, Any]]:
        return [
            e["item"]
            for e in self.client
            if e["type"] == "conversation.item.create"
            and e["item"]["type"] == "function_call_output"
        ]

    def tool_notes(self) -> list[Mapping[str, Any]]:
        return [e for e in self.meta if e["type"] == "tool_call"]

    def replies(self) -> list[str]:
        return [
            e["transcript"]
            for e in self.server
            if e["type"] == "response.output_audio_transcript.done"
        ]

    def errors(self) -> list[Mapping[str, Any]]:
        return [e for e in self.server if e["type"] == "error"]


async def chat(
    server: LocalServer, tmp_path: Path, stdin: str, *flags: str, config: str | None = None
) -> tuple[Run, Exchange]:
    log = tmp_path / "chat.jsonl"
    head = ["--config", config] if config else []
    run = await run_console(
        *head,
        "--log-events",
        str(log),
        "chat",
        "--no-playback",
        *flags,
        stdin=stdin,
        env=azure_env(server.http_url(), tmp_path),
        cwd=tmp_path,
        timeout=60,
    )
    assert_no_traceback(run)
    return run, Exchange(log)


def assert_answered_once_after_the_calls(exchange: Exchange, call_ids: list[str]) -> None:
    """Every output goes out after its response is done, then exactly one response.create."""
    order = [
        (d, e["type"], e.get("item", {}).get("call_id"))
        for d, e in exchange.all
        if (d, e["type"])
        in {
            ("server", "response.done"),
            ("client", "response.create"),
            ("client", "conversation.item.create"),
        }
    ]
    first_output = order.index(("client", "conversation.item.create", call_ids[0]))
    assert order[first_output - 1][:2] == ("server", "response.done")  # the calls' response
    outputs = order[first_output : first_output + len(call_ids)]
    assert [o[2] for o in outputs] == call_ids  # in the calls' order
    assert order[first_output + len(call_ids)][:2] == ("client", "response.create")
    creates = [o for o in order if o[1] == "response.create"]
    assert len(creates) == 2  # the user's turn, and one after all the outputs
    for event in exchange.client:
        validate_client_event(event)


async def test_a_python_tool_is_called_and_the_reply_quotes_its_output(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server, tmp_path, "What is get_weather city=Paris\n", "--tools", WEATHER
    )
    assert run.code == 0, run.stderr
    (call,) = exchange.calls()
    assert call["name"] == "get_weather"
    assert json.loads(call["arguments"]) == {"city": "Paris"}
    (output,) = exchange.outputs()
    assert output["call_id"] == call["call_id"]
    assert json.loads(output["output"]) == PARIS
    (note,) = exchange.tool_notes()
    assert note["call_id"] == call["call_id"]
    assert note["name"] == "get_weather"
    assert note["status"] == "ok"
    assert isinstance(note["duration_ms"], float) and note["duration_ms"] >= 0
    assert exchange.replies()[-1] == f"(local server) get_weather returned {output['output']}."
    assert_answered_once_after_the_calls(exchange, [call["call_id"]])
    assert exchange.errors() == []
    # The session offered the tool as the service wants it.
    update = next(e for e in exchange.client if e["type"] == "session.update")
    entries = update["session"]["tools"]
    assert [(e["type"], e["name"]) for e in entries] == [
        ("function", "get_weather"),
        ("function", "get_forecast"),
    ]
    assert update["session"]["tool_choice"] == "auto"
    # The transcript: the turn, the filler, the call's line, the answer using it.
    lines = run.stdout.splitlines()
    assert lines[0] == "you> What is get_weather city=Paris"
    assert lines[1] == "assistant> (local server) Calling get_weather."
    assert lines[2].startswith(f'tool> get_weather {{"city": "Paris"}} -> {output["output"]} (')
    assert lines[2].endswith(" ms)")
    assert lines[3] == f"assistant> (local server) get_weather returned {output['output']}."


async def test_a_command_tool_answers_through_its_stdout(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server,
        tmp_path,
        'Please define_word word="latency"\n',
        "--tools",
        SCHEMA_TOOLS,
    )
    assert run.code == 0, run.stderr
    (call,) = exchange.calls()
    assert call["name"] == "define_word"
    assert json.loads(call["arguments"]) == {"word": "latency"}
    (output,) = exchange.outputs()
    assert "latency" in output["output"].lower() and "error" not in output["output"]
    assert [n["status"] for n in exchange.tool_notes()] == ["ok"]
    assert exchange.replies()[-1] == f"(local server) define_word returned {output['output']}."
    assert f'tool> define_word {{"word": "latency"}} -> {output["output"]}' in run.stdout


async def test_two_calls_of_one_response_run_together_and_are_answered_once(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server,
        tmp_path,
        "get_weather city=Paris and then local_time\n",
        "--tools",
        WEATHER,
        "--tools",
        CLOCK,
    )
    assert run.code == 0, run.stderr
    calls = exchange.calls()
    assert [c["name"] for c in calls] == ["get_weather", "local_time"]
    response_ids = {
        e["response_id"]
        for e in exchange.server
        if e["type"] == "response.output_item.done" and e["item"]["type"] == "function_call"
    }
    assert len(response_ids) == 1  # parallel calls: one response
    ids = [c["call_id"] for c in calls]
    assert [o["call_id"] for o in exchange.outputs()] == ids
    assert_answered_once_after_the_calls(exchange, ids)
    outputs = [o["output"] for o in exchange.outputs()]
    assert json.loads(outputs[1]) == {"city": "Paris", "time": "12:34"}
    assert exchange.replies()[-1] == (
        f"(local server) get_weather returned {outputs[0]}. local_time returned {outputs[1]}."
    )
    assert sorted(n["status"] for n in exchange.tool_notes()) == ["ok", "ok"]


async def test_a_tool_that_times_out_is_answered_with_the_timeout(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server, tmp_path, "I am so tired, nap please\n", "--tools", SLOW
    )
    assert run.code == 0, run.stderr
    (output,) = exchange.outputs()
    assert json.loads(output["output"]) == {"error": "nap timed out after 0.5 s"}
    (note,) = exchange.tool_notes()
    assert note["status"] == "timeout"
    assert 500 <= note["duration_ms"] < 5000
    assert exchange.replies()[-1] == f"(local server) nap returned {output['output']}."
    assert "tool> nap {} timed out after 0.5 s\n" in run.stdout


async def test_the_profile_timeout_applies_and_a_silent_tool_is_not_an_abandoned_reply(
    tmp_path: Path, local_server: LocalServer
) -> None:
    """``[tools] timeout_s`` from a profile; and while a tool runs longer than
    ``connection.response_timeout_s`` the reply watchdog stays quiet: no reply is owed yet."""
    profile = tmp_path / "tools.toml"
    profile.write_text(
        f"[connection]\nresponse_timeout_s = 1.0\n\n"
        f'[tools]\nfiles = ["{CLOCK}"]\ntimeout_s = 2.5\n',
        encoding="utf-8",
    )
    run, exchange = await chat(
        local_server,
        tmp_path,
        "a slow_lookup seconds=1.5 please\nand slow_lookup seconds=4\n",
        config=str(profile),
    )
    assert run.code == 0, run.stderr
    assert "turn abandoned" not in run.stderr
    assert not [e for e in exchange.meta if e["type"] == "response_timeout"]
    first, second = exchange.outputs()
    assert first["output"] == "looked it up in 1.5 s"
    assert json.loads(second["output"]) == {"error": "slow_lookup timed out after 2.5 s"}
    assert [n["status"] for n in exchange.tool_notes()] == ["ok", "timeout"]


async def test_ask_mode_takes_the_next_piped_line_as_the_result(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server,
        tmp_path,
        'get_weather city=Paris\n{"temp": 99}\nthanks\n',
        "--tools",
        WEATHER,
        "--tool-mode",
        "ask",
    )
    assert run.code == 0, run.stderr
    (output,) = exchange.outputs()
    assert output["output"] == '{"temp": 99}'  # typed, not the handler's answer
    assert exchange.tool_notes()[0]["status"] == "ok"
    assert 'tool get_weather({"city": "Paris"}) result> {"temp": 99}\n' in run.stdout
    assert 'assistant> (local server) get_weather returned {"temp": 99}.\n' in run.stdout
    # The line after the answer is the next turn, not another answer.
    assert "you> thanks\n" in run.stdout
    texts = [
        e["item"]["content"][0]["text"]
        for e in exchange.client
        if e["type"] == "conversation.item.create" and e["item"].get("role") == "user"
    ]
    assert texts == ["get_weather city=Paris", "thanks"]


async def test_confirm_mode_declined_tells_the_model(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, exchange = await chat(
        local_server,
        tmp_path,
        "get_weather city=Paris\nn\n",
        "--tools",
        WEATHER,
        "--tool-mode",
        "confirm",
    )
    assert run.code == 0, run.stderr
    (output,) = exchange.outputs()
    assert json.loads(output["output"]) == {"error": "the user declined to run get_weather"}
    assert exchange.tool_notes()[0]["status"] == "declined"
    assert 'tool get_weather({"city": "Paris"}) run it? [y/n] n\n' in run.stdout
    assert 'tool> get_weather {"city": "Paris"} declined\n' in run.stdout


async def test_replay_summary_lists_the_calls_with_their_latency(
    tmp_path: Path, local_server: LocalServer
) -> None:
    run, _ = await chat(
        local_server,
        tmp_path,
        "get_weather city=Paris and local_time\nnap now\n",
        "--tools",
        WEATHER,
        "--tools",
        CLOCK,
        "--tools",
        SLOW,
    )
    assert run.code == 0, run.stderr
    log = tmp_path / "chat.jsonl"
    summary = await run_console("replay", str(log), "--json", cwd=tmp_path)
    assert summary.code == 0, summary.stderr
    document = json.loads(summary.stdout)
    turns = [t for t in document["turns"] if t.get("tool_calls")]
    assert [[c["name"] for c in t["tool_calls"]] for t in turns] == [
        ["get_weather", "local_time"],
        ["nap"],
    ]
    statuses = [c["status"] for t in turns for c in t["tool_calls"]]
    assert statuses == ["ok", "ok", "timeout"]
    for turn in turns:
        for call in turn["tool_calls"]:
            assert call["latency_ms"] is not None and call["latency_ms"] >= call["duration_ms"]
    assert turns[0]["tool_calls"][1]["duration_ms"] >= 400  # local_time sleeps 0.4 s
    assert document["totals"]["tool_calls"] == 3
    table = await run_console("replay", str(log), "--summary", "--no-audio", cwd=tmp_path)
    assert table.code == 0, table.stderr
    assert "tool get_weather: ok, answered after" in table.stdout
    assert "tool nap: timeout, answered after" in table.stdout
    assert "3 tool calls (1 not ok)" in table.stdout


async def test_a_forced_choice_calls_once_and_the_reply_to_the_output_may_choose(
    tmp_path: Path, local_server: LocalServer
) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[tools]\ntool_choice = "required"\n', encoding="utf-8")
    run, exchange = await chat(
        local_server, tmp_path, "hello\n", "--tools", SCHEMA_TOOLS, config=str(profile)
    )
    assert run.code == 0, run.stderr
    update = next(e for e in exchange.client if e["type"] == "session.update")
    assert update["session"]["tool_choice"] == "required"
    (call,) = exchange.calls()  # no name said: the server's model calls the first tool
    assert call["name"] == "convert_temperature"
    creates = [e for e in exchange.client if e["type"] == "response.create"]
    assert [c.get("response") for c in creates] == [None, {"tool_choice": "auto"}]
    assert exchange.replies()[-1].startswith("(local server) convert_temperature returned ")


async def test_a_bad_tool_file_is_one_line_and_exit_2_before_connecting(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[tools]]\nname = "x"\ndescripton = "typo"\nresult = 1\n', encoding="utf-8")
    run = await run_console(
        "--local", "chat", "--no-playback", "--tools", str(bad), stdin="hello\n", cwd=tmp_path
    )
    assert run.code == 2
    assert_no_traceback(run)
    (line,) = run.stderr.strip().splitlines()
    assert "bad.toml" in line and "descripton" in line
    assert run.stdout == ""


async def test_a_tool_choice_naming_no_tool_is_exit_2(tmp_path: Path) -> None:
    profile = tmp_path / "p.toml"
    profile.write_text('[tools]\ntool_choice = "get_wether"\n', encoding="utf-8")
    run = await run_console(
        "--local",
        "--config",
        str(profile),
        "chat",
        "--no-playback",
        "--tools",
        WEATHER,
        stdin="hello\n",
        cwd=tmp_path,
    )
    assert run.code == 2
    assert_no_traceback(run)
    assert run.stderr.strip() == (
        "realtime-console: tools.tool_choice = 'get_wether' names no loaded tool "
        "(tools: get_weather, get_forecast)"
    )
