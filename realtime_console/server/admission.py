"""How many clients the server takes at once: TCP connections, and Realtime sessions among them.

aiohttp has no connection limit, and (before 3.10, or with its default hour-long keep-alive) a
connection that never completes a request holds a file descriptor indefinitely. A flood of idle
connections then reaches the process's descriptor limit, where every ``accept()`` fails (asyncio
logs each failure with a traceback) and no good client gets in.

``ConnectionLimiter`` is the listening socket's protocol factory: it hands each connection to
aiohttp's and keeps at most ``limit`` open. A connection whose first request has not started
within ``handshake_timeout_s`` of the accept is closed (a trickle of bytes does not extend it).
At the limit the connection idle longest (no request in progress: a handshake not yet sent, or
HTTP keep-alive between requests) is closed to make room, so idle connections cannot lock good
clients out; only when every connection is busy is the newcomer answered 503 and closed.
``SessionGate`` counts Realtime sessions for ``max_sessions``. Both log once when a burst of
refusals starts and once when it ends, never once per refusal.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

FD_RESERVE = 192
"""Descriptors kept free of connections: asyncio accepts up to a backlog (128) of sockets
before the factory sees any of them, and the rest of the process (event logs, WAV files, eSpeak
pipes, the console itself with --local) needs some too."""

OVERLOADED_MESSAGE = "The server is overloaded or not ready yet."


def overloaded_body(detail: str) -> bytes:
    """The service's 503 body (``server_error`` / ``server_overloaded``)."""
    error = {
        "message": f"{OVERLOADED_MESSAGE} ({detail})",
        "type": "server_error",
        "param": None,
        "code": "server_overloaded",
    }
    return json.dumps({"error": error}).encode()


def fitting_limit(wanted: int) -> int:
    """``wanted``, lowered so connections cannot use up the file-descriptor limit."""
    if sys.platform == "win32":
        return wanted  # no RLIMIT_NOFILE; sockets are not bounded by a small table there
    import resource

    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return wanted
    return max(1, min(wanted, soft - FD_RESERVE))


class _Burst:
    """Logs the first refusal of a burst and, when it ends, how many there were."""

    def __init__(self, start: str, end: str) -> None:
        self._start = start
        self._end = end
        self.refused = 0

    def refuse(self, *args: object) -> None:
        if self.refused == 0:
            log.warning(self._start, *args)
        self.refused += 1

    def over(self) -> None:
        if self.refused:
            log.info(self._end, self.refused)
            self.refused = 0


class _Refused(asyncio.Protocol):
    """A connection over the limit while every other one is busy: 503, then close."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        head = (
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(self._body)}\r\nConnection: close\r\n\r\n"
        )
        transport.write(head.encode() + self._body)
        transport.close()


class _Tracked(asyncio.Protocol):
    """aiohttp's protocol for one connection, seen by the limiter on its way in and out."""

    def __init__(self, limiter: ConnectionLimiter, inner: asyncio.Protocol) -> None:
        self._limiter = limiter
        self._inner = inner
        self.transport: asyncio.BaseTransport | None = None
        self.busy = 0  # requests in progress on this connection (a WebSocket session is one)
        self.handshake_timer: asyncio.TimerHandle | None = None  # until the first request

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport
        self._limiter._connected(self)
        self._inner.connection_made(transport)

    def connection_lost(self, exc: Exception | None) -> None:
        self._limiter._lost(self)
        self._inner.connection_lost(exc)

    def handshake_expired(self) -> None:
        self.handshake_timer = None
        if self.busy == 0 and self.transport is not None:
            log.debug("local server: closing a connection that sent no request in time")
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class ConnectionLimiter:
    """A protocol factory around aiohttp's (``web.Server``) holding at most ``limit``
    connections; ``busy(transport)`` marks a request in progress (an app middleware)."""

    def __init__(
        self, factory: Callable[[], asyncio.Protocol], limit: int, handshake_timeout_s: float
    ) -> None:
        self._factory = factory
        self.limit = limit
        self.handshake_timeout_s = handshake_timeout_s
        self._count = 0  # connections made or about to be (factory called, not yet lost)
        self._by_transport: dict[asyncio.BaseTransport, _Tracked] = {}
        self._idle: OrderedDict[_Tracked, None] = OrderedDict()  # longest idle first
        self._burst = _Burst(
            "local server: %d connections open (its limit); closing idle ones and refusing new "
            "ones while every connection is busy",
            "local server: below its connection limit again (%d connections refused or closed)",
        )

    @property
    def open_connections(self) -> int:
        return self._count

    def __call__(self) -> asyncio.Protocol:
        if self._count >= self.limit:
            if not self._evict_idle():
                self._burst.refuse(self._count)
                return _Refused(overloaded_body(f"local server: {self.limit} connections open"))
            self._burst.refuse(self._count)
        else:
            self._burst.over()
        self._count += 1
        return _Tracked(self, self._factory())

    @contextmanager
    def busy(self, transport: asyncio.BaseTransport | None) -> Iterator[None]:
        tracked = self._by_transport.get(transport) if transport is not None else None
        if tracked is None:  # not ours (an app served without this limiter), or already gone
            yield
            return
        tracked.busy += 1
        self._idle.pop(tracked, None)
        if tracked.handshake_timer is not None:  # the first request arrived in time
            tracked.handshake_timer.cancel()
            tracked.handshake_timer = None
        try:
            yield
        finally:
            tracked.busy -= 1
            if tracked.busy == 0 and tracked.transport in self._by_transport:
                self._idle[tracked] = None

    def _evict_idle(self) -> bool:
        while self._idle:
            tracked, _ = self._idle.popitem(last=False)
            transport = tracked.transport
            if transport is not None and not transport.is_closing():
                # Its slot frees when connection_lost comes; the newcomer takes it meanwhile.
                transport.close()
                return True
        return False

    def _connected(self, tracked: _Tracked) -> None:
        assert tracked.transport is not None
        self._by_transport[tracked.transport] = tracked
        self._idle[tracked] = None
        tracked.handshake_timer = asyncio.get_running_loop().call_later(
            self.handshake_timeout_s, tracked.handshake_expired
        )

    def _lost(self, tracked: _Tracked) -> None:
        self._count -= 1
        self._idle.pop(tracked, None)
        if tracked.handshake_timer is not None:
            tracked.handshake_timer.cancel()
            tracked.handshake_timer = None
        if tracked.transport is not None:
            self._by_transport.pop(tracked.transport, None)


class SessionGate:
    """Counts open Realtime sessions against ``max_sessions``."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.open = 0
        self._burst = _Burst(
            "local server: %d Realtime sessions open (max_sessions); refusing new ones with 503 "
            "until one closes",
            "local server: taking Realtime sessions again (%d refused while full)",
        )

    def try_enter(self) -> bool:
        if self.open >= self.limit:
            self._burst.refuse(self.open)
            return False
        self._burst.over()
        self.open += 1
        return True

    def leave(self) -> None:
        self.open -= 1
