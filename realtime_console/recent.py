"""A counter for keys someone else chooses: it keeps the most recent ones, so it stays small.

Event types and response ids come from the server; a hostile or buggy one can send a new one
with every event. Counting each forever would grow without end, so a :class:`RecentCounter`
remembers the ``limit`` keys counted most recently and adds the counts of the keys it forgets
under :data:`OTHER`. Totals stay exact.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

OTHER = "<other>"


class RecentCounter(Counter[str]):
    def __init__(self, counts: Mapping[str, int] | None = None, limit: int = 100) -> None:
        self.limit = limit
        super().__init__()
        if counts:
            self.update(counts)

    def __setitem__(self, key: str, value: int) -> None:
        if key != OTHER and key in self:
            super().__delitem__(key)  # re-inserted below: the dict's order is by recency
        super().__setitem__(key, value)
        while len(self) - (OTHER in self) > self.limit:
            oldest = next(k for k in self if k != OTHER)
            forgotten = super().pop(oldest)
            super().__setitem__(OTHER, self.get(OTHER, 0) + forgotten)

    # Counter rebuilds itself as ``cls(dict)``; keep the limit through copies and pickles.
    def copy(self) -> RecentCounter:
        return RecentCounter(self, self.limit)

    def __reduce__(self) -> tuple[Any, ...]:
        return (self.__class__, (dict(self), self.limit))
