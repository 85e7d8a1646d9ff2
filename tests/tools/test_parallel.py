"""All calls of one response at once, answered in the calls' order."""

from __future__ import annotations

import asyncio
import threading

from realtime_console.tools import ToolRunner, ToolSet
from tests.tools.helpers import call, command_tool, python_tools

ORDER: list[str] = []


async def test_async_calls_run_together_and_results_keep_call_order() -> None:
    second_started = asyncio.Event()

    async def first() -> str:
        """Finishes only once the second call has started: sequential runs would time out."""
        await second_started.wait()
        await asyncio.sleep(0.05)
        ORDER.append("first")
        return "1"

    async def second() -> str:
        """Finishes at once."""
        second_started.set()
        ORDER.append("second")
        return "2"

    run = ToolRunner(python_tools(first, second), timeout_s=5)
    results = await run.run_all([call("first", call_id="a"), call("second", call_id="b")])
    assert [(r.call_id, r.output, r.is_error) for r in results] == [
        ("a", "1", False),
        ("b", "2", False),
    ]
    assert ORDER == ["second", "first"]  # finished out of order, answered in order


async def test_sync_calls_run_in_parallel_threads() -> None:
    barrier = threading.Barrier(3, timeout=5)  # passes only when all three wait at once

    def meet(n: int) -> int:
        """Waits for the others."""
        barrier.wait()
        return n

    run = ToolRunner(python_tools(meet), timeout_s=10)
    calls = [call("meet", {"n": n}, call_id=f"c{n}") for n in range(3)]
    results = await run.run_all(calls)
    assert [r.output for r in results] == ["0", "1", "2"]
    assert not any(r.is_error for r in results)


async def test_one_failure_does_not_spoil_the_others() -> None:
    def ok() -> str:
        """Fine."""
        return "fine"

    tools = ToolSet([*python_tools(ok).values(), command_tool("bad", "import sys; sys.exit(2)")])
    run = ToolRunner(tools)
    results = await run.run_all(
        [call("bad", call_id="x"), call("ok", call_id="y"), call("ghost", call_id="z")]
    )
    assert [(r.call_id, r.is_error) for r in results] == [("x", True), ("y", False), ("z", True)]
    assert results[0].error == "bad exited with code 2"
    assert results[2].error.startswith("there is no tool named 'ghost'")


async def test_no_calls_no_results() -> None:
    assert await ToolRunner(ToolSet()).run_all([]) == []
