"""Opens a realtime session for any mode: target, credential, event log, connection, reader.

``--local`` (or ``provider = "local"``) starts the built-in server in-process on a free loopback
port with a random key and then connects through exactly the same SDK path as a remote endpoint.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any

from realtime_console import __version__
from realtime_console._imports import without_gc
from realtime_console.auth import Credential, credential_for, no_azure_endpoint
from realtime_console.connection import (
    LinkSlot,
    RealtimeLink,
    Reconnector,
    Target,
    azure_websocket_base_url,
    open_link,
)
from realtime_console.dispatcher import ANY, Dispatcher, Event
from realtime_console.errors import AuthError, ConnectionLost
from realtime_console.eventlog import EventLogWriter
from realtime_console.modes.recycle_policy import RecyclePolicy
from realtime_console.protocol.client_events import session_update
from realtime_console.protocol.history import ConversationHistory
from realtime_console.protocol.pcm import SAMPLE_WIDTH, b64_decoded_len
from realtime_console.protocol.session import build_session, with_tools
from realtime_console.redact import Redactor
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import (
    EventWaiters,
    any_of,
    error_for,
    is_type,
    settle,
    unattributed_error,
)

if TYPE_CHECKING:
    from realtime_console.config import Settings
    from realtime_console.modes.mcp_calls import McpCalls

# Microphone audio held while a session renewal swaps the link, in base64 characters: about
# 16 s of 24 kHz PCM16, far more than a renewal takes; beyond it the oldest audio is dropped.
MAX_HELD_AUDIO_CHARS = 1 << 20


class Session:
    """One live conversation: its link (replaced after a reconnect), reader plumbing and state.

    ``send()`` is how modes send: while the link is down (between a drop and the end of the
    restore) it sends nothing and returns False; the caller decides whether the event matters
    (a chat turn is re-asked, a microphone block is simply dropped). ``generation`` counts
    reconnects; ``lost(generation)`` completes when that connection drops. While a recycle
    renews the session (``begin_renewal`` … ``end_renewal``) sends wait for the new link, and
    microphone audio is held for it.

    Until the first ``session.update`` is answered the session is *starting*: a drop then is a
    start-up failure, not something to reconnect from (there is nothing to restore yet, and a
    server that drops every new session would otherwise be retried for half a minute).
    """

    def __init__(
        self,
        link: RealtimeLink,
        dispatcher: Dispatcher,
        waiters: EventWaiters,
        event_log: EventLogWriter | None,
        session_config: dict[str, Any],
        created: asyncio.Future[Event],  # registered before the reader starts: cannot be missed
        *,
        history: ConversationHistory | None = None,
        reconnector: Reconnector | None = None,
        started_at: float | None = None,
        recycle: RecyclePolicy | None = None,
    ) -> None:
        self.link = link
        self.dispatcher = dispatcher
        self.waiters = waiters
        self.event_log = event_log
        self.session_config = session_config
        self.created = created
        self.history = history if history is not None else ConversationHistory()
        self.reconnector = reconnector
        self.recycle = recycle  # None: never renewed before the service's limit
        self.generation = 0
        self.on_lost: list[Callable[[], None]] = []  # called when the link drops (then retried)
        self.on_restored: list[Callable[[], None]] = []  # called when a reconnect completed
        self._connected = asyncio.Event()
        self._connected.set()
        loop = asyncio.get_running_loop()
        self._down: asyncio.Future[None] = loop.create_future()
        self._failure: ConnectionLost | None = None
        self.started_at = loop.time() if started_at is None else started_at  # the link opened
        self.configured: asyncio.Future[Event] | None = None  # the answer to session.update
        # Each says whether the mode is mid-exchange (speech, a reply, an unsent turn): the
        # recycle waits for a moment when none is.
        self.busy: list[Callable[[], bool]] = []
        self.renewing: asyncio.Future[None] | None = None  # a recycle is swapping the link
        self.renew_not_before = 0.0  # loop time: after a failed renewal, the next try waits
        self._held: collections.deque[dict[str, Any]] = collections.deque()  # audio, renewing
        self._held_chars = 0
        # Samples of held audio dropped past the bound in this renewal: the renewed server
        # session never counts them (a mode that maps its sent audio onto the server's count
        # needs to know; modes/talk.py).
        self.held_dropped_samples = 0
        self.on_renewed: list[Callable[[], None]] = []  # called when a renewal ended, either way
        self.mcp: McpCalls | None = None  # with tools.mcp: the MCP servers' lines, approvals

    def quiet(self) -> bool:
        return (
            self.connected
            and self.renewing is None
            and self.awaiting() is None  # still starting: nothing to renew yet
            and not any(b() for b in self.busy)
        )

    def begin_renewal(self) -> None:
        """A recycle starts: until ``end_renewal``, microphone audio is held and every other
        send waits, so nothing reaches a server session that is about to be retired."""
        self.renewing = asyncio.get_running_loop().create_future()
        self.held_dropped_samples = 0

    async def end_renewal(self) -> None:
        """The recycle is over, on the new link or (if it failed) still on the old one: the
        audio held meanwhile goes out first, in order, then the waiting sends."""
        try:
            while self._held:
                event = self._held.popleft()
                self._held_chars -= len(event["audio"])
                if self._failure is None:
                    with contextlib.suppress(ConnectionLost):  # the reader sees the drop
                        await self.link.send(event)
        finally:
            self._held.clear()
            self._held_chars = 0
            renewing, self.renewing = self.renewing, None
            if renewing is not None and not renewing.done():
                renewing.set_result(None)
            for callback in self.on_renewed:
                callback()

    def _hold(self, event: dict[str, Any]) -> bool:
        """Keep a microphone append for the renewed link; past the bound, the oldest goes (live
        audio: the newest matters). The user may start speaking during a renewal: those first
        words must reach the new session's VAD."""
        self._held.append(event)
        self._held_chars += len(event["audio"])
        while self._held_chars > MAX_HELD_AUDIO_CHARS:
            dropped = self._held.popleft()
            self._held_chars -= len(dropped["audio"])
            self.held_dropped_samples += b64_decoded_len(dropped["audio"]) // SAMPLE_WIDTH
        return True

    def awaiting(self) -> str | None:
        """What the start-up still waits for (an event type), or None once it is over.

        Read from the waiters' futures, which the reader completes as it dispatches: a drop
        right after the answer arrived is never mistaken for a start-up failure.
        """
        if not self.created.done():
            return "session.created"
        if self.configured is None or not self.configured.done():
            return "session.updated"
        return None

    @property
    def connected(self) -> bool:
        return self._connected.is_set() and self._failure is None

    async def send(self, event: dict[str, Any]) -> bool:
        """Send on the current link; False if it is down (the event was not sent)."""
        if self._failure is not None:
            raise self._failure
        if self.renewing is not None:
            if event.get("type") == "input_audio_buffer.append":
                return self._hold(event)
            await asyncio.shield(self.renewing)
            if self._failure is not None:
                raise self._failure
        if not self._connected.is_set():
            return False
        try:
            await self.link.send(event)
        except ConnectionLost:
            if self.reconnector is None:
                raise
            return False  # the reader sees the same drop and reconnects
        return True

    async def wait_connected(self) -> int:
        """Wait until the link is up (after a reconnect, restored); its generation."""
        await self._connected.wait()
        if self._failure is not None:
            raise self._failure
        return self.generation

    def lost(self, generation: int) -> asyncio.Future[None]:
        """Completes when connection ``generation`` drops (at once if it already has)."""
        if generation == self.generation and self._connected.is_set():
            return self._down
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def link_down(self) -> None:
        self._connected.clear()
        if not self._down.done():
            self._down.set_result(None)
        for callback in self.on_lost:
            callback()

    def link_up(self, link: RealtimeLink) -> None:
        self.link = link
        self.generation += 1
        self._down = asyncio.get_running_loop().create_future()
        self._connected.set()
        for callback in self.on_restored:
            callback()

    def fail(self, exc: ConnectionLost) -> None:
        """Lost for good: every waiter, and every later send or wait, gets ``exc``."""
        self._failure = exc
        self.waiters.fail(exc)
        if not self._down.done():
            self._down.set_result(None)
        self._connected.set()  # wakes wait_connected(), which then raises


