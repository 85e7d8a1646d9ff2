"""``--speed``: waits so that events come out with their recorded spacing, scaled.

``speed`` is a factor (1 = as recorded, 2 = twice as fast) or ``None`` for as fast as possible.
Times come from the log; the clock and sleep are injectable so tests never wait for real.

A recorded gap longer than ``MAX_GAP_S`` is shortened to it: a long silence teaches nothing a
debugger needs, and a corrupt ``t`` (``1e308``, a 1e9 s jump) must not sleep forever. A time that
goes backwards (a sound log never does) is no wait at all.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable

from realtime_console.errors import ConfigError

MAX = None
MAX_GAP_S = 5.0  # recorded seconds; at --speed N the longest wait is MAX_GAP_S / N
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


def clamp_gap(gap: float, max_gap_s: float = MAX_GAP_S) -> float:
    """The recorded gap to wait for: 0 for a backwards or non-finite one, at most ``max_gap_s``."""
    if not gap > 0:  # also NaN
        return 0.0
    return min(gap, max_gap_s)


def shortened_notice(gap: float, index: int, max_gap_s: float = MAX_GAP_S) -> str:
    """Said once per replay, at the first shortened gap."""
    return (
        f"gaps over {max_gap_s:g} s are shortened to {max_gap_s:g} s "
        f"(first: {gap:.6g} s before event #{index})"
    )


class Pacer:
    def __init__(
        self,
        speed: float | None,
        *,
        max_gap_s: float = MAX_GAP_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.speed = speed
        self.max_gap_s = max_gap_s
        self._clock = clock
        self._sleep = sleep
        self._last_t: float | None = None  # log t of the previous timed event
        self._due = 0.0  # wall-clock time that event was due
        self._count = 0
        self.shortened = 0  # gaps shortened to max_gap_s

    async def wait_for(self, t: float | None) -> float | None:
        """Return when the event recorded at ``t`` is due (at once for untimed events). Returns
        the recorded gap when it was shortened to ``max_gap_s``, else None."""
        self._count += 1
        if self.speed is MAX or t is None or not math.isfinite(t):
            if self._count % _YIELD_EVERY == 0:
                await asyncio.sleep(0)
            return None
        if self._last_t is None:
            self._last_t, self._due = t, self._clock()
            return None
        gap = t - self._last_t
        self._last_t = t
        waited = clamp_gap(gap, self.max_gap_s)
        # Due times add up from the previous event's: after a slow render the replay catches up.
        self._due += waited / self.speed
        delay = self._due - self._clock()
        if delay > 0:
            await self._sleep(delay)
        if waited < gap:
            self.shortened += 1
            return gap
        return None
