"""Adaptive jitter buffer: added playback latency and underruns under network jitter, across
server pace (1.0 / 1.5 / 4.0 x real time) and jitter (0 / 40 / 80 ms).

Simulated on the clock-driven fake output stream, so the figures are exact and independent of
machine load. A *session* is one ``Speaker`` with the default settings (``audio.prebuffer_ms``
40 as the starting playout delay, ``audio.max_prebuffer_ms`` 500 as its cap) playing ``REPLIES``
replies one after the other, so the buffer learns the network as it would in a conversation.
Each reply of ``RESPONSE_MS`` (a vowel-like voice, ``voiced``) arrives as ``CHUNK_MS`` deltas,
delta *i* at ``i * CHUNK_MS / pace + jitter_i`` (jitter uniform in ``[0, jitter_ms]``,
deliveries in order as over TCP), with the device's block clock at a random phase; before each
device block every delta that has arrived is enqueued, exactly as the event loop would. A second
of quiet separates replies.

* ``added_latency_ms``: from a reply's first delta's arrival (the earliest its audio could have
  been played) to the moment its first sample reaches the device, per reply. It includes the
  wait for the device's next 20 ms block; the device's own output latency is not the console's
  and is not counted (the fake stream reports none).
* ``underrun_replies``: replies during which playback ran dry at least once;
  ``underrun_replies_after_warmup`` leaves out underruns in the first ``WARMUP_MS`` of a
  session's first reply (the buffer has seen nothing of the network yet);
  ``clean_replies_percent``: replies that never ran dry.
* ``stretched_ms_per_reply``: audio the buffer added by repeating pitch periods, to reach its
  target after starting a block early. The first sample comes a block sooner; the reply's end
  comes as late as if it had started at the target (that delay is spread over its first
  blocks instead).

Targets: at real-time pace (1.0) with up to 40 ms of jitter, 0 replies with an underrun after
the first 500 ms of a session's first reply and a median added latency <= 40 ms; at pace >= 1.5
with up to 40 ms of jitter, 0 replies with an underrun and a median <= 20 ms; with 80 ms of
jitter, underruns in < 5 % of replies (the latency there, at real-time pace, is about the
jitter). The limit: with chunks up to J ms late, a reply that must not run dry has to play J ms
after the fastest schedule its audio could keep, so J is the least delay that guarantees it;
the wait for the device's next block (up to 20 ms) comes on top unless playback starts a block
early and stretches to catch up; a faster server's audio builds its own lead and needs no wait.

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

BLOCK_MS = float(AudioSettings().block_ms)  # the device block talk opens by default
CHUNK_MS = 100
RESPONSE_MS = 3000
GAP_MS = 1000  # quiet between replies
SESSIONS = 10
REPLIES = 20
PACES = (1.0, 1.5, 4.0)
JITTERS_MS = (0.0, 40.0, 80.0)
WARMUP_MS = 500.0  # of a session's first reply: underruns there are allowed while it learns
TARGET_REALTIME_MEDIAN_MS = 40.0  # pace 1.0, jitter <= 40 ms
TARGET_FAST_MEDIAN_MS = 20.0  # pace >= 1.5, jitter <= 40 ms
TARGET_WORST_JITTER_UNDERRUN_PERCENT = 5.0  # jitter 80 ms, any pace: fewer replies than this


def voiced(ms: float, rng: random.Random) -> bytes:
    """A vowel-like PCM16 signal: five harmonics of a pitch gliding between 100 and 220 Hz,
    so a stretch has to find the voice's real period (a constant signal repeats at any lag)."""
    n = round(ms * 24)
    f0 = np.linspace(rng.uniform(100, 220), rng.uniform(100, 220), n)
    turn = np.exp(2j * np.pi * np.cumsum(f0) / 24_000)
    harmonic, wave = turn.copy(), turn.imag.copy()
    for k in range(2, 6):  # sin(k * phase) / k, as powers of one complex exponential
        harmonic *= turn
        wave += harmonic.imag / k
    return np.asarray(3000 * wave, dtype="<i2").tobytes()