@contextlib.asynccontextmanager
async def _local_target(settings: Settings) -> AsyncIterator[tuple[Target, Credential]]:
    with without_gc():  # the server imports the SDK's types: most of the start-up (_imports.py)
        from realtime_console.server.app import LocalServer
        from realtime_console.server.options import ServerOptions

    key = secrets.token_urlsafe(24)
    # eSpeak NG speech when installed (real speech for demos and for VAD), else the synthetic voice.
    async with LocalServer(ServerOptions(api_key=key, voice_engine="auto")) as server:
        base = azure_websocket_base_url(server.http_url())
        yield (
            Target("local", settings.connection.deployment, websocket_base_url=base),
            Credential(key, "local server key"),
        )


@contextlib.asynccontextmanager
async def _remote_target(
    settings: Settings, env: Mapping[str, str], redactor: Redactor
) -> AsyncIterator[tuple[Target, Credential]]:
    conn = settings.connection
    if conn.provider == "azure" and not conn.endpoint:
        raise AuthError(no_azure_endpoint(settings.profile_name or settings.profile_path))
    credential = credential_for(conn, env=env, redactor=redactor)
    try:
        if conn.provider == "azure":
            assert conn.endpoint is not None
            base = azure_websocket_base_url(conn.endpoint)
            target = Target("azure", conn.deployment, websocket_base_url=base)
        else:
            target = Target("openai", conn.deployment, base_url=conn.endpoint)
        yield target, credential
    finally:
        await credential.aclose()


