"""``talk`` on a simulated laptop: the real talk loop, SDK client and local server (its energy
VAD) over a WebSocket, with the speaker's output leaking into the microphone through an echo path
(realtime fake streams joined by ``EchoCoupling``). Without echo handling the server hears the
assistant and it interrupts itself; with AEC it finishes its reply."""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.echo.path import EchoPathSpec
from realtime_console.audio.fakestream import EchoCoupling, FakeInputStream, FakeOutputStream
from realtime_console.config import AudioSettings, ConnectionSettings, LogSettings, Settings
from realtime_console.eventlog import read_log
from realtime_console.modes.talk import AudioBackend, run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor
from realtime_console.ui.view import TalkState
from tests.modes.test_talk_handlers import RecordingView

RATE = 24_000


class Laptop:
    """Realtime fake devices in one room: what the speaker plays, the microphone hears."""

    def __init__(self) -> None:
        self.coupling = EchoCoupling(EchoPathSpec(delay_ms=60, gain_db=-6))
        self.inputs: list[FakeInputStream] = []
        self.outputs: list[FakeOutputStream] = []

    def backend(self) -> AudioBackend:
        def output(**kwargs: Any) -> FakeOutputStream:
            self.outputs.append(FakeOutputStream(**kwargs, realtime=True, echo=self.coupling))
            return self.outputs[-1]

        def input_(**kwargs: Any) -> FakeInputStream:
            self.inputs.append(FakeInputStream(**kwargs, realtime=True, echo=self.coupling))
            return self.inputs[-1]

        # A laptop's sound system: 20 ms each way (the fakes' "low"; CoreAudio and WASAPI report
        # 10-30 ms), so the round trip is 20 + 60 (the path) + 20 ms.
        return AudioBackend(
            output_factory=output, input_factory=input_, output_latency=0.02, input_latency=0.02
        )


def spoken_turn() -> bytes:
    t = np.arange(RATE * 900 // 1000) / RATE
    tone = (np.sin(2 * np.pi * 220 * t) * 9000).astype("<i2").tobytes()
    return bytes(RATE // 5 * 2) + tone + bytes(RATE // 10 * 2)


async def until(condition: Any, timeout: float = 20.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


async def one_reply(tmp_path: Path, aec: str) -> tuple[RecordingView, list[dict[str, Any]]]:
    """A spoken turn, then the reply plays out (or is cut); the view and the server's events."""
    log = tmp_path / f"talk-{aec}.jsonl"
    settings = Settings(
        connection=ConnectionSettings(provider="local"),
        log=LogSettings(events=str(log)),
        audio=dataclasses.replace(AudioSettings(), aec=aec),  # type: ignore[arg-type]
    )
    laptop, view, controls = Laptop(), RecordingView(), TalkCommands()
    talk = asyncio.ensure_future(
        run_talk(
            settings,
            controls=controls,
            view=view,
            env=os.environ,
            redactor=Redactor(),
            backend=laptop.backend(),
        )
    )
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        laptop.inputs[0].feed(spoken_turn())
        await until(lambda: TalkState.ASSISTANT_SPEAKING in view.states)
        # The reply plays out and talk listens again, or the echo cut it (and a new turn began).
        await until(
            lambda: (
                bool(view.named("assistant_cut"))
                or view.states[-1] is TalkState.LISTENING
                and view.states.count(TalkState.ASSISTANT_SPEAKING) >= 1
                and laptop.outputs[0].silent_from_block() != len(laptop.outputs[0].blocks)
            )
        )
        await asyncio.sleep(0.5)
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
    server = [r.event for r in read_log(log) if r.dir == "server"]
    return view, server


def speech_started_during_the_reply(server: list[dict[str, Any]]) -> int:
    """``speech_started`` events between the reply's first audio and its ``response.done``."""
    count, speaking = 0, False
    for event in server:
        if event["type"] == "response.output_audio.delta":
            speaking = True
        elif event["type"] == "response.done":
            speaking = False
        elif event["type"] == "input_audio_buffer.speech_started" and speaking:
            count += 1
    return count


async def test_without_echo_cancellation_the_assistant_interrupts_itself(tmp_path: Path) -> None:
    view, server = await one_reply(tmp_path, aec="off")
    assert any("echo cancellation off" in args[0] for args in view.named("notice"))
    assert view.named("assistant_cut"), "the echo of the reply barged in"
    assert speech_started_during_the_reply(server) >= 1


async def test_with_echo_cancellation_the_reply_plays_to_the_end(tmp_path: Path) -> None:
    pytest.importorskip("pywebrtc_audio", reason="the aec extra (pywebrtc-audio) is not installed")
    view, server = await one_reply(tmp_path, aec="on")
    assert ("echo cancellation on",) in view.named("notice")
    assert not view.named("assistant_cut")
    assert speech_started_during_the_reply(server) == 0
    done = [e for e in server if e["type"] == "response.done"]
    assert done and done[0]["response"]["status"] == "completed"
    reply_ms = sum(
        pcm.bytes_to_ms(len(pcm.decode_b64(e["delta"])))
        for e in server
        if e["type"] == "response.output_audio.delta"
    )
    assert reply_ms >= 2500  # seconds of the assistant's voice in the room, none heard as speech
