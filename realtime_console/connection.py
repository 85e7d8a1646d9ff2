"""Opens the SDK realtime connection for a provider and records every event crossing it.

This is the only module that touches ``client.realtime.connect`` and websockets errors: third-party
failures are mapped here to ``ConnectionLost`` with one line that says what happened and what to
check. Frames are received raw and parsed here, so a malformed frame or an event type newer than
our SDK is reported and skipped rather than ending the session.

After a drop, ``Reconnector`` (driven by the session's reader) backs off, opens a new connection
through ``LinkSlot`` (the same SDK path, so the token provider is awaited again), re-sends the
session's ``session.update`` and re-creates the conversation from ``ConversationHistory``.
``Reconnector.renew`` does the same on a second link opened while the first still works (the
session recycle before the service's 60-minute limit, ``modes/recycle.py``), then retires the
first.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Container
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from realtime_console._compat import wait_for
from realtime_console._imports import without_gc
from realtime_console.auth import Credential
from realtime_console.config import url_problem
from realtime_console.errors import ConfigError, ConnectionLost, CredentialError
from realtime_console.protocol.aliases import to_ga
from realtime_console.protocol.client_events import session_update
from realtime_console.protocol.history import ConversationHistory, RestorePlan

if TYPE_CHECKING:
    from openai.resources.realtime.realtime import AsyncRealtimeConnection
    from websockets.exceptions import ConnectionClosed

    from realtime_console.dispatcher import Dispatcher
    from realtime_console.eventlog import EventLogWriter

log = logging.getLogger(__name__)

Notice = Callable[[str], None]

_WS_SCHEME = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}
CLOSE_MESSAGE_TOO_BIG = 1009
CLOSE_GOING_AWAY = 1001  # what the service closes with at the session's maximum duration


def hit_max_duration(code: int | None, reason: str) -> bool:
    """The service ended the session at its time limit (not a failure: reconnect at once)."""
    return code == CLOSE_GOING_AWAY and "maximum duration" in reason


@dataclass(frozen=True)
class Target:
    """Where to connect: the provider, the model or deployment, and the SDK's base URLs."""

    provider: str  # azure | openai | local
    model: str
    websocket_base_url: str | None = None  # Azure GA and the local server
    base_url: str | None = None  # OpenAI (None: the SDK default)

    def describe(self) -> str:
        where = self.websocket_base_url or self.base_url or "api.openai.com"
        return f"{self.provider} {self.model} at {where}"


def azure_websocket_base_url(endpoint: str) -> str:
    """``https://RES.openai.azure.com`` → ``wss://RES.openai.azure.com/openai/v1``, as the Azure
    realtime quickstart connects."""
    problem = url_problem(endpoint)
    if problem is not None:
        raise ConfigError(
            f"AZURE_OPENAI_ENDPOINT (connection.endpoint) {endpoint!r} {problem} "
            "(expected https://RESOURCE.openai.azure.com)"
        )
    parts = urlsplit(endpoint.strip())
    path = parts.path.rstrip("/")
    if not path.endswith("/openai/v1"):
        path += "/openai/v1"
    return urlunsplit((_WS_SCHEME[parts.scheme], parts.netloc, path, "", ""))


MAX_FRAME_BYTES = 16 * 1024 * 1024
"""Largest server message accepted. The service's events are far smaller (an audio delta is tens
of KiB); the SDK's default is no limit at all, so one hostile frame could take all memory.
websockets refuses a larger frame from its header, before reading it, and closes with 1009."""
CLOSE_TIMEOUT_S = 1.0
"""How long a quit waits for the server to answer our close frame (websockets waits 10 s):
a server that ignores the closing handshake must not hold the console open."""


def websocket_options(connect_timeout_s: float) -> dict[str, Any]:
    """What ``client.realtime.connect(websocket_connection_options=…)`` passes to websockets.

    ``open_timeout`` is websockets' own limit on the opening handshake (10 s by default): left
    alone it would silently cap ``connection.connect_timeout_s``. Compression stays off, as the
    SDK has it without a size limit: base64 audio barely compresses, and deflate costs CPU on
    every frame.
    """
    return {
        "max_size": MAX_FRAME_BYTES,
        "compression": None,
        "open_timeout": connect_timeout_s,
        "close_timeout": CLOSE_TIMEOUT_S,
    }


