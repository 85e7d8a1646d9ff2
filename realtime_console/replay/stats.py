"""The two pieces of arithmetic every summary figure uses: a latency in ms, a percentile."""

from __future__ import annotations


def ms_between(later: float | None, earlier: float | None) -> float | None:
    """``later − earlier`` in ms (0.1 ms precision); None when either time is unknown."""
    if later is None or earlier is None:
        return None
    return round((later - earlier) * 1000.0, 1)


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank value at ``q`` (0..1); None for no values."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[rank]
