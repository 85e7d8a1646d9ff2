"""Building tools and calls for the runner tests, and watching processes come and go."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from realtime_console.tools import CannedResult, CommandHandler, Tool, ToolCall, ToolSet
from realtime_console.tools.signature import tool_from_function


def python_tools(*functions: Callable[..., Any]) -> ToolSet:
    return ToolSet(tool_from_function(f, "tests") for f in functions)


def command_tool(name: str, script: str, timeout_s: float | None = None) -> Tool:
    """A command tool running ``script`` with this interpreter (fast to start, always there)."""
    return Tool(
        name=name,
        description="A command.",
        parameters={"type": "object", "properties": {}},
        handler=CommandHandler((sys.executable, "-c", script)),
        source="tests",
        timeout_s=timeout_s,
    )


def canned_tool(name: str, value: Any) -> Tool:
    return Tool(
        name=name,
        description="Canned.",
        parameters={"type": "object", "properties": {}},
        handler=CannedResult(value),
        source="tests",
    )


def call(name: str, arguments: Any = None, call_id: str = "call_1") -> ToolCall:
    text = arguments if isinstance(arguments, str) else json.dumps(arguments or {})
    return ToolCall(name=name, call_id=call_id, arguments=text)


def alive(pid: int) -> bool:
    """A zombie (killed, not yet reaped by whoever adopted it) counts as gone."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    try:
        return stat.read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


async def wait_gone(pid: int, within_s: float = 5.0) -> bool:
    """Whether ``pid`` is gone within ``within_s`` (an orphan is reaped by init, not us)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while alive(pid):
        if loop.time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def wait_for_file(path: Path, within_s: float = 10.0) -> str:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within_s
    while not (text := await asyncio.to_thread(_read, path)):
        if loop.time() > deadline:
            raise AssertionError(f"{path} never appeared")
        await asyncio.sleep(0.02)
    return text


def _read(path: Path) -> str:
    try:
        return path.read_text().strip()
    except FileNotFoundError:
        return ""