class RealtimeLink:
    """One open realtime connection: send client events, iterate server events."""

    def __init__(
        self,
        connection: AsyncRealtimeConnection,
        target: Target,
        event_log: EventLogWriter | None,
        on_notice: Notice,
    ) -> None:
        self._connection = connection
        self.target = target
        self._log = event_log
        self._notice = on_notice
        self.malformed_frames = 0
        self.close_code: int | None = None  # set when the socket closed under us
        self.close_reason = ""  # the server's close reason, when it gave one
        self.opened_at = asyncio.get_running_loop().time()  # the server session's age counts

    async def send(self, event: dict[str, Any]) -> None:
        if self._log is not None:
            self._log.write("client", event)
        from websockets.exceptions import ConnectionClosed

        try:
            # Our events are plain JSON-ready dicts already checked against the SDK types in
            # tests; ``send()`` would re-run the SDK's TypedDict transform on each one, which
            # costs ~1 ms per microphone append (measured: ~5% of a core at 20 ms blocks).
            await self._connection.send_raw(json.dumps(event, separators=(",", ":")))
        except ConnectionClosed as exc:
            raise ConnectionLost(f"connection to {self.target.describe()} lost: {exc}") from None

    async def events(self) -> AsyncGenerator[dict[str, Any], None]:
        """Server events as dicts with GA type names, until the server closes normally."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        while True:
            try:
                raw = await self._connection.recv_bytes()
            except ConnectionClosedOK as exc:
                self.close_code = exc.rcvd.code if exc.rcvd else 1000
                self.close_reason = exc.rcvd.reason if exc.rcvd else ""
                return
            except ConnectionClosed as exc:
                raise self._lost(exc) from None
            event = self._parse(raw)
            if event is not None:
                yield event

    def _lost(self, exc: ConnectionClosed) -> ConnectionLost:
        sent = exc.sent
        if sent is not None and sent.code == CLOSE_MESSAGE_TOO_BIG and not exc.rcvd_then_sent:
            # We closed it: websockets refused a frame over MAX_FRAME_BYTES. Said once here;
            # the reconnect (if any) follows as after any other drop.
            self.close_code = code = CLOSE_MESSAGE_TOO_BIG
            what = f"the server sent a message over {MAX_FRAME_BYTES // 2**20} MiB"
            self._notice(f"{what}; closed the connection ({code})")
            if self._log is not None:
                self._log.note("connection_lost", code=code)
            return ConnectionLost(
                f"connection to {self.target.describe()} lost: {what} (close code {code})"
            )
        self.close_code = code = exc.rcvd.code if exc.rcvd else 1006
        if self._log is not None:
            self._log.note("connection_lost", code=code)
        return ConnectionLost(f"connection to {self.target.describe()} lost (close code {code})")

    def _parse(self, raw: bytes) -> dict[str, Any] | None:
        try:
            obj = json.loads(raw)
        except (ValueError, RecursionError):
            obj = None
        if not isinstance(obj, dict) or not isinstance(obj.get("type"), str):
            self.malformed_frames += 1
            preview = raw[:80].decode("utf-8", "replace")
            self._notice(f"skipped a malformed frame from the server ({len(raw)} bytes)")
            if self._log is not None:
                self._log.note("malformed_frame", bytes=len(raw), preview=preview)
            return None
        if self._log is not None:
            self._log.write("server", obj)
        return to_ga(obj)

    async def close(self) -> None:
        await self._connection.close(code=1000)


RECONNECT_FIRST_DELAY_S = 0.5
RECONNECT_MAX_DELAY_S = 8.0
STABLE_AFTER_S = 60.0  # a link that lived this long before dropping was healthy: attempts reset


def reconnect_delay_s(attempt: int) -> float:
    """Back-off before reconnect attempt ``attempt`` (from 1): 0.5, 1, 2, 4, 8, 8, … seconds."""
    return min(RECONNECT_MAX_DELAY_S, RECONNECT_FIRST_DELAY_S * 2.0 ** max(0, attempt - 1))


class LinkSlot:
    """Holds the one current link of a session and replaces it after a drop.

    Each ``open()`` is a new ``client.realtime.connect`` through ``open_link`` (so the credential's
    token provider is awaited again: an Entra token is fresh on every reconnect); the previous
    link, dead by then, is closed first.
    """

    def __init__(
        self,
        target: Target,
        credential: Credential,
        *,
        event_log: EventLogWriter | None,
        on_notice: Notice,
        connect_timeout_s: float,
    ) -> None:
        self.target = target
        self._credential = credential
        self._event_log = event_log
        self._notice = on_notice
        self._timeout_s = connect_timeout_s
        self._stack: AsyncExitStack | None = None
        self._next: AsyncExitStack | None = None  # a link opened beside the current one

    async def open(self) -> RealtimeLink:
        await self.aclose()
        link, self._stack = await self._enter()
        return link

    async def open_next(self) -> RealtimeLink:
        """A second link beside the current one, which stays open until ``promote()``."""
        await self.discard_next()
        link, self._next = await self._enter()
        return link

    async def promote(self) -> None:
        """The link from ``open_next()`` becomes the current one; the previous one is closed
        (1000), which ends its reader's ``events()`` normally."""
        old, self._stack, self._next = self._stack, self._next, None
        if old is not None:
            await old.aclose()

    async def discard_next(self) -> None:
        stack, self._next = self._next, None
        if stack is not None:
            await stack.aclose()

    async def _enter(self) -> tuple[RealtimeLink, AsyncExitStack]:
        stack = AsyncExitStack()
        try:
            link = await stack.enter_async_context(
                open_link(
                    self.target,
                    self._credential,
                    event_log=self._event_log,
                    on_notice=self._notice,
                    connect_timeout_s=self._timeout_s,
                )
            )
        except BaseException:
            await stack.aclose()
            raise
        return link, stack

    async def aclose(self) -> None:
        await self.discard_next()
        stack, self._stack = self._stack, None
        if stack is not None:
            await stack.aclose()


