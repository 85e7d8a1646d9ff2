"""Who answers a call: the handler (auto), the handler once the user agrees (confirm), or the
user typing the result (ask).

A mode is a strategy the caller injects into the runner: it decides, the runner carries out
the decision (timeouts, validation and error results stay in one place). Plain mode and the
TUI supply their own prompts as the async callbacks ``confirm(call) -> bool`` and
``ask_result(call) -> str | None`` (None: declined).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal, Protocol, get_args

from realtime_console.tools.model import ToolCall

__all__ = [
    "TOOL_MODES",
    "AskMode",
    "AutoMode",
    "ConfirmMode",
    "Decision",
    "Declined",
    "RunHandler",
    "ToolMode",
    "ToolModeName",
    "UserAnswer",
    "make_mode",
]

ToolModeName = Literal["auto", "ask", "confirm"]
TOOL_MODES: tuple[str, ...] = get_args(ToolModeName)

ConfirmPrompt = Callable[[ToolCall], Awaitable[bool]]
AskPrompt = Callable[[ToolCall], Awaitable[str | None]]  # None: the user declined


@dataclass(frozen=True)
class RunHandler:
    """Run the tool's handler."""


@dataclass(frozen=True)
class UserAnswer:
    """Send ``text`` as the result; the handler does not run."""

    text: str


@dataclass(frozen=True)
class Declined:
    """Do not run the handler; the model hears that the user declined."""


Decision = RunHandler | UserAnswer | Declined


class ToolMode(Protocol):
    async def decide(self, call: ToolCall) -> Decision: ...


class AutoMode:
    async def decide(self, call: ToolCall) -> Decision:
        return RunHandler()


class ConfirmMode:
    def __init__(self, confirm: ConfirmPrompt) -> None:
        self._confirm = confirm

    async def decide(self, call: ToolCall) -> Decision:
        return RunHandler() if await self._confirm(call) else Declined()


class AskMode:
    def __init__(self, ask_result: AskPrompt) -> None:
        self._ask_result = ask_result

    async def decide(self, call: ToolCall) -> Decision:
        text = await self._ask_result(call)
        return Declined() if text is None else UserAnswer(text)


def make_mode(
    name: str, *, ask_result: AskPrompt | None = None, confirm: ConfirmPrompt | None = None
) -> ToolMode:
    """The mode a ``tools.mode`` setting names, with the UI's prompts.

    A missing prompt is the calling code's bug (the UI must offer what the setting allows),
    hence ``ValueError`` rather than ``ConfigError``.
    """
    if name == "auto":
        return AutoMode()
    if name == "confirm":
        if confirm is None:
            raise ValueError("tools mode 'confirm' needs a confirm prompt")
        return ConfirmMode(confirm)
    if name == "ask":
        if ask_result is None:
            raise ValueError("tools mode 'ask' needs an ask_result prompt")
        return AskMode(ask_result)
    raise ValueError(f"unknown tools mode {name!r} (one of {', '.join(TOOL_MODES)})")