def _reply(
    speaker: Speaker,
    stream: FakeOutputStream,
    n: int,
    pace: float,
    jitter: float,
    rng: random.Random,
) -> dict[str, Any]:
    """Play one reply: its added latency (ms), underruns (and the reply position, ms, at which
    each began) and the ms the buffer added by stretching."""
    pcm = voiced(RESPONSE_MS, rng)
    size = CHUNK_MS * 48
    chunks = [pcm[i : i + size] for i in range(0, len(pcm), size)]
    phase = rng.uniform(0, BLOCK_MS)  # device block boundaries relative to the first arrival
    arrivals, last = [], 0.0
    for i in range(len(chunks)):
        at = max(last, phase + i * CHUNK_MS / pace + rng.uniform(0, jitter))
        arrivals.append(at)
        last = at
    rid, item = f"r{n}", f"a{n}"
    stats = speaker.stats
    underruns, stretched_before = stats.underruns, stats.buffer.stretched_samples
    underrun_at: list[float] = []
    pushed = 0
    first_sample_at: float | None = None
    block = 0
    while pushed < len(chunks) or speaker.is_playing:
        tick = block * BLOCK_MS
        while pushed < len(chunks) and arrivals[pushed] <= tick:
            speaker.enqueue(chunks[pushed], rid, item)
            pushed += 1
            if pushed == len(chunks):
                speaker.end_response(rid)
        stream.advance(1)
        if first_sample_at is None and speaker.played_ms(item) > 0:
            # Playback starts at the head of a device block; with no output latency the block
            # reaches the DAC as it is handed over.
            first_sample_at = tick
        now = speaker.stats.underruns
        if now > underruns:
            underrun_at.append(speaker.played_ms(item))
            underruns = now
        block += 1
        if block > 10_000:
            raise RuntimeError("playback never finished")
    stream.advance(round(GAP_MS / BLOCK_MS))
    assert first_sample_at is not None
    stretched = speaker.stats.buffer.stretched_samples - stretched_before
    return {
        # From the moment the audio could first have been played (its first delta's arrival)
        # to its first sample at the device.
        "added_ms": first_sample_at - arrivals[0],
        "underrun_at_ms": underrun_at,
        "stretched_ms": stretched / 24,
    }


def _session(
    pace: float, jitter: float, replies: int, rng: random.Random
) -> tuple[list[dict[str, Any]], float]:
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
    played = [_reply(speaker, streams[0], n, pace, jitter, rng) for n in range(replies)]
    target = speaker.stats.target_ms
    speaker.close()
    return played, target


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _meets(pace: float, jitter: float, row: dict[str, Any]) -> bool:
    """Whether a cell meets its targets (at 80 ms of jitter only underruns have one)."""
    if jitter > 40.0:
        return bool(row["underrun_replies_percent"] < TARGET_WORST_JITTER_UNDERRUN_PERCENT)
    median = row["added_latency_ms"]["median"]
    if pace < 1.5:
        return bool(
            row["underrun_replies_after_warmup"] == 0 and median <= TARGET_REALTIME_MEDIAN_MS
        )
    return bool(row["underrun_replies"] == 0 and median <= TARGET_FAST_MEDIAN_MS)


def main(sessions: int = SESSIONS, replies: int = REPLIES) -> dict[str, Any]:
    rng = random.Random(3)
    rows = []
    for pace in PACES:
        for jitter in JITTERS_MS:
            played: list[dict[str, Any]] = []
            after_warmup = 0
            targets: list[float] = []
            for _ in range(sessions):
                session, target = _session(pace, jitter, replies, rng)
                played += session
                targets.append(target)
                after_warmup += any(at >= WARMUP_MS for at in session[0]["underrun_at_ms"])
                after_warmup += sum(bool(r["underrun_at_ms"]) for r in session[1:])
            latencies = [r["added_ms"] for r in played]
            dry = [bool(r["underrun_at_ms"]) for r in played]
            stretched = [r["stretched_ms"] for r in played]
            clean = 100.0 * (len(dry) - sum(dry)) / len(dry)
            row: dict[str, Any] = {
                "pace": pace,
                "jitter_ms": jitter,
                "replies": len(dry),
                "underrun_replies": sum(dry),
                "underrun_replies_percent": round(100.0 - clean, 1),
                "first_reply_underruns": sum(dry[i] for i in range(0, len(dry), replies)),
                "underrun_replies_after_warmup": after_warmup,
                "clean_replies_percent": round(clean, 1),
                "added_latency_ms": {
                    "median": round(statistics.median(latencies), 1),
                    "p95": round(_percentile(latencies, 0.95), 1),
                    "max": round(max(latencies), 1),
                },
                "stretched_ms_per_reply": {
                    "median": round(statistics.median(stretched), 1),
                    "max": round(max(stretched), 1),
                },
                "final_target_ms": {
                    "min": round(min(targets), 1),
                    "max": round(max(targets), 1),
                },
            }
            row["meets_targets"] = _meets(pace, jitter, row)
            rows.append(row)
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
            "pace 1.0, jitter <= 40 ms": (
                f"0 replies with an underrun after the first {WARMUP_MS:g} ms of a session's "
                f"first reply; median added latency <= {TARGET_REALTIME_MEDIAN_MS:g} ms"
            ),
            "pace >= 1.5, jitter <= 40 ms": (
                f"0 replies with an underrun; median added latency <= {TARGET_FAST_MEDIAN_MS:g} ms"
            ),
            "jitter 80 ms": (
                f"underruns in < {TARGET_WORST_JITTER_UNDERRUN_PERCENT:g} % of replies"
            ),
        },
        "rows": rows,
        "meets_targets": all(r["meets_targets"] for r in rows),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=SESSIONS, help=f"per row ({SESSIONS})")
    parser.add_argument("--replies", type=int, default=REPLIES, help=f"per session ({REPLIES})")
    options = parser.parse_args()
    print(json.dumps(main(options.sessions, options.replies), indent=1))