def _make_client(target: Target, credential: Credential) -> Any:
    from openai import AsyncOpenAI

    http = websocket_only_http_client()
    if target.websocket_base_url is not None:
        return AsyncOpenAI(
            websocket_base_url=target.websocket_base_url,
            api_key=credential.api_key,
            http_client=http,
        )
    return AsyncOpenAI(base_url=target.base_url, api_key=credential.api_key, http_client=http)


class UnexpectedHttpRequest(ConnectionLost):
    """The SDK tried plain HTTP on a client that is only for the realtime WebSocket."""


def websocket_only_http_client() -> Any:
    """The HTTP client handed to the SDK: one that never opens a connection.

    A realtime session speaks only WebSocket (opened by the SDK through ``websockets``, with its
    own TLS context), yet the SDK's default HTTP client builds a connection pool up front: its
    TLS context loads the CA bundle and its pool imports its HTTP library's core, 30-40 ms of
    every start and every reconnect (``benchmarks/start_latency.py``). The SDK's own client
    class is kept (its defaults and type checks), given a transport that refuses requests.
    """
    from openai import DefaultAsyncHttpxClient

    return DefaultAsyncHttpxClient(transport=_refusing_transport())


def _refusing_transport() -> Any:
    import importlib

    from openai import DefaultAsyncHttpxClient

    # The SDK's HTTP library (httpx, or httpx2 in later SDKs): the one its client class extends.
    http = importlib.import_module(DefaultAsyncHttpxClient.__mro__[1].__module__.partition(".")[0])

    class RefuseHttp(http.AsyncBaseTransport):  # type: ignore[misc,name-defined]
        async def handle_async_request(self, request: Any) -> Any:
            raise UnexpectedHttpRequest(
                f"the realtime client tried an HTTP request ({request.method} "
                f"{request.url.path}); it speaks only WebSocket"
            )

    return RefuseHttp()


def _handshake_error(target: Target, exc: BaseException) -> ConnectionLost:
    from websockets.exceptions import InvalidStatus

    if isinstance(exc, InvalidStatus):
        status = exc.response.status_code
        hint = {
            401: "the credential was rejected",
            403: "the credential lacks access to this resource",
            404: "no such deployment or path; check the deployment name and endpoint",
        }.get(status, "the server refused the WebSocket upgrade")
        return ConnectionLost(f"{target.describe()} answered HTTP {status}: {hint}")
    if isinstance(exc, asyncio.TimeoutError):
        return ConnectionLost(f"timed out connecting to {target.describe()}")
    reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return ConnectionLost(f"cannot connect to {target.describe()}: {reason}")


