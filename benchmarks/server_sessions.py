"""The local server under 20 concurrent real-time sessions with server VAD.

The server runs as ``realtime-console serve`` in its own process (so its CPU and memory are its
own); this process is the load: ``--sessions`` WebSocket clients (plain aiohttp, cheaper than the
SDK) each stream microphone audio in real time, 20 ms appends on an absolute schedule, with
server VAD on (the session default) and input transcription on. Each client "speaks" ~1.5 s of
the synthetic voice every 4 s (sessions start out of phase), so the server detects turns,
commits, transcribes and answers with audio paced at ``--realtime-factor`` while the other
sessions keep streaming. Loopback only; bounded in sessions and seconds.

Reported (one JSON object):

* ``vad_lag_ms``: append → processing lag: the wall time from sending the append that holds the
  sample at ``audio_end_ms`` to receiving its ``speech_stopped`` (server VAD work plus delivery).
  ``first_half`` / ``second_half`` p95 show whether lag grows over the run.
* ``first_audio_ms``: ``speech_stopped`` → first ``response.output_audio.delta``.
* ``delta_lateness_ms``: each audio delta's arrival minus when pacing says it is due (the first
  delta's arrival + the audio sent since / realtime factor): event delivery latency.
* ``server_cpu_percent`` (of one core, over the run), ``server_rss_mib`` (start, end, max),
  ``errors`` (error events, failed or dropped connections), turns and responses counted.

Target (keeps up): every session's lag stays bounded: ``vad_lag_ms`` p99 < 150 ms with the second
half's p95 within 50 ms of the first half's; ``delta_lateness_ms`` p95 < 100 ms; no errors;
server CPU < 100 % (one core of two; the load generator uses the other). RSS flat (< 20 MiB
growth from 3 s in, once every session is up, to the end). Figures move with machine load:
measure on an idle machine.

``python -m benchmarks.server_sessions [--sessions 20] [--seconds 20] [--voice-engine auto]``
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import statistics
import sys
import time
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from realtime_console._compat import TaskGroup
from realtime_console.protocol.pcm import ms_to_bytes
from realtime_console.server.voice import SyntheticVoice

BLOCK_MS = 20
CYCLE_MS = 4000  # one utterance per cycle, then silence
SPEECH_TEXT = "hello there how are you"  # ~1.5 s of the synthetic voice


@dataclass
class SessionStats:
    lags_ms: list[tuple[float, float]] = field(default_factory=list)  # (run time s, lag ms)
    first_audio_ms: list[float] = field(default_factory=list)
    lateness_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    turns: int = 0
    responses: int = 0


def microphone_audio() -> bytes:
    """One cycle: an utterance of the synthetic voice, then silence, as PCM16."""
    speech = SyntheticVoice().synthesize(SPEECH_TEXT, voice="echo").pcm
    return speech + bytes(ms_to_bytes(CYCLE_MS) - len(speech))


async def run_session(
    http: aiohttp.ClientSession,
    url: str,
    key: str,
    number: int,
    seconds: float,
    factor: float,
    start: float,
) -> SessionStats:
    stats = SessionStats()
    cycle = microphone_audio()
    block = ms_to_bytes(BLOCK_MS)
    offset = (number * ms_to_bytes(CYCLE_MS) // 20) // block * block  # out of phase
    sent_at: list[float] = []  # wall time of each append, by block index
    try:
        async with http.ws_connect(url, headers={"api-key": key}, max_msg_size=0) as ws:
            first = await ws.receive_json(timeout=10)
            assert first["type"] == "session.created", first
            transcription = {"audio": {"input": {"transcription": {"model": "whisper-1"}}}}
            await ws.send_json(
                {"type": "session.update", "session": {"type": "realtime", **transcription}}
            )

            async def stream() -> None:
                t0 = time.monotonic()
                blocks = int(seconds * 1000 / BLOCK_MS)
                for k in range(blocks):
                    position = (offset + k * block) % len(cycle)
                    chunk = cycle[position : position + block]
                    audio = base64.b64encode(chunk).decode()
                    await asyncio.sleep(max(0.0, t0 + k * BLOCK_MS / 1000 - time.monotonic()))
                    sent_at.append(time.monotonic())
                    await ws.send_str(
                        json.dumps({"type": "input_audio_buffer.append", "audio": audio})
                    )
                await asyncio.sleep(1.0)  # let the last turn's events arrive
                await ws.close()

            async def receive() -> None:
                stopped_at = anchor = audio_ms = 0.0
                first_audio = True
                async for message in ws:
                    now = time.monotonic()
                    event = json.loads(message.data)
                    kind = event["type"]
                    if kind == "input_audio_buffer.speech_stopped":
                        index = min(len(sent_at), event["audio_end_ms"] // BLOCK_MS + 1) - 1
                        lag = (now - sent_at[index]) * 1000
                        stats.lags_ms.append((now - start, lag))
                        stats.turns += 1
                        stopped_at, first_audio = now, True
                    elif kind == "response.created":
                        stats.responses += 1
                    elif kind == "response.output_audio.delta":
                        chunk_ms = len(base64.b64decode(event["delta"])) / 48
                        if first_audio:  # pacing is measured from the first chunk's arrival
                            stats.first_audio_ms.append((now - stopped_at) * 1000)
                            first_audio, anchor, audio_ms = False, now, -chunk_ms
                        audio_ms += chunk_ms
                        due = anchor + audio_ms / 1000 / factor
                        stats.lateness_ms.append((now - due) * 1000)
                    elif kind == "error":
                        stats.errors.append(event["error"]["message"])

            async with TaskGroup() as group:
                group.create_task(stream())
                group.create_task(receive())
    except Exception as exc:  # a benchmark reports failures instead of stopping
        stats.errors.append(f"session {number}: {type(exc).__name__}: {exc}")
    return stats


def proc_cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def proc_rss_mib(pid: int) -> float:
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {
        "p50": at(0.5),
        "p95": at(0.95),
        "p99": at(0.99),
        "max": round(ordered[-1], 1),
        "mean": round(statistics.fmean(ordered), 1),
        "n": len(ordered),
    }


async def main(args: argparse.Namespace) -> dict[str, Any]:
    key = secrets.token_urlsafe(12)
    env = {k: v for k, v in os.environ.items() if not k.startswith("REALTIME_CONSOLE_")}
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "realtime_console",
        "serve",
        "--port",
        "0",
        "--api-key",
        key,
        "--voice-engine",
        args.voice_engine,
        "--realtime-factor",
        str(args.realtime_factor),
        stderr=asyncio.subprocess.PIPE,
        env=env,
    )
    assert server.stderr is not None
    try:
        port = None
        while port is None:
            line = (await asyncio.wait_for(server.stderr.readline(), 20)).decode()
            if not line:
                raise RuntimeError("serve exited before listening")
            if found := re.search(r"listening on http://127\.0\.0\.1:(\d+)", line):
                port = int(found.group(1))
        url = f"http://127.0.0.1:{port}/v1/realtime?model=bench"
        rss = [proc_rss_mib(server.pid)]
        cpu0, wall0 = proc_cpu_seconds(server.pid), time.monotonic()

        async def sample_rss() -> None:
            while True:
                await asyncio.sleep(1.0)
                rss.append(proc_rss_mib(server.pid))

        connector = aiohttp.TCPConnector(limit=0)
        async with aiohttp.ClientSession(connector=connector) as http:
            sampler = asyncio.ensure_future(sample_rss())
            try:
                results = await asyncio.gather(
                    *(
                        run_session(http, url, key, n, args.seconds, args.realtime_factor, wall0)
                        for n in range(args.sessions)
                    )
                )
            finally:
                sampler.cancel()
        cpu = (proc_cpu_seconds(server.pid) - cpu0) / (time.monotonic() - wall0) * 100
        rss.append(proc_rss_mib(server.pid))
    finally:
        if server.returncode is None:
            server.terminate()
        await server.wait()
    lags = [lag for s in results for _, lag in s.lags_ms]
    half = args.seconds / 2
    first = [lag for s in results for t, lag in s.lags_ms if t < half]
    second = [lag for s in results for t, lag in s.lags_ms if t >= half]
    errors = [e for s in results for e in s.errors]
    return {
        "benchmark": "server_sessions",
        "sessions": args.sessions,
        "seconds": args.seconds,
        "voice_engine": args.voice_engine,
        "realtime_factor": args.realtime_factor,
        "turns": sum(s.turns for s in results),
        "responses": sum(s.responses for s in results),
        "vad_lag_ms": {
            **percentiles(lags),
            "first_half_p95": percentiles(first).get("p95"),
            "second_half_p95": percentiles(second).get("p95"),
            "worst_session_p95": max(
                (percentiles([lag for _, lag in s.lags_ms]).get("p95", 0.0) for s in results),
                default=0.0,
            ),
        },
        "first_audio_ms": percentiles([v for s in results for v in s.first_audio_ms]),
        "delta_lateness_ms": percentiles([v for s in results for v in s.lateness_ms]),
        "server_cpu_percent": round(cpu, 1),
        "server_rss_mib": {
            "start": round(rss[0], 1),
            # 3 s in: every session connected and its first turn answered (lazy imports done).
            "after_warmup": round(rss[min(3, len(rss) - 1)], 1),
            "end": round(rss[-1], 1),
            "max": round(max(rss), 1),
        },
        "errors": len(errors),
        "error_samples": errors[:5],
        "load": os.getloadavg()[0],
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sessions", type=int, default=20, choices=range(1, 51), metavar="1..50")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--voice-engine", default="auto", choices=("auto", "espeak", "synthetic"))
    parser.add_argument("--realtime-factor", type=float, default=4.0)
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 300:
        parser.error("--seconds must be 1..300")
    return args


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(parse_args())), indent=2))
