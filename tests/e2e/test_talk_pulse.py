"""``talk`` on real PortAudio through PulseAudio virtual devices, end to end.

A pipe source (``vmic``, loaded here) is the microphone: a thread writes it in real time, silence
by default and espeak-ng speech on cue. The console runs as a real process against its built-in
server (``--local``: energy VAD, eSpeak NG voice) with ``PULSE_SOURCE=vmic PULSE_SINK=spk``; what
it plays on the null sink ``spk`` is recorded from ``spk.monitor`` with ``parec``. The event log
(written and flushed live) says when things happened.

The devices and the recording are ``benchmarks/pulse_rig.py``, shared with
``benchmarks/talk_bargein_pulse.py``, which the barge-in test here runs at a small size.

Skipped, with the reason, where PulseAudio, PortAudio, parec or espeak-ng is missing (``.ci/run``
installs and starts them).
"""

from __future__ import annotations

import asyncio
import base64
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from benchmarks import talk_bargein_pulse
from benchmarks.pulse_rig import (
    RATE,
    PipeMicrophone,
    espeak,
    log_events,
    monitor_recording,
    private_null_sink,
    skip_reason,
    until,
    voiced_ms,
    voiced_rms,
)
from tests.conftest import clean_env, restore_sigint

# tests/e2e/test_echo_pulse.py imports these from here.
__all__ = ["_skip_reason", "espeak", "log_events", "private_null_sink", "until"]
_skip_reason = skip_reason

pytestmark = [
    pytest.mark.skipif(_skip_reason() is not None, reason=str(_skip_reason())),
    pytest.mark.timeout(120),
]


async def test_spoken_turn_reply_is_heard_then_barge_in_stops_it(tmp_path: Path) -> None:
    log = tmp_path / "talk.jsonl"
    question = espeak("Hello there, how are you doing today?", tmp_path)
    interruption = espeak("Wait, stop, I have another question for you.", tmp_path)
    sink = f"rc_e2e_{os.getpid()}"
    env = clean_env({"PULSE_SOURCE": "vmic", "PULSE_SINK": sink})

    with (
        private_null_sink(sink),
        PipeMicrophone(tmp_path / "vmic.fifo") as mic,
        monitor_recording(sink) as monitor,
    ):
        captured = monitor.samples
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


async def test_barge_ins_truncate_at_most_what_reached_the_sink() -> None:
    """A few barge-ins, measured as ``benchmarks/talk_bargein_pulse.py`` does (its figures and
    targets are there): the truncation never claims audio the sink had not played when the
    console cut, and is close to it (looser than the benchmark's 10 ms target: a loaded CI
    machine)."""
    result = await talk_bargein_pulse.run(3)
    print({k: v for k, v in result.items() if k != "samples"})
    assert result["skipped"] is None
    assert result["measured"] >= 3, result["samples"]
    assert result["overshoots"] == 0, result["samples"]
    assert result["truncation_error_ms_max_abs"] <= 25.0, result["samples"]
    assert result["silence_ms"] is not None and result["silence_ms"]["max"] <= 150.0
