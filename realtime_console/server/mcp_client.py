"""The local server as an MCP client: list a server's tools, call one (the only I/O of MCP).

The core asks for this work as *jobs* (``ListToolsJob``, ``CallToolJob``) and gets an
``McpOutcome`` back (``SessionCore.take_jobs`` / ``job_done``); the connection pump runs them.
Each job opens its own Streamable HTTP session with the official ``mcp`` package (optional:
``pip install 'realtime-console[mcp]'``), sends the tool's ``headers`` with every request, and
closes it. Failures become the error shapes of the SDK's ``mcp_call`` item (``http_error``,
``protocol_error``, ``tool_execution_error``); nothing here raises except on cancellation.
Headers (credentials) are never logged; log lines name the server label only.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from realtime_console._compat import leaf_exceptions, wait_for
from realtime_console.server.mcp_tools import McpServer

if TYPE_CHECKING:
    from mcp import Client

log = logging.getLogger(__name__)

MCP_TIMEOUT_S = 20.0  # one list or call, connection included: the session waits this long at most
# JSON-RPC's "server error" code, for failures that are not the server's answer (unreachable,
# too slow, no mcp package): the mcp_call item's protocol_error needs a code.
NO_ANSWER_CODE = -32000


@dataclass(frozen=True)
class ListToolsJob:
    server: McpServer
    item_id: str  # the mcp_list_tools item


@dataclass(frozen=True)
class CallToolJob:
    server: McpServer
    name: str
    arguments: dict[str, Any] = field(hash=False)
    item_id: str  # the mcp_call item


McpJob = ListToolsJob | CallToolJob


@dataclass(frozen=True)
class McpOutcome:
    tools: list[dict[str, Any]] | None = (
        None  # a list: name, description, input_schema, annotations
    )
    output: str | None = None  # a call's text
    error: dict[str, Any] | None = None  # {"type": …, "message": …, "code"?: …}


async def run_job(job: McpJob, timeout_s: float = MCP_TIMEOUT_S) -> McpOutcome:
    """Carry out ``job``; every failure is an outcome with an ``error``."""
    try:
        return await wait_for(_run(job), timeout_s)
    except TimeoutError:
        return _failed(job, no_answer(f"the MCP server did not answer within {timeout_s:g} s"))
    except ImportError:
        message = "the mcp package is not installed (pip install 'realtime-console[mcp]')"
        return _failed(job, no_answer(message))
    except Exception as exc:  # third-party errors of any kind, mapped at this edge
        return _failed(job, _error_of(exc))


async def _run(job: McpJob) -> McpOutcome:
    async with _client(job.server) as client:
        if isinstance(job, ListToolsJob):
            listed = await client.list_tools()
            return McpOutcome(tools=[_tool_json(tool) for tool in listed.tools])
        result = await client.call_tool(job.name, job.arguments)
        text = "\n".join(
            str(getattr(part, "text", "")) for part in result.content if hasattr(part, "text")
        )
        if not text and result.structured_content is not None:
            text = json.dumps(result.structured_content, ensure_ascii=False)
        if result.is_error:
            return McpOutcome(error={"type": "tool_execution_error", "message": text})
        return McpOutcome(output=text)


def _client(server: McpServer) -> Client:
    from mcp import Client
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client  # the SDK's default timeouts

    http = create_mcp_http_client(headers=dict(server.headers))
    return Client(streamable_http_client(server.url, http_client=http), mode="legacy")


def _tool_json(tool: Any) -> dict[str, Any]:
    annotations = (
        tool.annotations.model_dump(by_alias=True, exclude_none=True) if tool.annotations else None
    )  # as on the wire: readOnlyHint
    return {
        "name": tool.name,
        "description": tool.description,
        "input_schema": tool.input_schema,
        "annotations": annotations,
    }


def _failed(job: McpJob, error: dict[str, Any]) -> McpOutcome:
    # The label, never the headers or the URL (which may carry a token).
    log.info("local server: MCP server %r: %s", job.server.label, error["message"])
    return McpOutcome(error=error)


def no_answer(message: str) -> dict[str, Any]:
    return {"type": "protocol_error", "code": NO_ANSWER_CODE, "message": message}


def _error_of(exc: BaseException) -> dict[str, Any]:
    """The ``mcp_call`` error for an exception (the first leaf of an exception group)."""
    exc = leaf_exceptions(exc)[0]
    response = getattr(exc, "response", None)
    status = getattr(response, "status_code", None)
    if isinstance(status, int):
        return {"type": "http_error", "code": status, "message": f"HTTP {status} from the server"}
    error = getattr(exc, "error", None)  # mcp.MCPError: the server's JSON-RPC error
    code = getattr(error, "code", None)
    if isinstance(code, int):
        return {
            "type": "protocol_error",
            "code": code,
            "message": str(getattr(error, "message", "")),
        }
    return no_answer(f"cannot reach the MCP server ({type(exc).__name__}: {exc})")
