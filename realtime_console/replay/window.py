"""``--from``/``--to``: which part of a log to replay, by time or by event index.

A bound is seconds since the start of the session (``12.5`` or ``12.5s``) or an event index as
shown by ``--types`` lines (``#120``, 0-based, the header not counted). Both ends are inclusive.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from realtime_console.eventlog import LogRecord

_SECONDS = re.compile(r"^\s*(\d+(?:\.\d*)?|\.\d+)\s*s?\s*$")
_INDEX = re.compile(r"^\s*#(\d+)\s*$")


@dataclass(frozen=True)
class Bound:
    seconds: float | None = None
    index: int | None = None

    def __str__(self) -> str:
        return f"#{self.index}" if self.index is not None else f"{self.seconds:g}s"


def parse_bound(text: str) -> Bound | None:
    """``12.5`` / ``12.5s`` → seconds, ``#120`` → event index, anything else → None."""
    if match := _INDEX.match(text):
        return Bound(index=int(match.group(1)))
    if match := _SECONDS.match(text):
        return Bound(seconds=float(match.group(1)))
    return None


@dataclass(frozen=True)
class Window:
    start: Bound | None = None
    end: Bound | None = None

    def before_start(self, record: LogRecord) -> bool:
        return self.start is not None and _before(record, self.start)

    def after_end(self, record: LogRecord) -> bool:
        """Past the end: since times and indexes only grow, nothing later is inside either."""
        return self.end is not None and _after(record, self.end)

    def contains(self, record: LogRecord) -> bool:
        return not self.before_start(record) and not self.after_end(record)

    @property
    def is_whole_log(self) -> bool:
        return self.start is None and self.end is None


def _before(record: LogRecord, bound: Bound) -> bool:
    if bound.index is not None:
        return record.index < bound.index
    return record.t is not None and bound.seconds is not None and record.t < bound.seconds


def _after(record: LogRecord, bound: Bound) -> bool:
    if bound.index is not None:
        return record.index > bound.index
    return record.t is not None and bound.seconds is not None and record.t > bound.seconds
