"""Function calls in ``replay --summary`` and in the event lines, from exact hand-made logs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_console.eventlog import read_log
from realtime_console.replay.event_lines import format_line
from realtime_console.replay.summary import SummaryBuilder
from realtime_console.replay.summary_table import render_json, render_table
from realtime_console.replay.tool_calls import MAX_TRACKED_CALLS, ToolCallTracker
from tests.replay.conftest import ev, user_item, write_log


def _call_item(call_id: str, name: str, arguments: str) -> dict[str, object]:
    return {
        "id": f"item_{call_id}",
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": "completed",
    }


def _output(call_id: str, output: str) -> dict[str, object]:
    return {"type": "function_call_output", "call_id": call_id, "output": output}


def _arguments_done(t: float, response_id: str, item: dict[str, object]) -> dict[str, object]:
    fields = {k: item[k] for k in ("call_id", "name", "arguments")}
    return ev(t, "server", "response.function_call_arguments.done", response_id=response_id,
              item_id=item["id"], output_index=0, **fields)  # fmt: skip


def _usage(total: int) -> dict[str, int]:
    return {"input_tokens": total - 2, "output_tokens": 2, "total_tokens": total}


def _tool_turn_lines() -> list[dict[str, object]]:
    """One typed turn: the model calls two tools in one response, the console runs them (one
    fails), sends both outputs and one response.create, and the model answers."""
    weather = _call_item("call_a", "get_weather", '{"city":"Paris"}')
    clock = _call_item("call_b", "get_time", "{}")
    return [
        ev(0.0, "client", "conversation.item.create", item=user_item("get_weather and get_time")),
        ev(0.01, "client", "response.create"),
        ev(0.1, "server", "response.created", response={"id": "r1"}),
        ev(0.2, "server", "response.output_item.added", response_id="r1", item=weather),
        _arguments_done(0.3, "r1", weather),
        ev(0.31, "server", "response.output_item.done", response_id="r1", item=weather),
        _arguments_done(0.4, "r1", clock),
        ev(
            0.5,
            "server",
            "response.done",
            response={
                "id": "r1",
                "status": "completed",
                "output": [weather, clock],
                "usage": _usage(10),
            },
        ),
        ev(
            0.55,
            "meta",
            "tool_call",
            call_id="call_a",
            name="get_weather",
            status="ok",
            duration_ms=40.5,
            output='{"temp_c":18}',
        ),  # fmt: skip
        ev(0.56, "client", "conversation.item.create", item=_output("call_a", '{"temp_c":18}')),
        ev(
            0.7,
            "meta",
            "tool_call",
            call_id="call_b",
            name="get_time",
            status="timeout",
            duration_ms=200,
            output="timed out",
        ),  # fmt: skip
        ev(0.71, "client", "conversation.item.create", item=_output("call_b", "timed out")),
        ev(0.72, "client", "response.create"),
        ev(0.8, "server", "response.created", response={"id": "r2"}),
        ev(
            0.9,
            "server",
            "response.done",
            response={"id": "r2", "status": "completed", "usage": _usage(30)},
        ),  # fmt: skip
        ev(1.0, "client", "conversation.item.create", item=user_item("thanks")),
        ev(1.01, "client", "response.create"),
        ev(1.1, "server", "response.created", response={"id": "r3"}),
        ev(1.2, "server", "response.done", response={"id": "r3", "status": "completed"}),
    ]


@pytest.fixture
def tool_log(tmp_path: Path) -> Path:
    return write_log(tmp_path / "tools.jsonl", _tool_turn_lines())


def test_calls_belong_to_their_turn_with_the_latency_until_their_output(tool_log: Path) -> None:
    summary = SummaryBuilder().feed_all(read_log(tool_log)).summary()
    assert [t.user_text for t in summary.turns] == ["get_weather and get_time", "thanks"]
    first, second = summary.turns
    # The answer after the outputs is the same turn's second response, not a turn of its own.
    assert (first.response_id, first.responses, first.status) == ("r1", 2, "completed")
    assert first.response_done_ms == pytest.approx(900.0)
    assert [(c.name, c.status) for c in first.tool_calls] == [
        ("get_weather", "ok"),
        ("get_time", "timeout"),
    ]
    weather, clock = first.tool_calls
    # From arguments.done (the request) to the output's item.create (the answer sent).
    assert weather.latency_ms == pytest.approx(260.0)
    assert clock.latency_ms == pytest.approx(310.0)
    assert (weather.duration_ms, clock.duration_ms) == (40.5, 200.0)
    assert weather.arguments == '{"city":"Paris"}'
    # Tokens of both responses, each counted once.
    assert (first.input_tokens, first.output_tokens, first.total_tokens) == (36, 4, 40)
    assert second.tool_calls == [] and second.responses == 1
    totals = summary.totals
    assert (totals.turns, totals.tool_calls, totals.tool_errors) == (2, 2, 1)
    assert totals.tool_latency_ms_max == pytest.approx(310.0)
    assert totals.total_tokens == 40


def test_the_table_lists_each_call_and_the_totals(tool_log: Path) -> None:
    table = render_table(SummaryBuilder().feed_all(read_log(tool_log)).summary())
    lines = table.splitlines()
    assert "tools" in lines[0]
    assert "  turn 1 tool get_weather: ok, answered after 260 ms, handler 40 ms" in lines
    assert "  turn 1 tool get_time: timeout, answered after 310 ms, handler 200 ms" in lines
    assert "2 tool calls (1 not ok), answered after median " in lines[-1]
    assert "max 310 ms" in lines[-1]


def test_json_lists_calls_per_turn(tool_log: Path) -> None:
    document = json.loads(render_json(SummaryBuilder().feed_all(read_log(tool_log)).summary()))
    calls = document["turns"][0]["tool_calls"]
    assert calls == [
        {
            "call_id": "call_a",
            "name": "get_weather",
            "status": "ok",
            "latency_ms": 260.0,
            "duration_ms": 40.5,
        },
        {
            "call_id": "call_b",
            "name": "get_time",
            "status": "timeout",
            "latency_ms": 310.0,
            "duration_ms": 200.0,
        },
    ]
    assert document["totals"]["tool_calls"] == 2


def test_a_call_never_answered_is_unanswered_and_not_ok(tmp_path: Path) -> None:
    lines = _tool_turn_lines()[:8]  # up to the calling response's response.done
    summary = SummaryBuilder().feed_all(read_log(write_log(tmp_path / "l.jsonl", lines))).summary()
    assert [(c.status, c.latency_ms) for c in summary.turns[0].tool_calls] == [
        ("unanswered", None),
        ("unanswered", None),
    ]
    assert summary.totals.tool_errors == 2
    assert summary.totals.tool_latency_ms_median is None


def test_calls_known_only_from_response_done_are_counted(tmp_path: Path) -> None:
    """A log without the per-call events (written with a filter, or by another tool)."""
    item = _call_item("call_z", "lookup", '{"q":"x"}')
    lines = [
        ev(0.0, "client", "conversation.item.create", item=user_item("lookup")),
        ev(0.1, "server", "response.created", response={"id": "r1"}),
        ev(
            0.5,
            "server",
            "response.done",
            response={"id": "r1", "status": "completed", "output": [item]},
        ),  # fmt: skip
        ev(0.75, "client", "conversation.item.create", item=_output("call_z", "found")),
    ]
    summary = SummaryBuilder().feed_all(read_log(write_log(tmp_path / "l.jsonl", lines))).summary()
    [call] = summary.turns[0].tool_calls
    assert (call.name, call.status, call.latency_ms, call.duration_ms) == (
        "lookup",
        "ok",
        250.0,
        None,
    )


def test_new_speech_during_a_tool_run_is_a_turn_of_its_own(tmp_path: Path) -> None:
    """The user spoke while the tool ran: server VAD's response answers the speech, not the
    pending follow-up."""
    item = _call_item("call_a", "get_weather", "{}")
    lines = [
        ev(0.0, "client", "conversation.item.create", item=user_item("get_weather")),
        ev(0.1, "server", "response.created", response={"id": "r1"}),
        ev(
            0.3,
            "server",
            "response.done",
            response={"id": "r1", "status": "completed", "output": [item]},
        ),  # fmt: skip
        ev(0.4, "client", "conversation.item.create", item=_output("call_a", "sunny")),
        ev(0.5, "server", "input_audio_buffer.speech_started", audio_start_ms=100),
        ev(0.9, "server", "input_audio_buffer.speech_stopped", audio_end_ms=500),
        ev(1.0, "server", "response.created", response={"id": "r2"}),
        ev(1.2, "server", "response.done", response={"id": "r2", "status": "completed"}),
    ]
    summary = SummaryBuilder().feed_all(read_log(write_log(tmp_path / "l.jsonl", lines))).summary()
    assert [(t.input, t.response_id, t.responses) for t in summary.turns] == [
        ("text", "r1", 1),
        ("speech", "r2", 1),
    ]


def test_event_lines_show_calls_outputs_and_the_console_run(tool_log: Path) -> None:
    rendered = [format_line(record) for record in read_log(tool_log)]
    assert any(
        'response.function_call_arguments.done  r1/item_call_a call_a get_weather({"city":"Paris"})'
        in line
        for line in rendered
    )
    assert any(
        "response.output_item.done  r1 item_call_a function_call call_a get_weather(" in line
        for line in rendered
    )
    assert any(
        "conversation.item.create  function_call_output call_a → '{\"temp_c\":18}'" in line
        for line in rendered
    )
    assert any(
        "tool_call  call_b get_time timeout in 200 ms → 'timed out'" in line for line in rendered
    )


def test_the_tracker_is_bounded() -> None:
    tracker = ToolCallTracker()
    for n in range(MAX_TRACKED_CALLS + 50):
        tracker.requested({"call_id": f"c{n}", "name": "x"}, "r", 0.0)
    assert len(tracker.by_call) == MAX_TRACKED_CALLS
    # An output or a meta line for a call never requested changes nothing.
    assert tracker.answered({"call_id": "nope"}, 1.0) is None
    assert tracker.ran({"call_id": "nope", "status": "ok"}) is None
