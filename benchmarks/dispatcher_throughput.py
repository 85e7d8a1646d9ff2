"""Dispatcher throughput: server events per second through the real handler tables of ``talk``.

The real ``Dispatcher`` with ``ConsoleHandlers`` and ``TalkHandlers`` registered (the plain view
writing to /dev/null, the speaker on a clock-driven fake stream), fed spoken turns as the service
sends them: the user's speech events and transcript, then a reply of ``REPLY_MS`` as 100 ms
``response.output_audio.delta`` events (base64 PCM16, decoded and queued for playback) each
followed by a transcript delta, then the done events and ``rate_limits.updated``. Between turns
the fake device plays the reply out (not timed), so the buffer never fills.

* ``events_per_s``: every event of the turns, over the time spent in ``dispatch``.
* ``audio_deltas_per_s``: the audio deltas alone (decode + queue), timed the same way.

Target: >= 10,000 events/s. The limit it is measured against: a reply streamed by the service
carries 20-100 events per second of audio, and ``replay --speed max`` goes through this same
path; at 10,000 events/s dispatching costs under 1 % of a core in a live session.

Run: ``python -m benchmarks.dispatcher_throughput [--turns 200]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import numpy as np

from benchmarks.talk_bargein import _setup
from realtime_console.protocol import pcm

TURNS = 200
REPLY_MS = 3000
TARGET_EVENTS_PER_S = 10_000.0


def _turn(n: int, audio_b64: str) -> list[dict[str, Any]]:
    user, item, rid = f"u{n}", f"a{n}", f"r{n}"
    events: list[dict[str, Any]] = [
        {"type": "input_audio_buffer.speech_started", "item_id": user, "audio_start_ms": 0},
        {"type": "input_audio_buffer.speech_stopped", "item_id": user, "audio_end_ms": 1500},
        {"type": "input_audio_buffer.committed", "item_id": user, "previous_item_id": None},
        {"type": "conversation.item.added", "item": {"id": user, "type": "message"}},
        {"type": "response.created", "response": {"id": rid, "status": "in_progress"}},
        {"type": "response.output_item.added", "response_id": rid, "item": {"id": item}},
        {
            "type": "conversation.item.input_audio_transcription.completed",
            "item_id": user,
            "content_index": 0,
            "transcript": "Is a golden retriever a good family dog?",
        },
    ]
    for k in range(REPLY_MS // 100):
        common = {"response_id": rid, "item_id": item, "output_index": 0, "content_index": 0}
        events.append({"type": "response.output_audio.delta", **common, "delta": audio_b64})
        events.append(
            {"type": "response.output_audio_transcript.delta", **common, "delta": f" word{k}"}
        )
    events += [
        {"type": "response.output_audio.done", "response_id": rid, "item_id": item},
        {"type": "response.output_audio_transcript.done", "response_id": rid, "item_id": item},
        {"type": "response.output_item.done", "response_id": rid, "item": {"id": item}},
        {"type": "response.done", "response": {"id": rid, "status": "completed"}},
        {"type": "rate_limits.updated", "rate_limits": []},
    ]
    return events


async def _measure(turns: int) -> dict[str, Any]:
    speaker, stream, dispatcher, _sent = _setup(block_ms=20.0, latency_s=0.0, realtime=False)
    chunk = pcm.encode_b64(np.full(pcm.ms_to_samples(100), 3000, dtype="<i2").tobytes())
    total_s = audio_s = 0.0
    events = audio_events = 0
    for n in range(turns):
        for event in _turn(n, chunk):
            started = time.perf_counter()
            await dispatcher.dispatch(event)
            spent = time.perf_counter() - started
            total_s += spent
            events += 1
            if event["type"] == "response.output_audio.delta":
                audio_s += spent
                audio_events += 1
        stream.advance(round(REPLY_MS / 20) + 10)  # the reply plays out: not timed
    speaker.close()
    return {
        "events": events,
        "events_per_s": round(events / total_s),
        "audio_deltas_per_s": round(audio_events / audio_s),
        "handler_errors": dispatcher.stats.handler_errors,
        "unknown_types": dict(dispatcher.stats.unknown),
    }


def main(turns: int = TURNS) -> dict[str, Any]:
    result = asyncio.run(_measure(turns))
    return {
        "benchmark": "dispatcher_throughput",
        "turns": turns,
        **result,
        "target_events_per_s": TARGET_EVENTS_PER_S,
        "meets_targets": bool(
            result["events_per_s"] >= TARGET_EVENTS_PER_S and result["handler_errors"] == 0
        ),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=TURNS, help=f"spoken turns ({TURNS})")
    print(json.dumps(main(parser.parse_args().turns), indent=1))
