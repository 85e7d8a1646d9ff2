"""asyncio features newer than our oldest supported Python (3.10)."""

from __future__ import annotations

import sys
from collections.abc import Awaitable
from typing import TypeVar

if sys.version_info >= (3, 11):
    from asyncio import TaskGroup, timeout
else:  # pragma: no cover - exercised only on 3.10
    from taskgroup import TaskGroup, timeout

from realtime_console.errors import BaseExceptionGroup, leaf_exceptions

__all__ = ["BaseExceptionGroup", "TaskGroup", "leaf_exceptions", "timeout", "wait_for"]

T = TypeVar("T")


async def wait_for(awaitable: Awaitable[T], timeout_s: float | None) -> T:
    """``asyncio.wait_for`` as Python 3.12 has it (built on ``timeout``): a cancellation is
    never lost.

    Before 3.12, a cancellation (Ctrl+C, a TaskGroup ending) that lands just as the awaited
    thing completes is swallowed: wait_for returns the result and the task goes on, cancelled
    in name only, and may then wait forever. Awaiting in this task under ``timeout`` delivers
    it at the next await instead. A timeout raises ``TimeoutError`` (``asyncio.TimeoutError``).
    """
    async with timeout(timeout_s):
        return await awaitable
