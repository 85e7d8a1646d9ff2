from __future__ import annotations

import pytest

from realtime_console.eventlog import LogRecord
from realtime_console.replay.window import Bound, Window, parse_bound


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.5", Bound(seconds=12.5)),
        ("12.5s", Bound(seconds=12.5)),
        (" 3 s ", Bound(seconds=3.0)),
        (".5", Bound(seconds=0.5)),
        ("#120", Bound(index=120)),
        ("#0", Bound(index=0)),
        ("azure", None),
        ("-1", None),
        ("#x", None),
        ("12ms", None),
    ],
)
def test_parse_bound(text: str, expected: Bound | None) -> None:
    assert parse_bound(text) == expected


def _rec(index: int, t: float | None) -> LogRecord:
    return LogRecord(index, index + 2, t, "server", {"type": "x"})


def test_window_by_time_and_index_is_inclusive() -> None:
    window = Window(Bound(seconds=1.0), Bound(index=5))
    assert window.before_start(_rec(0, 0.5))
    assert window.contains(_rec(1, 1.0))
    assert window.contains(_rec(5, 9.0))
    assert window.after_end(_rec(6, 9.0))
    assert not Window().after_end(_rec(10**6, 1e6)) and Window().is_whole_log


def test_untimed_records_are_inside_time_windows() -> None:
    assert Window(Bound(seconds=1.0), Bound(seconds=2.0)).contains(_rec(3, None))
    assert str(Bound(seconds=2.5)) == "2.5s" and str(Bound(index=7)) == "#7"
