"""Which tools the local "model" calls: a fixed rule, so tests and demos can predict it.

Applied when a response is created, to the response's context (the conversation, or
``response.input``) and the tools in effect (``response.tools`` / ``response.tool_choice`` when
the ``response.create`` gives them, else the session's):

1. No calls when ``tool_choice`` is ``"none"``, or when the context ends with
   ``function_call_output`` items: that response answers them (``tool_reply.outputs_text``);
   nor when it ends with an ``mcp_approval_response`` (``mcp_tools`` carries that out).
2. ``tool_choice: {"type": "function", "name": N}``: one call of N (if N is a function tool).
3. Otherwise every function tool whose name occurs as a whole word in the latest user message
   (its ``input_text``, or the transcript of its ``input_audio``) is called once, in the order
   of first mention; two names make two calls in one response. Names match case-sensitively;
   a whole word is not preceded or followed by a letter, digit, ``_`` or ``-``.
4. ``tool_choice: "required"`` and no name mentioned: the first function tool.

Arguments come from ``tool_arguments.build_arguments``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from realtime_console.server.reply import is_user_message, message_text
from realtime_console.server.tool_arguments import build_arguments
from realtime_console.server.tool_reply import trailing_outputs

_WORD_CHARS = "A-Za-z0-9_-"


@dataclass(frozen=True)
class PlannedCall:
    name: str
    arguments: str  # the JSON text sent as the call's arguments


def function_tools(tools: object) -> dict[str, Mapping[str, Any]]:
    """Name → tool, for the ``function`` tools (a tool without ``type`` is one, as in the SDK)."""
    found: dict[str, Mapping[str, Any]] = {}
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, Mapping) or tool.get("type", "function") != "function":
            continue
        name = tool.get("name")
        if isinstance(name, str) and name:
            found.setdefault(name, tool)
    return found


def latest_user_text(context: Sequence[Mapping[str, Any]]) -> str:
    for item in reversed(context):
        if is_user_message(item):
            return message_text(item)
    return ""


def mentioned(text: str, names: Sequence[str]) -> list[str]:
    """The ``names`` that occur in ``text`` as whole words, in the order of first mention."""
    positions: dict[str, int] = {}
    for name in names:
        pattern = rf"(?<![{_WORD_CHARS}]){re.escape(name)}(?![{_WORD_CHARS}])"
        match = re.search(pattern, text)
        if match is not None:
            positions[name] = match.start()
    return sorted(positions, key=lambda name: positions[name])


def plan_calls(
    tools: object, tool_choice: object, context: Sequence[Mapping[str, Any]]
) -> list[PlannedCall]:
    """The calls a response makes (see the module docstring); ``[]`` for an ordinary reply."""
    functions = function_tools(tools)
    if not functions or tool_choice == "none" or trailing_outputs(context):
        return []
    if context and context[-1].get("type") == "mcp_approval_response":
        return []  # that response carries out (or refuses) an MCP call: mcp_tools
    message = latest_user_text(context)
    if isinstance(tool_choice, Mapping):
        named = tool_choice.get("name")
        wanted = [named] if tool_choice.get("type") == "function" and named in functions else []
    else:
        wanted = mentioned(message, list(functions))
        if not wanted and tool_choice == "required":
            wanted = [next(iter(functions))]
    return [
        PlannedCall(
            name=name,
            arguments=json.dumps(
                build_arguments(functions[name].get("parameters"), message),
                ensure_ascii=False,
                separators=(",", ":"),  # compact, as the service sends them
            ),
        )
        for name in wanted
    ]