@asynccontextmanager
async def open_link(
    target: Target,
    credential: Credential,
    *,
    event_log: EventLogWriter | None,
    on_notice: Notice,
    connect_timeout_s: float = 15.0,
) -> AsyncIterator[RealtimeLink]:
    """Connect as the Azure realtime quickstart does: ``client.realtime.connect(model=…)``."""
    with without_gc():  # the SDK's first import, when nothing imported it before (_imports.py)
        from openai import OpenAIError
    from websockets.exceptions import InvalidHandshake, InvalidURI

    client = _make_client(target, credential)
    try:
        try:
            manager = client.realtime.connect(
                model=target.model,
                websocket_connection_options=websocket_options(connect_timeout_s),
            )
            connection = await wait_for(manager.enter(), connect_timeout_s)
        except CredentialError:
            raise
        except (OSError, asyncio.TimeoutError, InvalidHandshake, InvalidURI, OpenAIError) as exc:
            log.debug("connect failed", exc_info=True)
            raise _handshake_error(target, exc) from None
        link = RealtimeLink(connection, target, event_log, on_notice)
        try:
            yield link
        finally:
            try:
                await link.close()
            except Exception:  # closing a dead socket must not mask the real failure
                log.debug("close failed", exc_info=True)
    finally:
        await client.close()


class Restorable(Protocol):
    """What reconnecting needs of a session (``modes.session.Session`` is one): the link it
    reads, the conversation to restore, the settings to re-send, and where events go."""

    link: RealtimeLink
    history: ConversationHistory
    session_config: dict[str, Any]
    dispatcher: Dispatcher

    def link_down(self) -> None: ...

    def link_up(self, link: RealtimeLink) -> None: ...


