"""Start-up: from launching ``realtime-console --local`` to the session being configured.

Each run starts a fresh process, ``realtime-console --local --log-events LOG chat --no-playback``
(stdin empty: it configures the session and exits) and ``... talk --plain`` (ended with SIGTERM,
which stops it like ``q``, once the session is configured), and reads the event log: the time of
the ``session.updated`` event is the log's ``started_at`` plus that event's ``t``; the launch is
the wall clock just before the process is spawned. ``talk`` opens the default sound devices
(on a machine without any it exits 2 before connecting, and is reported as skipped).

* ``to_session_updated_ms``: launch → ``session.updated`` received (median, p95 over runs).
* ``to_log_open_ms``: launch → event log opened: the interpreter starting and importing what the
  command needs, before any connection; the rest is the local server starting, the WebSocket
  handshake and the ``session.update`` round trip.

* ``sdk_import_floor_ms``: a bare interpreter importing the ``openai`` SDK and its realtime types
  (GC paused, as the console does) and exiting: the part of every start-up the console cannot
  cut while it connects through the SDK.

Target: median <= 400 ms for both. Figures move with machine load; run on an idle machine.

Where the time goes (``python -X importtime -m realtime_console --local chat``, 2 cores, load
~1): importing ``openai`` is 300-450 ms of it, whoever imports it first (its ``__init__`` loads
all of ``openai.types``, the chat-completion types included, so deferring the local server's
completions routes saves nothing measurable: ~5 ms); aiohttp ~80 ms (shared by the SDK); the
local server's own modules ~50 ms; the CLI, settings and mode ~60 ms; creating the SDK client
~40 ms (httpx transport and its TLS context); the handshake and ``session.update`` round trip
~30 ms. ``talk`` adds its modules, sounddevice, numpy and opening the devices (~150 ms).

Measured (8 runs each, both builds alternated on the same shared 2-core machine; load average
1.0-1.25): ``chat`` 671-724 ms → 576-616 ms, ``talk --plain`` 848-862 ms → 740-743 ms (median
to ``session.updated``); the full-screen ``talk``, not measured here as it needs a terminal,
918 → 777 ms (4 runs each under a pseudo-terminal, load 1.0). The cut: the heavy imports run
with the cyclic GC paused and their objects then frozen (``realtime_console/_imports.py``: the
GC spent 80-120 ms walking the SDK's pydantic models during start-up, 6 ms now), and
``session.update`` is sent as soon as the socket opens instead of after ``session.created``
(one network round trip less against a remote service; no measurable change against the
in-process server).

Run: ``python -m benchmarks.start_latency [--runs 10]`` (prints JSON).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

RUNS = 10
TARGET_MEDIAN_MS = 400.0
TIMEOUT_S = 30.0
COMMANDS = {
    "chat": ["chat", "--no-playback"],
    "talk": ["talk", "--plain"],
}


def _session_updated(log: Path) -> tuple[float, float] | None:
    """(log opened, session.updated received) as wall-clock seconds, once both are in the log."""
    try:
        lines = log.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        return None
    if not lines:
        return None
    try:
        started = datetime.fromisoformat(json.loads(lines[0])["started_at"]).timestamp()
    except (ValueError, KeyError):
        return None  # the header is still being written
    for line in lines[1:]:
        if '"session.updated"' not in line:
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            return None
        if entry.get("dir") == "server" and entry["event"].get("type") == "session.updated":
            return started, started + float(entry["t"])
    return None


def _run_once(command: str, workdir: Path) -> dict[str, Any]:
    log = workdir / f"{command}.jsonl"
    log.unlink(missing_ok=True)
    env = _clean_env()
    launched = time.time()
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime_console", "--local", "--log-events", str(log)]
        + COMMANDS[command],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=env,
        cwd=workdir,
    )
    found = None
    deadline = time.monotonic() + TIMEOUT_S
    while found is None and time.monotonic() < deadline:
        found = _session_updated(log)
        if found is None and process.poll() is not None:
            found = _session_updated(log)  # it may have exited right after
            break
        time.sleep(0.005)
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
    try:
        _, stderr = process.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        _, stderr = process.communicate()
    if found is None:
        last = stderr.decode(errors="replace").strip().splitlines()
        return {"error": f"exit {process.returncode}: {last[-1] if last else 'no output'}"}
    opened, updated = found
    return {
        "to_log_open_ms": (opened - launched) * 1000,
        "to_session_updated_ms": (updated - launched) * 1000,
    }


_FLOOR_CODE = "import gc; gc.disable(); import openai, openai.types.realtime"


def _floor_once() -> float:
    """Launch → exit of an interpreter that only imports the SDK: the start-up's floor."""
    launched = time.perf_counter()
    subprocess.run([sys.executable, "-c", _FLOOR_CODE], check=True, env=_clean_env())
    return (time.perf_counter() - launched) * 1000


def _clean_env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "OPENAI_"))}


def _summary(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)
    return {
        "median": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 1),
        "max": round(ordered[-1], 1),
    }


def main(runs: int = RUNS, commands: tuple[str, ...] = tuple(COMMANDS)) -> dict[str, Any]:
    result: dict[str, Any] = {
        "benchmark": "start_latency",
        "runs": runs,
        "target_median_ms": TARGET_MEDIAN_MS,
    }
    met = True
    with tempfile.TemporaryDirectory() as tmp:
        for command in commands:
            runs_out = [_run_once(command, Path(tmp)) for _ in range(runs)]
            good = [r for r in runs_out if "error" not in r]
            if not good:
                result[command] = {"skipped": runs_out[0]["error"]}
                continue
            to_updated = [r["to_session_updated_ms"] for r in good]
            result[command] = {
                "runs": len(good),
                "failed_runs": len(runs_out) - len(good),
                "to_session_updated_ms": _summary(to_updated),
                "to_log_open_ms": _summary([r["to_log_open_ms"] for r in good]),
            }
            met = met and statistics.median(to_updated) <= TARGET_MEDIAN_MS
    result["sdk_import_floor_ms"] = _summary([_floor_once() for _ in range(runs)])
    result["load_average"] = round(os.getloadavg()[0], 2)
    result["meets_targets"] = met
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=RUNS, help=f"starts per command ({RUNS})")
    parser.add_argument("--commands", nargs="+", choices=tuple(COMMANDS), default=list(COMMANDS))
    options = parser.parse_args()
    print(json.dumps(main(options.runs, tuple(options.commands)), indent=1))
