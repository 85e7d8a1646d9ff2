"""asyncio features newer than our oldest supported Python (3.10)."""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from asyncio import TaskGroup, timeout
    from builtins import BaseExceptionGroup
else:  # pragma: no cover - exercised only on 3.10
    from exceptiongroup import BaseExceptionGroup
    from taskgroup import TaskGroup, timeout

__all__ = ["BaseExceptionGroup", "TaskGroup", "leaf_exceptions", "timeout"]


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside ``exc`` (TaskGroup wraps failures in groups)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_exceptions(inner)]
    return [exc]