class Reconnector:
    """Reopens a dropped session: back off, connect anew, re-send the session settings, restore.

    Called by the session's one reader (``pump_events``) after its link dropped, so the events
    read while restoring go through the same dispatcher, in order, exactly once. Gives up with
    ``ConnectionLost`` after ``attempts`` failed attempts.
    """

    def __init__(
        self,
        slot: LinkSlot,
        *,
        attempts: int,
        on_notice: Notice,
        event_log: EventLogWriter | None,
        timeout_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._slot = slot
        self.attempts = attempts
        self._notice = on_notice
        self._log = event_log
        self._timeout_s = timeout_s
        self._clock = clock
        self._used = 0  # attempts since the session last made progress
        self._up_since = clock()

    def notice(self, text: str) -> None:
        """One status line, where the reconnect's go."""
        self._notice(text)

    def note(self, kind: str, **fields: Any) -> None:
        """One meta line in the event log, beside the reconnect's."""
        self._note(kind, **fields)

    def progress(self) -> None:
        """The link is doing real work (a response finished): the attempts count starts over."""
        self._used = 0

    def _note(self, kind: str, **fields: Any) -> None:
        if self._log is not None:
            self._log.note(kind, **fields)

    async def renew(self, session: Restorable) -> tuple[int, int] | None:
        """Move a working session to a fresh server session: open a second link, restore the
        settings and conversation on it exactly as after a drop, then retire the old link.

        The caller has stopped sends (``Session.begin_renewal``). Returns (items restored,
        items skipped), or None when the new link failed: the old one is kept, with the
        history as it was, and the session goes on as before.
        """
        plan = session.history.restore_plan()
        link: RealtimeLink | None = None
        try:
            link = await self._slot.open_next()
            restored, refused = await wait_for(
                _restore(session, link, plan, self._notice), self._timeout_s
            )
        except (asyncio.TimeoutError, ConnectionLost) as exc:
            await self._slot.discard_next()
            refill(session.history, plan)  # _restore cleared it for the new session's echoes
            reason = str(exc) or f"timed out restoring the session on {link_target(link)}"
            self._note("session_recycle_failed", reason=reason)
            log.debug("session recycle failed: %s", reason)
            return None
        session.link = link  # before retiring the old one: its reader then reads this one
        await self._slot.promote()
        self._up_since = self._clock()
        return restored, refused + plan.skipped

    async def recover(self, session: Restorable, cause: ConnectionLost) -> None:
        code = session.link.close_code or 1006
        plan = session.history.restore_plan()
        total = self.attempts
        last: ConnectionLost = cause
        if self._clock() - self._up_since >= STABLE_AFTER_S:
            self._used = 0
        # A server that accepts and then drops every connection before any response finishes
        # must not keep us reconnecting forever: attempts add up until progress() is called.
        while self._used < total:
            self._used += 1
            attempt = self._used
            delay = reconnect_delay_s(attempt)
            reason = session.link.close_reason if last is cause else ""
            extra = {"reason": reason} if reason else {}
            self._note("reconnect", attempt=attempt, of=total, code=code, delay_s=delay, **extra)
            if last is cause and hit_max_duration(code, session.link.close_reason):
                what = f"the service ended the session at its maximum duration ({code})"
            elif last is cause:
                what = f"connection lost ({code})"
            else:
                what = f"reconnect attempt {attempt - 1} failed: {last}"
            self._notice(f"{what}; reconnecting (attempt {attempt}/{total}) in {delay:g} s…")
            if last is cause:
                session.link_down()  # after the notice: what the modes show follows it
            await asyncio.sleep(delay)
            link: RealtimeLink | None = None
            try:
                link = await self._slot.open()
                restored, skipped = await wait_for(
                    _restore(session, link, plan, self._notice), self._timeout_s
                )
            except asyncio.TimeoutError:
                last = ConnectionLost(f"timed out restoring the session on {link_target(link)}")
                code = 1006
                continue
            except ConnectionLost as exc:
                last = exc
                code = (link.close_code if link is not None else None) or 1006
                continue
            skipped += plan.skipped
            self._up_since = self._clock()
            self._note("reconnected", attempt=attempt, restored=restored, skipped=skipped)
            tail = f" ({skipped} could not be restored)" if skipped else ""
            items = "item" if restored == 1 else "items"
            self._notice(f"reconnected; session and {restored} {items} restored{tail}")
            session.link_up(link)
            return
        target = self._slot.target.describe()
        # The last failure names the endpoint too: keep only what went wrong, once.
        reason = str(last).replace(f"connection to {target} ", "").replace(f" to {target}", "")
        raise ConnectionLost(
            f"connection to {target} lost for good after {self._used} "
            f"reconnect attempt{'s' if self._used != 1 else ''} (last attempt: {reason})"
        )


def refill(history: ConversationHistory, plan: RestorePlan) -> None:
    """Put back what ``plan`` was made from, after a restore that cleared ``history`` failed:
    the old server session still holds these items, with these ids."""
    history.clear()
    for event in plan.events:
        history({"type": "conversation.item.done", "item": event["item"]})


def link_target(link: RealtimeLink | None) -> str:
    return link.target.describe() if link is not None else "the server"


async def _restore(
    session: Restorable, link: RealtimeLink, plan: RestorePlan, notice: Notice
) -> tuple[int, int]:
    """On a fresh ``link``: await session.created, re-send session.update, re-create the items.

    Returns (items restored, items the server refused). Every event read is dispatched.
    """
    events = link.events()

    async def read_until(match: Callable[[dict[str, Any]], bool]) -> dict[str, Any]:
        async for event in events:
            await session.dispatcher.dispatch(event)
            if match(event):
                return event
        raise ConnectionLost(f"{link.target.describe()} closed the connection while restoring")

    def error_about(event: dict[str, Any], event_ids: Container[str]) -> bool:
        error = event.get("error")
        return (
            event.get("type") == "error"
            and isinstance(error, dict)
            and isinstance(error.get("event_id"), str)
            and error.get("event_id") in event_ids
        )

    try:
        session.history.clear()  # the new server session starts empty; its echoes refill it
        await read_until(lambda e: e.get("type") == "session.created")
        update = session_update(session.session_config)
        await link.send(update)
        answer = await read_until(
            lambda e: e.get("type") == "session.updated" or error_about(e, {update["event_id"]})
        )
        if answer.get("type") == "error":
            notice("the server rejected the session settings; it keeps its own defaults")
        pending = {event["item"]["id"]: event["event_id"] for event in plan.events}

        def answers_an_item(e: dict[str, Any]) -> bool:
            item = e.get("item")
            if e.get("type") == "conversation.item.added" and isinstance(item, dict):
                return item.get("id") in pending
            return error_about(e, pending.values())

        for event in plan.events:
            await link.send(event)
        restored = refused = 0
        while pending:
            event = await read_until(answers_an_item)
            if event.get("type") == "error":
                refused += 1
                event_id = event["error"]["event_id"]
                for item_id in [k for k, v in pending.items() if v == event_id]:
                    del pending[item_id]
            else:
                restored += 1
                del pending[event["item"]["id"]]
        return restored, refused
    finally:
        await events.aclose()
