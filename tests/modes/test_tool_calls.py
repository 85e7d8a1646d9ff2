"""``ToolCalls`` on recorded server events: the real dispatcher, the real runner, real tools; the
sent events are collected instead of reaching a socket."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from realtime_console._compat import TaskGroup
from realtime_console.dispatcher import Dispatcher
from realtime_console.eventlog import EventLogWriter, read_log
from realtime_console.modes.tool_calls import ToolCalls
from realtime_console.protocol.schema import validate_client_event
from realtime_console.redact import Redactor
from realtime_console.tools import ToolRunner, ToolSet
from tests.modes.test_talk_handlers import RecordingView
from tests.tools.helpers import canned_tool


class Rig:
    def __init__(self, log: Path | None = None, *, talk: bool = False) -> None:
        self.gate = asyncio.Event()
        self.started = 0

        async def wait_for_gate() -> str:
            """Wait until the test opens the gate."""
            self.started += 1
            await self.gate.wait()
            return "opened"

        from realtime_console.tools.signature import tool_from_function

        tools = ToolSet([canned_tool("get_time", {"time": "12:34"})])
        tools.add(tool_from_function(wait_for_gate, "tests"))
        self.sent: list[dict[str, Any]] = []
        self.follow_ups = 0
        self.view = RecordingView()
        self.log = None
        if log is not None:
            self.log = EventLogWriter(
                log,
                provider="local",
                model="m",
                session={},
                program_version="0",
                redactor=Redactor(),
            )
        self.calls = ToolCalls(
            ToolRunner(tools),
            view=self.view,
            send=self.send,
            event_log=self.log,
            start_early=True,
            follow_up=self.follow_up if talk else None,
            cancel_on_speech=talk,
        )
        self.dispatcher = Dispatcher()
        self.dispatcher.register(self.calls.table())

    async def send(self, event: dict[str, Any]) -> bool:
        validate_client_event(event)
        self.sent.append(event)
        return True

    async def follow_up(self) -> None:
        self.follow_ups += 1

    async def server(self, event_type: str, **fields: Any) -> None:
        await self.dispatcher.dispatch({"type": event_type, **fields})

    async def created(self, response_id: str) -> None:
        await self.server(
            "response.created", response={"id": response_id, "object": "realtime.response"}
        )

    async def call_done(
        self, response_id: str, call_id: str, name: str, arguments: str = "{}"
    ) -> None:
        await self.server(
            "response.function_call_arguments.done",
            response_id=response_id,
            item_id=f"item_{call_id}",
            output_index=0,
            call_id=call_id,
            name=name,
            arguments=arguments,
        )

    async def done(
        self, response_id: str, status: str = "completed", output: list[Any] | None = None
    ) -> None:
        await self.server(
            "response.done", response={"id": response_id, "status": status, "output": output or []}
        )

    def outputs(self) -> list[tuple[str, str]]:
        return [
            (e["item"]["call_id"], e["item"]["output"])
            for e in self.sent
            if e["type"] == "conversation.item.create"
        ]


@asynccontextmanager
async def running(rig: Rig) -> AsyncIterator[Rig]:
    async with TaskGroup() as tasks:
        rig.calls.spawn = tasks.create_task
        yield rig
        rig.calls.cancel_all()


def function_call(call_id: str, name: str, arguments: str = "{}") -> dict[str, Any]:
    return {
        "id": f"item_{call_id}",
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
    }


async def settle(rig: Rig) -> None:
    """Let the tasks the events started run their course."""
    for _ in range(20):
        await asyncio.sleep(0)


async def test_calls_reported_only_in_response_done_run_and_are_answered_in_order() -> None:
    async with running(Rig()) as rig:
        await rig.created("resp_1")
        output = [function_call("call_a", "get_time"), function_call("call_b", "nope")]
        await rig.done("resp_1", output=output)
        assert await asyncio.wait_for(rig.calls.settle("resp_1"), 5) is True
    (first, second) = rig.outputs()
    assert first == ("call_a", '{"time": "12:34"}')
    assert second[0] == "call_b"
    assert json.loads(second[1])["error"].startswith("there is no tool named 'nope'")
    assert [c[2] for c in rig.view.named("tool_call")][0] == '-> {"time": "12:34"}'


async def test_a_call_seen_three_times_runs_once() -> None:
    async with running(Rig()) as rig:
        await rig.created("resp_1")
        await rig.call_done("resp_1", "call_a", "get_time")
        await rig.server(
            "response.output_item.done",
            response_id="resp_1",
            output_index=0,
            item=function_call("call_a", "get_time"),
        )
        await rig.done("resp_1", output=[function_call("call_a", "get_time")])
        assert await rig.calls.settle("resp_1") is True
    assert rig.outputs() == [("call_a", '{"time": "12:34"}')]
    assert len(rig.view.named("tool_call")) == 1


async def test_outputs_wait_for_the_response_to_be_done_and_for_every_call() -> None:
    async with running(Rig()) as rig:
        await rig.created("resp_1")
        await rig.call_done("resp_1", "call_a", "get_time")
        await rig.call_done("resp_1", "call_b", "wait_for_gate")
        await settle(rig)
        assert rig.sent == []  # the response is still going
        await rig.done("resp_1")
        await settle(rig)
        assert rig.sent == []  # call_b still runs
        assert rig.calls.running
        rig.gate.set()
        assert await rig.calls.settle("resp_1") is True
    assert rig.outputs() == [("call_a", '{"time": "12:34"}'), ("call_b", "opened")]


async def test_no_response_create_while_another_response_is_active() -> None:
    async with running(Rig(talk=True)) as rig:
        await rig.created("resp_1")
        await rig.call_done("resp_1", "call_a", "get_time")
        await rig.created("resp_2")  # e.g. the server answering something else
        await rig.done("resp_1")
        assert await rig.calls.settle("resp_1") is True
        await settle(rig)
        assert rig.outputs() == [("call_a", '{"time": "12:34"}')]
        assert rig.follow_ups == 0  # resp_2 is active
        await rig.done("resp_2")
        await settle(rig)
        assert rig.follow_ups == 1


async def test_speech_cancels_running_calls_and_nothing_is_sent(tmp_path: Path) -> None:
    log = tmp_path / "log.jsonl"
    rig = Rig(log, talk=True)
    async with running(rig):
        await rig.created("resp_1")
        await rig.call_done("resp_1", "call_a", "wait_for_gate")
        await rig.done("resp_1")
        await settle(rig)
        assert rig.started == 1
        await rig.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="i")
        assert await rig.calls.settle("resp_1") is False
        await settle(rig)
    assert rig.sent == [] and rig.follow_ups == 0
    assert rig.view.named("tool_call")[0][2] == "cancelled (the user spoke)"
    assert rig.log is not None
    rig.log.close()
    (note,) = [r.event for r in read_log(log) if r.dir == "meta"]
    assert note["type"] == "tool_call" and note["status"] == "cancelled"
    assert note["call_id"] == "call_a" and note["name"] == "wait_for_gate"
    assert isinstance(note["duration_ms"], float)


async def test_the_calls_of_a_cancelled_response_are_not_run_or_answered() -> None:
    async with running(Rig()) as rig:
        await rig.created("resp_1")
        await rig.call_done("resp_1", "call_a", "wait_for_gate")
        await settle(rig)
        await rig.done("resp_1", status="cancelled")
        assert await rig.calls.settle("resp_1") is False
    assert rig.sent == []
    assert rig.view.named("tool_call")[0][2] == "cancelled (its response was cancelled)"


async def test_a_response_without_calls_settles_at_once() -> None:
    async with running(Rig()) as rig:
        await rig.created("resp_1")
        await rig.done("resp_1")
        assert await rig.calls.settle("resp_1") is False
        assert await rig.calls.settle(None) is False


async def test_answered_responses_are_forgotten_past_the_bound() -> None:
    from realtime_console.modes.tool_calls import MAX_RESPONSES

    async with running(Rig()) as rig:
        for n in range(MAX_RESPONSES + 20):
            await rig.created(f"resp_{n}")
            await rig.call_done(f"resp_{n}", f"call_{n}", "get_time")
            await rig.done(f"resp_{n}")
            assert await rig.calls.settle(f"resp_{n}") is True
        assert len(rig.calls._responses) <= MAX_RESPONSES + 1
    assert len(rig.outputs()) == MAX_RESPONSES + 20
