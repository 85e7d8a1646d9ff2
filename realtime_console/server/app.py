"""The aiohttp application ("one app, several routes") and ``LocalServer``, its lifecycle.

Routes: the Realtime WebSocket at ``/v1/realtime`` (OpenAI style), ``/openai/v1/realtime``
(Azure GA style) and ``/openai/realtime`` (Azure preview style, ``?deployment=``); the audio chat
completions (HTTP POST) at ``/v1/chat/completions``, ``/openai/v1/chat/completions`` and
``/openai/deployments/{deployment}/chat/completions`` (``realtime_console.server.completions``).
Both kinds share one key check, ``refusal_for``.

Admission (``admission``): at most ``max_connections`` TCP connections (the longest-idle one is
closed to make room), at most ``max_sessions`` Realtime sessions (503 beyond), and a connection
must send its whole first request within ``handshake_timeout_s`` of the accept.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from types import TracebackType

from aiohttp import WSCloseCode, web

from realtime_console.errors import ConfigError
from realtime_console.server.admission import (
    ConnectionLimiter,
    SessionGate,
    fitting_limit,
    overloaded_body,
)
from realtime_console.server.completions import MAX_BODY_BYTES, add_routes
from realtime_console.server.connection import ConnectionPump
from realtime_console.server.core import SessionCore
from realtime_console.server.espeak import synthesizer_for
from realtime_console.server.faults import FaultInjector
from realtime_console.server.options import ServerOptions
from realtime_console.server.session_limit import CLOSE_GOING_AWAY, max_duration_reason
from realtime_console.server.voice import SpeechSynthesizer

log = logging.getLogger(__name__)

REALTIME_PATHS = ("/v1/realtime", "/openai/v1/realtime", "/openai/realtime")

OPTIONS_KEY = web.AppKey("options", ServerOptions)
CONNECTIONS_KEY = web.AppKey("connections", set[web.WebSocketResponse])
LISTEN_BACKLOG = 128  # what aiohttp's TCPSite uses; admission.FD_RESERVE allows for it


@dataclass
class _ServerState:
    synthesizer: SpeechSynthesizer
    sessions: SessionGate
    handshakes: int = 0  # WebSocket handshakes that passed auth, for refuse= and fault seeds
    # Set by LocalServer once it listens; an app served some other way has no connection limit.
    limiter: ConnectionLimiter | None = field(default=None)
    # Told one line per Realtime session opening and closing (``serve`` prints them).
    announce: Callable[[str], None] | None = None


STATE_KEY = web.AppKey("state", _ServerState)


def create_app(
    options: ServerOptions, *, announce: Callable[[str], None] | None = None
) -> web.Application:
    """Raises ``ConfigError`` if the options ask for something unavailable (eSpeak NG).
    ``announce`` gets one line per Realtime session opened and closed."""
    # client_max_size bounds the chat-completions bodies (the WebSocket's frames have their own).
    app = web.Application(client_max_size=MAX_BODY_BYTES, middlewares=[_mark_busy])
    app[OPTIONS_KEY] = options
    state = _ServerState(
        synthesizer=synthesizer_for(options.voice_engine),
        sessions=SessionGate(options.max_sessions),
        announce=announce,
    )
    app[STATE_KEY] = state
    app[CONNECTIONS_KEY] = set()
    for path in REALTIME_PATHS:
        app.router.add_get(path, realtime_endpoint)
    add_routes(app, options=options, synthesizer=state.synthesizer, authorize=refusal_for)
    app.on_shutdown.append(_close_connections)
    return app


@web.middleware
async def _mark_busy(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """A connection with a request in progress (a WebSocket session is one long request) is
    never the one closed to make room for a newcomer."""
    limiter = request.app[STATE_KEY].limiter
    if limiter is None:
        return await handler(request)
    with limiter.busy(request.transport):
        return await handler(request)


def presented_keys(request: web.Request) -> list[str]:
    """Keys from ``Authorization: Bearer KEY`` and ``api-key: KEY`` (Azure), in that order."""
    keys = []
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        keys.append(token.strip())
    if request.headers.get("api-key"):
        keys.append(request.headers["api-key"])
    return keys


def _refusal(status: int, message: str, code: str | None) -> web.Response:
    # The service's HTTP error body; the presented key is never echoed back.
    error = {"message": message, "type": "invalid_request_error", "param": None, "code": code}
    return web.json_response({"error": error}, status=status)


def refusal_for(request: web.Request) -> web.Response | None:
    """The 401 for a request without the server's key, or None to let it through."""
    keys = presented_keys(request)
    if not keys:
        return _refusal(
            401,
            "You didn't provide an API key: send 'Authorization: Bearer KEY' or 'api-key: KEY'.",
            "missing_api_key",
        )
    expected = request.app[OPTIONS_KEY].api_key.encode()
    if not any(hmac.compare_digest(key.encode(), expected) for key in keys):
        return _refusal(401, "Incorrect API key provided.", "invalid_api_key")
    return None


