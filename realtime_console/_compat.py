"""asyncio features newer than our oldest supported Python (3.10)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from asyncio import TaskGroup, timeout
else:  # pragma: no cover - exercised only on 3.10
    from taskgroup import TaskGroup, timeout

from realtime_console.errors import BaseExceptionGroup, leaf_exceptions

__all__ = ["BaseExceptionGroup", "TaskGroup", "leaf_exceptions", "timeout"]
