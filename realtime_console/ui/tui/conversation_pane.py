"""The scrolling conversation: one ``TurnView`` per turn of the :class:`Conversation` model."""

from __future__ import annotations

from collections.abc import Iterable

from textual.containers import VerticalScroll
from textual.widgets import Static

from realtime_console.redact import Redactor, process_redactor
from realtime_console.ui.tui.conversation import Changes, Conversation, Turn
from realtime_console.ui.tui.render import css_class, render_turn


class TurnView(Static):
    def __init__(self, turn: Turn, redactor: Redactor) -> None:
        rendered = render_turn(turn, redactor)
        super().__init__(rendered, id=f"turn-{turn.key}", classes=css_class(turn))
        self.turn = turn
        self._redactor = redactor

    def redraw(self) -> None:
        """Repaint in place; lay the screen out again only when the turn's height changed
        (a layout pass costs far more than a repaint, and most deltas do not add a line)."""
        self.update(render_turn(self.turn, self._redactor), layout=False)
        size = self.content_size
        if size.width <= 0 or self.get_content_height(size, size, size.width) != size.height:
            self.refresh(layout=True)


class ConversationPane(VerticalScroll):
    """Follows the newest turn (Textual's anchor) until the user scrolls up; scrolling back to
    the bottom, or ``end``, follows again.

    Until it is mounted the pane ignores :meth:`apply`: mounting draws the model as it is then,
    which includes every change made before."""

    def __init__(
        self,
        conversation: Conversation,
        *,
        id: str | None = None,
        redactor: Redactor | None = None,
    ) -> None:
        super().__init__(id=id)
        self._conversation = conversation
        # Every turn is shown redacted like the event log; the process's redactor by default.
        self._redactor = redactor if redactor is not None else process_redactor()
        self._views: dict[int, TurnView] = {}
        self._changed: dict[int, Turn] = {}
        self._dropped: list[Turn] = []
        self.live = False

    def _add_views(self, turns: Iterable[Turn]) -> None:
        views = [TurnView(turn, self._redactor) for turn in turns]
        self._views.update((view.turn.key, view) for view in views)
        if views:
            self.mount_all(views)

    def on_mount(self) -> None:
        self.anchor()
        self._add_views(self._conversation.turns)
        self.live = True

    def on_unmount(self) -> None:
        self.live = False

    def apply(self, changes: Changes) -> None:
        """Note what changed; the app's next frame draws it (:meth:`draw_pending`)."""
        if not self.live:
            return
        for turn in changes.dropped:
            self._changed.pop(turn.key, None)
            self._dropped.append(turn)
        for turn in changes.updated:
            self._changed[turn.key] = turn

    def draw_pending(self) -> None:
        if not (self._changed or self._dropped):
            return
        dropped, self._dropped = self._dropped, []
        changed, self._changed = self._changed, {}
        for turn in dropped:
            view = self._views.pop(turn.key, None)
            if view is not None:
                view.remove()
        new: list[Turn] = []
        for key in sorted(changed):
            view = self._views.get(key)
            if view is None:
                new.append(changed[key])
            else:
                view.redraw()
        self._add_views(new)
