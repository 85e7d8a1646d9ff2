from __future__ import annotations

import pytest

from realtime_console.errors import ConfigError
from realtime_console.replay.pacing import Pacer, parse_speed


def test_parse_speed() -> None:
    assert parse_speed("1") == 1.0
    assert parse_speed("2.5") == 2.5
    assert parse_speed("MAX") is None
    for bad in ("0", "-2", "fast", "nan", "inf"):
        with pytest.raises(ConfigError, match="--speed"):
            parse_speed(bad)


class FakeTime:
    def __init__(self) -> None:
        self.now = 50.0
        self.slept: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(round(seconds, 6))
        self.now += seconds


@pytest.mark.parametrize(("speed", "expected"), [(1.0, [1.0, 2.0]), (4.0, [0.25, 0.5])])
async def test_pacer_keeps_recorded_spacing_scaled(speed: float, expected: list[float]) -> None:
    fake = FakeTime()
    pacer = Pacer(speed, clock=fake.clock, sleep=fake.sleep)
    await pacer.wait_for(10.0)  # the first event is due at once
    await pacer.wait_for(11.0)
    await pacer.wait_for(13.0)
    await pacer.wait_for(None)  # untimed: never waits
    assert fake.slept == expected


async def test_pacer_catches_up_when_behind_and_max_never_sleeps() -> None:
    fake = FakeTime()
    pacer = Pacer(1.0, clock=fake.clock, sleep=fake.sleep)
    await pacer.wait_for(0.0)
    fake.now += 5.0  # rendering took longer than the gap
    await pacer.wait_for(2.0)
    assert fake.slept == []
    fast = Pacer(None, clock=fake.clock, sleep=fake.sleep)
    for t in range(1000):
        await fast.wait_for(float(t))
    assert fake.slept == []


@pytest.mark.parametrize("speed", [1.0, 4.0])
async def test_corrupt_or_long_gaps_are_shortened(speed: float) -> None:
    from realtime_console.replay.pacing import MAX_GAP_S

    fake = FakeTime()
    pacer = Pacer(speed, clock=fake.clock, sleep=fake.sleep)
    times = [0.0, 1e308, 1.0, -5.0, 2.0, 1e9 + 2, float("nan"), 1e9 + 3.0, 1e9 + 3.5]
    shortened = [await pacer.wait_for(t) for t in times]
    # 1e308: shortened; back to 1.0 and to -5: no wait; 7 s: shortened; the 1e9 s jump:
    # shortened; NaN: untimed; then the recorded spacing again.
    assert fake.slept == [round(s / speed, 6) for s in (MAX_GAP_S, MAX_GAP_S, MAX_GAP_S, 1.0, 0.5)]
    assert shortened == [None, 1e308, None, None, 7.0, 1e9, None, None, None]
    assert pacer.shortened == 3
