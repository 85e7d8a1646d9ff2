"""``--speed``: waits so that events come out with their recorded spacing, scaled.

``speed`` is a factor (1 = as recorded, 2 = twice as fast) or ``None`` for as fast as possible.
Times come from the log; the clock and sleep are injectable so tests never wait for real.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from realtime_console.errors import ConfigError

MAX = None
_YIELD_EVERY = 256  # at --speed max, let other tasks (the speaker's drain, Ctrl+C) run now and then


def parse_speed(text: str) -> float | None:
    """``1``, ``2.5``, ``max`` → factor (None = max); anything else is a usage error."""
    if text.strip().lower() == "max":
        return MAX
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise ConfigError(f"--speed {text!r}: expected a number > 0 or 'max'")
    return value


class Pacer:
    def __init__(
        self,
        speed: float | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.speed = speed
        self._clock = clock
        self._sleep = sleep
        self._origin: tuple[float, float] | None = None  # (log t, wall clock) of the first event
        self._count = 0

    async def wait_for(self, t: float | None) -> None:
        """Return when the event recorded at ``t`` is due (at once for untimed events)."""
        self._count += 1
        if self.speed is MAX or t is None:
            if self._count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            return
        if self._origin is None:
            self._origin = (t, self._clock())
            return
        log_origin, wall_origin = self._origin
        due = wall_origin + (t - log_origin) / self.speed
        delay = due - self._clock()
        if delay > 0:
            await self._sleep(delay)