async def realtime_endpoint(request: web.Request) -> web.StreamResponse:
    options = request.app[OPTIONS_KEY]
    refusal = refusal_for(request)
    if refusal is not None:
        return refusal
    ws = web.WebSocketResponse(max_msg_size=options.max_msg_size)
    if not ws.can_prepare(request).ok:
        return _refusal(400, "This endpoint expects a WebSocket upgrade.", "websocket_required")
    state = request.app[STATE_KEY]
    state.handshakes += 1
    number = state.handshakes
    if number <= options.faults.refuse:
        return _refusal(
            503, "The server is overloaded (injected fault); try again.", "server_overloaded"
        )
    if not state.sessions.try_enter():
        return web.Response(
            status=503,
            body=overloaded_body(f"local server: all {options.max_sessions} sessions in use"),
            content_type="application/json",
        )
    try:
        return await _run_session(request, ws, number)
    finally:
        state.sessions.leave()


async def _run_session(
    request: web.Request, ws: web.WebSocketResponse, number: int
) -> web.WebSocketResponse:
    options = request.app[OPTIONS_KEY]
    # OpenAI names the model; Azure names the deployment (and may add api-version, ignored).
    model = request.query.get("model") or request.query.get("deployment") or options.model
    core = SessionCore(
        model=model,
        pacing=options.pacing,
        synthesizer=request.app[STATE_KEY].synthesizer,
        max_context_bytes=options.max_context_bytes,
    )
    faults = FaultInjector(options.faults, number) if options.faults.active else None
    await ws.prepare(request)
    connections = request.app[CONNECTIONS_KEY]
    connections.add(ws)
    log.info("realtime session %s opened on %s", core.session["id"], request.path)
    announce = request.app[STATE_KEY].announce
    if announce is not None:
        announce(opened_line(core.session["id"], request.path, model, request.remote))
    started = asyncio.get_running_loop().time()
    expiry = asyncio.create_task(_expire(ws, options.max_session_s))
    try:
        await ConnectionPump(ws, core, faults=faults, abort=_aborter(request)).run()
    finally:
        expiry.cancel()
        connections.discard(ws)
        with contextlib.suppress(ConnectionResetError):  # after a drop there is no one to tell
            await ws.close()
        log.info("realtime session %s closed", core.session["id"])
        if announce is not None:
            lasted = asyncio.get_running_loop().time() - started
            announce(closed_line(core.session["id"], lasted, ws.close_code))
    return ws


def opened_line(session_id: str, path: str, model: str, remote: str | None) -> str:
    """``serve``'s line for a client that connected: which session, path, model and peer."""
    peer = f" from {remote}" if remote else ""
    return f"-- client connected{peer}: session {session_id} on {path} (model {model})"


def closed_line(session_id: str, lasted_s: float, close_code: int | None) -> str:
    code = f", close code {close_code}" if close_code is not None else ""
    return f"-- client disconnected: session {session_id} after {lasted_s:.1f} s{code}"


async def _expire(ws: web.WebSocketResponse, limit_s: float) -> None:
    """End the session at its maximum duration, as the service does: close 1001 with its reason.

    The pump's pending ``receive()`` then returns the close and the pump ends by itself.
    """
    await asyncio.sleep(limit_s)
    log.info("realtime session reached max_session_s (%g s); closing it", limit_s)
    with contextlib.suppress(ConnectionResetError):
        await ws.close(code=CLOSE_GOING_AWAY, message=max_duration_reason(limit_s).encode())


