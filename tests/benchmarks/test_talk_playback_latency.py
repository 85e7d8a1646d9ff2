"""The playback-latency benchmark's own definitions: what "added latency" counts, which underruns
the warm-up excuses, and which target applies to which cell. Figures are the benchmark's
business; this checks that they mean what the targets say."""

from __future__ import annotations

import random
from typing import Any

import pytest

from benchmarks import talk_playback_latency as bench
from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.speaker import Speaker


def _speaker(prebuffer_ms: int) -> tuple[Speaker, FakeOutputStream]:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FakeOutputStream(**kwargs, reported_latency=0.0))
        return streams[-1]

    speaker = Speaker(block_ms=bench.BLOCK_MS, prebuffer_ms=prebuffer_ms, stream_factory=factory)
    speaker.start()
    return speaker, streams[0]


def test_added_latency_is_the_wait_from_the_first_arrival_to_the_next_device_block() -> None:
    rng = random.Random(1)
    speaker, stream = _speaker(prebuffer_ms=0)  # no playout delay: only the block clock
    waits = [bench._reply(speaker, stream, n, 1.0, 0.0, rng)["added_ms"] for n in range(20)]
    speaker.close()
    assert all(0 <= w < bench.BLOCK_MS for w in waits)  # arrival at a random block phase
    assert max(waits) - min(waits) > bench.BLOCK_MS / 2  # ...so the wait is not a constant


def test_a_playout_delay_shows_in_the_added_latency() -> None:
    rng = random.Random(2)
    speaker, stream = _speaker(prebuffer_ms=200)
    first = bench._reply(speaker, stream, 0, 1.0, 0.0, rng)
    second = bench._reply(speaker, stream, 1, 1.0, 0.0, rng)
    speaker.close()
    # The first reply waits the whole 200 ms, plus the wait for the device's next block...
    assert 200 <= first["added_ms"] < 200 + bench.BLOCK_MS and first["stretched_ms"] == 0
    # ...the next starts a block early (its arrivals were seen) and stretches that block back.
    assert 180 <= second["added_ms"] < 200 and second["stretched_ms"] >= 20
    assert first["underrun_at_ms"] == second["underrun_at_ms"] == []


def test_only_underruns_in_the_first_half_second_of_a_first_reply_are_excused() -> None:
    row = {
        "added_latency_ms": {"median": 39.0},
        "underrun_replies": 1,
        "underrun_replies_percent": 0.5,
    }
    assert bench._meets(1.0, 40.0, {**row, "underrun_replies_after_warmup": 0})
    assert not bench._meets(1.0, 40.0, {**row, "underrun_replies_after_warmup": 1})
    slow = {**row, "underrun_replies_after_warmup": 0, "added_latency_ms": {"median": 40.5}}
    assert not bench._meets(1.0, 40.0, slow)
    # Faster than real time, no underrun is excused and the latency bound is 20 ms.
    fast = {"added_latency_ms": {"median": 19.0}, "underrun_replies_after_warmup": 0}
    assert bench._meets(1.5, 40.0, {**fast, "underrun_replies": 0})
    assert not bench._meets(4.0, 0.0, {**fast, "underrun_replies": 1})
    assert not bench._meets(
        1.5, 40.0, {**fast, "underrun_replies": 0, "added_latency_ms": {"median": 21.0}}
    )


@pytest.mark.parametrize(("percent", "met"), [(4.9, True), (5.0, False)])
def test_at_80_ms_of_jitter_the_target_is_fewer_than_5_percent_of_replies(
    percent: float, met: bool
) -> None:
    row = {"added_latency_ms": {"median": 90.0}, "underrun_replies_percent": percent}
    assert bench._meets(1.0, 80.0, row) is met


def test_a_small_run_reports_every_cell_with_its_verdict() -> None:
    result = bench.main(sessions=1, replies=2)
    cells = {(r["pace"], r["jitter_ms"]) for r in result["rows"]}
    assert cells == {(p, j) for p in bench.PACES for j in bench.JITTERS_MS}
    for row in result["rows"]:
        assert row["replies"] == 2
        assert row["underrun_replies_after_warmup"] <= row["underrun_replies"]
        assert row["meets_targets"] == bench._meets(row["pace"], row["jitter_ms"], row)
    assert result["meets_targets"] == all(r["meets_targets"] for r in result["rows"])
