"""The event-log pane's lines: a bounded history plus how one line is drawn."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from rich.text import Text

MAX_EVENT_LINES = 500
"""Lines kept for the event-log pane; the full record is the ``--log-events`` file."""

DIRECTION_MARKS = {
    "client": ("→", "cyan"),
    "server": ("←", "green"),
    "meta": ("•", "magenta"),
}
_UNKNOWN_DIRECTION = ("?", "white")


@dataclass(frozen=True)
class EventLine:
    at: float
    direction: str
    event_type: str
    summary: str


class EventLines:
    def __init__(
        self, max_lines: int = MAX_EVENT_LINES, clock: Callable[[], float] = time.time
    ) -> None:
        self._lines: deque[EventLine] = deque(maxlen=max_lines)
        self._clock = clock
        self.total = 0  # lines ever added, so the pane can say how many scrolled away

    def add(self, direction: str, event_type: str, summary: str) -> EventLine:
        line = EventLine(self._clock(), direction, event_type, summary)
        self._lines.append(line)
        self.total += 1
        return line

    def __iter__(self) -> Iterator[EventLine]:
        return iter(self._lines)

    def __len__(self) -> int:
        return len(self._lines)

    @property
    def max_lines(self) -> int:
        assert self._lines.maxlen is not None
        return self._lines.maxlen


def render_event_line(line: EventLine) -> Text:
    mark, colour = DIRECTION_MARKS.get(line.direction, _UNKNOWN_DIRECTION)
    at = time.strftime("%H:%M:%S", time.localtime(line.at)) + f".{int(line.at * 1000) % 1000:03d}"
    type_style = "bold red" if line.event_type == "error" else f"bold {colour}"
    out = Text.assemble((at, "dim"), " ", (mark, colour), " ", (line.event_type, type_style))
    if line.summary:
        out.append("  ")
        out.append(line.summary, style="red" if line.event_type == "error" else "")
    return out
