"""The arithmetic every summary figure uses: a latency in ms, a percentile, a total in seconds.

Times are finite floats (the reader refuses any other ``t``), but two of them far apart (``1e308``
and ``-1e308``, a corrupt line) differ by more than a float holds: such a figure is unknown
(None), never ``inf``, which ``--json`` could not write.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def finite(value: float) -> float | None:
    """``value``, or None when the arithmetic that made it overflowed (``inf``, ``nan``)."""
    return value if math.isfinite(value) else None


def ms_between(later: float | None, earlier: float | None) -> float | None:
    """``later − earlier`` in ms (0.1 ms precision); None when either time is unknown."""
    if later is None or earlier is None:
        return None
    return finite(round((later - earlier) * 1000.0, 1))


def seconds_total(values_ms: Iterable[float | None]) -> float | None:
    """The sum of the known values, in seconds (ms precision); None when it overflows."""
    return finite(round(sum(v for v in values_ms if v is not None) / 1000.0, 3))


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank value at ``q`` (0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]