def target_context(
    settings: Settings, env: Mapping[str, str], redactor: Redactor
) -> contextlib.AbstractAsyncContextManager[tuple[Target, Credential]]:
    if settings.connection.provider == "local":
        return _local_target(settings)
    return _remote_target(settings, env, redactor)


@contextlib.asynccontextmanager
async def _recorded_target(
    settings: Settings,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    session_config: dict[str, Any],
    log_path: str | os.PathLike[str] | None,
    on_log_error: Callable[[str], None] | None = None,
) -> AsyncIterator[tuple[Target, Credential, EventLogWriter | None]]:
    """Resolve the target and open the event log (when ``log_path``); its header records
    ``session_config``: the session this run asks for."""
    async with contextlib.AsyncExitStack() as stack:
        target, credential = await stack.enter_async_context(
            target_context(settings, env, redactor)
        )
        event_log = None
        if log_path:
            event_log = stack.enter_context(
                EventLogWriter(
                    log_path,
                    provider=target.provider,
                    model=target.model,
                    session=session_config,
                    program_version=__version__,
                    redactor=redactor,
                    audio=settings.log.audio,
                    on_error=on_log_error,
                )
            )
        yield target, credential, event_log


@contextlib.asynccontextmanager
async def open_recorded_link(
    settings: Settings,
    *,
    env: Mapping[str, str],
    view: ConsoleView,
    redactor: Redactor,
    session_config: dict[str, Any],
    log_path: str | os.PathLike[str] | None,
) -> AsyncIterator[tuple[RealtimeLink, EventLogWriter | None]]:
    """Resolve the target, open the event log (when ``log_path``) and connect (no reconnects)."""
    async with _recorded_target(
        settings,
        env=env,
        redactor=redactor,
        session_config=session_config,
        log_path=log_path,
        on_log_error=view.notice,
    ) as (target, credential, event_log):
        async with open_link(
            target,
            credential,
            event_log=event_log,
            on_notice=view.notice,
            connect_timeout_s=settings.connection.connect_timeout_s,
        ) as link:
            yield link, event_log


@contextlib.asynccontextmanager
async def open_session(
    settings: Settings,
    *,
    env: Mapping[str, str],
    view: ConsoleView,
    redactor: Redactor,
    recycle: RecyclePolicy | None = None,
    tools: list[dict[str, Any]] | None = None,
) -> AsyncIterator[Session]:
    """Connect, configure the session (``session.update``) and yield; the caller runs the reader.

    ``tools``: the ``session.tools`` entries the model may call (with ``tools.tool_choice``).

    With ``connection.reconnect_attempts`` > 0 the reader reconnects after a drop (see
    ``pump_events``) through the same target and credential, into the same event log, and
    renews the session before the service's time limit (``recycle``, by default from
    ``connection.session_limit_s``; see ``modes/recycle.py``).
    """
    from realtime_console.modes.mcp_calls import session_mcp

    # MCP servers (tools.mcp) first: an unset header variable is exit 2 before connecting.
    mcp = session_mcp(settings, env, redactor, view)
    tools = [*(tools or []), *(mcp.entries if mcp is not None else [])]
    session_config = with_tools(build_session(settings.session), tools, settings.tools.tool_choice)
    conn = settings.connection
    async with _recorded_target(
        settings,
        env=env,
        redactor=redactor,
        session_config=session_config,
        log_path=settings.log.events,
        on_log_error=view.notice,
    ) as (target, credential, event_log):
        slot = LinkSlot(
            target,
            credential,
            event_log=event_log,
            on_notice=view.notice,
            connect_timeout_s=conn.connect_timeout_s,
        )
        try:
            link = await slot.open()  # within connect_timeout_s, or ConnectionLost
            # configure()'s deadline counts from here: the handshake had its own, and the first
            # connect also pays for importing the SDK, which says nothing about the server.
            started_at = asyncio.get_running_loop().time()
            waiters = EventWaiters()
            dispatcher = Dispatcher(
                on_handler_error=lambda kind, exc: view.notice(f"handler for {kind} failed: {exc}")
            )
            history = ConversationHistory()
            dispatcher.on(ANY, history)  # before the waiters: a woken mode sees the item
            dispatcher.on(ANY, waiters)
            created = waiters.expect(is_type("session.created"))
            reconnector = None
            if conn.reconnect_attempts > 0:
                reconnector = Reconnector(
                    slot,
                    attempts=conn.reconnect_attempts,
                    on_notice=view.notice,
                    event_log=event_log,
                    timeout_s=conn.connect_timeout_s,
                )
            session = Session(
                link,
                dispatcher,
                waiters,
                event_log,
                session_config,
                created,
                history=history,
                reconnector=reconnector,
                started_at=started_at,
                recycle=_recycle_policy(settings, recycle) if reconnector is not None else None,
            )
            if mcp is not None:  # its lines and approvals (modes/mcp_calls.py)
                mcp.attach(session.send, event_log)
                dispatcher.register(mcp.table())
                session.on_lost.append(mcp.forget)
                session.mcp = mcp
            yield session
        finally:
            await slot.aclose()


