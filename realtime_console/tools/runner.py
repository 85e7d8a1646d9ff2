"""Answers the model's function calls: validate, let the mode decide, run the handler, encode.

Every way a call can go wrong (no such tool, arguments that are not JSON or do not fit, a
handler that raises, times out, exits non-zero or writes too much, a user who declines) ends
as an error result the model can read, ``{"error": "..."}``, never as an exception: the
conversation goes on and the model can tell the user. Only cancellation propagates (the
caller is abandoning the call; a subprocess is killed, a thread abandoned).

Sync Python handlers run in a thread of their own (``threads``), async ones on the loop, and
commands as subprocesses (``command``): none of them blocks the event loop, so audio keeps
flowing while a tool works.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import Any

from realtime_console._compat import TaskGroup, timeout
from realtime_console.redact import Redactor, process_redactor
from realtime_console.tools.command import (
    CommandOutcome,
    OutputTooLarge,
    child_environment,
    run_command,
)
from realtime_console.tools.model import (
    ArgumentsError,
    CannedResult,
    CommandHandler,
    PythonHandler,
    Tool,
    ToolCall,
    ToolResult,
    error_output,
)
from realtime_console.tools.modes import (
    AutoMode,
    Decision,
    Declined,
    RunHandler,
    ToolMode,
    UserAnswer,
)
from realtime_console.tools.modules import one_line
from realtime_console.tools.threads import HandlerExit, run_in_thread

__all__ = ["DEFAULT_TIMEOUT_S", "MAX_OUTPUT_BYTES", "ToolFailure", "ToolRunner"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 30.0  # long enough for a web lookup, short enough that a voice user waits
MAX_OUTPUT_BYTES = 1024 * 1024  # far more than a model should read; bounds a runaway tool
_DISPLAY_CHARS = 200
_MESSAGE_CHARS = 1000


class ToolFailure(Exception):
    """A call that ends in an error result; ``message`` is one line, ``detail`` more context
    for the model only (a command's stderr)."""

    def __init__(self, message: str, detail: str = "", *, status: str = "error") -> None:
        super().__init__(message)
        self.message = one_line(message, _MESSAGE_CHARS)
        self.detail = detail
        self.status = status  # error | timeout | declined


class ToolRunner:
    """Runs calls against ``tools``; one runner per session.

    ``mode`` decides who answers (``modes``; default: the handler). ``timeout_s`` bounds each
    handler run (a tool's own ``timeout_s`` wins); the user's prompts in ask and confirm
    modes are not timed. ``redactor`` masks known secrets in everything a result carries
    (default: the process's). ``env`` is the environment commands start from, minus the
    console's credentials (default: ``os.environ``).
    """

    def __init__(
        self,
        tools: Mapping[str, Tool],
        *,
        mode: ToolMode | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_output_bytes: int = MAX_OUTPUT_BYTES,
        redactor: Redactor | None = None,
        env: Mapping[str, str] | None = None,
    ) -> None:
        if timeout_s <= 0:
            raise ValueError("timeout_s must be > 0")
        self.tools = tools
        self.mode: ToolMode = mode or AutoMode()
        self.timeout_s = timeout_s
        self._max_output_bytes = max_output_bytes
        self._redactor = redactor or process_redactor()
        self._env = child_environment(os.environ if env is None else env)

    async def run(self, call: ToolCall) -> ToolResult:
        """The result for ``call``.

        Nothing a tool or the model does raises here; cancellation does (the subprocess is
        killed, the thread abandoned), and so does a failing prompt of the mode (a UI bug).
        """
        started = time.monotonic()
        try:
            output = await self._answer(call)
        except ToolFailure as failure:
            log.debug("tool call %s (%s) failed: %s", call.call_id, call.name, failure.message)
            output = error_output(failure.message, failure.detail)
            return self._result(call, started, output, failure)
        return self._result(call, started, output, None)

    async def run_all(self, calls: Sequence[ToolCall]) -> list[ToolResult]:
        """All calls of one response at once; the results in the calls' order.

        The caller sends the outputs, then one ``response.create``.
        """
        async with TaskGroup() as group:
            tasks = [group.create_task(self.run(call)) for call in calls]
        return [task.result() for task in tasks]

    # ------------------------------------------------------------------ the steps of a call

    async def _answer(self, call: ToolCall) -> str:
        tool = self.tools.get(call.name)
        if tool is None:
            known = ", ".join(self.tools) or "none"
            raise ToolFailure(f"there is no tool named {call.name!r} (tools: {known})")
        arguments = _decode_arguments(call)
        try:
            kwargs = tool.check(arguments)
        except ArgumentsError as exc:
            raise ToolFailure(f"invalid arguments for {tool.name}: {exc}") from None
        decision: Decision = await self.mode.decide(call)
        match decision:
            case RunHandler():
                return await self._run_handler(tool, arguments, kwargs)
            case UserAnswer(text=text):
                return self._bounded(tool, text)
            case Declined():
                raise ToolFailure(f"the user declined to run {tool.name}", status="declined")

    async def _run_handler(
        self, tool: Tool, arguments: dict[str, Any], kwargs: dict[str, Any]
    ) -> str:
        limit = tool.timeout_s or self.timeout_s
        try:
            async with timeout(limit):
                value = await self._invoke(tool, arguments, kwargs)
        except asyncio.TimeoutError:  # not yet the builtin TimeoutError on Python 3.10
            raise ToolFailure(
                f"{tool.name} timed out after {limit:g} s", status="timeout"
            ) from None
        return self._bounded(tool, self._encode(tool, value))

    async def _invoke(self, tool: Tool, arguments: dict[str, Any], kwargs: dict[str, Any]) -> Any:
        match tool.handler:
            case PythonHandler() as handler:
                return await self._call_python(tool, handler, kwargs)
            case CommandHandler() as handler:
                return await self._call_command(tool, handler, arguments)
            case CannedResult(value=value):
                return value

    async def _call_python(self, tool: Tool, handler: PythonHandler, kwargs: dict[str, Any]) -> Any:
        try:
            if handler.is_async:
                return await handler.function(**kwargs)
            value = await run_in_thread(handler.function, **kwargs)
            if inspect.isawaitable(value):  # a callable object or partial wrapping a coroutine
                value = await value
            return value
        except (Exception, SystemExit) as exc:  # CancelledError is not one: it propagates
            original = exc.original if isinstance(exc, HandlerExit) else exc
            log.debug("tool %s raised", tool.name, exc_info=original)
            raise ToolFailure(f"{tool.name} raised {type(original).__name__}: {original}") from None

    async def _call_command(
        self, tool: Tool, handler: CommandHandler, arguments: dict[str, Any]
    ) -> str:
        stdin = json.dumps(arguments, ensure_ascii=False).encode()
        try:
            outcome = await run_command(
                handler.argv,
                stdin,
                cwd=handler.cwd,
                env=self._env,
                max_output_bytes=self._max_output_bytes,
            )
        except OutputTooLarge:
            raise ToolFailure(
                f"{tool.name} wrote more than {_size(self._max_output_bytes)} of output"
            ) from None
        except OSError as exc:
            raise ToolFailure(
                f"{tool.name}: cannot run {handler.argv[0]}: {exc.strerror or exc}"
            ) from None
        if outcome.returncode != 0:
            raise _exit_failure(tool, outcome)
        return outcome.stdout.rstrip("\r\n")

    # ------------------------------------------------------------------ encoding the result

    def _encode(self, tool: Tool, value: Any) -> str:
        if isinstance(value, str):
            return value
        from pydantic_core import PydanticSerializationError, to_jsonable_python

        try:
            return json.dumps(to_jsonable_python(value), ensure_ascii=False)
        except (PydanticSerializationError, TypeError, ValueError):
            raise ToolFailure(
                f"{tool.name} returned a {type(value).__name__}, which cannot be encoded as JSON"
            ) from None

    def _bounded(self, tool: Tool, output: str) -> str:
        size = len(output.encode("utf-8", errors="replace"))
        if size > self._max_output_bytes:
            raise ToolFailure(
                f"{tool.name} returned {_size(size)}, more than the {_size(self._max_output_bytes)}"
                " limit"
            )
        return output

    def _result(
        self, call: ToolCall, started: float, output: str, failure: ToolFailure | None
    ) -> ToolResult:
        error = ""
        if failure is not None:
            error = one_line(self._redactor.text(failure.message), _DISPLAY_CHARS)
        return ToolResult(
            call_id=call.call_id,
            name=call.name,
            output=self._redactor.text(output),
            is_error=failure is not None,
            duration_s=time.monotonic() - started,
            error=error,
            status="ok" if failure is None else failure.status,
        )


def _decode_arguments(call: ToolCall) -> dict[str, Any]:
    if not call.arguments.strip():
        return {}  # a call without arguments may come as ""
    try:
        arguments = json.loads(call.arguments)
    except json.JSONDecodeError as exc:
        raise ToolFailure(f"the arguments for {call.name} are not valid JSON ({exc})") from None
    if not isinstance(arguments, dict):
        raise ToolFailure(f"the arguments for {call.name} must be a JSON object")
    return arguments


def _exit_failure(tool: Tool, outcome: CommandOutcome) -> ToolFailure:
    code = outcome.returncode
    how = f"was killed by signal {-code}" if code < 0 else f"exited with code {code}"
    stderr = outcome.stderr.strip()
    last_line = stderr.splitlines()[-1] if stderr else ""
    message = f"{tool.name} {how}" + (f": {last_line}" if last_line else "")
    # The model gets more of stderr than the screen's one line, when there is more.
    detail = stderr[-4000:] if stderr != last_line else ""
    return ToolFailure(message, detail=detail)


def _size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MiB"
    if n >= 1024:
        return f"{n / 1024:.3g} KiB"
    return f"{n} bytes"
