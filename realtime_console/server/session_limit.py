"""The service's session time limit: how a Realtime session ends when it reaches it.

The service closes every Realtime session 60 minutes after it opened, with close code 1001 and
a reason naming the maximum duration; the local server does the same after ``max_session_s``
(``serve --max-session-s``) so clients that must outlive it can be tested in seconds.
"""

from __future__ import annotations

CLOSE_GOING_AWAY = 1001  # the close code at the limit


def max_duration_reason(limit_s: float) -> str:
    """The close reason the service sends at the limit, worded for ``limit_s`` seconds."""
    if limit_s >= 60 and limit_s % 60 == 0:
        count, unit = f"{limit_s / 60:g}", "minute"
    else:
        count, unit = f"{limit_s:g}", "second"
    plural = "" if count == "1" else "s"
    return f"Your session hit the maximum duration of {count} {unit}{plural}."
