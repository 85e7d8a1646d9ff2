"""Opening a ready ``CompletionsClient``: the target and credential (``target.endpoint``), the
SDK client, the event log; everything closes on exit. The one place all of them meet, so the
client and the target need not know each other."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING

from realtime_console import __version__
from realtime_console.completions.client import CompletionsClient
from realtime_console.completions.target import endpoint, sdk_client
from realtime_console.eventlog import EventLogWriter
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.config import Settings


@contextlib.asynccontextmanager
async def open_completions(
    settings: Settings,
    *,
    env: Mapping[str, str],
    redactor: Redactor,
    notice: Callable[[str], None],
) -> AsyncIterator[CompletionsClient]:
    """A ready ``CompletionsClient`` for the settings; everything it opened closes on exit.

    The event log (when ``log.events``) starts with a header whose ``session`` is
    ``{"type": "chat.completions", "api", "voice", "format"}``.
    """
    async with contextlib.AsyncExitStack() as stack:
        target, api_key = await stack.enter_async_context(endpoint(settings, env, redactor))
        sdk = sdk_client(
            target,
            api_key,
            timeout_s=settings.completions.timeout_s,
            connect_timeout_s=settings.connection.connect_timeout_s,
        )
        stack.push_async_callback(sdk.close)
        event_log = None
        if settings.log.events:
            session = {
                "type": "chat.completions",
                "api": target.api,
                "voice": settings.session.voice,
                "format": settings.completions.format,
            }
            event_log = stack.enter_context(
                EventLogWriter(
                    settings.log.events,
                    provider=target.provider,
                    model=target.model,
                    session=session,
                    program_version=__version__,
                    redactor=redactor,
                    audio=settings.log.audio,
                    on_error=notice,
                )
            )
        yield CompletionsClient(
            sdk,
            target,
            settings.completions,
            event_log=event_log,
            notice=notice,
            redactor=redactor,
        )