def _recycle_policy(settings: Settings, given: RecyclePolicy | None) -> RecyclePolicy | None:
    if given is not None:
        return given
    return RecyclePolicy.for_limit(settings.connection.session_limit_s)


async def pump_events(session: Session) -> None:
    """The one reader: every server event goes through the dispatcher, exactly once.

    When the socket ends it reconnects (``Session.reconnector``), reading the new link's events
    itself while restoring, then goes on; without a reconnector, when reconnecting fails for
    good, or while the session is still starting, it fails every waiter and raises
    ``ConnectionLost``. A recycle (``modes/recycle.py``, run beside this by the mode) may swap
    in a new link while this reads the old one: the old link's end is then not a drop.
    """
    while True:
        link = session.link
        try:
            async for event in link.events():
                await session.dispatcher.dispatch(event)
                if session.reconnector is not None and event.get("type") == "response.done":
                    session.reconnector.progress()
            cause = ConnectionLost(f"{session.link.target.describe()} closed the connection")
        except ConnectionLost as exc:
            cause = exc
        if session.renewing is not None:
            await asyncio.shield(session.renewing)  # it may already have swapped this link out
        if session.link is not link:
            continue  # renewed: the old link was closed on purpose; read the new one
        awaited = session.awaiting()
        if awaited is not None:
            code = session.link.close_code or 1006
            cause = ConnectionLost(
                f"connection to {session.link.target.describe()} ended (close code {code}) "
                f"before the server sent {awaited}"
            )
        if session.reconnector is None or awaited is not None:
            session.fail(cause)
            raise cause
        try:
            await session.reconnector.recover(session, cause)  # calls session.link_down()
        except ConnectionLost as exc:
            session.fail(exc)
            raise


async def configure(session: Session, view: ConsoleView, timeout_s: float) -> None:
    """Send our ``session.update``, then wait for ``session.created`` and for the answer.

    The update goes out as soon as the socket is open, without waiting for ``session.created``:
    the service reads client events from the moment the socket opens (the SDK's own examples
    update the session right after connecting), so start-up costs one round trip less. Both
    events are awaited within ``timeout_s`` of the connection opening
    (``connection.connect_timeout_s``, which bounds the handshake before it too), in that order,
    so what did not arrive in time is named in one ``ConnectionLost`` line. The answer is
    ``session.updated`` or an ``error``: one naming our update, or one naming no client event
    at all, which can only be about the update, the one client event outstanding (nothing else
    is sent before the session is configured).
    """
    deadline = session.started_at + timeout_s
    update = session_update(session.session_config)
    answer = session.configured = session.waiters.expect(
        any_of(is_type("session.updated"), error_for({update["event_id"]}), unattributed_error())
    )
    try:
        await session.send(update)
        await _arrival(session, session.created, "session.created", deadline, timeout_s)
    except BaseException:  # a drop, a timeout, or the cancellation the reader's failure brings
        if not answer.cancel() and not answer.cancelled():
            answer.exception()  # failed with the drop, which is reported once: retrieved
        raise
    event = await _arrival(session, answer, "session.updated", deadline, timeout_s)
    if event.get("type") == "error":
        view.notice("the server rejected the session settings; it keeps its own defaults")


async def _arrival(
    session: Session, future: asyncio.Future[Event], name: str, deadline: float, timeout_s: float
) -> Event:
    left = deadline - asyncio.get_running_loop().time()
    try:
        return await settle(future, max(0.0, left))
    except asyncio.TimeoutError:
        where = session.link.target.describe()
        raise ConnectionLost(
            f"the server did not send {name} within {timeout_s:g} s ({where})"
        ) from None
