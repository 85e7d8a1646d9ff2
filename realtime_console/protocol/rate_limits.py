"""``rate_limits.updated``: the service's remaining budget per limit, parsed once for every UI.

The server sends the whole list after each response; names (``requests``, ``tokens``) are the
server's choice, so they are kept as text and screened by whoever shows them.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

LOW_FRACTION = 0.10
"""Below this share of a limit left, the UIs call it low (the plain view says so once)."""


@dataclass(frozen=True)
class RateLimit:
    name: str
    limit: int
    remaining: int
    reset_seconds: float | None = None

    @property
    def fraction_left(self) -> float:
        return self.remaining / self.limit if self.limit > 0 else 1.0

    @property
    def low(self) -> bool:
        return self.fraction_left < LOW_FRACTION


def _number(value: object) -> float | None:
    """A finite number, or None: NaN, ±inf and integers past float range (JSON allows any
    number of digits) are as malformed as a string, and would not survive ``int()``/``/``."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = float(value)
    except OverflowError:
        return None
    return number if math.isfinite(number) else None


def parse(event: Mapping[str, Any]) -> list[RateLimit]:
    """The well-formed limits of a ``rate_limits.updated`` event (malformed entries skipped:
    a server's odd entry must not hide the others)."""
    entries = event.get("rate_limits")
    if not isinstance(entries, list):
        return []
    out = []
    for entry in entries:
        if not isinstance(entry, Mapping) or not isinstance(entry.get("name"), str):
            continue
        limit, remaining = _number(entry.get("limit")), _number(entry.get("remaining"))
        if limit is None or remaining is None:
            continue
        reset = _number(entry.get("reset_seconds"))
        out.append(RateLimit(entry["name"], int(limit), int(remaining), reset))
    return out


def most_constrained(limits: Iterable[RateLimit]) -> RateLimit | None:
    """The limit with the smallest share left (the first of equals)."""
    return min(limits, key=lambda limit: limit.fraction_left, default=None)


def compact(count: int) -> str:
    """``12345`` → ``12.3k``, ``40000`` → ``40k``, ``2500000`` → ``2.5M``: fits a status bar.
    Rounded down, so what is left never reads as more than it is (4999 of 5000 is ``4.9k``)."""
    for size, unit in ((1_000_000, "M"), (1_000, "k")):
        if abs(count) >= size:
            return f"{count * 10 // size / 10:.1f}".removesuffix(".0") + unit
    return str(count)


def describe(limit: RateLimit) -> str:
    """``tokens 12.3k/40k left``, plus the reset time when the limit is low."""
    text = f"{limit.name} {compact(limit.remaining)}/{compact(limit.limit)} left"
    if limit.low and limit.reset_seconds is not None:
        text += f", resets in {limit.reset_seconds:.1f} s"
    return text
