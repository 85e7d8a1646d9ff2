"""Echo on real PortAudio through PulseAudio: a null sink's monitor as the microphone is a laptop
whose microphone hears everything its speaker plays (a loopback with real device latencies).

* ``devices --test`` (the audio doctor) finds that echo, its round trip and what echo cancellation
  leaves of it; with a silent source it finds none.
* ``talk --plain`` against the built-in server: the user's question is played into the sink (so
  the microphone hears it like the echo, but it is not in the speaker's reference), the reply
  plays into the same sink. Without echo cancellation the server's VAD hears the reply and it
  interrupts itself; with it the reply plays to the end.

Skipped, with the reason, where PulseAudio, PortAudio, pacat or espeak-ng is missing
(``.ci/pulse-up`` starts PulseAudio).
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, NamedTuple

import pytest

from benchmarks.pulse_rig import log_timed_events
from tests.conftest import clean_env, restore_sigint
from tests.e2e.test_talk_pulse import _skip_reason, espeak, log_events, private_null_sink, until

RATE = 24000


def _reason() -> str | None:
    reason = _skip_reason()
    if reason is None and shutil.which("pacat") is None:
        return "pacat not installed"
    return reason


pytestmark = [
    pytest.mark.skipif(_reason() is not None, reason=str(_reason())),
    pytest.mark.timeout(120),
]


def doctor(sink: str, source: str) -> dict[str, Any]:
    result = subprocess.run(
        [sys.executable, "-m", "realtime_console", "devices", "--test", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        env=clean_env({"PULSE_SINK": sink, "PULSE_SOURCE": source}),
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    print(json.dumps(report, indent=1))
    return report


def test_the_doctor_finds_a_loopback_echo_and_what_aec_leaves_of_it() -> None:
    sink = f"rc_doc_{os.getpid()}"
    with private_null_sink(sink):
        report = doctor(sink, f"{sink}.monitor")
    assert report["echo_found"] is True
    assert report["echo_gain_db"] > -6  # a monitor hears the speaker as played
    assert report["round_trip_ms"] is not None and -200 < report["round_trip_ms"] < 1000
    assert report["input_startup_ms"] is not None
    if report["aec_installed"]:
        assert report["aec_reduction_db"] >= 20
        assert report["verdict"].startswith("ready for talk on speakers")
    else:
        assert "headphones" in report["verdict"]


def test_the_doctor_hears_no_echo_from_a_source_the_speaker_does_not_reach() -> None:
    sink, quiet = f"rc_doc_{os.getpid()}", f"rc_quiet_{os.getpid()}"
    with private_null_sink(sink), private_null_sink(quiet):
        report = doctor(sink, f"{quiet}.monitor")
    assert report["echo_found"] is False
    assert report["verdict"] == "ready for talk: the microphone does not hear the speaker"


def play_into(sink: str, pcm: bytes) -> subprocess.Popen[bytes]:
    """The user speaking in the room: played into the sink, heard by its monitor."""
    player = subprocess.Popen(
        ["pacat", "-d", sink, "--format=s16le", f"--rate={RATE}", "--channels=1", "--raw"],
        stdin=subprocess.PIPE,
    )
    assert player.stdin is not None
    player.stdin.write(pcm)
    player.stdin.close()
    return player


def speech_started_during_replies(events: list[tuple[str, dict[str, Any]]]) -> int:
    count, speaking = 0, False
    for direction, event in events:
        if direction != "server":
            continue
        if event["type"] == "response.output_audio.delta":
            speaking = True
        elif event["type"] == "response.done":
            speaking = False
        elif event["type"] == "input_audio_buffer.speech_started" and speaking:
            count += 1
    return count


class Loopback(NamedTuple):
    events: list[tuple[str, dict[str, Any]]]
    # Barge-ins after the question had been played: the reply cutting itself. Before that, the
    # server's VAD may split the question at a pause, and its second half then really does
    # barge in on the reply to the first half.
    self_cuts: int


async def talk_on_a_loopback(tmp_path: Path, aec: str) -> Loopback:
    log = tmp_path / f"talk-{aec}.jsonl"
    profile = tmp_path / f"{aec}.toml"
    profile.write_text(f'[audio]\naec = "{aec}"\n')
    question = espeak("Hello there, please tell me a story about the sea.", tmp_path)
    sink = f"rc_echo_{os.getpid()}"
    with private_null_sink(sink):
        console = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "realtime_console", "--local", "--config", str(profile)),
            *("--log-events", str(log), "talk", "--plain"),
            stdin=asyncio.subprocess.DEVNULL,
            preexec_fn=restore_sigint,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=clean_env({"PULSE_SOURCE": f"{sink}.monitor", "PULSE_SINK": sink}),
        )
        try:
            await until(
                lambda: any(e["type"] == "input_audio_buffer.append" for _, e in log_events(log)),
                20,
                "the microphone to stream",
            )
            await asyncio.sleep(1.0)  # AEC3 and the VAD settle on the room's silence
            player = play_into(sink, question)
            await until(
                lambda: any(e["type"] == "response.output_audio.delta" for _, e in log_events(log)),
                30,
                "the reply",
            )
            player.wait(10)
            question_ended = time.time()
            # The reply plays in real time: wait until it is over (or was cut and re-answered).
            started = time.monotonic()
            await until(
                lambda: (
                    any(e["type"] == "response.done" for d, e in log_events(log) if d == "server")
                    and time.monotonic() - started > 6
                ),
                30,
                "the reply to finish",
            )
        finally:
            if console.returncode is None:
                console.send_signal(signal.SIGINT)
            out, err = await asyncio.wait_for(console.communicate(), 10)
    print(out.decode(), err.decode(), sep="\n")
    assert b"Traceback" not in err, err.decode()
    assert console.returncode == 130, err.decode()
    cuts = sum(
        d == "meta" and e["type"] == "barge_in" and t > question_ended
        for t, d, e in log_timed_events(log)
    )
    return Loopback(log_events(log), cuts)


def barge_ins(events: list[tuple[str, dict[str, Any]]]) -> int:
    return sum(d == "meta" and e["type"] == "barge_in" for d, e in events)


def last_audio_stats(events: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    notes = [e for d, e in events if d == "meta" and e["type"] == "audio_stats"]
    return notes[-1] if notes else {}


async def test_on_a_loopback_aec_stops_the_reply_from_interrupting_itself(tmp_path: Path) -> None:
    """A null sink's monitor hears the reply as a perfect digital copy at full level (-1 dB):
    the hardest echo there is. Without AEC every reply is cut by its own sound (8-10 times in
    10 s here); with AEC the echo is detected and cancelled and the reply plays to its end.
    The one exception is a speaker underflow: the output ran dry and the echo path itself moved;
    the stage re-aligns the reference once blocks measure the move (docs/echo-cancellation.md,
    "Real breaks"), but echo leaks until then; so then fewer cuts is what is asserted."""
    pytest.importorskip("pywebrtc_audio", reason="the aec extra (pywebrtc-audio) is not installed")
    off = await talk_on_a_loopback(tmp_path, "off")
    on = await talk_on_a_loopback(tmp_path, "on")
    print(
        f"barge-ins: off {barge_ins(off.events)}, on {barge_ins(on.events)}; after the question: "
        f"off {off.self_cuts}, on {on.self_cuts}; speech starts during replies: "
        f"off {speech_started_during_replies(off.events)}, "
        f"on {speech_started_during_replies(on.events)}; "
        f"echo figures with AEC: {last_audio_stats(on.events)}"
    )
    assert off.self_cuts >= 2, "the reply's own sound never reached the server's VAD"
    assert "echo_detected" not in last_audio_stats(off.events)  # off: no stage, no figures
    stats = last_audio_stats(on.events)
    assert stats["echo_detected"] is True
    if stats["output_underflows"] == 0:
        assert on.self_cuts == 0
    else:
        assert on.self_cuts < off.self_cuts
