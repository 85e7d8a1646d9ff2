"""Barge-in and turn state, driven by scripted server events through the real Dispatcher into a
Speaker on the clock-driven fake output stream (no server, no sockets)."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from realtime_console.audio.playback import Playback
from realtime_console.dispatcher import Dispatcher
from realtime_console.eventlog import EventLogWriter, read_log
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.talk_handlers import TalkHandlers
from realtime_console.protocol import pcm
from realtime_console.protocol.known_errors import NOT_MODEL_AUDIO
from realtime_console.redact import Redactor
from realtime_console.server import LocalServer, ServerOptions
from realtime_console.server.testing import EventRecorder
from realtime_console.ui.view import TalkState
from tests.audio.helpers import Rig, const_pcm, speaker_rig

BLOCK = 480


@dataclass
class RecordingView:
    """A TalkView that remembers every call."""

    calls: list[tuple[str, tuple[Any, ...]]] = field(default_factory=list)
    shows_events: bool = True

    def __getattr__(self, name: str) -> Any:
        def record(*args: Any, **kwargs: Any) -> None:
            self.calls.append((name, args + tuple(kwargs.values())))

        return record

    def named(self, name: str) -> list[tuple[Any, ...]]:
        return [args for call, args in self.calls if call == name]

    @property
    def states(self) -> list[TalkState]:
        return [args[0] for args in self.named("set_state")]


@dataclass
class Setup:
    rig: Rig
    view: RecordingView
    sent: list[dict[str, Any]]
    dispatcher: Dispatcher
    talk: TalkHandlers
    console: ConsoleHandlers
    clock: list[float]

    async def server(self, event_type: str, **fields: Any) -> None:
        await self.dispatcher.dispatch({"type": event_type, **fields})

    async def audio(self, response_id: str, item_id: str, data: bytes) -> None:
        await self.server(
            "response.output_audio.delta",
            response_id=response_id,
            item_id=item_id,
            output_index=0,
            content_index=0,
            delta=pcm.encode_b64(data),
        )

    def sent_types(self) -> list[str]:
        return [event["type"] for event in self.sent]


def make_setup(
    latency_s: float = 0.04,
    *,
    interrupt_response: bool = True,
    event_log: EventLogWriter | None = None,
    forward: Callable[[dict[str, Any]], Awaitable[object]] | None = None,
    speech_onset: Callable[[int], float | None] | None = None,
    **speaker_kwargs: Any,
) -> Setup:
    rig = speaker_rig(latency_s, **speaker_kwargs)
    view = RecordingView()
    sent: list[dict[str, Any]] = []

    async def send(event: dict[str, Any]) -> None:
        sent.append(event)
        if forward is not None:  # to a real connection
            await forward(event)

    clock = [100.0]
    console = ConsoleHandlers(view, [Playback(rig.speaker)])
    talk = TalkHandlers(
        view=view,
        speaker=rig.speaker,
        console=console,
        send=send,
        interrupt_response=interrupt_response,
        event_log=event_log,
        clock=lambda: clock[0],
        speech_onset=speech_onset,
    )
    dispatcher = Dispatcher()
    dispatcher.register(console.table())
    dispatcher.register(talk.table())
    talk.ready()
    return Setup(rig, view, sent, dispatcher, talk, console, clock)


async def start_reply(s: Setup, ms: float = 1000, value: int = 1000) -> None:
    await s.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    s.clock[0] += 1.0
    await s.server("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1")
    await s.server("response.created", response={"id": "r1", "object": "realtime.response"})
    s.clock[0] += 0.25
    await s.server(
        "response.output_audio_transcript.delta",
        response_id="r1",
        item_id="a1",
        delta="one two three four five six seven eight nine ten",
    )
    for _ in range(int(ms // 100)):
        await s.audio("r1", "a1", const_pcm(value, 100))


async def test_barge_in_silences_output_within_one_block_of_speech_started() -> None:
    s = make_setup(prebuffer_ms=120)
    await start_reply(s)
    s.rig.stream.advance(20)  # 400 ms in: assistant audible
    assert (s.rig.output()[-BLOCK:] == 1000).all()
    cut_at = len(s.rig.stream.blocks)

    await s.server("input_audio_buffer.speech_started", audio_start_ms=5000, item_id="u2")
    s.rig.stream.advance(5)

    silent_from = s.rig.stream.silent_from_block()
    assert silent_from is not None
    assert silent_from <= cut_at + 1  # the fade fits in the next block
    assert not (s.rig.output()[cut_at * BLOCK :] == 1000).any()  # faded, not played on


@pytest.mark.parametrize("latency_s", [0.0, 0.04, 0.1])
@pytest.mark.parametrize("blocks", [3, 8, 17, 31, 45])
async def test_truncate_audio_end_ms_is_within_10ms_of_what_was_actually_played(
    latency_s: float, blocks: int
) -> None:
    s = make_setup(latency_s, prebuffer_ms=120)
    await start_reply(s, ms=1000)
    s.rig.stream.advance(blocks)
    reached_dac = s.rig.output()[: s.rig.stream.dac_frames]
    heard_ms = np.count_nonzero(reached_dac == 1000) / 24

    await s.server("input_audio_buffer.speech_started", audio_start_ms=9000, item_id="u2")

    truncates = [e for e in s.sent if e["type"] == "conversation.item.truncate"]
    assert len(truncates) == 1
    assert truncates[0]["item_id"] == "a1" and truncates[0]["content_index"] == 0
    assert abs(truncates[0]["audio_end_ms"] - heard_ms) <= 10
    assert 0 <= truncates[0]["audio_end_ms"] <= 1000


async def test_no_late_delta_is_played_after_the_cut_and_the_next_reply_plays() -> None:
    s = make_setup(prebuffer_ms=40)
    await start_reply(s, ms=300)
    s.rig.stream.advance(6)
    await s.server("input_audio_buffer.speech_started", audio_start_ms=9000, item_id="u2")
    cut_at = len(s.rig.stream.blocks)
    for _ in range(5):  # the server had already sent these before it saw the cancel
        await s.audio("r1", "a1", const_pcm(1000, 100))
        await s.server(
            "response.output_audio_transcript.delta", response_id="r1", item_id="a1", delta="x"
        )
    await s.server("response.done", response={"id": "r1", "status": "cancelled"})
    await s.server("response.created", response={"id": "r2"})
    await s.audio("r2", "a2", const_pcm(2000, 200))
    await s.server("response.done", response={"id": "r2", "status": "completed"})
    s.rig.stream.advance(20)

    after = s.rig.output()[cut_at * BLOCK :]  # a 10 ms fade, then r2 right behind it
    assert not (after == 1000).any()
    assert (after == 2000).sum() == 4800
    assert "r1" in s.console.dropped_responses
    assert s.console.audio_bytes["r1"] == 300 * 48  # late deltas never reached the sinks
    assert all(args[1] != "x" for args in s.view.named("assistant_delta"))


async def test_cancel_is_sent_only_when_the_server_does_not_interrupt_by_itself() -> None:
    on = make_setup(interrupt_response=True, prebuffer_ms=0)
    await start_reply(on)
    on.rig.stream.advance(5)
    await on.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    assert on.sent_types() == ["conversation.item.truncate"]

    off = make_setup(interrupt_response=False, prebuffer_ms=0)
    await start_reply(off)
    off.rig.stream.advance(5)
    await off.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    assert off.sent_types() == ["response.cancel", "conversation.item.truncate"]
    assert off.sent[0]["response_id"] == "r1"


async def test_no_cancel_for_a_response_the_server_already_finished() -> None:
    s = make_setup(interrupt_response=False, prebuffer_ms=0)
    await start_reply(s)
    await s.server("response.done", response={"id": "r1", "status": "completed"})
    s.rig.stream.advance(5)  # generation is over, playback goes on
    await s.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    assert s.sent_types() == ["conversation.item.truncate"]


async def test_speech_when_nothing_plays_sends_nothing() -> None:
    s = make_setup()
    await s.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    assert s.sent == []
    assert s.view.states[-1] is TalkState.USER_SPEAKING


async def test_the_view_shows_the_cut_transcript_and_the_log_gets_a_note(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with EventLogWriter(
        path, provider="local", model="m", session={}, program_version="t", redactor=Redactor()
    ) as log:
        s = make_setup(0.0, event_log=log, prebuffer_ms=0)
        await start_reply(s, ms=1000)
        s.rig.stream.advance(25)  # 500 ms of 1000 ms heard
        await s.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    (cut,) = s.view.named("assistant_cut")
    assert cut[0] == "r1"
    assert cut[2] == 500
    assert cut[1] == "one two three four five"  # half of 48 characters ends before "six"
    notes = [r.event for r in read_log(path) if r.dir == "meta"]
    (note,) = [n for n in notes if n["type"] == "barge_in"]
    assert note["response_id"] == "r1" and note["item_id"] == "a1"
    assert note["audio_end_ms"] == 500 and note["received_ms"] == 1000.0
    # No microphone timeline here: the timing is unknown, and says so.
    assert note["onset_to_silence_ms"] is None and note["detection_ms"] is None


class OnsetAt:
    """A microphone timeline stand-in that knows one thing: speech began at ``at`` (stream
    clock), whatever ``audio_start_ms`` is asked; it remembers what was asked."""

    def __init__(self, at: float | None) -> None:
        self.at = at
        self.asked: list[int] = []

    def __call__(self, audio_start_ms: int) -> float | None:
        self.asked.append(audio_start_ms)
        return self.at


async def test_a_voice_barge_in_says_how_long_the_assistant_talked_over_the_user(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    onset = OnsetAt(0.1234)
    with EventLogWriter(
        path, provider="local", model="m", session={}, program_version="t", redactor=Redactor()
    ) as log:
        s = make_setup(0.04, event_log=log, prebuffer_ms=0, speech_onset=onset)
        await start_reply(s, ms=1000)
        s.rig.stream.advance(20)  # the stream clock reads 20 blocks of 20 ms: 0.4 s
        assert s.rig.speaker.latency_ms == pytest.approx(40.0)
        await s.server("input_audio_buffer.speech_started", audio_start_ms=4321, item_id="u2")
    assert onset.asked == [4321]
    (done,) = s.talk.barge_ins
    assert done.detection_ms == pytest.approx(276.6)  # 0.4 - 0.1234 s
    assert done.onset_to_silence_ms == pytest.approx(316.6)  # and 40 ms to the DAC
    (note,) = [r.event for r in read_log(path) if r.dir == "meta" and r.event["type"] == "barge_in"]
    assert note["detection_ms"] == 276.6 and note["onset_to_silence_ms"] == 316.6


async def test_barge_in_timing_is_unknown_without_an_onset_or_a_stream_clock() -> None:
    # The timeline cannot place the speech (before the first block sent, a restart…).
    unknown = make_setup(0.04, prebuffer_ms=0, speech_onset=OnsetAt(None))
    await start_reply(unknown)
    unknown.rig.stream.advance(5)
    await unknown.server("input_audio_buffer.speech_started", audio_start_ms=10, item_id="u2")
    assert unknown.talk.barge_ins[0].detection_ms is None
    assert unknown.talk.barge_ins[0].onset_to_silence_ms is None

    # The speaker's stream has stamped no block yet (a host API without times looks the same):
    # no clock to read the cut on, so nothing is guessed.
    untimed = make_setup(0.04, prebuffer_ms=0, speech_onset=OnsetAt(0.0))
    await start_reply(untimed)
    assert not untimed.rig.speaker.latency_measured and untimed.rig.speaker.is_playing
    await untimed.server("input_audio_buffer.speech_started", audio_start_ms=10, item_id="u2")
    assert untimed.talk.barge_ins[0].detection_ms is None

    # A speech_started without audio_start_ms, or a malformed one.
    for start in (None, "12", True, -5, 10**30):
        s = make_setup(0.04, prebuffer_ms=0, speech_onset=OnsetAt(0.0))
        await start_reply(s)
        s.rig.stream.advance(5)
        fields = {} if start is None else {"audio_start_ms": start}
        await s.server("input_audio_buffer.speech_started", item_id="u2", **fields)
        assert s.talk.barge_ins[0].detection_ms is None, start


async def test_speech_placed_after_the_cut_is_no_onset_and_never_a_negative_figure() -> None:
    """A microphone and a speaker not on one clock, or a server count gone its own way: the
    timeline places the speech after the cut. Unknown, not a negative talk-over time."""
    s = make_setup(0.04, prebuffer_ms=0, speech_onset=OnsetAt(5.0))
    await start_reply(s)
    s.rig.stream.advance(5)  # the stream clock: 0.1 s
    await s.server("input_audio_buffer.speech_started", audio_start_ms=10, item_id="u2")
    (done,) = s.talk.barge_ins
    assert done.detection_ms is None and done.onset_to_silence_ms is None


async def test_a_timing_that_fails_leaves_the_cut_complete() -> None:
    """The timing is worked out after the cut is sent: whatever its arithmetic meets, the
    reply is dropped and truncated (the dispatcher reports the handler's failure)."""

    def broken(audio_start_ms: int) -> float | None:
        raise OverflowError("int too large to convert to float")

    s = make_setup(0.04, prebuffer_ms=0, speech_onset=broken)
    await start_reply(s)
    s.rig.stream.advance(5)
    await s.server("input_audio_buffer.speech_started", audio_start_ms=10, item_id="u2")
    assert s.dispatcher.stats.handler_errors == 1
    assert s.sent_types()[-1] == "conversation.item.truncate"
    assert "r1" in s.console.dropped_responses


async def test_a_manual_interrupt_has_no_speech_onset_to_time() -> None:
    onset = OnsetAt(0.0)
    s = make_setup(0.04, prebuffer_ms=0, speech_onset=onset)
    await start_reply(s)
    s.rig.stream.advance(5)
    done = await s.talk.interrupt()
    assert done is not None
    assert done.detection_ms is None and done.onset_to_silence_ms is None
    assert onset.asked == []


async def test_states_and_turn_latency_follow_the_conversation() -> None:
    s = make_setup(prebuffer_ms=0)
    await start_reply(s, ms=200)
    await s.server("response.done", response={"id": "r1", "status": "completed"})
    assert s.view.named("turn_latency") == [(pytest.approx(250.0),)]
    s.talk.tick()
    assert s.view.states[-1] is TalkState.ASSISTANT_SPEAKING  # still playing
    s.rig.stream.advance(12)
    s.talk.tick()
    assert s.view.states == [
        TalkState.LISTENING,
        TalkState.USER_SPEAKING,
        TalkState.THINKING,
        TalkState.ASSISTANT_SPEAKING,
        TalkState.LISTENING,
    ]


async def test_manual_interrupt_cancels_even_with_interrupt_response() -> None:
    s = make_setup(interrupt_response=True, prebuffer_ms=0)
    await start_reply(s)
    s.rig.stream.advance(3)
    done = await s.talk.interrupt()
    assert done is not None and done.cancelled
    assert s.sent_types() == ["response.cancel", "conversation.item.truncate"]


async def test_manual_interrupt_before_audio_cancels_the_generating_response() -> None:
    s = make_setup()
    await s.server("response.created", response={"id": "r9"})
    assert await s.talk.interrupt() is None
    assert s.sent_types() == ["response.cancel"]
    await s.audio("r9", "a9", const_pcm(1000, 300))
    s.rig.stream.advance(20)
    assert not (s.rig.output() == 1000).any()


# ---- silent replies, failed transcriptions, the idle timeout -----------------------------


async def test_a_reply_that_goes_silent_is_abandoned_and_talk_listens_again(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    with EventLogWriter(
        path, provider="local", model="m", session={}, program_version="t", redactor=Redactor()
    ) as log:
        s = make_setup(prebuffer_ms=0, event_log=log)
        await start_reply(s, ms=300)
        s.rig.stream.advance(5)
        s.clock[0] += 29.9
        await s.talk.check_replies()
        assert s.sent == []  # not silent for 30 s yet
        s.clock[0] += 0.1
        await s.talk.check_replies()
        assert s.sent_types() == ["response.cancel"] and s.sent[0]["response_id"] == "r1"
        s.rig.stream.advance(5)  # the fade
        s.talk.tick()
        # The server, still generating after all, answers the cancel: nothing more is shown.
        await s.audio("r1", "a1", const_pcm(1000, 100))
        await s.server("response.done", response={"id": "r1", "status": "cancelled"})
    assert [n for (n,) in s.view.named("notice")] == [
        "no reply for 30 s; turn abandoned (response r1)"
    ]
    assert s.view.named("assistant_done") == [("r1", "incomplete")]
    assert s.view.states[-1] is TalkState.LISTENING
    assert not s.rig.speaker.is_playing
    assert not (s.rig.output()[-BLOCK:] == 1000).any()
    (note,) = [r.event for r in read_log(path) if r.dir == "meta"]
    assert note == {
        "type": "response_timeout",
        "response_id": "r1",
        "timeout_s": 30.0,
        "silent_s": 30.0,
    }


async def test_a_turn_no_response_answers_goes_back_to_listening() -> None:
    s = make_setup()
    await s.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    await s.server("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1")
    s.clock[0] += 30
    await s.talk.check_replies()
    assert [n for (n,) in s.view.named("notice")] == [
        "no reply for 30 s; turn abandoned (no response.created)"
    ]
    assert s.sent == [{"type": "response.cancel", "event_id": s.sent[0]["event_id"]}]
    assert s.view.states[-2:] == [TalkState.THINKING, TalkState.LISTENING]
    # Its refusal (nothing was active) is expected: not shown.
    error = {"type": "invalid_request_error", "message": "x", "event_id": s.sent[0]["event_id"]}
    await s.server("error", error=error)
    assert s.view.named("server_error") == []


async def test_without_create_response_a_voice_turn_expects_no_reply() -> None:
    s = make_setup()
    s.talk.create_response = False
    await s.server("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1")
    s.clock[0] += 60
    await s.talk.check_replies()
    assert s.sent == [] and s.view.named("notice") == []


async def test_the_idle_timeout_says_why_a_reply_comes() -> None:
    s = make_setup()
    await s.server(
        "input_audio_buffer.timeout_triggered", audio_start_ms=4000, audio_end_ms=10000, item_id="u"
    )
    assert s.view.named("notice") == [
        ("idle timeout: no speech for 6.0 s, so the assistant speaks up",)
    ]


async def test_a_failed_transcription_takes_the_place_of_the_users_words() -> None:
    s = make_setup()
    await s.server(
        "conversation.item.input_audio_transcription.failed",
        item_id="u1",
        content_index=0,
        error={"type": "transcription_error", "message": "Audio unintelligible"},
    )
    assert s.view.named("user_transcript") == [
        ("u1", "[transcription failed: Audio unintelligible]", True)
    ]


# ---- service errors that are part of ordinary use ------------------------------------------


def notices(s: Setup) -> list[str]:
    return [text for (text,) in s.view.named("notice")]


async def test_a_refused_barge_in_truncate_is_one_calm_notice_and_the_turn_goes_on() -> None:
    s = make_setup(prebuffer_ms=0)
    await start_reply(s)
    s.rig.stream.advance(5)
    await s.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    (truncate,) = [e for e in s.sent if e["type"] == "conversation.item.truncate"]
    states = list(s.view.states)
    error = {
        "type": "invalid_request_error",
        "code": "unsupported_content_type",
        "message": NOT_MODEL_AUDIO,
        "param": "audio_end_ms",
        "event_id": truncate["event_id"],
    }
    await s.server("error", error=error)
    assert notices(s) == [f"barge-in: the server kept the reply as it was ({NOT_MODEL_AUDIO})"]
    assert s.view.named("server_error") == []
    assert s.view.states == states  # the user is still speaking: the turn is theirs
    assert s.view.named("assistant_done") == []  # the reply is not shown as failed
    await s.server("error", error=error)  # the same event id again is not a truncate's answer
    assert len(s.view.named("server_error")) == 1


async def test_a_truncate_past_the_end_naming_no_event_is_one_calm_notice() -> None:
    s = make_setup(prebuffer_ms=0)
    await start_reply(s)
    s.rig.stream.advance(5)
    await s.server("input_audio_buffer.speech_started", audio_start_ms=1, item_id="u2")
    message = "Audio content of 980ms is already shorter than 1000ms"
    await s.server(
        "error",
        error={"type": "invalid_request_error", "code": "invalid_value", "message": message},
    )
    await s.server("conversation.item.truncated", item_id="a1", content_index=0, audio_end_ms=980)
    assert notices(s) == [f"barge-in: the server cut the reply at the end of its audio ({message})"]
    assert s.view.named("server_error") == []


async def test_a_refused_response_create_leaves_the_reply_in_progress_as_the_answer() -> None:
    """Push-to-talk released while a reply is still being made: the server refuses the new
    ``response.create``; the reply in progress ends the turn, and nothing is "abandoned"."""
    s = make_setup(prebuffer_ms=0)
    await s.server("response.created", response={"id": "r1", "object": "realtime.response"})
    s.talk.watch.ask()  # as talk does before sending its response.create
    s.talk.user_turn_ended()
    await s.server(
        "error",
        error={
            "type": "invalid_request_error",
            "code": "conversation_already_has_active_response",
            "message": "Conversation already has an active response in progress: r1.",
            "event_id": "evt_create",
        },
    )
    assert notices(s) == ["a reply is already in progress; the server did not start another"]
    assert s.view.named("server_error") == []
    assert s.talk.watch.turn_response == "r1"
    s.clock[0] += 10
    await s.audio("r1", "a1", const_pcm(1000, 100))
    await s.server("response.done", response={"id": "r1", "status": "completed"})
    s.clock[0] += 60
    await s.talk.check_replies()
    assert not any("abandoned" in text for text in notices(s))
    s.rig.stream.advance(10)
    s.talk.tick()
    assert s.view.states[-1] is TalkState.LISTENING


async def test_a_delta_that_is_not_pcm16_is_not_the_assistant_speaking() -> None:
    s = make_setup(prebuffer_ms=0)
    await s.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u1")
    await s.server("input_audio_buffer.speech_stopped", audio_end_ms=900, item_id="u1")
    await s.server("response.created", response={"id": "r1", "object": "realtime.response"})
    for delta in ("not base64!", pcm.encode_b64(b"odd")):
        await s.server("response.output_audio.delta", response_id="r1", item_id="a1", delta=delta)
    assert s.view.named("turn_latency") == []
    assert s.view.states[-1] is TalkState.THINKING
    assert len(s.view.named("notice")) == 1  # once for the response
    s.clock[0] += 0.5
    await s.audio("r1", "a1", const_pcm(1000, 100))  # the first audio that plays
    assert s.view.named("turn_latency") == [(pytest.approx(500.0),)]
    assert s.view.states[-1:] == [TalkState.ASSISTANT_SPEAKING]


# ---- the same, against the local server through the real SDK -------------------------------

KEY = "talk-handlers-key"


async def test_the_local_servers_truncate_and_active_response_errors_through_the_sdk() -> None:
    """The real server's answers, through the real SDK into the real handlers: a barge-in
    before anything was heard (a truncate at 0 ms, refused), a truncate past the end (an error
    naming no event, then applied), and a second response.create: three calm notices."""
    from openai import AsyncOpenAI

    options = ServerOptions(api_key=KEY)  # paced: the second response.create meets the first
    async with LocalServer(options) as server:
        client = AsyncOpenAI(base_url=f"{server.http_url()}/v1", api_key=KEY)
        async with client.realtime.connect(model="gpt-realtime") as connection:

            async def forward(event: dict[str, Any]) -> None:
                await connection.send_raw(json.dumps(event))

            s = make_setup(prebuffer_ms=0, forward=forward)
            events = EventRecorder(connection)

            async def pump(*types: str) -> list[dict[str, Any]]:
                received = await events.until(*types)
                for event in received:
                    await s.dispatcher.dispatch(event)
                return received

            await pump("session.created")
            await connection.conversation.item.create(
                item={
                    "type": "message",
                    "role": "user",
                    "content": [{"type": "input_text", "text": "hello"}],
                }
            )
            await connection.response.create()
            reply = await pump("rate_limits.updated")
            item_id = reply[-2]["response"]["output"][0]["id"]
            assert s.rig.speaker.is_playing  # queued, none of it heard yet
            await s.server("input_audio_buffer.speech_started", audio_start_ms=0, item_id="u2")
            assert [e["audio_end_ms"] for e in s.sent if e["item_id"] == item_id] == [0]
            await pump("error")

            received_ms = s.console.audio_bytes[reply[-2]["response"]["id"]] / 48
            too_far = {
                "type": "conversation.item.truncate",
                "event_id": "evt_far",
                "item_id": item_id,
                "content_index": 0,
                "audio_end_ms": int(received_ms) + 500,
            }
            s.console.expect_truncate("evt_far")
            await forward(too_far)
            truncated = await pump("conversation.item.truncated")

            await connection.response.create()
            await connection.response.create()
            await pump("rate_limits.updated")
    assert truncated[-1]["audio_end_ms"] == int(received_ms)
    assert s.view.named("server_error") == []
    assert notices(s) == [
        f"barge-in: the server kept the reply as it was ({NOT_MODEL_AUDIO})",
        "barge-in: the server cut the reply at the end of its audio (Audio content of "
        f"{int(received_ms)}ms is already shorter than {int(received_ms) + 500}ms)",
        "a reply is already in progress; the server did not start another",
    ]
