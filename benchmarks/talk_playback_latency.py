"""Added playback latency (first audio delta → first sample handed to the device) and underruns
under network jitter, for a range of prebuffer sizes.

Simulated on the clock-driven fake output stream, so the figures are exact and independent of
machine load: a response of ``RESPONSE_MS`` arrives as ``CHUNK_MS`` deltas, delta *i* at
``i * CHUNK_MS / pace + jitter_i`` (jitter uniform in ``[0, JITTER_MS]``, deliveries in order as
over TCP), with the device's block clock at a random phase. Before each device block every delta
that has arrived is enqueued, exactly as the event loop would.

* ``added_latency_ms``: from the first delta's arrival to the moment its first sample is handed
  to the device (the device's own output latency is not the console's and is not included).
  Target: <= 40 ms.
* ``underrun_trials``: responses during which playback ran dry at least once. Target: 0 at 40 ms
  of jitter.

``pace`` is how fast the server streams audio relative to real time: 1.0 is the worst case (a
server that streams exactly in real time), the service and the local server stream faster.

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

BLOCK_MS = 20.0
CHUNK_MS = 100
RESPONSE_MS = 3000
JITTER_MS = 40.0
TRIALS = 200
PREBUFFERS_MS = (0, 20, 40, 60, 80, 120)
PACES = (1.0, 1.5, 4.0)
TARGET_ADDED_MS = 40.0


def _trial(prebuffer_ms: int, pace: float, rng: random.Random) -> tuple[float, int]:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(FakeOutputStream(**kwargs, reported_latency=0.0, record=True))
        return streams[-1]

    speaker = Speaker(block_ms=BLOCK_MS, prebuffer_ms=prebuffer_ms, stream_factory=factory)
    speaker.start()
    stream = streams[0]
    chunk = np.full(CHUNK_MS * 24, 1000, dtype="<i2").tobytes()
    n_chunks = RESPONSE_MS // CHUNK_MS
    phase = rng.uniform(0, BLOCK_MS)  # device block boundaries relative to the first arrival
    arrivals, last = [], 0.0
    for i in range(n_chunks):
        at = max(last, phase + i * CHUNK_MS / pace + rng.uniform(0, JITTER_MS))
        arrivals.append(at)
        last = at
    first_arrival = arrivals[0]
    pushed = 0
    first_sample_at: float | None = None
    block = 0
    while pushed < n_chunks or speaker.is_playing:
        tick = block * BLOCK_MS
        while pushed < n_chunks and arrivals[pushed] <= tick:
            speaker.enqueue(chunk, "r1", "a1")
            pushed += 1
            if pushed == n_chunks:
                speaker.end_response("r1")
        stream.advance(1)
        if first_sample_at is None:
            nonzero = np.flatnonzero(stream.blocks[-1][:, 0])
            if len(nonzero):
                first_sample_at = tick + nonzero[0] / 24
        block += 1
        if block > 10_000:
            raise RuntimeError("playback never finished")
    assert first_sample_at is not None
    underruns = speaker.stats.underruns
    speaker.close()
    return first_sample_at - first_arrival, underruns


def main(trials: int = TRIALS) -> dict[str, Any]:
    rng = random.Random(3)
    rows = []
    for pace in PACES:
        for prebuffer in PREBUFFERS_MS:
            latencies, underrun_trials = [], 0
            for _ in range(trials):
                latency, underruns = _trial(prebuffer, pace, rng)
                latencies.append(latency)
                underrun_trials += underruns > 0
            rows.append(
                {
                    "pace": pace,
                    "prebuffer_ms": prebuffer,
                    "added_latency_ms": {
                        "mean": round(statistics.fmean(latencies), 1),
                        "max": round(max(latencies), 1),
                    },
                    "underrun_trials": underrun_trials,
                    "meets_targets": bool(
                        max(latencies) <= TARGET_ADDED_MS and underrun_trials == 0
                    ),
                }
            )
    return {
        "benchmark": "talk_playback_latency",
        "block_ms": BLOCK_MS,
        "chunk_ms": CHUNK_MS,
        "jitter_ms": JITTER_MS,
        "trials_per_row": trials,
        "target_added_ms": TARGET_ADDED_MS,
        "rows": rows,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=TRIALS, help=f"replies per row ({TRIALS})")
    print(json.dumps(main(parser.parse_args().trials), indent=1))
