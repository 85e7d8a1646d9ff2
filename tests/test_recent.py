from __future__ import annotations

import copy
import pickle

from realtime_console.recent import OTHER, RecentCounter


def test_keeps_the_most_recently_counted_keys_and_sums_the_rest() -> None:
    counter = RecentCounter(limit=3)
    for key in ("a", "b", "c", "a", "d", "e"):
        counter[key] += 1
    # "a" was counted again after "b" and "c", so it outlives them.
    assert counter == {"a": 2, "d": 1, "e": 1, OTHER: 2}


def test_a_hundred_thousand_keys_stay_bounded() -> None:
    counter = RecentCounter(limit=100)
    for n in range(100_000):
        counter[f"resp_{n}"] += 7
    assert len(counter) == 101
    assert sum(counter.values()) == 700_000
    assert counter["resp_99999"] == 7 and counter[OTHER] == 7 * 99_900


def test_copies_and_pickles_keep_the_limit() -> None:
    counter = RecentCounter({"a": 1, "b": 2}, limit=2)
    for clone in (counter.copy(), copy.deepcopy(counter), pickle.loads(pickle.dumps(counter))):
        assert isinstance(clone, RecentCounter) and clone.limit == 2 and clone == counter
        clone["c"] += 1
        assert len(clone) == 3 and clone[OTHER] == 1
