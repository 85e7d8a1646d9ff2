"""``talk`` on real PortAudio through PulseAudio virtual devices, end to end.

A pipe source (``vmic``, loaded here) is the microphone: a thread writes it in real time, silence
by default and espeak-ng speech on cue. The console runs as a real process against its built-in
server (``--local``: energy VAD, eSpeak NG voice) with ``PULSE_SOURCE=vmic PULSE_SINK=spk``; what
it plays on the null sink ``spk`` is recorded from ``spk.monitor`` with ``parec``. The event log
(written and flushed live) says when things happened.

Skipped, with the reason, where PulseAudio, PortAudio, parec or espeak-ng is missing (``.ci/run``
installs and starts them).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
import wave
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.resample import StreamResampler
from realtime_console.eventlog import read_log
from tests.conftest import clean_env, restore_sigint

RATE = 24000
BLOCK_BYTES = 960  # 20 ms


def _skip_reason() -> str | None:
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


pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.timeout(120),
]


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

    def __init__(self, fifo: Path) -> None:
        self.fifo = fifo
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
                "source_name=vmic",
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
                pipe.write(chunk.ljust(BLOCK_BYTES, b"\0"))
                deadline += 0.02
                delay = deadline - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)


def espeak(text: str, tmp: Path) -> bytes:
    wav = tmp / "say.wav"
    subprocess.run(["espeak-ng", "-w", str(wav), text], check=True, capture_output=True)
    with wave.open(str(wav), "rb") as reader:
        rate, pcm = reader.getframerate(), reader.readframes(reader.getnframes())
    resampler = StreamResampler(rate, RATE)
    return resampler.process(pcm) + resampler.flush()


@contextlib.contextmanager
def monitor_recording(path: Path, sink: str) -> Iterator[Callable[[], np.ndarray[Any, Any]]]:
    """Record the null sink's monitor; yields a function returning everything captured so far."""
    with open(path, "wb") as out:
        process = subprocess.Popen(
            [
                "parec",
                "-d",
                f"{sink}.monitor",
                "--format=s16le",
                f"--rate={RATE}",
                "--channels=1",
                "--latency-msec=20",
            ],
            stdout=out,
        )
    try:
        yield lambda: np.fromfile(path, dtype="<i2").astype(np.float64)
    finally:
        process.terminate()
        process.wait(5)


def voiced_ms(samples: np.ndarray[Any, Any], level: float = 300.0) -> float:
    """Milliseconds of 10 ms frames whose RMS is above ``level`` (about -40 dBFS)."""
    frames = len(samples) // 240
    if frames == 0:
        return 0.0
    rms = np.sqrt(np.mean(samples[: frames * 240].reshape(frames, 240) ** 2, axis=1))
    return float(np.count_nonzero(rms > level) * 10)


def voiced_rms(samples: np.ndarray[Any, Any], level: float = 300.0) -> float:
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


async def until(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


async def test_spoken_turn_reply_is_heard_then_barge_in_stops_it(tmp_path: Path) -> None:
    log = tmp_path / "talk.jsonl"
    question = espeak("Hello there, how are you doing today?", tmp_path)
    interruption = espeak("Wait, stop, I have another question for you.", tmp_path)
    sink = f"rc_e2e_{os.getpid()}"
    env = clean_env({"PULSE_SOURCE": "vmic", "PULSE_SINK": sink})

    with (
        private_null_sink(sink),
        PipeMicrophone(tmp_path / "vmic.fifo") as mic,
        monitor_recording(tmp_path / "monitor.raw", sink) as captured,
    ):
        console = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "realtime_console",
            "--local",
            "--log-events",
            str(log),
            "talk",
            "--plain",
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=restore_sigint,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            # PortAudio through pulse can take ~2 s to deliver its first input block: speak
            # only once the microphone audio is flowing to the server.
            await until(
                lambda: any(e["type"] == "input_audio_buffer.append" for _, e in log_events(log)),
                20,
                "the microphone to stream",
            )
            # Turn 1: ask, let the whole reply play, check what reached the speaker.
            start = len(captured())
            mic.say(question)
            await until(
                lambda: any(e["type"] == "response.done" for _, e in log_events(log)),
                30,
                "the first reply",
            )
            events = log_events(log)
            reply = np.frombuffer(
                b"".join(
                    base64.b64decode(e["delta"])
                    for d, e in events
                    if d == "server" and e["type"] == "response.output_audio.delta"
                ),
                dtype="<i2",
            ).astype(np.float64)
            reply_ms = len(reply) / 24
            await asyncio.sleep(reply_ms / 1000 * 1.5 + 1.0)  # real time, plus slack
            heard = captured()[start:]
            print(
                f"reply: {reply_ms:.0f} ms, voiced {voiced_ms(reply):.0f} ms at "
                f"{voiced_rms(reply):.0f} rms; captured voiced {voiced_ms(heard):.0f} ms at "
                f"{voiced_rms(heard):.0f} rms"
            )
            # The speaker played exactly the reply: as much voiced sound, at the same level.
            assert abs(voiced_ms(heard) - voiced_ms(reply)) <= 0.15 * voiced_ms(reply) + 60
            assert abs(20 * np.log10(voiced_rms(heard) / voiced_rms(reply))) < 3.0

            # Turn 2: ask again, and talk over the reply once it is audible.
            mark = len(captured())
            mic.say(question)
            await until(
                lambda: voiced_ms(captured()[mark:][-24000 // 2 :]) >= 300 and not mic.speaking,
                30,
                "the second reply to be audible",
            )
            mic.say(interruption)
            await until(
                lambda: any(d == "meta" and e["type"] == "barge_in" for d, e in log_events(log)),
                20,
                "the barge-in",
            )
            cut_at = len(captured())
            await asyncio.sleep(1.0)
            after_cut = captured()[cut_at + RATE // 4 :]  # 250 ms of slack for pulse's buffers
            assert voiced_ms(after_cut) == 0, "playback went on after the barge-in"
        finally:
            if console.returncode is None:
                console.send_signal(signal.SIGINT)
            started = time.monotonic()
            out, err = await asyncio.wait_for(console.communicate(), 10)
            shutdown_s = time.monotonic() - started

    print(out.decode(), err.decode(), sep="\n")
    assert console.returncode == 130, err.decode()
    assert shutdown_s < 2.0, shutdown_s
    assert b"Traceback" not in err, err.decode()
    events = log_events(log)
    (note,) = [e for d, e in events if d == "meta" and e["type"] == "barge_in"]
    truncates = [
        e for d, e in events if d == "client" and e["type"] == "conversation.item.truncate"
    ]
    assert [t["audio_end_ms"] for t in truncates] == [note["audio_end_ms"]]
    assert 0 < note["audio_end_ms"] <= note["received_ms"]
    print(f"barge-in: {note}")
    print(f"audio stats: {events[-1][1]}")
    assert any(d == "server" and e["type"] == "conversation.item.truncated" for d, e in events)
    assert events[-1][1]["type"] == "audio_stats", "the log was flushed at shutdown"
    assert b"[cut at " in out  # the reply's line marks where the listener stopped hearing it
