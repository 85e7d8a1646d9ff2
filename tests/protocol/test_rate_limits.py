from __future__ import annotations

from realtime_console.protocol.rate_limits import (
    RateLimit,
    compact,
    describe,
    most_constrained,
    parse,
)


def test_parse_keeps_well_formed_entries_only() -> None:
    event = {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": 4999, "reset_seconds": 0.012},
            {"name": "tokens", "limit": 40000.0, "remaining": 39_990},  # no reset given
            {"name": "odd", "limit": True, "remaining": 1},  # a bool is not a number
            "not an entry",
            {"limit": 1, "remaining": 1},  # no name
        ],
    }
    assert parse(event) == [
        RateLimit("requests", 5000, 4999, 0.012),
        RateLimit("tokens", 40000, 39_990, None),
    ]
    assert parse({"type": "rate_limits.updated", "rate_limits": "x"}) == []


def test_the_most_constrained_is_the_smallest_share_left() -> None:
    limits = [RateLimit("requests", 100, 20), RateLimit("tokens", 40_000, 4_000)]
    assert most_constrained(limits) == limits[1]
    assert most_constrained([]) is None
    assert RateLimit("zero", 0, 0).fraction_left == 1.0  # a limit of 0 is no limit to show


def test_compact_and_describe() -> None:
    assert [compact(n) for n in (999, 1000, 4999, 12_345, 40_000, 2_500_000)] == [
        "999",
        "1k",
        "4.9k",
        "12.3k",
        "40k",
        "2.5M",
    ]
    assert describe(RateLimit("tokens", 40_000, 12_300, 5.0)) == "tokens 12.3k/40k left"
    low = RateLimit("tokens", 40_000, 3_999, 5.04)
    assert describe(low) == "tokens 3.9k/40k left, resets in 5.0 s"


def test_parse_skips_numbers_that_are_not_finite() -> None:
    for bad in (float("nan"), float("inf"), -float("inf"), 10**309):
        event = {
            "type": "rate_limits.updated",
            "rate_limits": [
                {"name": "a", "limit": bad, "remaining": 1},
                {"name": "b", "limit": 10, "remaining": bad},
                {"name": "c", "limit": 10, "remaining": 1, "reset_seconds": bad},
            ],
        }
        assert parse(event) == [RateLimit("c", 10, 1, None)], bad
