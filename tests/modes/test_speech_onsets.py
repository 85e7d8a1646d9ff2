"""SpeechOnsets: the sent-audio timeline kept on the server session that counts the audio."""

from __future__ import annotations

import pytest

from realtime_console.modes.speech_onsets import MAX_PADDING_MS, SpeechOnsets

BLOCK = 2400  # 100 ms at 24 kHz
OLD, NEW, NEWER = object(), object(), object()


def onsets(padding_ms: int = 0) -> SpeechOnsets:
    return SpeechOnsets(block_ms=100, padding_ms=padding_ms, link=OLD)


def send(o: SpeechOnsets, captured_at: float, *, link: object = OLD, renewing: bool = False,
         dropped: int = 0) -> None:  # fmt: skip
    """One 100 ms block captured at ``captured_at`` (s) goes out, as talk sends an append."""
    o.timeline.record(BLOCK, captured_at)
    o.sync(link=link, renewing=renewing, unsent_samples=BLOCK, held_dropped_samples=dropped)


def test_the_padding_is_added_back_to_the_servers_start() -> None:
    o = onsets(padding_ms=300)
    for i in range(20):
        send(o, 10.0 + i / 10)
    # The server says 500 ms: the speech began 300 ms later, 0.8 s into the sent audio.
    assert o.onset(500) == pytest.approx(10.8)


def test_a_reconnect_starts_the_count_at_the_first_audio_the_new_session_gets() -> None:
    o = onsets()
    for i in range(10):
        send(o, float(i) / 10)
    send(o, 50.0, link=NEW)  # the first append on the new connection
    send(o, 50.1, link=NEW)
    assert o.onset(150) == pytest.approx(50.15)


def test_a_renewal_counts_from_the_first_held_append() -> None:
    o = onsets()
    for i in range(10):
        send(o, float(i) / 10)
    send(o, 1.0, renewing=True)  # held for the new link while it is set up
    send(o, 1.1, renewing=True)
    o.sync(link=NEW, renewing=False, unsent_samples=0, held_dropped_samples=0)  # it ended
    send(o, 1.2, link=NEW)
    assert o.onset(50) == pytest.approx(1.05)  # the new session's 50 ms: the first held block
    assert o.onset(250) == pytest.approx(1.25)


def test_held_audio_the_session_dropped_never_reached_the_new_session() -> None:
    o = onsets()
    send(o, 0.0)
    for i in range(3):
        send(o, 1.0 + i / 10, renewing=True)
    # The session kept only the newest held append: the first two (4800 samples) were dropped.
    o.sync(link=NEW, renewing=False, unsent_samples=0, held_dropped_samples=2 * BLOCK)
    assert o.onset(50) == pytest.approx(1.25)


def test_a_failed_renewal_leaves_the_old_count_and_no_stale_hold() -> None:
    o = onsets()
    for i in range(10):
        send(o, float(i) / 10)
    send(o, 1.0, renewing=True)
    o.sync(link=OLD, renewing=False, unsent_samples=0, held_dropped_samples=0)  # it failed
    assert o.onset(1050) == pytest.approx(1.05)  # the held block went to the old session
    # Later the link drops while nothing is sent, and a reconnect brings a new session: its
    # count starts at the next append, not at the old hold.
    o.sync(link=NEWER, renewing=False, unsent_samples=0, held_dropped_samples=0)
    send(o, 50.0, link=NEWER)
    assert o.onset(50) == pytest.approx(50.05)


def test_a_start_on_the_last_commit_may_be_clamped_so_it_is_unknown() -> None:
    o = onsets(padding_ms=300)
    for i in range(40):
        send(o, float(i) / 10)
    assert o.onset(0) is None  # a new session's 0: the padding may have been cut short
    o.committed(2000)  # a turn ended at 2 s
    assert o.onset(2000) is None  # right on it: clamped, the speech began up to 300 ms later
    assert o.onset(2100) == pytest.approx(2.4)
    o.committed(1500)  # an older commit never lowers the floor
    assert o.onset(2000) is None
    o.sync(link=NEW, renewing=False, unsent_samples=0, held_dropped_samples=0)
    for i in range(5):
        send(o, 9.0 + i / 10, link=NEW)
    assert o.onset(0) is None  # the new session's floor is its 0
    assert o.onset(10) == pytest.approx(9.31)


def test_a_padding_past_any_servers_is_bounded() -> None:
    o = SpeechOnsets(block_ms=100, padding_ms=10**400, link=OLD)
    assert o.padding_ms == MAX_PADDING_MS
    send(o, 0.0)
    assert o.onset(10) is None  # past the audio sent: no place, no OverflowError
