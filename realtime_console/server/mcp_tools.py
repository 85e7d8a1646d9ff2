"""MCP tools in a session, without I/O: the servers, their listed tools, which call a response
makes, and the items and text that go with it. ``mcp_client`` does the talking to servers.

The rule (docs/local-server.md, MCP tools), checked when a response is created and no function
tool is called:

1. The context ends with an ``mcp_approval_response``: the request it answers is carried out
   (``approve: true``: the call is made) or refused (``false``: the reply says so).
2. ``tool_choice: "none"``, or the context ends with ``function_call_output`` items: no call.
3. ``tool_choice: {"type": "mcp", "server_label": L, "name": N}``: N on server L (without a
   name: L's first tool).
4. Otherwise the listed tool named first (as a whole word, as for function tools) in the latest
   user message; with ``tool_choice: "required"`` and none named, the first listed tool.

One MCP call per response. Its arguments come from the tool's ``inputSchema`` exactly as a
function tool's come from its ``parameters``. ``require_approval`` (default ``"always"``, as on
the service) decides whether the response asks first with an ``mcp_approval_request``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from realtime_console.server.service_errors import ServiceError
from realtime_console.server.tool_arguments import build_arguments
from realtime_console.server.tool_calls import latest_user_text, mentioned
from realtime_console.server.tool_reply import PREFIX, cut_output, sentence, trailing_outputs


@dataclass(frozen=True)
class McpServer:
    """One ``{"type": "mcp"}`` entry of the session's tools."""

    label: str
    url: str
    headers: tuple[tuple[str, str], ...] = field(repr=False)  # credentials: never shown
    allowed_tools: Any = None
    require_approval: Any = None


def mcp_servers(tools: object) -> list[McpServer]:
    """The MCP servers among a session's tools (entries without ``server_url`` cannot be
    reached from here: connectors and tunnels are the service's own)."""
    servers: list[McpServer] = []
    for tool in tools if isinstance(tools, list) else ():
        if not isinstance(tool, Mapping) or tool.get("type") != "mcp":
            continue
        given = tool.get("headers")
        headers: dict[str, Any] = dict(given) if isinstance(given, Mapping) else {}
        if isinstance(tool.get("authorization"), str):  # the SDK's OAuth token field
            headers = {"Authorization": f"Bearer {tool['authorization']}", **headers}
        servers.append(
            McpServer(
                label=str(tool.get("server_label")),
                url=str(tool.get("server_url") or ""),
                headers=tuple(sorted((str(k), str(v)) for k, v in headers.items())),
                allowed_tools=tool.get("allowed_tools"),
                require_approval=tool.get("require_approval"),
            )
        )
    return servers


def echoed_session(session: Mapping[str, Any]) -> dict[str, Any]:
    """A copy of ``session`` for ``session.created``/``updated``: MCP tools without their
    ``headers`` and ``authorization``. Credentials are write-only: the Responses API says the
    same of ``authorization`` (it is not kept), so echoing them back to every log would be the
    one place they leak."""
    echoed = copy.deepcopy(dict(session))
    tools = echoed.get("tools")
    if isinstance(tools, list):
        echoed["tools"] = [
            {k: v for k, v in tool.items() if k not in ("headers", "authorization")}
            if isinstance(tool, dict) and tool.get("type") == "mcp"
            else tool
            for tool in tools
        ]
    return echoed


@dataclass
class McpListing:
    """A server's ``mcp_list_tools`` item and what it listed (None until listed, or failed)."""

    server: McpServer
    item_id: str
    tools: list[dict[str, Any]] | None = None

    def item(self) -> dict[str, Any]:
        return {
            "id": self.item_id,
            "type": "mcp_list_tools",
            "server_label": self.server.label,
            "tools": list(self.tools or []),
        }


def listed_tools(tools: Sequence[Mapping[str, Any]], allowed: object) -> list[dict[str, Any]]:
    """The tools a server listed, as the ``mcp_list_tools`` item shows them, ``allowed_tools``
    applied (a list of names, or ``{tool_names, read_only}``)."""
    shown = [
        {
            "name": str(tool.get("name")),
            "description": tool.get("description"),
            "input_schema": tool.get("input_schema") or {"type": "object"},
            "annotations": tool.get("annotations"),
        }
        for tool in tools
    ]
    if allowed is None:
        return shown
    return [tool for tool in shown if _matches(tool, allowed)]


def _matches(tool: Mapping[str, Any], tool_filter: object) -> bool:
    """Does ``tool`` match a list of names or a ``{tool_names, read_only}`` filter?"""
    if isinstance(tool_filter, list):
        return tool["name"] in tool_filter
    if not isinstance(tool_filter, Mapping):
        return False
    names = tool_filter.get("tool_names")
    if isinstance(names, list) and tool["name"] not in names:
        return False
    read_only = tool_filter.get("read_only")
    if read_only is not None:
        annotations = tool.get("annotations") or {}
        hint = annotations.get("readOnlyHint") if isinstance(annotations, Mapping) else None
        if bool(hint) != bool(read_only):
            return False
    return isinstance(names, list) or read_only is not None


