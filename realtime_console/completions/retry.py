"""When a failed chat completion is tried again, and how long to wait first (pure).

The SDK's own retries are off (``max_retries=0``): the console retries itself so that each retry
is announced (one notice line) and recorded in the event log, and so that a stream is never
retried once part of its reply has been played.
"""

from __future__ import annotations

from realtime_console.completions.errors import Failure

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 8.0
# A service that asks for a longer pause than this is better answered "try later" than by a
# console that sits silent for minutes.
MAX_WAIT_S = 60.0

# How a retried failure is named in its notice, e.g. "rate limited (HTTP 429); retrying in …".
_WHAT = {
    429: "rate limited",
    500: "service error",
    502: "bad gateway",
    503: "service unavailable",
    504: "gateway timeout",
}


def is_retryable(failure: Failure) -> bool:
    # A timeout is not retried: it has already used the whole completions.timeout_s budget.
    if failure.kind == "connection":
        return True
    return failure.kind == "status" and failure.status in RETRYABLE_STATUS


def backoff_s(retry: int) -> float:
    """Our own wait before retry number ``retry`` (from 1): 1, 2, 4, 8, 8, … seconds."""
    return min(MAX_BACKOFF_S, FIRST_BACKOFF_S * 2.0 ** max(0, retry - 1))


def wait_before(failure: Failure, retry: int) -> float:
    """The service's retry-after hint when it gave one, else the back-off."""
    if failure.retry_after_s is not None:
        return failure.retry_after_s
    return backoff_s(retry)


def describe(failure: Failure) -> str:
    """``rate limited (HTTP 429)``, ``cannot connect (connection refused)``."""
    if failure.kind == "connection":
        return f"cannot connect ({failure.message})"
    status = failure.status or 0
    return f"{_WHAT.get(status, 'service error')} (HTTP {status})"


def seconds(value: float) -> str:
    """``1``, ``0.1``, ``2.5``: a wait as a notice shows it."""
    return f"{value:.3g}"
