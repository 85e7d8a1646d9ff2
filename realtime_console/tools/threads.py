"""Runs a sync handler in a thread of its own that the loop can walk away from.

``asyncio.to_thread`` would do the work, but its pool's threads are joined when
``asyncio.run`` ends (and at interpreter exit): a handler that timed out or was cancelled while
stuck in a blocking call would then hold the console open after Ctrl+C. A daemon thread per
call is abandoned cleanly instead: the awaiting task stops waiting, the thread's eventual
result is dropped, and the process can exit while it still runs.
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["HandlerExit", "run_in_thread"]

T = TypeVar("T")


class HandlerExit(Exception):
    """A handler raised ``SystemExit`` or ``KeyboardInterrupt`` in its thread.

    Those must not be re-raised in a task (asyncio lets them out of the loop and the console
    would end); wrapped, they are reported like any exception the handler raised.
    """

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


async def run_in_thread(function: Callable[..., T], /, **kwargs: Any) -> T:
    """``function(**kwargs)`` in a daemon thread; cancelling abandons the thread."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()
    context = contextvars.copy_context()  # as to_thread does: contextvars reach the handler

    def settle(outcome: Callable[[], None]) -> None:
        if not future.done():  # cancelled meanwhile: nobody waits for the result
            outcome()

    def work() -> None:
        try:
            result = context.run(function, **kwargs)
        except BaseException as exc:  # a handler's sys.exit() is its failure, not the console's
            error = exc if isinstance(exc, Exception) else HandlerExit(exc)
            _deliver(loop, lambda: settle(lambda: future.set_exception(error)))
        else:
            _deliver(loop, lambda: settle(lambda: future.set_result(result)))

    name = f"tool-{getattr(function, '__name__', 'call')}"
    threading.Thread(target=work, name=name, daemon=True).start()
    return await future


def _deliver(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    try:
        loop.call_soon_threadsafe(callback)
    except RuntimeError:  # the loop has closed: the call was abandoned long ago
        pass
