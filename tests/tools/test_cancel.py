"""Timeouts and cancellation: commands are killed (with what they started), threads abandoned."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

import pytest

from realtime_console.tools import ToolRunner, ToolSet
from tests.tools.helpers import call, command_tool, python_tools, wait_for_file, wait_gone

ROOT = Path(__file__).resolve().parents[2]


def _sleeper(pidfile: Path) -> str:
    """A command that writes its pid, then sleeps far longer than any test."""
    return f"import os, time; open({str(pidfile)!r}, 'w').write(str(os.getpid())); time.sleep(600)"


async def test_a_timed_out_command_is_killed(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    run = ToolRunner(ToolSet([command_tool("sleepy", _sleeper(pidfile))]), timeout_s=1.5)
    result = await run.run(call("sleepy"))
    assert result.error == "sleepy timed out after 1.5 s"
    assert await wait_gone(int(pidfile.read_text()))


async def test_a_timeout_kills_what_the_command_started(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    # The command starts a grandchild and waits: killing only the child would leave it.
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        child = subprocess.Popen([sys.executable, "-c", {_sleeper(pidfile)!r}])
        child.wait()
        """
    )
    run = ToolRunner(ToolSet([command_tool("parent", script, timeout_s=2)]))
    task = asyncio.create_task(run.run(call("parent")))
    grandchild = int(await wait_for_file(pidfile))
    result = await task
    assert result.error == "parent timed out after 2 s"
    assert await wait_gone(grandchild)


async def test_cancelling_a_command_call_kills_it(tmp_path: Path) -> None:
    pidfile = tmp_path / "pid"
    run = ToolRunner(ToolSet([command_tool("sleepy", _sleeper(pidfile))]))
    task = asyncio.create_task(run.run(call("sleepy")))
    pid = int(await wait_for_file(pidfile))
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert await wait_gone(pid)


async def test_cancelling_an_async_handler_cancels_it() -> None:
    started, finished = asyncio.Event(), []

    async def waits() -> str:
        """Waits forever."""
        started.set()
        try:
            await asyncio.sleep(600)
        finally:
            finished.append("cleaned up")
        return "never"

    task = asyncio.create_task(ToolRunner(python_tools(waits)).run(call("waits")))
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert finished == ["cleaned up"]


async def test_cancelling_a_sync_handler_abandons_its_thread() -> None:
    entered, release, done = threading.Event(), threading.Event(), threading.Event()

    def blocks() -> str:
        """Blocks until released."""
        entered.set()
        release.wait(30)
        done.set()
        return "late"

    task = asyncio.create_task(ToolRunner(python_tools(blocks)).run(call("blocks")))
    await asyncio.to_thread(entered.wait, 10)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert not done.is_set()  # the call is abandoned while the thread is still busy
    release.set()
    await asyncio.to_thread(done.wait, 10)
    await asyncio.sleep(0.05)  # its late result lands on a cancelled future: nothing happens
    assert done.is_set()


async def test_a_timed_out_sync_handler_does_not_block_the_loop_or_keep_the_process() -> None:
    # With asyncio.to_thread, asyncio.run would wait at exit for the sleeping handler.
    program = textwrap.dedent(
        """
        import asyncio, time
        from realtime_console.tools import ToolRunner
        from tests.tools.helpers import call, python_tools

        def hangs() -> str:
            '''Hangs.'''
            time.sleep(600)
            return "never"

        async def main() -> None:
            ticks = 0
            async def tick() -> None:
                nonlocal ticks
                while True:
                    await asyncio.sleep(0.01)
                    ticks += 1
            ticker = asyncio.create_task(tick())
            result = await ToolRunner(python_tools(hangs), timeout_s=0.5).run(call("hangs"))
            ticker.cancel()
            print(result.error, ticks > 10)

        asyncio.run(main())
        """
    )
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", program],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "hangs timed out after 0.5 s True"
