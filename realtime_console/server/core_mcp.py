"""MCP tools: listing each server's tools, approval requests, calls, and the reply after them.

The core stays free of I/O: talking to an MCP server is a *job* it hands to the adapter
(``take_jobs``), which runs it (``mcp_client.run_job``) and hands the outcome back
(``job_done``). The connection pump runs jobs as soon as they are queued, before it reads the
next client frame, so nothing else happens in the session meanwhile.

Events, as the service sends them:

- ``session.update`` with an ``mcp`` tool: ``conversation.item.added`` (an ``mcp_list_tools``
  item, no tools yet), ``mcp_list_tools.in_progress``, then ``mcp_list_tools.completed`` (or
  ``.failed``) and ``conversation.item.done`` (the item with the tools).
- A call: ``response.created``, ``response.output_item.added`` (``mcp_call``),
  ``conversation.item.added``, ``response.mcp_call_arguments.delta``…, ``….done``,
  ``response.mcp_call.in_progress``, then with the answer ``response.mcp_call.completed`` (or
  ``.failed``), ``response.output_item.done`` and ``conversation.item.done`` (the item with its
  ``output`` or ``error``), then the assistant message quoting it (output_index 1) and
  ``response.done``.
- Approval first: the response holds one ``mcp_approval_request`` item (added, done) and ends.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from realtime_console.server.call_output import CallOutput
from realtime_console.server.core_responses import ResponseHandlers
from realtime_console.server.core_state import JsonObject
from realtime_console.server.mcp_client import (
    CallToolJob,
    ListToolsJob,
    McpJob,
    McpOutcome,
    no_answer,
)
from realtime_console.server.mcp_tools import (
    McpCallPlan,
    McpListing,
    approval_request_item,
    call_item,
    call_reply,
    listed_tools,
    mcp_servers,
    plan_mcp_call,
)


class McpHandlers(ResponseHandlers):
    # ---- the adapter's interface ----------------------------------------------------------

    def take_jobs(self) -> list[McpJob]:
        """MCP work to do now (list a server's tools, call one); see ``job_done``."""
        jobs, self._jobs = self._jobs, []
        return jobs

    def job_done(self, job: McpJob, outcome: McpOutcome, now: float) -> None:
        """The outcome of a job from ``take_jobs``."""
        if isinstance(job, ListToolsJob):
            self._listed(job, outcome)
        else:
            self._called(job.item_id, outcome, now)

    # ---- listing ----------------------------------------------------------------------------

    def _sync_mcp_servers(self) -> None:
        """After a session update: list the tools of each MCP server that is new or changed."""
        servers = {server.label: server for server in mcp_servers(self.session.get("tools"))}
        for label, listing in list(self._mcp_listings.items()):
            if servers.get(label) != listing.server:
                del self._mcp_listings[label]  # removed or changed: its listing no longer counts
        for label, server in servers.items():
            if label in self._mcp_listings:
                continue
            listing = McpListing(server, self._ids.new("item"))
            self._mcp_listings[label] = listing
            self._emit_from_stream(
                {
                    "type": "conversation.item.added",
                    "previous_item_id": None,
                    "item": listing.item(),
                }
            )
            self._emit({"type": "mcp_list_tools.in_progress", "item_id": listing.item_id})
            job = ListToolsJob(server, listing.item_id)
            if server.url:
                self._jobs.append(job)
            else:  # a connector or tunnel: the service's own, out of reach here
                unreachable = no_answer("only MCP servers given by server_url can be reached")
                self._listed(job, McpOutcome(error=unreachable))

    def _listed(self, job: ListToolsJob, outcome: McpOutcome) -> None:
        listing = self._mcp_listings.get(job.server.label)
        if listing is None or listing.item_id != job.item_id:
            return  # the session changed meanwhile: this listing is gone
        if outcome.tools is None:
            self._emit({"type": "mcp_list_tools.failed", "item_id": listing.item_id})
        else:
            listing.tools = listed_tools(outcome.tools, job.server.allowed_tools)
            self._emit({"type": "mcp_list_tools.completed", "item_id": listing.item_id})
        self._emit_from_stream(
            {"type": "conversation.item.done", "previous_item_id": None, "item": listing.item()}
        )

    # ---- responses --------------------------------------------------------------------------

    def _plan_mcp(self, tool_choice: object, context: list[JsonObject]) -> McpCallPlan | None:
        return plan_mcp_call(list(self._mcp_listings.values()), tool_choice, context)

    def _begin_mcp_response(self, plan: McpCallPlan, now: float) -> None:
        assert self._active is not None
        stream = self._active.stream
        for opening in stream.opening_events(None):  # response.created only: no message yet
            self._emit_from_stream(opening)
        item_id = self._ids.new("item")
        if plan.ask_first:
            request = approval_request_item(item_id, plan)
            stream.leading = [request]
            self._emit_item("response.output_item.added", request)
            self._emit_item("response.output_item.done", request)
            stream.waiting = False
            self.handle_timer(now)  # nothing more to send: response.done
            return
        stream.leading = [call_item(item_id, plan, "")]
        self._emit_item("response.output_item.added", stream.leading[0])
        where = {"response_id": stream.spec.response_id, "item_id": item_id, "output_index": 0}
        pieces = CallOutput(item_id, "", plan.name, plan.arguments, 0).pieces()
        for piece in pieces:
            self._emit({"type": "response.mcp_call_arguments.delta", **where, "delta": piece})
        self._emit(
            {"type": "response.mcp_call_arguments.done", **where, "arguments": plan.arguments}
        )
        self._emit({"type": "response.mcp_call.in_progress", "item_id": item_id, "output_index": 0})
        stream.leading = [call_item(item_id, plan, plan.arguments)]
        listing = self._mcp_listings.get(plan.server_label)
        if listing is None:  # approved after its server left the session
            gone = no_answer(f"no MCP server labelled '{plan.server_label}' in the session")
            self._called(item_id, McpOutcome(error=gone), now)
            return
        self._jobs.append(
            CallToolJob(listing.server, plan.name, _arguments(plan.arguments), item_id)
        )

    def _called(self, item_id: str, outcome: McpOutcome, now: float) -> None:
        """The MCP server answered (or failed): close the call item, then say what it returned."""
        active = self._active
        if active is None or [i.get("id") for i in active.stream.leading] != [item_id]:
            return  # the response ended meanwhile
        error = outcome.error
        done = {**active.stream.leading[0], "output": outcome.output, "error": error}
        kind = "response.mcp_call.failed" if error is not None else "response.mcp_call.completed"
        self._emit({"type": kind, "item_id": item_id, "output_index": 0})
        active.stream.leading = [done]
        self._emit_item("response.output_item.done", done)
        text = call_reply(done["name"], outcome.output, error)
        self._start_stream(self._plan_message(active.stream.spec, text, now), now, created=False)

    def _emit_item(self, kind: str, item: JsonObject) -> None:
        """``response.output_item.added``/``done`` of a leading item (output_index 0), and the
        matching ``conversation.item.*`` when the response writes to the conversation."""
        assert self._active is not None
        spec = self._active.stream.spec
        self._emit(
            {
                "type": kind,
                "response_id": spec.response_id,
                "output_index": 0,
                "item": copy.deepcopy(item),
            }
        )
        if spec.in_conversation:
            conversation_kind = kind.replace("response.output_item", "conversation.item")
            self._emit_from_stream(
                {"type": conversation_kind, "previous_item_id": None, "item": copy.deepcopy(item)}
            )


def _arguments(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
