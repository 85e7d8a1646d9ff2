"""PulseAudio virtual devices for running the real ``talk`` process end to end.

A private null sink is the speaker (nothing else plays into it) and its monitor is recorded with
``parec``; a pipe source fed in real time is the microphone, silence by default and espeak-ng
speech on cue. ``.ci/pulse-up`` starts PulseAudio. Shared by ``tests/e2e/test_talk_pulse.py``
and ``benchmarks/talk_bargein_pulse.py``.

The monitor recording is timed: every chunk ``parec`` delivers is stamped with the wall clock
when it arrives, and the earliest stamp less the chunk's duration so far puts sample 0 on that
clock (``MonitorRecording.time_of``). The event log's times are on the same clock
(``started_at`` + ``t``), so the two line up. The null sink renders what it plays one block of
its own ahead of PortAudio's DAC time (the monitor's requested latency, ``MONITOR_LATENCY_MS``):
a sample shows up on the monitor that much before the device says it plays, at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as _dt
import os
import shutil
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from realtime_console.audio.resample import StreamResampler
from realtime_console.eventlog import read_log

RATE = 24000
BLOCK_BYTES = 960  # 20 ms of the pipe microphone
MONITOR_LATENCY_MS = 5  # parec's requested latency: the null sink renders this far ahead
SCRUBBED_PREFIXES = ("AZURE_", "OPENAI_", "REALTIME_CONSOLE_")  # as tests/conftest.clean_env

Floats = npt.NDArray[np.float64]


def skip_reason() -> str | None:
    """Why the PulseAudio rig cannot run here (None: it can)."""
    for tool in ("pactl", "parec", "espeak-ng"):
        if shutil.which(tool) is None:
            return f"{tool} not installed"
    if subprocess.run(["pactl", "info"], capture_output=True).returncode != 0:
        return "PulseAudio is not running (.ci/pulse-up starts it)"
    sinks = subprocess.run(["pactl", "list", "short", "sinks"], capture_output=True, text=True)
    if "spk" not in sinks.stdout.split():
        return "PulseAudio has no null sink 'spk' (.ci/pulse-up creates it)"
    probe = subprocess.run(
        [sys.executable, "-c", "import sounddevice; sounddevice.query_devices()"],
        capture_output=True,
    )
    if probe.returncode != 0:
        return "PortAudio (sounddevice) cannot load"
    return None


@contextlib.contextmanager
def private_null_sink(name: str) -> Iterator[str]:
    """A null sink of our own: other programs playing to the default sink cannot leak in."""
    module = subprocess.run(
        ["pactl", "load-module", "module-null-sink", f"sink_name={name}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    try:
        yield name
    finally:
        subprocess.run(["pactl", "unload-module", module], capture_output=True)


class PipeMicrophone:
    """A PulseAudio pipe source fed in real time: silence, or the speech queued with ``say``."""

    def __init__(self, fifo: Path, source: str = "vmic") -> None:
        self.fifo = fifo
        self.source = source
        self._speech = bytearray()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.module: str | None = None

    def __enter__(self) -> PipeMicrophone:
        self.module = subprocess.run(
            [
                "pactl",
                "load-module",
                "module-pipe-source",
                f"source_name={self.source}",
                f"file={self.fifo}",
                "format=s16le",
                f"rate={RATE}",
                "channels=1",
            ],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        if self.module:
            subprocess.run(["pactl", "unload-module", self.module], capture_output=True)

    def say(self, pcm: bytes) -> None:
        with self._lock:
            self._speech += pcm

    @property
    def speaking(self) -> bool:
        with self._lock:
            return bool(self._speech)

    def _run(self) -> None:
        with open(self.fifo, "wb", buffering=0) as pipe:
            deadline = time.perf_counter()
            while not self._stop.is_set():
                with self._lock:
                    chunk = bytes(self._speech[:BLOCK_BYTES])
                    del self._speech[:BLOCK_BYTES]
                try:
                    pipe.write(chunk.ljust(BLOCK_BYTES, b"\0"))
                except BrokenPipeError:  # the source was unloaded under us
                    return
                deadline += 0.02
                delay = deadline - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)


def espeak(text: str, tmp: Path) -> bytes:
    """``text`` spoken by espeak-ng, as 24 kHz PCM16."""
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    with wave.open(str(wav), "rb") as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    resampler = StreamResampler(rate, RATE)
    return resampler.process(pcm) + resampler.flush()


class MonitorRecording:
    """What a sink plays, recorded from its monitor, with the wall-clock time of each sample."""

    def __init__(self, sink: str) -> None:
        self._process = subprocess.Popen(
            [
                "parec",
                "-d",
                f"{sink}.monitor",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                f"--latency-msec={MONITOR_LATENCY_MS}",
            ],
            stdout=subprocess.PIPE,
        )
        self._data = bytearray()
        self._lock = threading.Lock()
        self._origin: float | None = None  # wall time of sample 0 (the earliest estimate)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        fd = stdout.fileno()
        while chunk := os.read(fd, 4096):
            arrived = time.time()
            with self._lock:
                self._data += chunk
                origin = arrived - len(self._data) // 2 / RATE
                if self._origin is None or origin < self._origin:
                    self._origin = origin

    def samples(self) -> Floats:
        """Everything captured so far."""
        with self._lock:
            data = bytes(self._data[: len(self._data) // 2 * 2])
        return np.frombuffer(data, dtype="<i2").astype(np.float64)

    def time_of(self, index: float) -> float:
        """The wall-clock time sample ``index`` was played (rendered by the sink)."""
        if self._origin is None:
            raise RuntimeError("nothing recorded yet")
        return self._origin + index / RATE

    def index_at(self, wall: float) -> float:
        """The sample being played at wall-clock time ``wall``."""
        return (wall - self.time_of(0)) * RATE

    def close(self) -> None:
        self._process.terminate()
        self._process.wait(5)
        self._thread.join(5)


@contextlib.contextmanager
def monitor_recording(sink: str) -> Iterator[MonitorRecording]:
    recording = MonitorRecording(sink)
    try:
        yield recording
    finally:
        recording.close()


def console_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a console that takes no settings from it (HOME stays: PulseAudio's
    client finds its cookie there)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(SCRUBBED_PREFIXES)}
    env.update(extra)
    return env


def voiced_ms(samples: Floats, level: float = 300.0) -> float:
    """Milliseconds of 10 ms frames whose RMS is above ``level`` (about -40 dBFS)."""
    frames = len(samples) // 240
    if frames == 0:
        return 0.0
    rms = np.sqrt(np.mean(samples[: frames * 240].reshape(frames, 240) ** 2, axis=1))
    return float(np.count_nonzero(rms > level) * 10)


def voiced_rms(samples: Floats, level: float = 300.0) -> float:
    """RMS over the voiced 10 ms frames: the loudness of the speech itself."""
    frames = len(samples) // 240
    blocks = samples[: frames * 240].reshape(frames, 240)
    rms = np.sqrt(np.mean(blocks**2, axis=1))
    voiced = blocks[rms > level]
    return float(np.sqrt(np.mean(voiced**2))) if len(voiced) else 0.0


def log_events(path: Path) -> list[tuple[str, dict[str, Any]]]:
    if not path.exists():
        return []
    return [(r.dir, r.event) for r in read_log(path)]


def log_timed_events(path: Path) -> list[tuple[float, str, dict[str, Any]]]:
    """(wall-clock time, direction, event) of every event: the header's ``started_at`` plus
    each line's ``t`` (both taken together when the log opened)."""
    import json

    with open(path, encoding="utf-8") as handle:
        header = json.loads(handle.readline())
    start = _dt.datetime.fromisoformat(header["started_at"]).timestamp()
    return [(start + (r.t or 0.0), r.dir, r.event) for r in read_log(path)]


class LogTail:
    """The events a live log has gained since the last look (its lines are flushed whole)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._offset = 0
        self._partial = b""
        self.events: list[tuple[str, dict[str, Any]]] = []  # (direction, event), all so far

    def poll(self) -> list[tuple[str, dict[str, Any]]]:
        """The new events (also appended to ``events``)."""
        import json

        if not self.path.exists():
            return []
        with open(self.path, "rb") as handle:
            handle.seek(self._offset)
            data = handle.read()
        self._offset += len(data)
        lines = (self._partial + data).split(b"\n")
        self._partial = lines.pop()
        new = []
        for line in lines:
            obj = json.loads(line)
            if "event" in obj:
                new.append((str(obj["dir"]), obj["event"]))
        self.events += new
        return new

    def count(self, direction: str, event_type: str) -> int:
        self.poll()
        return sum(1 for d, e in self.events if d == direction and e.get("type") == event_type)


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
