"""``talk`` end to end on fake sound devices: the real talk loop, the real SDK client and the real
local server (its energy VAD) over a WebSocket; the devices are the package's realtime fakes."""

from __future__ import annotations

import asyncio
import base64
import io
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.fakestream import FakeInputStream, FakeOutputStream
from realtime_console.config import (
    AudioSettings,
    ConnectionSettings,
    LogSettings,
    SessionSettings,
    Settings,
    TurnDetection,
)
from realtime_console.errors import AudioDeviceError
from realtime_console.eventlog import read_log
from realtime_console.modes.recycle import RecyclePolicy
from realtime_console.modes.talk import AudioBackend, run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.protocol import pcm
from realtime_console.redact import Redactor
from realtime_console.server.app import LocalServer
from realtime_console.server.faults import FaultPlan
from realtime_console.server.options import ServerOptions
from realtime_console.ui.view import TalkState
from tests.conftest import SERVER_KEY
from tests.modes.test_talk_handlers import RecordingView

RATE = 24000


def tone(ms: int, amplitude: int = 9000, hz: float = 220.0) -> bytes:
    t = np.arange(RATE * ms // 1000) / RATE
    return (np.sin(2 * np.pi * hz * t) * amplitude).astype("<i2").tobytes()


def silence(ms: int) -> bytes:
    return bytes(RATE * ms // 1000 * 2)


class Devices:
    def __init__(self) -> None:
        self.inputs: list[FakeInputStream] = []
        self.outputs: list[FakeOutputStream] = []

    def backend(self) -> AudioBackend:
        def output(**kwargs: Any) -> FakeOutputStream:
            self.outputs.append(FakeOutputStream(**kwargs, realtime=True))
            return self.outputs[-1]

        def input_(**kwargs: Any) -> FakeInputStream:
            self.inputs.append(FakeInputStream(**kwargs, realtime=True))
            return self.inputs[-1]

        return AudioBackend(output_factory=output, input_factory=input_)


async def until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)


def start_talk(
    settings: Settings,
    devices: Devices,
    view: RecordingView,
    controls: TalkCommands,
    env: Mapping[str, str] = os.environ,
) -> asyncio.Future[int]:
    """``run_talk`` on the fake devices, as a task the test drives and then quits."""
    return asyncio.ensure_future(
        run_talk(
            settings,
            controls=controls,
            view=view,
            env=env,
            redactor=Redactor(),
            backend=devices.backend(),
        )
    )


def local_settings(log: Path) -> Settings:
    return Settings(
        connection=ConnectionSettings(provider="local"),
        log=LogSettings(events=str(log)),
    )


async def test_a_spoken_turn_gets_a_played_reply_and_speaking_over_it_truncates(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(local_settings(log), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: TalkState.ASSISTANT_SPEAKING in view.states)
        output = devices.outputs[0]
        await until(lambda: bool(output.blocks) and bool(np.any(output.blocks[-1])))
        await asyncio.sleep(0.3)
        devices.inputs[0].feed(tone(600))  # the user talks over the reply
        await until(lambda: bool(view.named("assistant_cut")))
        await asyncio.sleep(0.2)
        assert not np.any(output.blocks[-1])  # the speaker went quiet
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()

    assert view.named("turn_latency"), "latency of the first turn was reported"
    shown = view.named("playback_status")  # the status bar's buffer, from the talk loop
    assert shown, "the playback buffer was reported"
    records = list(read_log(log))
    client = [r.event for r in records if r.dir == "client"]
    server = [r.event for r in records if r.dir == "server"]
    meta = [r.event for r in records if r.dir == "meta"]
    sent_ms = sum(
        pcm.bytes_to_ms(len(pcm.decode_b64(e["audio"])))
        for e in client
        if e["type"] == "input_audio_buffer.append"
    )
    assert sent_ms >= 1000  # the microphone streamed throughout
    assert any(e["type"] == "input_audio_buffer.speech_started" for e in server)
    assert any(e["type"] == "response.output_audio.delta" for e in server)
    (truncate,) = [e for e in client if e["type"] == "conversation.item.truncate"]
    assert any(
        e["type"] == "conversation.item.truncated" and e["item_id"] == truncate["item_id"]
        for e in server
    ), "the server accepted the truncate"
    (barge_in,) = [e for e in meta if e["type"] == "barge_in"]
    assert barge_in["audio_end_ms"] == truncate["audio_end_ms"] > 0
    assert barge_in["audio_end_ms"] <= barge_in["received_ms"]
    # The fake device's block times agree with the latency it reports: so do the two figures.
    assert barge_in["output_latency_ms"] == pytest.approx(barge_in["reported_latency_ms"], abs=1)
    assert barge_in["reported_latency_ms"] > 0
    assert meta[-1]["playback_stretched_ms"] == 0  # a session's first reply is never stretched
    assert meta[-1]["type"] == "audio_stats" and meta[-1]["final"] is True
    target_ms, underruns = shown[-1]
    assert target_ms > 0 and 0 <= underruns <= meta[-1]["playback_underruns"]
    mic_block_ms = max(AudioSettings().block_ms, AudioSettings().append_ms)
    assert meta[-1]["mic_blocks"] * mic_block_ms >= 1000  # over a second of microphone audio
    assert not any(e["type"] == "error" for e in server), [
        e for e in server if e["type"] == "error"
    ]


@pytest.mark.parametrize("shows_events", [True, False])
async def test_events_are_summarised_only_for_a_view_that_shows_them(
    tmp_path: Path, shows_events: bool
) -> None:
    devices, controls = Devices(), TalkCommands()
    view = RecordingView(shows_events=shows_events)
    talk = start_talk(local_settings(tmp_path / "events.jsonl"), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
    shown = {args[1] for args in view.named("event_line")}
    if shows_events:
        assert {"session.created", "session.updated"} <= shown
    else:
        assert not shown  # plain talk without --events: no summary is even built


async def test_push_to_talk_commits_and_asks_for_a_response(tmp_path: Path) -> None:
    from realtime_console.commands.talk import push_to_talk_settings

    log = tmp_path / "ptt.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(push_to_talk_settings(local_settings(log)), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(tone(2000))
        await asyncio.sleep(0.3)  # not pressed yet: nothing is sent
        controls.push_to_talk(True)
        await asyncio.sleep(0.5)
        controls.push_to_talk(False)
        await until(lambda: TalkState.ASSISTANT_SPEAKING in view.states)
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
    client = [r.event for r in read_log(log) if r.dir == "client"]
    kinds = [e["type"] for e in client if e["type"] != "input_audio_buffer.append"]
    assert kinds == [
        "session.update",
        "input_audio_buffer.clear",
        "input_audio_buffer.commit",
        "response.create",
    ]
    appends = [e for e in client if e["type"] == "input_audio_buffer.append"]
    sent_ms = [len(base64.b64decode(e["audio"])) / 48 for e in appends]
    assert 400 <= sum(sent_ms) <= 700  # about the 0.5 s the key was down
    assert all(ms >= 60 for ms in sent_ms[:-1])  # batched: one event per 60 ms, not per block
    assert client[0]["session"]["audio"]["input"]["turn_detection"] is None


async def test_mute_stops_sending_without_closing_the_stream(tmp_path: Path) -> None:
    log = tmp_path / "mute.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(local_settings(log), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        controls.toggle_mute()
        await until(lambda: view.named("set_muted") == [(True,)])
        before = sum(1 for r in read_log(log) if r.event["type"] == "input_audio_buffer.append")
        await asyncio.sleep(0.4)
        after = sum(1 for r in read_log(log) if r.event["type"] == "input_audio_buffer.append")
        assert after - before <= 1  # at most the block already on its way
        assert devices.inputs[0].active
        controls.toggle_mute()
        await asyncio.sleep(0.3)
        resumed = sum(1 for r in read_log(log) if r.event["type"] == "input_audio_buffer.append")
        # 0.3 s unmuted: appends flow again (each holds audio.append_ms of microphone audio).
        assert (resumed - after) * AudioSettings().append_ms >= 200
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
    assert devices.inputs[0].closed and devices.outputs[0].closed


class PortAudioError(Exception):
    pass


async def test_no_sound_device_is_exit_2_with_a_hint_to_use_chat(tmp_path: Path) -> None:
    def broken(**kwargs: Any) -> FakeOutputStream:
        raise PortAudioError("Error querying device -1")

    with pytest.raises(AudioDeviceError) as caught:
        await run_talk(
            local_settings(tmp_path / "x.jsonl"),
            controls=TalkCommands(),
            view=RecordingView(),
            env=os.environ,
            redactor=Redactor(),
            backend=AudioBackend(output_factory=broken, input_factory=FakeInputStream),
        )
    message = str(caught.value)
    assert message.startswith("no default output device (none is plugged in or the sound server")
    assert "`chat`" in message and "\n" not in message
    assert caught.value.exit_code == 2
    assert not (tmp_path / "x.jsonl").exists()  # failed before connecting


async def test_two_devices_that_do_not_open_are_both_reported(tmp_path: Path) -> None:
    def broken_output(**kwargs: Any) -> FakeOutputStream:
        raise PortAudioError("Invalid sample rate")

    def broken_input(**kwargs: Any) -> FakeInputStream:
        raise PortAudioError("Device unavailable")

    with pytest.raises(AudioDeviceError) as caught:
        await run_talk(
            local_settings(tmp_path / "x.jsonl"),
            controls=TalkCommands(),
            view=RecordingView(),
            env=os.environ,
            redactor=Redactor(),
            backend=AudioBackend(output_factory=broken_output, input_factory=broken_input),
        )
    lines = str(caught.value).split("\n")
    assert lines[0] == "cannot open default output device: Invalid sample rate"
    assert lines[1].startswith("cannot open default input device: Device unavailable; ")
    assert "`chat`" in lines[1] and len(lines) == 2


def test_event_pane_summary_names_ids_and_never_carries_audio() -> None:
    from realtime_console.modes.talk import summarize

    line = summarize(
        {
            "type": "conversation.item.truncate",
            "item_id": "i1",
            "audio_end_ms": 420,
            "audio": "QUJD" * 1000,
        }
    )
    assert line == "i1 audio_end_ms=420"  # as `replay --types` shows it: one summariser
    delta = summarize({"type": "response.output_audio_transcript.delta", "delta": "x" * 100})
    assert delta == repr("x" * 59 + "…")


async def test_audio_stats_notes_only_when_counts_change(tmp_path: Path) -> None:
    from realtime_console.audio.microphone import Microphone
    from realtime_console.audio.speaker import Speaker
    from realtime_console.eventlog import EventLogWriter
    from realtime_console.modes.talk import AudioStatsNotes

    now = [0.0]
    speaker = Speaker(max_buffer_ms=1000, stream_factory=lambda **kw: FakeOutputStream(**kw))
    mic = Microphone(stream_factory=lambda **kw: FakeInputStream(**kw))
    path = tmp_path / "stats.jsonl"
    with EventLogWriter(
        path, provider="local", model="m", session={}, program_version="t", redactor=Redactor()
    ) as log:
        notes = AudioStatsNotes(speaker, mic, log, lambda: now[0])
        notes.note()  # first: written
        now[0] = 20.0
        notes.note()  # nothing changed: not written
        speaker.enqueue(bytes(480_000 * 2), "r", "i")  # more than the buffer holds: overflow
        now[0] = 25.0
        notes.note()  # changed, but within 10 s of the last note: not yet
        now[0] = 31.0
        notes.note()  # written
        notes.note(final=True)  # always written
    stats = [r.event for r in read_log(path) if r.dir == "meta"]
    assert [s["final"] for s in stats] == [False, False, True]
    assert stats[0]["playback_overflows"] == 0 and stats[1]["playback_overflows"] == 1


# ---- silent replies, failed transcriptions, the idle timeout (real server) ---------------


def served_settings(server: LocalServer, log: Path, **connection: Any) -> Settings:
    endpoint = server.http_url()
    return Settings(
        connection=ConnectionSettings(provider="azure", endpoint=endpoint, **connection),
        log=LogSettings(events=str(log)),
    )


@asynccontextmanager
async def faulty_server(spec: str) -> AsyncIterator[LocalServer]:
    options = ServerOptions(api_key=SERVER_KEY, realtime_factor=20.0, faults=FaultPlan.parse(spec))
    async with LocalServer(options) as server:
        yield server


async def test_a_reply_that_never_finishes_is_abandoned_and_talk_listens_again(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    async with faulty_server("no_done=1") as server:
        settings = served_settings(server, log, response_timeout_s=1.0)
        env = {"AZURE_OPENAI_API_KEY": SERVER_KEY}
        talk = start_talk(settings, devices, view, controls, env=env)
        try:
            await until(lambda: TalkState.LISTENING in view.states)
            devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
            await until(lambda: TalkState.ASSISTANT_SPEAKING in view.states)
            await until(lambda: any("turn abandoned" in n for (n,) in view.named("notice")))
            await until(lambda: view.states[-1] is TalkState.LISTENING)
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    records = list(read_log(log))
    (timeout,) = [r.event for r in records if r.event["type"] == "response_timeout"]
    (cancel,) = [r.event for r in records if r.event["type"] == "response.cancel"]
    assert cancel["response_id"] == timeout["response_id"]
    assert view.named("server_error") == []  # the refused cancel was expected


async def test_a_failed_transcription_is_shown_and_releases_the_held_reply(
    tmp_path: Path,
) -> None:
    from realtime_console.server.faults import TRANSCRIPTION_FAILURE
    from realtime_console.ui.plain_talk import PlainTalkView

    out, err = io.StringIO(), io.StringIO()
    # Held for 30 s at most: had the failure not released it, the reply's text would not show.
    view = PlainTalkView(out, err, hold_s=30.0)
    devices, controls = Devices(), TalkCommands()
    async with faulty_server("transcription_failed=1") as server:
        talk = asyncio.ensure_future(
            run_talk(
                served_settings(server, tmp_path / "talk.jsonl"),
                controls=controls,
                view=view,
                env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
                redactor=Redactor(),
                backend=devices.backend(),
            )
        )
        try:
            await until(lambda: "-- listening" in err.getvalue())
            devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
            await until(lambda: "assistant> " in out.getvalue())
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
    lines = out.getvalue().splitlines()
    assert lines[0] == f"you (heard)> [transcription failed: {TRANSCRIPTION_FAILURE}]"
    assert lines[1].startswith("assistant> ")


async def test_the_idle_timeout_is_named_when_the_assistant_speaks_up(tmp_path: Path) -> None:
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    settings = Settings(
        connection=ConnectionSettings(provider="local"),
        session=SessionSettings(turn_detection=TurnDetection(idle_timeout_ms=500)),
        log=LogSettings(events=str(tmp_path / "talk.jsonl")),
    )
    talk = start_talk(settings, devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: any(n.startswith("idle timeout") for (n,) in view.named("notice")))
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
    notice = next(n for (n,) in view.named("notice") if n.startswith("idle timeout"))
    assert notice.endswith("so the assistant speaks up")
    server = [r.event["type"] for r in read_log(tmp_path / "talk.jsonl") if r.dir == "server"]
    assert "input_audio_buffer.timeout_triggered" in server


# ---- barge-in timing on the microphone's clock (real server, stepped fakes) ---------------


MIC_BLOCK_MS = max(AudioSettings().block_ms, AudioSettings().append_ms)


class SteppedDevices(Devices):
    """The fakes on one test clock: the test advances the microphone and the speaker together,
    so their ``stream.time`` and callback times are one clock, as PortAudio's are. The input
    device has no buffering of its own (latency 0): its ADC times are then exactly the capture
    clock's (``BargeTiming`` leaves an input device's buffering out). ``mic_rate``: a
    microphone that refuses 24 kHz and runs at this rate instead (resampled by the console)."""

    def __init__(self, mic_rate: int = RATE) -> None:
        super().__init__()
        self.mic_rate = mic_rate

    def backend(self) -> AudioBackend:
        def output(**kwargs: Any) -> FakeOutputStream:
            self.outputs.append(FakeOutputStream(**kwargs))
            return self.outputs[-1]

        def input_(**kwargs: Any) -> FakeInputStream:
            if kwargs["samplerate"] != self.mic_rate:
                raise PortAudioError("Invalid sample rate")
            self.inputs.append(FakeInputStream(**kwargs, reported_latency=0.0))
            return self.inputs[-1]

        return AudioBackend(
            output_factory=output, input_factory=input_, native_rate=lambda _: self.mic_rate
        )

    async def run(self, step_ms: int) -> None:
        """Both clocks forward ``step_ms`` at a time, at about real time (the server's replies
        are paced by the wall clock)."""
        await until(lambda: bool(self.inputs) and bool(self.outputs))
        mic, out = self.inputs[0], self.outputs[0]
        while True:
            mic.advance(round(step_ms * mic.samplerate / 1000) // mic.blocksize)
            out.advance(round(step_ms * out.samplerate / 1000) // out.blocksize)
            assert mic.time == out.time
            await asyncio.sleep(step_ms / 1000)

    def pcm(self, audio: bytes) -> bytes:
        """24 kHz test audio at the microphone's rate (each sample repeated: a whole ratio)."""
        factor = self.mic_rate // RATE
        return np.repeat(np.frombuffer(audio, dtype="<i2"), factor).tobytes()


class CutView(RecordingView):
    """Notes the speaker's stream clock when the barge-in cut it."""

    def __init__(self, devices: Devices) -> None:
        super().__init__()
        self.devices = devices
        self.cut_frames: list[int] = []

    def assistant_cut(self, *args: Any) -> None:
        self.cut_frames.append(self.devices.outputs[0].frames)
        self.calls.append(("assistant_cut", args))


@dataclass
class SpokenOver:
    """Where, on the stream clock, the test's speech began and the console cut the reply."""

    onset_frame: int  # the microphone frame whose block starts the speech
    cut_frame: int  # the speaker's frames when the barge-in cut it


async def speak_over_the_reply(
    devices: SteppedDevices, view: CutView, controls: TalkCommands
) -> SpokenOver:
    """A spoken turn, half a second muted while the reply plays (a gap in what is sent), then
    speech over the reply until the console cuts it."""
    mic, out = devices.inputs[0], devices.outputs[0]
    mic.feed(devices.pcm(silence(200) + tone(900) + silence(100)))
    await until(lambda: TalkState.ASSISTANT_SPEAKING in view.states)
    await until(lambda: bool(out.blocks) and bool(np.any(out.blocks[-1])))
    # Half a second muted: never sent, a gap between the server's count and the clock.
    muted = len(view.named("set_muted"))
    controls.toggle_mute()
    await until(lambda: view.named("set_muted")[muted:] == [(True,)])
    muted_at = out.frames
    await until(lambda: out.frames >= muted_at + RATE // 2)
    controls.toggle_mute()
    await until(lambda: view.named("set_muted")[-1] == (False,))
    # Then well past the mute, so the server's padding before the new speech (300 ms) is all
    # sent audio (and silence it kept, not cut short at the committed turn).
    unmuted_at = out.frames
    await until(lambda: out.frames >= unmuted_at + RATE * 6 // 10)
    assert TalkState.ASSISTANT_SPEAKING is view.states[-1]
    assert mic.pending_frames == 0
    onset_frame = mic.frames  # the next block the microphone hands over starts the speech
    mic.feed(devices.pcm(tone(600)))  # the user talks over the reply
    await until(lambda: bool(view.cut_frames))
    cut_frame = view.cut_frames[-1]
    await until(lambda: out.frames >= cut_frame + 2 * out.blocksize)
    return SpokenOver(onset_frame, cut_frame)


def assert_timing_is_true(
    note: Mapping[str, Any], devices: Devices, spoken: SpokenOver, *, onset_within_ms: float = 1.0
) -> None:
    mic, out = devices.inputs[0], devices.outputs[0]
    # The block handed over at onset_frame was captured over the block before it (the fake's
    # inputBufferAdcTime, with no input latency): the speech's first sample, on the stream clock.
    onset_s = (spoken.onset_frame - mic.blocksize) / mic.samplerate
    cut_s = spoken.cut_frame / RATE  # the stream clock when the console cut the speaker
    assert note["detection_ms"] == pytest.approx((cut_s - onset_s) * 1000, abs=onset_within_ms)
    assert note["detection_ms"] > mic.blocksize / mic.samplerate * 1000  # a block later at best
    # The cut is handed over at the next callback (the block at cut_frame): the fade, then
    # silence, which reaches the listener the device's latency later.
    recorded = out.recorded()[:, 0]
    fade = round(RATE * 0.005)
    cut = spoken.cut_frame
    assert np.any(recorded[cut - out.blocksize : cut])  # it was still talking
    assert not np.any(recorded[cut + fade : cut + 2 * out.blocksize])
    silent_at_listener_s = (cut + fade) / RATE + out.latency
    truth_ms = (silent_at_listener_s - onset_s) * 1000
    assert note["onset_to_silence_ms"] == pytest.approx(truth_ms, abs=out.blocksize / RATE * 1000)
    assert note["onset_to_silence_ms"] == pytest.approx(
        note["detection_ms"] + note["output_latency_ms"], abs=0.2
    )


def without_echo_handling(settings: Settings) -> Settings:
    """No acoustic path joins the fakes, and the local server's reply voice is close to the
    test's tone: an echo canceller may take the speech for the reply's echo and hold it down,
    and the server then hears it start later than it was fed."""
    from dataclasses import replace

    return replace(settings, audio=replace(settings.audio, aec="off"))


def barge_in_notes(log: Path) -> list[Mapping[str, Any]]:
    return [r.event for r in read_log(log) if r.dir == "meta" and r.event["type"] == "barge_in"]


@asynccontextmanager
async def talking(
    settings: Settings,
    devices: SteppedDevices,
    view: CutView,
    controls: TalkCommands,
    env: Mapping[str, str] = os.environ,
) -> AsyncIterator[None]:
    """``talk`` on the stepped devices for the body; it must then quit cleanly."""
    talk = start_talk(settings, devices, view, controls, env=env)
    driver = asyncio.ensure_future(devices.run(MIC_BLOCK_MS))
    try:
        yield
        controls.quit()
        assert await asyncio.wait_for(talk, 5) == 0
    finally:
        talk.cancel()
        driver.cancel()


async def test_barge_in_timing_follows_the_fed_speech_from_microphone_to_silence(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices = SteppedDevices()
    view, controls = CutView(devices), TalkCommands()
    async with talking(without_echo_handling(local_settings(log)), devices, view, controls):
        await until(lambda: TalkState.LISTENING in view.states)
        spoken = await speak_over_the_reply(devices, view, controls)
    (note,) = barge_in_notes(log)
    assert_timing_is_true(note, devices, spoken)
    # The view shows it on the cut: how long the reply went on over the user.
    (cut,) = view.named("assistant_cut")
    assert cut[3] == note["onset_to_silence_ms"] is not None


async def test_barge_in_timing_counts_from_the_renewed_sessions_start(tmp_path: Path) -> None:
    """A renewed session counts its audio from 0: the timeline starts again with it (audio held
    for it during the swap included), or the speech would be placed seconds too early."""
    log = tmp_path / "talk.jsonl"
    devices = SteppedDevices()
    view, controls = CutView(devices), TalkCommands()
    options = ServerOptions(api_key=SERVER_KEY, max_session_s=60.0)
    async with LocalServer(options) as server:
        talk = asyncio.ensure_future(
            run_talk(
                without_echo_handling(served_settings(server, log)),
                controls=controls,
                view=view,
                env={"AZURE_OPENAI_API_KEY": SERVER_KEY},
                redactor=Redactor(),
                backend=devices.backend(),
                recycle=RecyclePolicy(limit_s=60.0, margin_s=59.5),  # due half a second in
            )
        )
        driver = asyncio.ensure_future(devices.run(MIC_BLOCK_MS))
        try:

            def renewals() -> int:
                return sum("session renewed" in args[0] for args in view.named("notice"))

            await until(lambda: renewals() >= 2)
            spoken = await speak_over_the_reply(devices, view, controls)
            controls.quit()
            assert await asyncio.wait_for(talk, 5) == 0
        finally:
            talk.cancel()
            driver.cancel()
    kinds = [(r.dir, r.event["type"]) for r in read_log(log)]
    renewed = [n for n, kind in enumerate(kinds) if kind == ("meta", "session_recycled")]
    cut = kinds.index(("meta", "barge_in"))
    assert len(renewed) >= 2 and renewed[1] < cut  # two renewals before the speech
    (note,) = barge_in_notes(log)
    assert_timing_is_true(note, devices, spoken)


async def test_barge_in_timing_counts_from_the_reconnected_sessions_start(
    tmp_path: Path,
) -> None:
    """The first connection drops as the server hears speech: the new session counts its audio
    from 0, and what the old one had received no longer places anything."""
    log = tmp_path / "talk.jsonl"
    devices = SteppedDevices()
    view, controls = CutView(devices), TalkCommands()
    async with faulty_server("drop_at=input_audio_buffer.speech_started,drop_connections=1") as (
        server
    ):
        settings = without_echo_handling(served_settings(server, log))
        env = {"AZURE_OPENAI_API_KEY": SERVER_KEY}
        async with talking(settings, devices, view, controls, env=env):
            await until(lambda: TalkState.LISTENING in view.states)
            devices.inputs[0].feed(devices.pcm(silence(500) + tone(300)))
            await until(lambda: TalkState.RECONNECTING in view.states)
            await until(lambda: view.states[-1] is TalkState.LISTENING)
            spoken = await speak_over_the_reply(devices, view, controls)
    kinds = [(r.dir, r.event["type"]) for r in read_log(log)]
    assert kinds.index(("meta", "reconnected")) < kinds.index(("meta", "barge_in"))
    (note,) = barge_in_notes(log)
    assert_timing_is_true(note, devices, spoken)


async def test_barge_in_timing_holds_for_a_resampled_microphone(tmp_path: Path) -> None:
    """A 48 kHz microphone, resampled to 24 kHz: its blocks' times already say where the
    resampled samples were captured; the resampler's filter (a few samples) is all it adds."""
    log = tmp_path / "talk.jsonl"
    devices = SteppedDevices(mic_rate=48000)
    view, controls = CutView(devices), TalkCommands()
    async with talking(without_echo_handling(local_settings(log)), devices, view, controls):
        await until(lambda: TalkState.LISTENING in view.states)
        assert devices.inputs[0].samplerate == 48000
        spoken = await speak_over_the_reply(devices, view, controls)
    (note,) = barge_in_notes(log)
    assert_timing_is_true(note, devices, spoken, onset_within_ms=3.0)
