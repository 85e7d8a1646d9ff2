"""The event-log pane: the last :data:`MAX_EVENT_LINES` client/server/meta events, toggled by a key.

Events can come 50 times a second: new lines wait for the app's next frame and are written
together, and while the pane is hidden nothing is drawn at all; showing it redraws the bounded
history at once, so it is never behind.
"""

from __future__ import annotations

from collections import deque

from textual.widgets import RichLog

from realtime_console.ui.tui.event_lines import EventLine, EventLines, render_event_line


class EventPane(RichLog):
    def __init__(self, lines: EventLines, *, id: str | None = None) -> None:
        # Wrapped, not cut at the pane's width: a summary is short, and its end (a status, a
        # count of tokens) is often the part that matters.
        super().__init__(max_lines=lines.max_lines, wrap=True, markup=False, id=id)
        self._lines = lines
        self._unwritten: deque[EventLine] = deque(maxlen=lines.max_lines)
        self.can_focus = False  # keys stay with the app; the mouse wheel still scrolls it

    def on_mount(self) -> None:
        self.display = False
        self._retitle()

    def _retitle(self) -> None:
        kept = len(self._lines)
        older = self._lines.total - kept
        self.border_title = f"events · last {kept}" + (f" ({older} older dropped)" if older else "")

    def toggle(self) -> None:
        self.display = not self.display
        self._unwritten.clear()
        if self.display:
            self.clear()
            for line in self._lines:
                self.write(render_event_line(line))
            self._retitle()

    def add(self, line: EventLine) -> None:
        if self.display:
            self._unwritten.append(line)

    def draw_pending(self) -> None:
        """Write the lines added since the last frame (one layout pass for a burst)."""
        if not self._unwritten:
            return
        while self._unwritten:
            self.write(render_event_line(self._unwritten.popleft()))
        self._retitle()
