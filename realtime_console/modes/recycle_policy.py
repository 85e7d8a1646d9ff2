"""When to renew a session ahead of the service's time limit (the policy ``modes/recycle.py``
carries out). Its own module so the session can hold one without importing the recycle."""

from __future__ import annotations

from dataclasses import dataclass

SESSION_LIMIT_S = 3600.0  # the service's maximum session duration: 60 minutes
# Renew from 55 minutes on: five minutes is room for a long spoken exchange to end on its own
# before the limit would cut it.
RECYCLE_MARGIN_S = 300.0
RETRY_AFTER_S = 30.0  # after a failed renewal, the next try (the old link still works)


@dataclass(frozen=True)
class RecyclePolicy:
    limit_s: float = SESSION_LIMIT_S
    margin_s: float = RECYCLE_MARGIN_S

    @classmethod
    def for_limit(cls, limit_s: float) -> RecyclePolicy | None:
        """The policy for a session limit of ``limit_s`` seconds (0: never renew). Short
        limits (tests, demos) renew in their last quarter."""
        if limit_s <= 0:
            return None
        return cls(limit_s=limit_s, margin_s=min(RECYCLE_MARGIN_S, limit_s / 4))

    @property
    def renew_after_s(self) -> float:
        return max(0.0, self.limit_s - self.margin_s)

    @property
    def retry_after_s(self) -> float:
        return min(RETRY_AFTER_S, self.margin_s / 4)
