"""The audio store: ids that expire on an injected clock, and a bound on what is kept."""

from __future__ import annotations

import re

import pytest

from realtime_console.server.completions.audio_store import AudioStore


class Clock:
    def __init__(self, now: float = 1_700_000_000.25) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_an_id_is_found_until_it_expires() -> None:
    clock = Clock()
    store = AudioStore(60.0, clock=clock)
    stored = store.add("Hello.", 1.5)
    assert re.fullmatch(r"audio_[0-9a-f]{32}", stored.id)
    assert stored.expires_at == 1_700_000_061  # rounded up: never shown earlier than it is
    clock.now += 59.9
    assert store.get(stored.id) == stored
    assert (stored.transcript, stored.duration_s) == ("Hello.", 1.5)
    clock.now += 0.1
    assert store.get(stored.id) is None
    assert store.get("audio_unknown") is None


def test_expired_entries_are_dropped_and_the_store_is_bounded() -> None:
    clock = Clock()
    store = AudioStore(10.0, clock=clock, max_entries=3)
    old = store.add("old", 1.0)
    clock.now += 11
    fresh = [store.add(f"t{n}", 1.0) for n in range(3)]
    assert len(store) == 3 and store.get(old.id) is None  # expired, and gone from memory
    newest = store.add("t3", 1.0)
    assert len(store) == 3
    assert store.get(fresh[0].id) is None  # the oldest made room
    assert [store.get(s.id) for s in (*fresh[1:], newest)] == [*fresh[1:], newest]


def test_ids_are_fresh_and_settings_are_checked() -> None:
    store = AudioStore(1.0)
    assert len({store.add("x", 0.1).id for _ in range(50)}) == 50
    with pytest.raises(ValueError):
        AudioStore(0.0)
    with pytest.raises(ValueError):
        AudioStore(1.0, max_entries=0)
