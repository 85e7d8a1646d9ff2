"""Finding where a microphone block's echo came from, and telling a real break from a voice's
own periodicity: ``locate_echo`` and ``LeadTracker`` on a simulated room's echo."""

from __future__ import annotations

import numpy as np
import pytest

from realtime_console.audio.echo.align import SPREAD_SAMPLES, LeadTracker, locate_echo
from realtime_console.audio.echo.path import EchoPathSpec, render
from realtime_console.audio.echo.stage import ALIGN_CORRELATION
from tests.audio.echo.rig import RATE, voice

BLOCK = 2_400  # 100 ms
BACK = 12_000  # how far before the block's reference the search starts (as the stage)
FORWARD = 4_800


def speech(seconds: float) -> np.ndarray:
    return np.frombuffer(voice(seconds), dtype="<i2").astype(np.float64)


def echo_of(played: np.ndarray, delay_ms: float) -> np.ndarray:
    spec = EchoPathSpec(delay_ms=delay_ms, gain_db=-6)
    return render(played.astype(np.float32), spec).astype(np.float64)


def test_the_echo_is_found_where_it_came_from_and_a_voice_is_not() -> None:
    played = speech(3.0)
    mic = echo_of(played, 50.0)
    start = RATE * 2
    block = mic[start : start + BLOCK]
    window = played[start - BACK : start + BLOCK]
    found = locate_echo(window, block)
    # The echo of sample i is heard 50 ms (1200 samples) later: the block came from there,
    # give or take where the room's reflections put the peak for this content.
    assert abs((start - BACK + found.best) - (start - 1_200)) <= SPREAD_SAMPLES
    assert found.rho > 0.7
    other = speech(3.0)  # the same text in another voice, as a user talking over the reply
    user = np.frombuffer(voice(3.0, "ash"), dtype="<i2").astype(np.float64)
    assert locate_echo(other[: BACK + BLOCK], user[start : start + BLOCK]).rho < 0.5
    assert locate_echo(window, np.zeros(BLOCK)).rho == 0.0


class Room:
    """Blocks of a far-end voice and its echo, as the stage measures them: each block's
    correlation with what was played, and the lead (reference start less echo source)."""

    def __init__(self, delay_ms: float = 60.0) -> None:
        self.played = speech(20.0)
        self.mic = echo_of(self.played, delay_ms)
        self.tracker = LeadTracker(-FORWARD, BACK)
        self.first = 0  # where the stage's reference for the current block starts
        self.break_at: int | None = None
        self.gap = 0  # samples of silence the speaker played that the reference never saw

    def block(self, k: int) -> int | None:
        """Measure block ``k`` (mic samples k*BLOCK on): the tracker's answer, None for a block
        the stage would not measure (no clear echo in it)."""
        start = k * BLOCK
        echo_start = start
        if self.break_at is not None and k >= self.break_at:
            echo_start -= self.gap  # everything plays later: the block hears older samples
        block = self.mic[echo_start : echo_start + BLOCK]
        first = start + self.first
        window = self.played[first - BACK : first + BLOCK + FORWARD]
        found = locate_echo(window, block)
        if found.rho < ALIGN_CORRELATION:
            return None
        shift = self.tracker.observe(found, BACK)
        self.first += shift  # as the stage moves the reference
        return shift


def test_a_steady_echo_never_moves_the_reference() -> None:
    room = Room()
    shifts = [s for k in range(10, 150) if (s := room.block(k)) is not None]
    assert len(shifts) > 70 and shifts == [0] * len(shifts)
    assert room.tracker.established is not None
    assert abs(room.tracker.established - 1_440) <= SPREAD_SAMPLES  # 60 ms


@pytest.mark.parametrize("gap", [480, 1_440, -2_400])
def test_a_break_moves_the_reference_back_by_exactly_the_change(gap: int) -> None:
    """An underflow (the speaker played ``gap`` of silence) or a lost microphone block (a
    negative gap): a few measured blocks later the reference moves by the change, to a
    sample."""
    room = Room()
    for k in range(10, 40):
        assert room.block(k) in (0, None)
    room.break_at, room.gap = 40, gap
    shifts = [s for k in range(40, 50) if (s := room.block(k)) is not None]
    moved = [s for s in shifts if s]
    assert len(moved) == 1 and abs(moved[0] + gap) <= 3, shifts
    # Two measured blocks in a row that show it, or a few more when one of them happens to fit
    # the old lead too (a held note correlates a pitch period either side).
    assert 1 <= shifts.index(moved[0]) <= 3
