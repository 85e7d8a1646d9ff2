"""The thin I/O adapter: pumps one WebSocket through a ``SessionCore``.

A single coroutine per connection, no helper tasks: it waits for the next client frame *or* the
core's next deadline (``receive(timeout=…)``), whichever comes first, feeds the core, and sends
what the core produced, in order. Pacing and cancellation therefore need no locks or queues:
a ``response.cancel`` is simply the next frame, and the core stops planning deltas.
Sending awaits the socket's drain, so a slow client slows the pump instead of growing a buffer;
and while the pump is busy it does not read, so a client that floods it meets TCP back-pressure
(aiohttp's reader pauses the transport once its small frame queue is full).

MCP work the core asks for (listing a server's tools, calling one) runs in the pump too, right
after the events that asked for it went out and before the next frame is read: the session
waits for the MCP server (at most ``mcp_client.MCP_TIMEOUT_S``), as a turn waits for a model.

Faults (``FaultInjector``) hook in at ``send_event``, the single exit, and just before
``receive_frame``, the single entry (a client frame the faults swallow never reaches the core).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from aiohttp import WSCloseCode, WSMsgType, web

from realtime_console.server.core import SessionCore
from realtime_console.server.faults import Abort, FaultInjector, Send, Sleep, Stall, encode
from realtime_console.server.mcp_client import run_job

log = logging.getLogger(__name__)

_FRAME_TYPES = (WSMsgType.TEXT, WSMsgType.BINARY)


class _Dropped(Exception):
    """The connection was cut on purpose (fault injection)."""


class ConnectionPump:
    """Runs one connection; ``send_event`` is the single exit, where fault injection can hook."""

    def __init__(
        self,
        ws: web.WebSocketResponse,
        core: SessionCore,
        *,
        clock: Callable[[], float] | None = None,
        faults: FaultInjector | None = None,
        abort: Callable[[], None] | None = None,
    ) -> None:
        self._ws = ws
        self._core = core
        self._clock = clock or asyncio.get_running_loop().time
        self._faults = faults
        self._abort = abort  # cuts the TCP connection with no close frame
        self._stalled = False

    async def run(self) -> None:
        """Until the client closes, the server shuts down, or the socket fails."""
        try:
            await self._flush()
            while not self._ws.closed:
                if self._stalled:
                    await self._drain_until_closed()
                    break
                deadline = self._core.next_deadline()
                timeout = None if deadline is None else deadline - self._clock()
                if timeout is not None and timeout <= 0:
                    self._core.handle_timer(self._clock())
                    await self._flush()
                    continue
                try:
                    message = await self._ws.receive(timeout=timeout)
                except asyncio.TimeoutError:
                    continue  # the deadline passed: loop round to handle_timer
                if message.type not in _FRAME_TYPES:
                    break  # CLOSE, CLOSING, CLOSED or ERROR: the connection is over
                await self._receive(message.data)
                await self._flush()
        except _Dropped:
            log.info("fault injection: connection dropped")
        except ConnectionResetError:
            log.debug("client went away while the server was sending")
        except Exception:
            # A bug in the core, not a client mistake (those become error events): the session
            # state can no longer be trusted, so end this connection loudly and keep the server.
            log.exception("local server: internal error; closing the connection")
            await self._ws.close(code=WSCloseCode.INTERNAL_ERROR, message=b"internal error")

    async def _receive(self, frame: str | bytes) -> None:
        instead = self._faults.inbound(frame) if self._faults is not None else None
        if instead is None:
            self._core.receive_frame(frame, self._clock())
            return
        for action in instead:
            await self._carry_out(action)

    async def _flush(self) -> None:
        """Send what the core produced; then do the MCP work it asked for, one job at a time,
        feeding each outcome back (which may produce more events and jobs)."""
        for event in self._core.events_to_send():
            await self.send_event(event)
        for job in self._core.take_jobs():
            outcome = await run_job(job)
            self._core.job_done(job, outcome, self._clock())
            await self._flush()

    async def send_event(self, event: dict[str, Any]) -> None:
        if self._faults is None:
            await self._ws.send_str(encode(event))
            return
        if self._stalled:
            return
        for action in self._faults.actions(event):
            await self._carry_out(action)

    async def _carry_out(self, action: Send | Sleep | Abort | Stall) -> None:
        if isinstance(action, Send):
            await self._ws.send_str(action.frame)
        elif isinstance(action, Sleep):
            await asyncio.sleep(action.seconds)
        elif isinstance(action, Abort):
            if self._abort is None:
                raise RuntimeError("fault injection: no way to abort this connection")
            self._abort()
            raise _Dropped
        else:
            self._stalled = True

    async def _drain_until_closed(self) -> None:
        """A stalled server: read (so the client's frames do not pile up) and answer nothing."""
        while (await self._ws.receive()).type in _FRAME_TYPES:
            pass
