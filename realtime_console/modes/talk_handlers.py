"""The ``talk`` reactions to server events: turn state, latency, transcripts and barge-in.

Registered on the dispatcher next to ``ConsoleHandlers`` (which plays audio and prints text), so
the same table serves a live session and a replayed log. Barge-in: when the server
hears the user start speaking while assistant audio is playing,

1. the speaker fades out within one device block and drops everything queued;
2. the response's late audio and transcript deltas are dropped by ``response_id``;
3. ``response.cancel`` is sent only if the server is still generating that response and the
   session's ``interrupt_response`` is off (when on, the server cancels it itself, and a second
   cancel would only earn an error);
4. ``conversation.item.truncate`` tells the server how much the listener heard: samples played
   minus the device's output latency, never more than was received, so the model's memory of
   what it said matches what was actually heard;
5. the event log gets a ``barge_in`` note and the view shows the transcript cut where the
   listener stopped hearing it (``protocol.turns.heard_text``).

With the ``speech_started``'s ``audio_start_ms`` and the microphone's timeline
(``audio/input_timeline.py``: when each sent sample was captured), the note also says how long
the assistant talked over the user, on PortAudio's stream clock (``BargeTiming``).

A reply that goes silent (``ReplyWatch``: no event of it for ``response_timeout_s``, or no
``response.created`` after a turn that asks for one) is abandoned the way ``chat`` abandons it,
and the state goes back to listening. Two more server events get a word: an input transcription
that failed (shown in place of the user's words, which releases a reply held for them) and the
idle timeout (``input_audio_buffer.timeout_triggered``: the reply that follows is the model
speaking up on its own, not an answer to anything said).

Two service errors are part of ordinary use and leave the turn alone (``ConsoleHandlers`` shows
each as one calm notice): the refusal of a barge-in's truncate (nothing of the reply was heard,
or the listener's clock ran past the end of its audio, which the service answers with an error
naming no event and then cuts at the end anyway), and ``conversation_already_has_active_response``
for a ``response.create`` sent while a reply was still being made: that reply answers the turn.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from realtime_console.dispatcher import ANY, Event, Handler
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.reply_watch import ReplyWatch, abandon
from realtime_console.modes.tool_calls import ToolCalls
from realtime_console.protocol import known_errors
from realtime_console.protocol.client_events import (
    item_truncate,
    response_cancel,
    response_create,
)
from realtime_console.protocol.turns import TurnTracker, heard_text
from realtime_console.ui.view import TalkView

if TYPE_CHECKING:
    from realtime_console.audio.speaker import PlaybackPosition, Speaker
    from realtime_console.eventlog import EventLogWriter
    from realtime_console.tools import ToolRunner

Send = Callable[[dict[str, Any]], Awaitable[None]]
Clock = Callable[[], float]
# A speech_started's audio_start_ms → when that speech began at the microphone, on the stream
# clock (None: unknown). ``_Talk.speech_onset``.
SpeechOnset = Callable[[int], float | None]

MAX_SHOWN_QUIET_MS = 24 * 60 * 60 * 1000  # a longer "quiet" is a malformed event: not quoted
_KEPT_TRANSCRIPTS = 8  # responses whose transcript may still be cut (playback lags generation)
NO_RESPONSE = ""  # ends a wait in TurnTracker for a response that was never created


@dataclass(frozen=True)
class BargeIn:
    """What one barge-in did (also written to the event log)."""

    response_id: str
    item_id: str
    audio_end_ms: int
    received_ms: float
    cancelled: bool
    heard_text: str
    # How long the assistant talked over the user (``BargeTiming``); None when unknown: a manual
    # interrupt, no microphone timeline, or a host API that stamps no times.
    onset_to_silence_ms: float | None = None
    detection_ms: float | None = None


@dataclass(frozen=True)
class BargeTiming:
    """A voice barge-in's timing, in ms from the user's speech onset at the microphone.

    ``detection_ms``: until the console handled ``speech_started`` (the stream clock when the
    speaker was cut): the server VAD's share (its padding already added back, its frames, its
    silence) and the network's. ``onset_to_silence_ms``: until the cut reached the listener:
    ``detection_ms`` plus the speaker's measured delay to the DAC (``Speaker.latency_ms``). The
    cut is handed to the device at its next callback, at most one output block later, and fades
    out over ``fade_ms`` (5 ms) of that block: neither is included, so the silence is complete
    up to one block plus the fade after this figure. The onset is the capture clock's time of
    the sample (``echo/clock.py``): the block's hand-over less its length, which leaves out the
    input device's own buffering (not measurable through PulseAudio), so both figures can be
    short of the truth by that much.
    """

    onset_to_silence_ms: float
    detection_ms: float


def barge_timing(onset: float, now: float, output_delay_ms: float) -> BargeTiming:
    """``onset`` and ``now`` on the same stream clock (seconds); figures rounded to 0.1 ms."""
    detection_ms = (now - onset) * 1000
    return BargeTiming(
        onset_to_silence_ms=round(detection_ms + output_delay_ms, 1),
        detection_ms=round(detection_ms, 1),
    )


def _str(event: Event, key: str) -> str:
    value = event.get(key)
    return value if isinstance(value, str) else ""


class TalkHandlers:
    def __init__(
        self,
        *,
        view: TalkView,
        speaker: Speaker,
        console: ConsoleHandlers,
        send: Send,
        interrupt_response: bool,
        event_log: EventLogWriter | None = None,
        clock: Clock = time.monotonic,
        response_timeout_s: float = 30.0,
        create_response: bool = True,
        speech_onset: SpeechOnset | None = None,
    ) -> None:
        """``speech_onset``: where the user's speech began, for the barge-in's timing (without
        it the ``barge_in`` note's timing fields are null)."""
        self.view = view
        self.speech_onset = speech_onset
        self.speaker = speaker
        self.console = console
        self.send = send
        self.interrupt_response = interrupt_response
        self.event_log = event_log
        self.clock = clock
        self.turns = TurnTracker()
        self.barge_ins: list[BargeIn] = []
        self._transcripts: collections.OrderedDict[str, list[str]] = collections.OrderedDict()
        self.watch = ReplyWatch(response_timeout_s, clock)
        self.create_response = create_response  # the server answers a voice turn by itself
        self._follow_up_fields: dict[str, Any] = {}  # response.create after tool outputs

    def table(self) -> dict[str, Handler]:
        return {
            "input_audio_buffer.speech_started": self.speech_started,
            "input_audio_buffer.speech_stopped": self.speech_stopped,
            "input_audio_buffer.timeout_triggered": self.idle_timeout,
            "response.created": self.response_created,
            "error": self.error,
            "response.output_audio.delta": self.audio_delta,
            "response.output_audio_transcript.delta": self.transcript_delta,
            "response.done": self.response_done,
            ANY: self.watch,
        }

    # ------------------------------------------------------------------ state

    def _set_state_if(self, changed: bool) -> None:
        if changed:
            self.view.set_state(self.turns.state)

    def ready(self) -> None:
        self._set_state_if(self.turns.ready())

    def user_turn_ended(self) -> None:
        """Push-to-talk released: the turn is committed, the wait for the answer starts."""
        self._set_state_if(self.turns.speech_stopped(self.clock()))

    def tick(self) -> None:
        """Called at the level-meter rate: notice when playback has finished."""
        if not self.speaker.is_playing:
            self._set_state_if(self.turns.playback_idle())

    # ------------------------------------------------------------------ handlers

    async def speech_started(self, event: Event) -> None:
        self._set_state_if(self.turns.speech_started())
        if self.speaker.is_playing:
            start = event.get("audio_start_ms")
            known = isinstance(start, int) and not isinstance(start, bool)
            await self.barge_in(
                server_cancels=self.interrupt_response, audio_start_ms=start if known else None
            )

    def speech_stopped(self, event: Event) -> None:
        if self.create_response and not self.turns.generating:
            self.watch.ask()  # the server commits the turn and answers it by itself
        self._set_state_if(self.turns.speech_stopped(self.clock()))

    def idle_timeout(self, event: Event) -> None:
        start, end = event.get("audio_start_ms"), event.get("audio_end_ms")
        quiet = ""
        if isinstance(start, int) and isinstance(end, int):
            quiet_ms = end - start  # JSON integers have no bound: a huge one fits no float
            if 0 <= quiet_ms <= MAX_SHOWN_QUIET_MS:
                quiet = f" {quiet_ms / 1000:.1f} s"
        self.view.notice(f"idle timeout: no speech for{quiet}, so the assistant speaks up")
        self.watch.ask()

    def response_created(self, event: Event) -> None:
        response = event.get("response")
        if isinstance(response, dict) and isinstance(response.get("id"), str):
            self.turns.response_created(response["id"])

    def error(self, event: Event) -> None:
        """A ``response.create`` refused because a reply is in progress: that reply is the one
        this turn waits for, so the watch takes it as the answer instead of waiting
        ``response_timeout_s`` for a ``response.created`` that will never come."""
        error = event.get("error")
        if not isinstance(error, dict) or error.get("code") != known_errors.ACTIVE_RESPONSE:
            return
        live = self.watch.live
        if live:  # to the watch, as if the reply in progress had been created for this ask
            self.watch({"type": "response.created", "response": {"id": live[-1]}})

    def audio_delta(self, event: Event) -> None:
        response_id = _str(event, "response_id")
        if response_id in self.console.dropped_responses:
            return
        if not self.console.audio_bytes.get(response_id):
            # No playable audio yet (ConsoleHandlers, registered first, skipped a delta that is
            # not PCM16, or it was empty): nothing is heard, so no turn latency and no state.
            return
        changed, latency = self.turns.audio(response_id, self.clock())
        self._set_state_if(changed)
        if latency is not None:
            self.view.turn_latency(latency)

    def transcript_delta(self, event: Event) -> None:
        response_id = _str(event, "response_id")
        if response_id in self.console.dropped_responses:
            return
        parts = self._transcripts.get(response_id)
        if parts is None:
            parts = self._transcripts[response_id] = []
            while len(self._transcripts) > _KEPT_TRANSCRIPTS:
                self._transcripts.popitem(last=False)
        parts.append(_str(event, "delta"))

    def response_done(self, event: Event) -> None:
        response = event.get("response")
        response_id = str(response.get("id", "")) if isinstance(response, dict) else ""
        self._set_state_if(self.turns.response_done(response_id, self.speaker.is_playing))

    # ------------------------------------------------------------------ function calls

    def tool_calls(
        self, runner: ToolRunner, *, start_early: bool, follow_up: Mapping[str, Any] | None = None
    ) -> ToolCalls:
        """The session's function calls, answered the voice way: the model's next reply is
        asked for as soon as the outputs are sent (``follow_up``), and the user speaking cancels
        every call still running (a barge-in: the conversation moved on). ``follow_up``: the
        ``response.create`` overrides of that reply (``tool_calls.follow_up_fields``)."""
        self._follow_up_fields = dict(follow_up or {})
        return ToolCalls(
            runner,
            view=self.view,
            send=self._send_ok,
            event_log=self.event_log,
            start_early=start_early,
            follow_up=self.follow_up,
            cancel_on_speech=True,
        )

    async def _send_ok(self, event: dict[str, Any]) -> bool:
        await self.send(event)
        return True

    async def follow_up(self) -> None:
        """The tool outputs are in the conversation: ask for the reply that uses them, watched
        like any reply (its ``response.created`` is the one the watch waits for)."""
        self.watch.ask()
        await self.send(response_create(**self._follow_up_fields))

    # ------------------------------------------------------------------ silent replies

    async def check_replies(self) -> None:
        """Abandon what has been silent too long (called at the level-meter rate)."""
        for reply in self.watch.overdue():
            await abandon(
                reply,
                timeout_s=self.watch.timeout_s,
                console=self.console,
                drop_audio=self.speaker.drop_response,
                send=self.send,
                event_log=self.event_log,
            )
            response_id = reply.response_id or NO_RESPONSE
            self._set_state_if(self.turns.response_done(response_id, self.speaker.is_playing))

    # ------------------------------------------------------------------ barge-in

    async def interrupt(self) -> BargeIn | None:
        """A manual barge-in (push-to-talk pressed while the assistant speaks): the server heard
        no speech, so it cancels nothing itself."""
        if self.speaker.is_playing:
            return await self.barge_in(server_cancels=False)
        await self._cancel_generating()
        return None

    async def barge_in(
        self, *, server_cancels: bool, audio_start_ms: int | None = None
    ) -> BargeIn | None:
        """``audio_start_ms``: the ``speech_started``'s (None for a manual interrupt)."""
        position = self.speaker.interrupt()
        if position is None:
            return None
        now = self.speaker.stream_now() or None  # the cut is at the next callback after this
        self.console.dropped_responses.add(position.response_id)
        cancelled = False
        if not server_cancels and self.turns.is_generating(position.response_id):
            await self.send(response_cancel(position.response_id))
            cancelled = True
        audio_end_ms = _audio_end_ms(position)
        truncate = item_truncate(position.item_id, audio_end_ms)
        self.console.expect_truncate(truncate["event_id"])
        await self.send(truncate)
        # After the truncate: the cut is complete whatever the timing's arithmetic meets.
        timing = self._timing(audio_start_ms, now)
        text = heard_text(
            "".join(self._transcripts.get(position.response_id, ())),
            audio_end_ms,
            position.received_ms,
        )
        done = BargeIn(
            response_id=position.response_id,
            item_id=position.item_id,
            audio_end_ms=audio_end_ms,
            received_ms=position.received_ms,
            cancelled=cancelled,
            heard_text=text,
            onset_to_silence_ms=timing.onset_to_silence_ms if timing else None,
            detection_ms=timing.detection_ms if timing else None,
        )
        self.barge_ins.append(done)
        del self.barge_ins[:-16]  # the last few, for tests and the summary; never unbounded
        if self.event_log is not None:
            self.event_log.note(
                "barge_in",
                response_id=done.response_id,
                item_id=done.item_id,
                audio_end_ms=done.audio_end_ms,
                received_ms=round(done.received_ms, 1),
                played_ms=round(position.played_ms, 1),
                output_latency_ms=round(self.speaker.latency_ms, 1),
                # What the stream promised on opening: beside the measured delay, it shows how
                # far off a truncation by the promise alone would have been.
                reported_latency_ms=round(self.speaker.reported_latency_ms, 1),
                cancel_sent=cancelled,
                # Null when unknown (a manual interrupt, a host API without times): the
                # field is always there, so a log says the console could not tell.
                onset_to_silence_ms=done.onset_to_silence_ms,
                detection_ms=done.detection_ms,
            )
        self.view.assistant_cut(done.response_id, text, audio_end_ms, done.onset_to_silence_ms)
        return done

    def _timing(self, audio_start_ms: int | None, now: float | None) -> BargeTiming | None:
        if audio_start_ms is None or now is None or self.speech_onset is None:
            return None
        if not 0 <= audio_start_ms <= MAX_SHOWN_QUIET_MS:  # a malformed event: no float fits
            return None
        onset = self.speech_onset(audio_start_ms)
        if onset is None or onset > now:
            # Speech placed after the cut is no onset (a microphone and a speaker not on one
            # clock, or a server whose count went its own way): unknown, never negative.
            return None
        return barge_timing(onset, now, self.speaker.latency_ms)

    async def _cancel_generating(self) -> None:
        """A manual interrupt before any audio played: stop responses still being generated."""
        for response_id in sorted(self.turns.generating):
            if response_id in self.console.dropped_responses:
                continue
            self.console.dropped_responses.add(response_id)
            self.speaker.drop_response(response_id)
            await self.send(response_cancel(response_id))


def _audio_end_ms(position: PlaybackPosition) -> int:
    """What the listener heard, in whole ms, never more than the audio received."""
    return max(0, min(position.heard_ms, int(position.received_ms)))
