"""Replay of a synthetic one-hour session: ``--summary --speed max`` and ``--wav``.

Targets: summary within 10 s with peak RSS under 150 MB; WAV within 30 s.

The log is generated here, in a temporary directory, with the real ``EventLogWriter``: a talk
session of one hour, the microphone streaming 100 ms appends the whole time (both directions carry
audio), a turn every 10 s (4 s of speech, server VAD events, a response of 4 s of audio in 200 ms
deltas with transcript deltas and usage), and a barge-in every tenth turn. Each measurement runs
the real console in a fresh process; peak RSS is that process's own (``wait4``).

    .venv/bin/python -m benchmarks.replay_hour [--minutes 60] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from realtime_console.eventlog import EventLogWriter
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor

TURN_S = 10.0
SPEECH_S = 4.0
REPLY_S = 4.0
MIC_CHUNK_S = 0.1
DELTA_S = 0.2


class _Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def _chunks(seconds: float, count: int, seed: int) -> list[str]:
    """A few distinct base64 noise chunks, re-used: generating an hour of noise is not the point."""
    rng = np.random.default_rng(seed)
    n = pcm.ms_to_samples(seconds * 1000)
    return [
        pcm.encode_b64(rng.integers(-8000, 8000, n, dtype=np.int16).astype("<i2").tobytes())
        for _ in range(count)
    ]


def generate(path: Path, minutes: float) -> dict[str, Any]:
    clock = _Clock()
    mic, voice = _chunks(MIC_CHUNK_S, 16, 1), _chunks(DELTA_S, 16, 2)
    duration = minutes * 60.0
    events = 0
    with EventLogWriter(
        path,
        provider="local",
        model="gpt-realtime",
        session={"type": "realtime"},
        program_version="bench",
        redactor=Redactor(),
        clock=clock,
    ) as log:

        def server(t: float, event: dict[str, Any]) -> None:
            nonlocal events
            clock.now = t
            log.write("server", event)
            events += 1

        server(0.0, {"type": "session.created", "session": {"id": "sess_1", "model": "m"}})
        turn = 0
        next_append = 0.0
        while next_append < duration:
            turn_start = turn * TURN_S
            # Server events of this turn, interleaved with the mic appends by time.
            plan: list[tuple[float, dict[str, Any]]] = []
            if turn_start + TURN_S <= duration:
                plan += _turn_events(turn, turn_start, voice)
            plan.sort(key=lambda item: item[0])
            for t, event in plan:
                while next_append <= t and next_append < duration:
                    clock.now = next_append
                    log.write(
                        "client",
                        {"type": "input_audio_buffer.append", "audio": mic[events % len(mic)]},
                    )
                    events += 1
                    next_append = round(next_append + MIC_CHUNK_S, 6)
                if event["type"] == "conversation.item.truncate":
                    clock.now = t
                    log.write("client", event)
                    events += 1
                elif event["type"] == "barge_in":
                    clock.now = t
                    log.note("barge_in", item_id=event["item_id"], audio_end_ms=1000)
                else:
                    server(t, event)
            while next_append < min(duration, turn_start + TURN_S):
                clock.now = next_append
                log.write("client", {"type": "input_audio_buffer.append", "audio": mic[0]})
                events += 1
                next_append = round(next_append + MIC_CHUNK_S, 6)
            turn += 1
    return {"minutes": minutes, "turns": turn, "events": events, "bytes": path.stat().st_size}


def _turn_events(turn: int, start: float, voice: list[str]) -> list[tuple[float, dict[str, Any]]]:
    rid, iid, uid = f"resp_{turn}", f"item_a{turn}", f"item_u{turn}"
    stop = start + 0.5 + SPEECH_S
    out: list[tuple[float, dict[str, Any]]] = [
        (
            start + 0.5,
            {
                "type": "input_audio_buffer.speech_started",
                "audio_start_ms": int((start + 0.5) * 1000),
                "item_id": uid,
            },
        ),  # noqa: E501
        (
            stop,
            {
                "type": "input_audio_buffer.speech_stopped",
                "audio_end_ms": int(stop * 1000),
                "item_id": uid,
            },
        ),  # noqa: E501
        (stop + 0.001, {"type": "input_audio_buffer.committed", "item_id": uid}),
        (
            stop + 0.3,
            {"type": "response.created", "response": {"id": rid, "status": "in_progress"}},
        ),  # noqa: E501
        (
            stop + 0.31,
            {"type": "response.output_item.added", "response_id": rid, "item": {"id": iid}},
        ),  # noqa: E501
    ]
    first = stop + 0.5
    deltas = round(REPLY_S / DELTA_S)
    for k in range(deltas):
        t = first + k * DELTA_S / 2  # the service sends faster than real time
        delta = {"type": "response.output_audio.delta", "response_id": rid, "item_id": iid}
        out.append((t, {**delta, "delta": voice[k % len(voice)]}))
        words = {"type": "response.output_audio_transcript.delta", "response_id": rid}
        out.append((t + 0.0005, {**words, "item_id": iid, "delta": f" word{k}"}))
    done = first + deltas * DELTA_S / 2 + 0.01
    usage = {"input_tokens": 100, "output_tokens": 60, "total_tokens": 160}
    status = "completed"
    if turn % 10 == 9:
        out.append((done + 0.5, {"type": "barge_in", "item_id": iid}))
        out.append(
            (
                done + 0.5,
                {
                    "type": "conversation.item.truncate",
                    "item_id": iid,
                    "content_index": 0,
                    "audio_end_ms": 1000,
                },
            )
        )  # noqa: E501
    out.append(
        (done, {"type": "response.done", "response": {"id": rid, "status": status, "usage": usage}})
    )  # noqa: E501
    return out


# Runs the console in the child and, at its exit, writes the child's own peak RSS (VmHWM) to the
# file named by argv[1]. ``ru_maxrss`` from wait4 is not that figure: a forked child starts with
# the parent's pages counted, and this parent has just built a log of hundreds of MB.
_LAUNCHER = """
import atexit, runpy, sys
def _report(path=sys.argv[1]):
    try:
        with open("/proc/self/status") as status:
            hwm = next(line.split()[1] for line in status if line.startswith("VmHWM:"))
    except (OSError, StopIteration):
        return
    with open(path, "w") as out:
        out.write(hwm)
