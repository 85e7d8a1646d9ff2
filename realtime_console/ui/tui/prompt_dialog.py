"""The full-screen UI's questions (:class:`~realtime_console.ui.view.Questions`): a modal dialog.

A question (a tool call in ``confirm`` or ``ask`` mode, an MCP approval) opens a dialog over
the conversation; the caller awaits a future the dialog resolves. Nothing waits in the event
loop: the conversation, the audio and the event pump go on underneath, and the widgets behind
the dialog keep drawing.

- yes/no (:class:`YesNoDialog`): ``y`` yes, ``n`` no, ``Enter`` the question's default,
  ``Esc`` no.
- text (:class:`TextDialog`): one line; ``Enter`` sends it, ``Esc`` declines (None).

A dialog is modal: it has the keys (the app's m, space, l and q wait until it closes), except
``ctrl+c``, which still quits.

:class:`DialogQueue` shows one dialog at a time: questions asked at once (parallel calls) wait
their turn, first asked first shown. Cancelling the task that awaits an answer (a barge-in, the
call's response cut off, the conversation ending) closes its dialog, or takes it out of the
queue before it shows; once the app has closed, every question is answered "declined".
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar, Generic, TypeVar

from rich.text import Text
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from realtime_console.redact import Redactor, process_redactor
from realtime_console.ui.sanitize import screen_line
from realtime_console.ui.view import Question

T = TypeVar("T")

CALL_LIMIT = 2000
"""Characters of ``name(arguments)`` a dialog shows (the model may write pages): they wrap,
and scroll inside the dialog beyond its height."""
TEXT_LIMIT = 200
"""Characters of the title and the question's own words."""

CSS = """
QuestionDialog {
    align: center middle;
    background: $background 50%;
}
#question {
    width: 80%;
    max-width: 100;
    height: auto;
    max-height: 80%;
    padding: 0 1;
    border: round $warning;
    border-title-color: $warning;
    border-title-style: bold;
    background: $surface;
}
#question-call {
    height: auto;
    max-height: 12;
    scrollbar-size-vertical: 1;
}
#question-ask {
    margin: 1 0 0 0;
}
#question-hint {
    color: $text-muted;
}
"""


class QuestionDialog(ModalScreen[T], Generic[T]):
    """One question: its title on the border, the call (screened, wrapped, bounded), the
    question's words. ``declined`` is the answer when the user or the session walks away."""

    DEFAULT_CSS = CSS
    declined: T
    hint = ""

    def __init__(self, question: Question, redactor: Redactor | None = None) -> None:
        super().__init__()
        self.question = question
        redactor = redactor if redactor is not None else process_redactor()
        # The model chose name and arguments: no terminal controls, no secrets, bounded.
        call = f"{question.name}({question.arguments})"
        self.call_text = screen_line(call, redactor, CALL_LIMIT)
        self.title_text = screen_line(question.title, redactor, TEXT_LIMIT)
        self.ask_text = screen_line(question.ask, redactor, TEXT_LIMIT)

    def compose(self) -> ComposeResult:
        with Vertical(id="question") as box:
            box.border_title = self.title_text
            with VerticalScroll(id="question-call"):
                yield Static(Text(self.call_text, style="bold"))
            yield Static(Text(self.prompt_line()), id="question-ask")
            yield from self.compose_answer()
            yield Static(Text(self.hint), id="question-hint")

    def prompt_line(self) -> str:
        return self.ask_text

    def compose_answer(self) -> ComposeResult:
        yield from ()


class YesNoDialog(QuestionDialog[bool]):
    declined = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y", "answer(True)", "Yes"),
        Binding("n", "answer(False)", "No"),
        Binding("enter", "default", "Default", show=False),
        Binding("escape", "answer(False)", "No", show=False),
    ]

    def __init__(self, question: Question, redactor: Redactor | None = None) -> None:
        super().__init__(question, redactor)
        default = "yes" if question.default else "no"
        self.hint = f"y yes · n no · Enter {default} · Esc no"

    def prompt_line(self) -> str:
        return f"{self.ask_text} {'[Y/n]' if self.question.default else '[y/N]'}"

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    def action_default(self) -> None:
        self.dismiss(self.question.default)


class TextDialog(QuestionDialog[str | None]):
    declined = None
    hint = "Enter sends · Esc declines"
    AUTO_FOCUS = "#question-answer"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "decline", "Decline", show=False),
    ]

    def compose_answer(self) -> ComposeResult:
        yield Input(id="question-answer")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.dismiss(event.value)

    def action_decline(self) -> None:
        self.dismiss(None)


class DialogQueue:
    """Shows the dialogs of ``app`` one at a time and hands their answers back."""

    def __init__(self, app: App[Any]) -> None:
        self._app = app
        self._turn = asyncio.Lock()  # fair: the first question asked is the first shown
        self._ready = asyncio.Event()  # the app is up (a question before mount waits for it)
        self._closed = False
        self._open: tuple[QuestionDialog[Any], asyncio.Future[Any]] | None = None
        self.asked = 0  # dialogs shown, for tests and summaries

    @property
    def showing(self) -> QuestionDialog[Any] | None:
        """The dialog on screen now, if any."""
        return self._open[0] if self._open is not None else None

    def ready(self) -> None:
        """The app is mounted: dialogs can show (call from ``on_mount``)."""
        self._ready.set()

    def close(self) -> None:
        """The app is closing: the open question and every later one is declined."""
        self._closed = True
        self._ready.set()
        if self._open is not None:
            dialog, future = self._open
            if not future.done():
                future.set_result(dialog.declined)

    async def ask(self, dialog: QuestionDialog[T]) -> T:
        async with self._turn:
            await self._ready.wait()
            if self._closed:
                return dialog.declined
            future: asyncio.Future[T] = asyncio.get_running_loop().create_future()

            def answered(result: T | None) -> None:
                if not future.done():
                    future.set_result(result if result is not None else dialog.declined)

            self._app.push_screen(dialog, answered)
            self._open = (dialog, future)
            self.asked += 1
            try:
                return await future
            finally:
                self._open = None
                self._withdraw(dialog)

    def _withdraw(self, dialog: QuestionDialog[Any]) -> None:
        """Take ``dialog`` off the screen if no key did (the caller was cancelled)."""
        if not self._closed and self._app.is_running and self._app.screen is dialog:
            dialog.dismiss(dialog.declined)  # its callback finds the future already done
