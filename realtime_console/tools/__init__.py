"""Function calling for voice sessions: tools defined in Python or in TOML/JSON, and their runs.

::

    tools = load_tools(["examples/tools/weather.py", "examples/tools/tools.toml"])
    session["tools"] = tools.session_tools()             # the session.update entries
    runner = ToolRunner(tools, mode=make_mode("confirm", confirm=ask_user), timeout_s=30)
    results = await runner.run_all(calls_in_response(done_event["response"]))
    # send each result.output_item() in a conversation.item.create, then one response.create

Loading fails with one ``ConfigError`` line naming the file, tool and key; running never
raises (an error result goes back to the model) except on cancellation. Import this package
where tools are used, not at a command module's top: it imports pydantic.
See docs/tools.md.
"""

from __future__ import annotations

from realtime_console.tools.loader import ToolSet, load_source, load_tools
from realtime_console.tools.model import (
    NAME_RULE,
    ArgumentsError,
    CannedResult,
    CommandHandler,
    Handler,
    PythonHandler,
    Tool,
    ToolCall,
    ToolResult,
    calls_in_response,
    error_output,
)
from realtime_console.tools.modes import (
    TOOL_MODES,
    AskMode,
    AutoMode,
    ConfirmMode,
    Decision,
    Declined,
    RunHandler,
    ToolMode,
    ToolModeName,
    UserAnswer,
    make_mode,
)
from realtime_console.tools.runner import DEFAULT_TIMEOUT_S, MAX_OUTPUT_BYTES, ToolRunner
from realtime_console.tools.session import ToolSchemaError, validated_session_tools

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "MAX_OUTPUT_BYTES",
    "NAME_RULE",
    "TOOL_MODES",
    "ArgumentsError",
    "AskMode",
    "AutoMode",
    "CannedResult",
    "CommandHandler",
    "ConfirmMode",
    "Decision",
    "Declined",
    "Handler",
    "PythonHandler",
    "RunHandler",
    "Tool",
    "ToolCall",
    "ToolMode",
    "ToolModeName",
    "ToolResult",
    "ToolRunner",
    "ToolSchemaError",
    "ToolSet",
    "UserAnswer",
    "calls_in_response",
    "error_output",
    "load_source",
    "load_tools",
    "make_mode",
    "validated_session_tools",
]