def needs_approval(tool: Mapping[str, Any], require_approval: object) -> bool:
    """``"never"``: no; ``"always"`` or unset: yes; a filter: no where ``never`` matches, yes
    where ``always`` matches, else yes (the service's default)."""
    if require_approval == "never":
        return False
    if isinstance(require_approval, Mapping):
        never = require_approval.get("never")
        if never is not None and _matches(tool, never):
            return False
    return True


@dataclass(frozen=True)
class McpCallPlan:
    server_label: str
    name: str
    arguments: str  # JSON text
    ask_first: bool = False  # emit an mcp_approval_request instead of calling
    approval_request_id: str | None = None  # the approved (or refused) request behind it
    refused: bool = False  # the client refused: only say so

    @property
    def makes_call(self) -> bool:
        """An ``mcp_call`` item comes first (then the message quoting its answer)."""
        return not self.ask_first and not self.refused


def plan_mcp_call(
    listings: Sequence[McpListing], tool_choice: object, context: Sequence[Mapping[str, Any]]
) -> McpCallPlan | None:
    """The MCP call a response makes (see the module docstring), or None."""
    last = context[-1] if context else {}
    if last.get("type") == "mcp_approval_response":
        return _answered(last, context)
    if tool_choice == "none" or trailing_outputs(context):
        return None
    tools = [(listing, tool) for listing in listings for tool in listing.tools or ()]
    if not tools:
        return None
    message = latest_user_text(context)
    chosen = _chosen(tools, tool_choice, message)
    if chosen is None:
        return None
    listing, tool = chosen
    arguments = build_arguments(tool["input_schema"], message)
    return McpCallPlan(
        server_label=listing.server.label,
        name=tool["name"],
        arguments=json.dumps(arguments, ensure_ascii=False, separators=(",", ":")),
        ask_first=needs_approval(tool, listing.server.require_approval),
    )


_Listed = tuple[McpListing, dict[str, Any]]


def _chosen(tools: list[_Listed], tool_choice: object, message: str) -> _Listed | None:
    if isinstance(tool_choice, Mapping):
        if tool_choice.get("type") != "mcp":
            return None
        label, name = tool_choice.get("server_label"), tool_choice.get("name")
        return next(
            (
                (listing, tool)
                for listing, tool in tools
                if listing.server.label == label and name in (None, tool["name"])
            ),
            None,
        )
    names = mentioned(message, [tool["name"] for _, tool in tools])
    if names:
        return next((listing, tool) for listing, tool in tools if tool["name"] == names[0])
    return tools[0] if tool_choice == "required" else None


def _answered(
    answer: Mapping[str, Any], context: Sequence[Mapping[str, Any]]
) -> McpCallPlan | None:
    request = next(
        (
            item
            for item in context
            if item.get("type") == "mcp_approval_request"
            and item.get("id") == answer.get("approval_request_id")
        ),
        None,
    )
    if request is None:
        return None
    return McpCallPlan(
        server_label=str(request.get("server_label")),
        name=str(request.get("name")),
        arguments=str(request.get("arguments") or "{}"),
        approval_request_id=str(request["id"]),
        refused=answer.get("approve") is not True,
    )


# ---------------------------------------------------------------- items and text


def approval_request_item(item_id: str, plan: McpCallPlan) -> dict[str, Any]:
    return {
        "id": item_id,
        "type": "mcp_approval_request",
        "server_label": plan.server_label,
        "name": plan.name,
        "arguments": plan.arguments,
    }


def call_item(item_id: str, plan: McpCallPlan, arguments: str) -> dict[str, Any]:
    """An ``mcp_call`` item before its answer (``arguments`` as streamed so far)."""
    return {
        "id": item_id,
        "type": "mcp_call",
        "server_label": plan.server_label,
        "name": plan.name,
        "arguments": arguments,
        "approval_request_id": plan.approval_request_id,
        "output": None,
        "error": None,
    }


def call_reply(name: str, output: str | None, error: Mapping[str, Any] | None) -> str:
    """What the response says after the call: ``(local server) get_forecast returned …``."""
    if error is not None:
        return sentence(f"{PREFIX} {name} failed: {cut_output(str(error.get('message') or ''))}")
    return sentence(f"{PREFIX} {name} returned {cut_output(output or '')}")


def refusal_reply(name: str) -> str:
    return f"{PREFIX} The call of {name} was refused."


def check_approval_response(item: Mapping[str, Any], items: Sequence[Mapping[str, Any]]) -> None:
    """Refuse an ``mcp_approval_response`` that answers no ``mcp_approval_request`` in
    ``items`` (the service's wording is not known; this mirrors ``invalid_tool_call_id``)."""
    if item.get("type") != "mcp_approval_response":
        return
    wanted = item.get("approval_request_id")
    if any(i.get("type") == "mcp_approval_request" and i.get("id") == wanted for i in items):
        return
    raise ServiceError(
        "invalid_value",
        f"MCP approval request ID '{wanted}' not found in conversation.",
        param="item.approval_request_id",
    )
