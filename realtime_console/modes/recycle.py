"""Renewing a session before the service's time limit, at a quiet moment.

The service ends every Realtime session 60 minutes after it opened (close 1001, "Your session
hit the maximum duration of 60 minutes."). A drop there would cut whatever was happening, so
from ``limit_s - margin_s`` into a link's life the console renews the session at the first
moment nothing is in progress (``Session.quiet``: no speech, no reply, no unsent turn): a new
connection, the settings and conversation restored exactly as after a reconnect
(``Reconnector.renew``), then the old link is retired. If no quiet moment comes before the limit,
the service's 1001 is handled as any drop: the reconnect restores the session and re-asks.

The limit assumed is ``connection.session_limit_s`` (default the service's 60 minutes; 0 turns
the recycle off); tests may pass a ``RecyclePolicy`` to ``run_chat`` / ``run_talk`` instead.
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

from realtime_console.errors import ConnectionLost
from realtime_console.modes.recycle_policy import RecyclePolicy

__all__ = [
    "RecyclePolicy",
    "limit_words",
    "recycle_when_due",
    "renew",
    "renew_if_due",
    "start_recycle",
]

if TYPE_CHECKING:
    from realtime_console._compat import TaskGroup
    from realtime_console.modes.session import Session

# How often a due session is checked for a quiet moment. Only polled inside the margin, so the
# cost over an hour is nil; a quarter second keeps the wait after a reply short.
QUIET_POLL_S = 0.25


def limit_words(limit_s: float) -> str:
    """``60-minute``, ``4-second``: how the status line names the limit."""
    if limit_s >= 60 and limit_s % 60 == 0:
        return f"{limit_s / 60:g}-minute"
    return f"{limit_s:g}-second"


def start_recycle(tasks: TaskGroup, session: Session) -> list[asyncio.Task[None]]:
    """The recycle task for ``session``, in the mode's task group (none without a policy);
    the mode cancels it with its reader."""
    if session.recycle is None:
        return []
    return [tasks.create_task(recycle_when_due(session, session.recycle))]


async def recycle_when_due(session: Session, policy: RecyclePolicy) -> None:
    """Runs beside the reader for the whole session: renews each link once it is due and quiet.

    Every check of quietness and the start of the renewal happen in one step of the event loop,
    so nothing can begin in between (a chat turn then waits in ``Session.send``). A session lost
    for good ends this quietly: the reader reports that.
    """
    loop = asyncio.get_running_loop()
    try:
        while True:
            await session.wait_connected()
            link = session.link
            wait = link.opened_at + policy.renew_after_s - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
                continue  # a reconnect may have replaced the link meanwhile: its clock counts
            if not await renew(session, policy):
                await asyncio.sleep(QUIET_POLL_S)
    except ConnectionLost:
        return


async def renew_if_due(session: Session) -> bool:
    """For a mode between exchanges (chat between turns): renew now if the link is due.

    A piped chat sends its turns back to back, so the background check might never find it
    quiet; the moment before the next turn is sent is quiet by construction.
    """
    policy = session.recycle
    if policy is None or not session.connected:
        return False
    age_s = asyncio.get_running_loop().time() - session.link.opened_at
    return age_s >= policy.renew_after_s and await renew(session, policy)


async def renew(session: Session, policy: RecyclePolicy) -> bool:
    """Renew now if the session is quiet; True when it moved to a new server session."""
    reconnector = session.reconnector
    loop = asyncio.get_running_loop()
    if reconnector is None or not session.quiet() or loop.time() < session.renew_not_before:
        return False
    age_s = loop.time() - session.link.opened_at
    session.begin_renewal()
    try:
        result = await reconnector.renew(session)
    finally:
        await session.end_renewal()
    if result is None:
        session.renew_not_before = loop.time() + policy.retry_after_s
        reconnector.notice("could not renew the session ahead of the service's limit; will retry")
        return False
    restored, skipped = result
    reconnector.note("session_recycled", age_s=round(age_s, 3), restored=restored, skipped=skipped)
    items = "item" if restored == 1 else "items"
    tail = f" ({skipped} could not be carried over)" if skipped else ""
    reconnector.notice(
        f"session renewed before the service's {limit_words(policy.limit_s)} limit; "
        f"{restored} {items} carried over{tail}"
    )
    return True
