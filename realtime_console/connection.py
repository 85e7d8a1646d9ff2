"""Opens the SDK realtime connection for a provider and records every event crossing it.

This is the only module that touches ``client.realtime.connect`` and websockets errors: third-party
failures are mapped here to ``ConnectionLost`` with one line that says what happened and what to
check. Frames are received raw and parsed here, so a malformed frame or an event type newer than
our SDK is reported and skipped rather than ending the session.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from realtime_console.auth import Credential
from realtime_console.errors import ConfigError, ConnectionLost, CredentialError
from realtime_console.protocol.aliases import to_ga

if TYPE_CHECKING:
    from openai.resources.realtime.realtime import AsyncRealtimeConnection

    from realtime_console.eventlog import EventLogWriter

log = logging.getLogger(__name__)

Notice = Callable[[str], None]

_WS_SCHEME = {"https": "wss", "http": "ws", "wss": "wss", "ws": "ws"}


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
    """``https://RES.openai.azure.com`` → ``wss://RES.openai.azure.com/openai/v1`` (seed 003)."""
    parts = urlsplit(endpoint.strip())
    scheme = _WS_SCHEME.get(parts.scheme.lower())
    if scheme is None or not parts.netloc:
        raise ConfigError(
            f"AZURE_OPENAI_ENDPOINT {endpoint!r} is not an http(s) URL "
            "(expected https://RESOURCE.openai.azure.com)"
        )
    path = parts.path.rstrip("/")
    if not path.endswith("/openai/v1"):
        path += "/openai/v1"
    return urlunsplit((scheme, parts.netloc, path, "", ""))


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

    async def events(self) -> AsyncIterator[dict[str, Any]]:
        """Server events as dicts with GA type names, until the server closes normally."""
        from websockets.exceptions import ConnectionClosed, ConnectionClosedOK

        while True:
            try:
                raw = await self._connection.recv_bytes()
            except ConnectionClosedOK:
                return
            except ConnectionClosed as exc:
                if self._log is not None:
                    self._log.note("connection_lost", code=exc.rcvd.code if exc.rcvd else 1006)
                raise ConnectionLost(
                    f"connection to {self.target.describe()} lost "
                    f"(close code {exc.rcvd.code if exc.rcvd else 1006})"
                ) from None
            event = self._parse(raw)
            if event is not None:
                yield event

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


def _make_client(target: Target, credential: Credential) -> Any:
    from openai import AsyncOpenAI

    if target.websocket_base_url is not None:
        return AsyncOpenAI(websocket_base_url=target.websocket_base_url, api_key=credential.api_key)
    return AsyncOpenAI(base_url=target.base_url, api_key=credential.api_key)


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
    """Connect exactly as seed 003 does: ``client.realtime.connect(model=DEPLOYMENT)``."""
    from openai import OpenAIError
    from websockets.exceptions import InvalidHandshake, InvalidURI

    client = _make_client(target, credential)
    try:
        try:
            manager = client.realtime.connect(model=target.model)
            connection = await asyncio.wait_for(manager.enter(), connect_timeout_s)
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
