"""Barge-in: how fast the speaker goes quiet, and how exact the truncation point is.

Drives the real ``TalkHandlers`` + ``Speaker`` through the real ``Dispatcher`` with scripted server
events, on the clock-driven fake output stream (so the figures do not depend on machine load):

* ``silence_latency_ms``: from ``input_audio_buffer.speech_started`` to the first all-zero sample
  the device is handed (the fade included), over many cut points and block sizes.
  Target: <= 20 ms (one 20 ms block).
* ``truncation_error_ms``: ``audio_end_ms`` sent in ``conversation.item.truncate`` minus the audio
  of that item that had actually reached the simulated DAC (frames written minus the reported
  output latency). Target: |error| <= 10 ms.
* ``realtime_silence_latency_ms``: the same cut on a fake stream ticking in real time on its own
  thread: wall clock from the dispatch to the moment the first silent sample plays (start of the
  next block + the fade). Includes thread scheduling, so it moves with the machine's load.

Run: ``python -m benchmarks.talk_bargein`` (prints JSON).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import threading
import time
from typing import Any

import numpy as np

from realtime_console.audio.fakestream import FakeOutputStream
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker
from realtime_console.dispatcher import Dispatcher
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.talk_handlers import TalkHandlers
from realtime_console.protocol import pcm
from realtime_console.ui.plain_talk import PlainTalkView

TARGET_SILENCE_MS = 20.0
TARGET_TRUNCATION_MS = 10.0


def _setup(
    *, block_ms: float, latency_s: float, realtime: bool
) -> tuple[Speaker, FakeOutputStream, Dispatcher, list[dict[str, Any]]]:
    streams: list[FakeOutputStream] = []

    def factory(**kwargs: Any) -> FakeOutputStream:
        streams.append(
            FakeOutputStream(**kwargs, reported_latency=latency_s, realtime=realtime, record=True)
        )
        return streams[-1]

    speaker = Speaker(block_ms=block_ms, prebuffer_ms=60, stream_factory=factory)
    speaker.start()
    null = open(os.devnull, "w")  # open for the whole run
    view = PlainTalkView(null, null)
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)

    console = ConsoleHandlers(view, [Playback(speaker)])
    talk = TalkHandlers(
        view=view, speaker=speaker, console=console, send=send, interrupt_response=True
    )
    dispatcher = Dispatcher()
    dispatcher.register(console.table())
    dispatcher.register(talk.table())
    return speaker, streams[0], dispatcher, sent


async def _reply(dispatcher: Dispatcher, ms: int) -> None:
    await dispatcher.dispatch({"type": "response.created", "response": {"id": "r1"}})
    chunk = np.full(pcm.ms_to_samples(100), 3000, dtype="<i2").tobytes()
    for _ in range(ms // 100):
        await dispatcher.dispatch(
            {
                "type": "response.output_audio.delta",
                "response_id": "r1",
                "item_id": "a1",
                "delta": pcm.encode_b64(chunk),
            }
        )


async def _clock_driven(trials: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    silence_ms: list[float] = []
    errors_ms: list[float] = []
    for _ in range(trials):
        block_ms = rng.choice([10.0, 20.0])
        latency_s = rng.choice([0.0, 0.02, 0.045, 0.1, 0.2])
        speaker, stream, dispatcher, sent = _setup(
            block_ms=block_ms, latency_s=latency_s, realtime=False
        )
        await _reply(dispatcher, 3000)
        stream.advance(rng.randint(5, int(2500 / block_ms)))
        heard_true_ms = np.count_nonzero(stream.recorded()[: stream.dac_frames, 0]) / 24
        cut_block = len(stream.blocks)
        await dispatcher.dispatch({"type": "input_audio_buffer.speech_started", "item_id": "u"})
        stream.advance(4)
        out = stream.recorded()[cut_block * stream.blocksize :, 0]
        first_zero_run = int(np.argmax(np.cumsum(out[::-1] != 0)[::-1] == 0))  # silent from here
        silence_ms.append(first_zero_run / 24)
        (truncate,) = [e for e in sent if e["type"] == "conversation.item.truncate"]
        errors_ms.append(truncate["audio_end_ms"] - heard_true_ms)
        speaker.close()
    return {
        "clock_driven_trials": trials,
        "silence_latency_ms": _summary(silence_ms),
        "truncation_error_ms": _summary(errors_ms),
        "silence_target_met": bool(max(silence_ms) <= TARGET_SILENCE_MS),
        "truncation_target_met": bool(max(abs(e) for e in errors_ms) <= TARGET_TRUNCATION_MS),
    }


async def _realtime(trials: int, seed: int) -> dict[str, Any]:
    rng = random.Random(seed)
    latencies: list[float] = []
    for _ in range(trials):
        speaker, stream, dispatcher, _ = _setup(block_ms=20.0, latency_s=0.04, realtime=True)
        await _reply(dispatcher, 2000)
        await asyncio.sleep(0.3 + rng.uniform(0, 0.02))  # land anywhere within a block
        done = threading.Event()
        marks: list[float] = []
        watch = _first_silence_watch(stream.callback, marks, done)
        stream.callback = watch
        marks.append(time.perf_counter())
        await dispatcher.dispatch({"type": "input_audio_buffer.speech_started", "item_id": "u"})
        await asyncio.to_thread(done.wait, 2.0)
        if len(marks) == 2:
            latencies.append((marks[1] - marks[0]) * 1000)
        speaker.close()
    return {"realtime_trials": trials, "realtime_silence_latency_ms": _summary(latencies)}


def _first_silence_watch(original: Any, marks: list[float], done: threading.Event) -> Any:
    """Wrap an output callback: once ``marks`` holds the cut time, append when silence plays."""

    def watch(outdata: Any, frames: int, time_info: Any, status: Any) -> None:
        original(outdata, frames, time_info, status)
        if marks and not done.is_set():
            # The first block after the cut starts playing now and goes quiet at the first
            # sample of its all-zero tail (the fade is at its head).
            nonzero = np.flatnonzero(outdata[:, 0])
            first_silent = 0 if len(nonzero) == 0 else int(nonzero[-1]) + 1
            marks.append(time.perf_counter() + first_silent / 24000)
            done.set()

    return watch


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "mean": round(statistics.fmean(ordered), 2),
        "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 2),
        "max": round(ordered[-1], 2),
        "min": round(ordered[0], 2),
    }


CLOCK_DRIVEN_TRIALS = 300
REALTIME_TRIALS = 30


async def main(
    clock_driven_trials: int = CLOCK_DRIVEN_TRIALS, realtime_trials: int = REALTIME_TRIALS
) -> dict[str, Any]:
    result: dict[str, Any] = {"benchmark": "talk_bargein"}
    result.update(await _clock_driven(clock_driven_trials, seed=7))
    result.update(await _realtime(realtime_trials, seed=11))
    result["targets"] = {"silence_ms": TARGET_SILENCE_MS, "truncation_ms": TARGET_TRUNCATION_MS}
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=CLOCK_DRIVEN_TRIALS)
    parser.add_argument("--realtime-trials", type=int, default=REALTIME_TRIALS)
    options = parser.parse_args()
    print(json.dumps(asyncio.run(main(options.trials, options.realtime_trials)), indent=2))
