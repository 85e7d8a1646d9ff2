"""Opens a realtime session for any mode: target, credential, event log, connection, reader.

``--local`` (or ``provider = "local"``) starts the built-in server in-process on a free loopback
port with a random key and then connects through exactly the same SDK path as a remote endpoint.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_console import __version__
from realtime_console.auth import NO_CREDENTIALS, Credential, resolve_credential
from realtime_console.connection import RealtimeLink, Target, azure_websocket_base_url, open_link
from realtime_console.dispatcher import ANY, Dispatcher, Event
from realtime_console.errors import AuthError, ConnectionLost
from realtime_console.eventlog import EventLogWriter
from realtime_console.protocol.client_events import session_update
from realtime_console.protocol.session import build_session
from realtime_console.redact import Redactor
from realtime_console.ui.view import ConsoleView
from realtime_console.waiters import EventWaiters, any_of, error_for, is_type, settle

if TYPE_CHECKING:
    from realtime_console.config import Settings


@dataclass
class Session:
    link: RealtimeLink
    dispatcher: Dispatcher
    waiters: EventWaiters
    event_log: EventLogWriter | None
    session_config: dict[str, Any]
    created: asyncio.Future[Event]  # registered before the reader starts, so it cannot be missed


@contextlib.asynccontextmanager
async def _local_target(settings: Settings) -> AsyncIterator[tuple[Target, Credential]]:
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
        raise AuthError(NO_CREDENTIALS)
    credential = resolve_credential(
        provider=conn.provider,
        auth=conn.auth,
        env=env,
        redactor=redactor,
        token_timeout_s=conn.token_timeout_s,
    )
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
async def open_recorded_link(
    settings: Settings,
    *,
    env: Mapping[str, str],
    view: ConsoleView,
    redactor: Redactor,
    session_config: dict[str, Any],
    log_path: str | os.PathLike[str] | None,
) -> AsyncIterator[tuple[RealtimeLink, EventLogWriter | None]]:
    """Resolve the target, open the event log (when ``log_path``) and connect.

    The log's header records ``session_config``: the session this run asks for.
    """
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
                )
            )
        link = await stack.enter_async_context(
            open_link(
                target,
                credential,
                event_log=event_log,
                on_notice=view.notice,
                connect_timeout_s=settings.connection.connect_timeout_s,
            )
        )
        yield link, event_log


@contextlib.asynccontextmanager
async def open_session(
    settings: Settings,
    *,
    env: Mapping[str, str],
    view: ConsoleView,
    redactor: Redactor,
) -> AsyncIterator[Session]:
    """Connect, configure the session (``session.update``) and yield; the caller runs the reader."""
    session_config = build_session(settings.session)
    async with open_recorded_link(
        settings,
        env=env,
        view=view,
        redactor=redactor,
        session_config=session_config,
        log_path=settings.log.events,
    ) as (link, event_log):
        waiters = EventWaiters()
        dispatcher = Dispatcher(
            on_handler_error=lambda kind, exc: view.notice(f"handler for {kind} failed: {exc}")
        )
        dispatcher.on(ANY, waiters)
        created = waiters.expect(is_type("session.created"))
        yield Session(link, dispatcher, waiters, event_log, session_config, created)


async def pump_events(session: Session) -> None:
    """The one reader: every server event goes through the dispatcher until the socket ends."""
    try:
        async for event in session.link.events():
            await session.dispatcher.dispatch(event)
    except ConnectionLost as exc:
        session.waiters.fail(exc)
        raise
    lost = ConnectionLost(f"{session.link.target.describe()} closed the connection")
    session.waiters.fail(lost)
    raise lost


async def configure(session: Session, view: ConsoleView, timeout_s: float) -> None:
    """Wait for ``session.created``, send our ``session.update``, wait for the answer."""
    await settle(session.created, timeout_s)
    update = session_update(session.session_config)
    answer = session.waiters.expect(
        any_of(is_type("session.updated"), error_for({update["event_id"]}))
    )
    await session.link.send(update)
    event = await settle(answer, timeout_s)
    if event.get("type") == "error":
        view.notice("the server rejected the session settings; it keeps its own defaults")
