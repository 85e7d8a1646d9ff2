"""Adaptive jitter buffer: added playback latency and underruns under network jitter, across
server pace (1.0 / 1.5 / 4.0 x real time) and jitter (0 / 40 / 80 ms).

Simulated on the clock-driven fake output stream, so the figures are exact and independent of
machine load. A *session* is one ``Speaker`` with the default settings (``audio.prebuffer_ms``
40 as the starting playout delay, ``audio.max_prebuffer_ms`` 500 as its cap) playing ``REPLIES``
replies one after the other, so the buffer learns the network as it would in a conversation.
Each reply of ``RESPONSE_MS`` arrives as ``CHUNK_MS`` deltas, delta *i* at
``i * CHUNK_MS / pace + jitter_i`` (jitter uniform in ``[0, jitter_ms]``, deliveries in order as
over TCP), with the device's block clock at a random phase; before each device block every delta
that has arrived is enqueued, exactly as the event loop would. A second of quiet separates
replies.

* ``added_latency_ms``: from a reply's first delta's arrival to the moment its first sample is
  handed to the device (the device's own output latency is not the console's and is not counted).
* ``clean_replies_percent``: replies during which playback never ran dry.

Targets (the worst case a server can stream at, real time, with 40 ms of jitter): no underrun in
>= 95 % of replies and a median added latency <= 60 ms. The limit: with chunks arriving up to
J ms late, a reply that must not run dry has to start J ms after the fastest schedule its audio
could keep, so J (plus up to one 20 ms device block of waiting) is the least latency that
guarantees it; a faster server's audio builds its own lead and needs no wait.

Run: ``python -m benchmarks.talk_playback_latency`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
from typing import Any

import numpy as np

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.speaker import Speaker
from realtime_console.config import AudioSettings

BLOCK_MS = 20.0
CHUNK_MS = 100
RESPONSE_MS = 3000
GAP_MS = 1000  # quiet between replies
SESSIONS = 10
REPLIES = 20
PACES = (1.0, 1.5, 4.0)
JITTERS_MS = (0.0, 40.0, 80.0)
TARGET_CLEAN_PERCENT = 95.0
TARGET_MEDIAN_ADDED_MS = 60.0


def _reply(
    speaker: Speaker,
    stream: FakeOutputStream,
    n: int,
    pace: float,
    jitter: float,
    rng: random.Random,
) -> tuple[float, bool]:
    """Play one reply; (added latency in ms, ran dry at least once)."""
    chunk = np.full(CHUNK_MS * 24, 1000, dtype="<i2").tobytes()
    n_chunks = RESPONSE_MS // CHUNK_MS
    phase = rng.uniform(0, BLOCK_MS)  # device block boundaries relative to the first arrival
    arrivals, last = [], 0.0
    for i in range(n_chunks):
        at = max(last, phase + i * CHUNK_MS / pace + rng.uniform(0, jitter))
        arrivals.append(at)
        last = at
    rid, item = f"r{n}", f"a{n}"
    underruns_before = speaker.stats.underruns
    pushed = 0
    first_sample_at: float | None = None
    block = 0
    while pushed < n_chunks or speaker.is_playing:
        tick = block * BLOCK_MS
        while pushed < n_chunks and arrivals[pushed] <= tick:
            speaker.enqueue(chunk, rid, item)
            pushed += 1
            if pushed == n_chunks:
                speaker.end_response(rid)
        stream.advance(1)
        if first_sample_at is None and speaker.played_ms(item) > 0:
            first_sample_at = tick  # playback always starts at the head of a device block
        block += 1
        if block > 10_000:
            raise RuntimeError("playback never finished")
    stream.advance(round(GAP_MS / BLOCK_MS))
    assert first_sample_at is not None
    return first_sample_at - arrivals[0], speaker.stats.underruns > underruns_before


def _session(
    pace: float, jitter: float, replies: int, rng: random.Random
) -> tuple[list[float], list[bool], float]:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FakeOutputStream(**kwargs, reported_latency=0.0))
        return streams[-1]

    defaults = AudioSettings()
    speaker = Speaker(
        block_ms=BLOCK_MS,
        prebuffer_ms=defaults.prebuffer_ms,
        max_prebuffer_ms=defaults.max_prebuffer_ms,
        stream_factory=factory,
    )
    speaker.start()
    latencies, dry = [], []
    for n in range(replies):
        latency, ran_dry = _reply(speaker, streams[0], n, pace, jitter, rng)
        latencies.append(latency)
        dry.append(ran_dry)
    target = speaker.stats.target_ms
    speaker.close()
    return latencies, dry, target


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main(sessions: int = SESSIONS, replies: int = REPLIES) -> dict[str, Any]:
    rng = random.Random(3)
    rows = []
    for pace in PACES:
        for jitter in JITTERS_MS:
            latencies: list[float] = []
            dry: list[bool] = []
            targets: list[float] = []
            for _ in range(sessions):
                session_latencies, session_dry, target = _session(pace, jitter, replies, rng)
                latencies += session_latencies
                dry += session_dry
                targets.append(target)
            clean = 100.0 * (len(dry) - sum(dry)) / len(dry)
            median = statistics.median(latencies)
            rows.append(
                {
                    "pace": pace,
                    "jitter_ms": jitter,
                    "replies": len(dry),
                    "underrun_replies": sum(dry),
                    "first_reply_underruns": sum(dry[i] for i in range(0, len(dry), replies)),
                    "clean_replies_percent": round(clean, 1),
                    "added_latency_ms": {
                        "median": round(median, 1),
                        "p95": round(_percentile(latencies, 0.95), 1),
                        "max": round(max(latencies), 1),
                    },
                    "final_target_ms": {
                        "min": round(min(targets), 1),
                        "max": round(max(targets), 1),
                    },
                    "meets_targets": bool(
                        clean >= TARGET_CLEAN_PERCENT and median <= TARGET_MEDIAN_ADDED_MS
                    ),
                }
            )
    worst = next(r for r in rows if r["pace"] == 1.0 and r["jitter_ms"] == 40.0)
    return {
        "benchmark": "talk_playback_latency",
        "block_ms": BLOCK_MS,
        "chunk_ms": CHUNK_MS,
        "response_ms": RESPONSE_MS,
        "sessions_per_row": sessions,
        "replies_per_session": replies,
        "prebuffer_ms": AudioSettings().prebuffer_ms,
        "max_prebuffer_ms": AudioSettings().max_prebuffer_ms,
        "targets": {
            "clean_replies_percent": TARGET_CLEAN_PERCENT,
            "median_added_ms": TARGET_MEDIAN_ADDED_MS,
            "at": "pace 1.0, 40 ms jitter",
        },
        "rows": rows,
        "meets_targets": worst["meets_targets"],
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS, help=f"per row ({SESSIONS})")
    parser.add_argument("--replies", type=int, default=REPLIES, help=f"per session ({REPLIES})")
    options = parser.parse_args()
    print(json.dumps(main(options.sessions, options.replies), indent=1))
