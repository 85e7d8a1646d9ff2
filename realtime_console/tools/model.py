"""The nouns of function calling: a tool, its handler, a call from the model and its result.

Pure data: loading (``loader``) builds :class:`Tool` objects, running (``runner``) turns a
:class:`ToolCall` into a :class:`ToolResult`. Nothing here imports pydantic or the SDK.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

__all__ = [
    "NAME_RULE",
    "ArgumentsCheck",
    "ArgumentsError",
    "CannedResult",
    "CommandHandler",
    "Handler",
    "PythonHandler",
    "Tool",
    "ToolCall",
    "ToolResult",
    "calls_in_response",
    "error_output",
    "name_problem",
]

# The service's rule for function names (session.update is refused otherwise).
NAME_RULE = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


def name_problem(name: str) -> str | None:
    """Why ``name`` cannot be a tool name, or ``None`` when it can."""
    if NAME_RULE.match(name):
        return None
    return f"tool name {name!r} must be 1 to 64 letters, digits, '_' or '-'"


class ArgumentsError(ValueError):
    """The model's arguments do not fit the tool's parameters; ``str()`` says where."""


class ArgumentsCheck(Protocol):
    """Validates the decoded arguments; returns the keyword arguments for a Python handler."""

    def __call__(self, arguments: dict[str, Any], /) -> dict[str, Any]: ...


@dataclass(frozen=True)
class PythonHandler:
    """A Python function, sync (run in a thread) or async (awaited on the loop)."""

    function: Callable[..., Any]
    is_async: bool


@dataclass(frozen=True)
class CommandHandler:
    """A program: the arguments as JSON on stdin, the result from stdout."""

    argv: tuple[str, ...]
    cwd: Path | None = None  # the tool file's folder, so relative script paths work anywhere


@dataclass(frozen=True)
class CannedResult:
    """A fixed answer (mocking a tool): a string as is, anything else as JSON."""

    value: Any


Handler = PythonHandler | CommandHandler | CannedResult


def _accept_any(arguments: dict[str, Any]) -> dict[str, Any]:
    return arguments


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]  # a JSON schema with "type": "object"
    handler: Handler
    source: str  # the file or module it came from, for messages
    check: ArgumentsCheck = field(default=_accept_any, compare=False, repr=False)
    timeout_s: float | None = None  # None: the runner's default

    def session_entry(self) -> dict[str, Any]:
        """The ``session.tools`` entry the model sees."""
        return {
            "type": "function",
            "name": self.name,
            "description": self.description,
            "parameters": self.parameters,
        }


@dataclass(frozen=True)
class ToolCall:
    """One ``function_call`` item of a response: what the model asked for."""

    name: str
    call_id: str
    arguments: str  # a JSON string, as the service sends it

    @property
    def shown_arguments(self) -> str:
        """The arguments as the screen shows them: JSON re-spaced the one way (``{"city":
        "Paris"}``) whatever spacing the service used; the text as sent when it is not JSON."""
        try:
            return json.dumps(json.loads(self.arguments), ensure_ascii=False)
        except (ValueError, RecursionError):
            return " ".join(self.arguments.split())

    @classmethod
    def from_item(cls, item: Mapping[str, Any]) -> ToolCall:
        """From a ``function_call`` conversation item (``response.output_item.done``)."""
        return cls(
            name=str(item.get("name", "")),
            call_id=str(item.get("call_id", "")),
            arguments=str(item.get("arguments") or ""),
        )


def calls_in_response(response: Mapping[str, Any]) -> list[ToolCall]:
    """The function calls of a ``response.done`` event's ``response``, in output order.

    The caller decides what to do with the calls of a cancelled or incomplete response (their
    arguments may be cut off); this only picks them out.
    """
    output = response.get("output")
    if not isinstance(output, list):
        return []
    return [
        ToolCall.from_item(item)
        for item in output
        if isinstance(item, Mapping) and item.get("type") == "function_call"
    ]


@dataclass(frozen=True)
class ToolResult:
    """What goes back to the model, and what the screen shows about it."""

    call_id: str
    name: str
    output: str  # function_call_output.output
    is_error: bool
    duration_s: float
    error: str = ""  # one short line for display; "" when the call succeeded
    # ok | error | timeout | declined: how it ended, for the screen and the event log's
    # tool_call line (a cancelled call has no result: nothing is sent for it)
    status: str = "ok"

    def output_item(self) -> dict[str, Any]:
        """The ``item`` of the ``conversation.item.create`` that answers the call."""
        return {"type": "function_call_output", "call_id": self.call_id, "output": self.output}


def error_output(message: str, detail: str = "") -> str:
    """The output the model receives for a failed call: JSON it can read and explain.

    ``detail`` is more context for the model than the screen shows (a command's stderr).
    """
    payload = {"error": message, "detail": detail} if detail else {"error": message}
    return json.dumps(payload, ensure_ascii=False)
