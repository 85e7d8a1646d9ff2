"""False and real barge-ins as the local server's VAD hears them, with and without echo handling.

A simulated laptop (``audio.echo.simulated``: the real ``Speaker`` and ``Microphone`` on the fake
streams, the speaker leaking into the microphone through an 80 ms echo path at -6 dB with a short
room response) plays two minutes of the local server's eSpeak NG voice (the synthetic voice
where eSpeak is missing) on the fakes' clock, so it runs faster than real time. Every microphone
block goes through ``EchoStage`` exactly as in ``talk`` and what would be sent is fed to the
local server's ``VoiceActivityDetector`` (server_vad defaults: threshold 0.5, 300 ms padding,
200 ms silence).

* ``false_barge_ins``: speech starts the VAD reports while only the assistant speaks.
  Target with AEC: 0.
* ``barge_in_detection``: the user (another voice) speaks ``utterances`` times over the reply, at
  the playback's own level (about 6 dB above its echo, ``user_level_db`` = 0) and 6 dB quieter
  (as loud as the echo); detected = a speech start between 0.5 s before the utterance (the VAD's
  prefix padding) and 1 s into it. Target with AEC: >= 95 %.

Modes: ``off`` (nothing: what a laptop does today), ``aec`` (WebRTC AEC3, ``pywebrtc-audio``),
``guard`` (the echo guard alone). ``python -m benchmarks.aec_vad [--quick]`` prints one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from typing import Any

import numpy as np

from benchmarks.aec_erle import FAR_TEXT, NEAR_TEXT, Samples, speech
from realtime_console.audio.echo.canceller import open_echo_canceller
from realtime_console.audio.echo.guard import EchoGuard
from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.echo.simulated import Captured, SimulatedLaptop, joined
from realtime_console.audio.echo.stage import EchoStage
from realtime_console.protocol.pcm import SAMPLE_RATE, float32_to_pcm16
from realtime_console.server.vad import SpeechStarted, VadSettings, VoiceActivityDetector

TARGET_FALSE = 0
TARGET_DETECTION = 0.95
UTTERANCE_EVERY_S = 6.0
UTTERANCE_S = 1.5


def _stage(mode: str, laptop: SimulatedLaptop) -> EchoStage | None:
    if mode == "aec":
        return EchoStage(laptop.tap, canceller=open_echo_canceller())
    if mode == "guard":
        return EchoStage(laptop.tap, guard=EchoGuard())
    return None


def speech_starts(captured: list[Captured]) -> list[int]:
    vad = VoiceActivityDetector(VadSettings())
    return [e.start_sample for e in vad.feed(joined(captured)) if isinstance(e, SpeechStarted)]


async def _run(mode: str, reply: Samples, user: Samples | None) -> tuple[list[int], float]:
    laptop = SimulatedLaptop(EchoPathSpec(delay_ms=80, gain_db=-6))
    laptop.start()
    try:
        stage = _stage(mode, laptop)
        laptop.play(float32_to_pcm16(reply))
        if user is not None:
            laptop.talk(user)
        cpu = time.process_time()
        captured = await laptop.run(len(reply) / SAMPLE_RATE + 0.5, stage)
        cpu = time.process_time() - cpu
    finally:
        laptop.close()
    return speech_starts(captured), cpu


def user_track(seconds: float, level_db: float) -> tuple[Samples, list[int]]:
    """The user's utterances over the reply, and where each starts (samples)."""
    n = round(seconds * SAMPLE_RATE)
    track = np.zeros(n, dtype=np.float32)
    voice = speech(NEAR_TEXT, "cedar", UTTERANCE_S * 40)
    starts = []
    at, k = round(3.0 * SAMPLE_RATE), 0
    size = round(UTTERANCE_S * SAMPLE_RATE)
    while at + size < n:
        piece = voice[k * size : (k + 1) * size]
        track[at : at + size] = piece * np.float32(10 ** (level_db / 20))
        starts.append(at)
        at += round(UTTERANCE_EVERY_S * SAMPLE_RATE)
        k += 1
    return track, starts


def _near(start: int, utterance: int) -> bool:
    return utterance - SAMPLE_RATE // 2 <= start <= utterance + SAMPLE_RATE


def detected(starts: list[int], utterances: list[int]) -> int:
    return sum(any(_near(s, u) for s in starts) for u in utterances)


def stray(starts: list[int], utterances: list[int]) -> int:
    """Speech starts outside every utterance (the VAD also restarts within one, at a pause):
    the echo heard as speech."""
    span = round((UTTERANCE_S + 0.5) * SAMPLE_RATE)
    return sum(not any(u - SAMPLE_RATE // 2 <= s <= u + span for u in utterances) for s in starts)


async def measure(seconds: float, modes: list[str]) -> dict[str, Any]:
    reply = speech(FAR_TEXT, "marin", seconds)
    results: dict[str, Any] = {}
    for mode in modes:
        false_starts, cpu = await _run(mode, reply, None)
        entry: dict[str, Any] = {
            "false_barge_ins": len(false_starts),
            "cpu_ms_per_s": round(1000 * cpu / seconds, 1),
        }
        for level in (0.0, -6.0):
            track, utterances = user_track(seconds, level)
            starts, _ = await _run(mode, reply, track)
            hits = detected(starts, utterances)
            entry[f"barge_in_detection_user_{level:+.0f}db"] = {
                "utterances": len(utterances),
                "detected": hits,
                "rate": round(hits / len(utterances), 3),
                "other_speech_starts": stray(starts, utterances),
            }
        results[mode] = entry
    return results


def main(quick: bool = False) -> dict[str, Any]:
    """Two minutes of reply (30 s with ``quick``) per mode, echo only and with barge-ins."""
    seconds = 30.0 if quick else 120.0
    wall = time.monotonic()
    modes = asyncio.run(measure(seconds, ["off", "aec", "guard"]))
    aec = modes["aec"]
    return {
        "benchmark": "aec_vad",
        "reply_seconds": seconds,
        "echo_path": {"delay_ms": 80, "gain_db": -6},
        "modes": modes,
        "targets": {
            "false_barge_ins_with_aec": TARGET_FALSE,
            "detection_with_aec": TARGET_DETECTION,
        },
        "meets_targets": aec["false_barge_ins"] <= TARGET_FALSE
        and aec["barge_in_detection_user_+0db"]["rate"] >= TARGET_DETECTION,
        "wall_seconds": round(time.monotonic() - wall, 1),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="30 s of reply instead of 120 s")
    args = parser.parse_args()
    print(json.dumps(main(quick=args.quick), indent=2))