atexit.register(_report)
sys.argv = ["realtime-console", *sys.argv[2:]]
runpy.run_module("realtime_console", run_name="__main__")
"""


def measure(args: list[str]) -> dict[str, Any]:
    """Run the console in a fresh process; wall time and that process's peak RSS."""
    started = time.perf_counter()
    with tempfile.NamedTemporaryFile("r", suffix=".hwm") as hwm, open(os.devnull, "w") as sink:
        process = subprocess.Popen(
            [sys.executable, "-c", _LAUNCHER, hwm.name, *args],
            stdout=sink,
            stderr=subprocess.PIPE,
        )
        _pid, status, usage = os.wait4(process.pid, 0)
        reported = hwm.read().strip()
    elapsed = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    # VmHWM is in kB; without /proc (not Linux) fall back to ru_maxrss, KiB on Linux and BSDs.
    peak_kb = int(reported) if reported.isdigit() else usage.ru_maxrss
    return {
        "args": args,
        "exit": os.waitstatus_to_exitcode(status),
        "seconds": round(elapsed, 2),
        "peak_rss_mb": round(peak_kb / 1024, 1),
        "stderr": stderr.strip()[:300],
    }


def run(minutes: float = 60.0, keep: Path | None = None) -> dict[str, Any]:
    """Generate the log, time ``--summary`` and ``--wav`` on it; the figures as a dict."""
    with tempfile.TemporaryDirectory() as tmp:
        where = keep or Path(tmp)
        where.mkdir(parents=True, exist_ok=True)
        log = where / "hour.jsonl"
        started = time.perf_counter()
        generated = generate(log, minutes)
        generated["seconds"] = round(time.perf_counter() - started, 1)
        summary = measure(["replay", str(log), "--summary", "--speed", "max"])
        wav_path = where / "hour.wav"
        wav = measure(["replay", str(log), "--wav", str(wav_path), "--no-audio"])
        wav["wav_bytes"] = wav_path.stat().st_size if wav_path.exists() else 0
        return {
            "benchmark": "replay_hour",
            "log": generated,
            "summary": {**summary, "target_seconds": 10, "target_peak_rss_mb": 150},
            "wav": {**wav, "target_seconds": 30},
            "cpus": os.cpu_count(),
            "load_avg": [round(x, 2) for x in os.getloadavg()],
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--keep", type=Path, help="write the log and WAV here and keep them")
    options = parser.parse_args()
    print(json.dumps(run(options.minutes, options.keep), indent=2))


if __name__ == "__main__":
    main()