def _aborter(request: web.Request) -> Callable[[], None]:
    def abort() -> None:
        # No close frame, no FIN handshake: the client sees an abnormal closure (1006).
        if request.transport is not None:
            request.transport.abort()

    return abort


async def _close_connections(app: web.Application) -> None:
    # Without this, shutdown would wait for every client to hang up by itself.
    connections = app[CONNECTIONS_KEY]
    for ws in list(connections):
        await ws.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


class ListenError(ConfigError):
    """The server cannot bind its host and port (busy port, foreign address)."""


class LocalServer:
    """The local server on a TCP port, as an async context manager::

    async with LocalServer(ServerOptions(api_key="k")) as server:
        client = AsyncOpenAI(base_url=server.http_url() + "/v1", api_key="k")
    """

    def __init__(
        self, options: ServerOptions, *, announce: Callable[[str], None] | None = None
    ) -> None:
        self.options = options
        self._announce = announce
        self._runner: web.AppRunner | None = None
        self._listener: asyncio.Server | None = None
        self._limiter: ConnectionLimiter | None = None
        self._port: int | None = None

    async def start(self) -> None:
        if self._runner is not None:
            raise RuntimeError("LocalServer already started")
        if not is_loopback(self.options.host):
            log.warning(
                "local server binds %s: anyone who can reach it and knows the key can use it",
                self.options.host,
            )
        app = create_app(self.options, announce=self._announce)
        runner = web.AppRunner(
            app,
            access_log=None,
            shutdown_timeout=5.0,
            # Idle HTTP keep-alive ends after as long as a handshake may take (aiohttp's default
            # is an hour). A session is one long request: this timer never cuts it.
            keepalive_timeout=self.options.handshake_timeout_s,
        )
        await runner.setup()
        assert runner.server is not None  # set by setup()
        limit = fitting_limit(self.options.max_connections)
        if limit < self.options.max_connections:
            log.info(
                "local server: at most %d connections (max_connections %d does not fit the "
                "file-descriptor limit)",
                limit,
                self.options.max_connections,
            )
        limiter = ConnectionLimiter(runner.server, limit, self.options.handshake_timeout_s)
        try:
            # Instead of aiohttp's TCPSite, whose protocol factory cannot be wrapped: the same
            # create_server call with the limiter in front of aiohttp's factory.
            listener = await asyncio.get_running_loop().create_server(
                limiter, self.options.host, self.options.port, backlog=LISTEN_BACKLOG
            )
        except OSError as exc:
            await runner.cleanup()
            raise ListenError(
                f"local server cannot listen on {self.options.host}:{self.options.port}: "
                f"{exc.strerror or exc}"
            ) from exc
        app[STATE_KEY].limiter = limiter
        self._runner, self._listener, self._limiter = runner, listener, limiter
        self._port = int(listener.sockets[0].getsockname()[1])
        log.info("local realtime server listening on %s", self.http_url())

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()  # no new connections; the open ones are closed by the runner
        if runner is not None:
            await runner.cleanup()
        if listener is not None:
            # Python 3.12+ waits here for every connection to go; the runner has closed them
            # all, but a peer that never reads must not hold up the shutdown.
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(listener.wait_closed(), 1.0)
        self._limiter = None

    @property
    def open_connections(self) -> int:
        """TCP connections open now (0 when stopped); for tests and diagnostics."""
        return self._limiter.open_connections if self._limiter is not None else 0

    async def __aenter__(self) -> LocalServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("LocalServer is not started")
        return self._port

    def http_url(self) -> str:
        """``http://HOST:PORT``; append ``/v1`` for OpenAI clients, ``/openai/v1`` for Azure."""
        host = self.options.host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


async def serve_forever(
    options: ServerOptions,
    *,
    ready: Callable[[LocalServer], None] | None = None,
    announce: Callable[[str], None] | None = None,
) -> None:
    """Run the server until cancelled (Ctrl+C). ``ready`` is called once it is listening, e.g.
    to print ``server.http_url()`` when the port was 0; ``announce`` gets a line per session
    opened and closed."""
    async with LocalServer(options, announce=announce) as server:
        if ready is not None:
            ready(server)
        await asyncio.get_running_loop().create_future()  # never resolves; cancel to stop


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False  # a host name or "": may well be reachable from elsewhere
