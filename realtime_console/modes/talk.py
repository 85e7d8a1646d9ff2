"""``talk``: a live voice conversation — microphone in, speaker out, barge-in, transcripts.

One TaskGroup owns every task: the event reader, the microphone pump, the control loop (keys) and,
with the Textual UI, the app itself. The loop ends when the user quits (``TalkControls.quit``:
``q`` or the app closing) or when a task fails (the connection is lost for good); either way the
streams stop, the socket closes with 1000 and the event log gets its final ``audio_stats`` note.

Turn-taking follows ``session.turn_detection``:

* ``server_vad`` / ``semantic_vad``: the microphone streams continuously; the server decides
  turns. Push-to-talk key in these modes = a manual interrupt of the assistant (useful when the
  room is too quiet for the VAD to notice you).
* ``none`` (``--push-to-talk``): audio is sent only while the key is held (a terminal reports no
  key release, so the key toggles: press to start, press again to end); the end of a turn sends
  ``input_audio_buffer.commit`` + ``response.create``. A press while the assistant speaks cuts it.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from realtime_console._compat import TaskGroup
from realtime_console.audio.devices import NoDefaultDevice, output_device_name
from realtime_console.audio.echo.reference import FarEndTap
from realtime_console.audio.echo.setup import plan_echo
from realtime_console.audio.microphone import InputStreamFactory, Microphone, NativeRate
from realtime_console.audio.playback import Playback
from realtime_console.audio.speaker import Speaker, StreamFactory
from realtime_console.dispatcher import ANY, Event
from realtime_console.errors import AudioDeviceError
from realtime_console.handlers import ConsoleHandlers
from realtime_console.modes.mcp_calls import QuestionApprovals
from realtime_console.modes.recycle import RecyclePolicy, start_recycle
from realtime_console.modes.session import Session, configure, open_session, pump_events
from realtime_console.modes.speech_onsets import SpeechOnsets
from realtime_console.modes.talk_controls import Command, TalkCommands
from realtime_console.modes.talk_handlers import TalkHandlers
from realtime_console.modes.tool_calls import (
    Prompts,
    ToolCalls,
    follow_up_fields,
    load_session_tools,
    make_runner,
)
from realtime_console.protocol import pcm
from realtime_console.protocol.client_events import (
    input_audio_append,
    input_audio_clear,
    input_audio_commit,
    response_create,
)
from realtime_console.redact import Redactor
from realtime_console.ui.view import TalkState, TalkView

if TYPE_CHECKING:
    from realtime_console.audio.echo.stage import EchoStage
    from realtime_console.config import Settings
    from realtime_console.eventlog import EventLogWriter

NO_DEVICE_HINT = "talk needs a microphone and a speaker (type instead with `chat`)"
LEVEL_INTERVAL_S = 0.1  # mic level meter and playback-idle check: 10 Hz
ECHO_STATUS_INTERVAL_S = 1.0  # the echo reduction in the status bar
PLAYBACK_STATUS_INTERVAL_S = 1.0  # the playback buffer's delay and underruns in the status bar
# A block sent louder than this may be speech the server has not yet answered with
# ``speech_started``. Below the local server's VAD (-40 dBFS) and far above a quiet room's
# floor, so noise alone rarely keeps a session from being renewed.
VOICED_DBFS = -45.0
# How long after such a block the session counts as busy: the round trip until the server
# says what it heard, plus its end-of-speech silence. Past it, no answer means no speech.
VOICED_HOLD_S = 1.5
STATS_INTERVAL_S = 10.0  # an audio_stats note at most this often, and only when counts changed
MIN_PTT_MS = 100  # the service rejects a commit of less than 100 ms of audio
# semantic_vad's padding before the speech it detects cannot be set; the local server keeps
# server_vad's default (300 ms), and so does the barge-in's speech onset (``speech_onset``).
SEMANTIC_VAD_PADDING_MS = 300
_QUIET_IN_PANE = frozenset({"input_audio_buffer.append", "response.output_audio.delta"})


class TalkUi(Protocol):
    """A full-screen UI that runs as a task next to the talk loop (the Textual app)."""

    async def run(self) -> None: ...

    def exit(self, code: int) -> None: ...


@dataclass(frozen=True)
class AudioBackend:
    """How streams are opened: real PortAudio by default; tests and benchmarks inject fakes."""

    output_factory: StreamFactory | None = None
    input_factory: InputStreamFactory | None = None
    native_rate: NativeRate | None = None
    output_latency: float | str | None = None
    input_latency: float | str | None = None


@dataclass
class MicGate:
    """Whether microphone blocks are sent right now."""

    push_to_talk: bool
    muted: bool = False
    capturing: bool = False  # push-to-talk key is down
    captured_ms: float = 0.0  # sent since the key went down

    @property
    def open(self) -> bool:
        return not self.muted and (self.capturing or not self.push_to_talk)


async def run_talk(
    settings: Settings,
    *,
    controls: TalkCommands,
    view: TalkView,
    env: Mapping[str, str],
    redactor: Redactor,
    backend: AudioBackend = AudioBackend(),
    ui: TalkUi | None = None,
    clock: Callable[[], float] = time.monotonic,
    append_ms: float | None = None,
    recycle: RecyclePolicy | None = None,
    tool_prompts: Prompts | None = None,
) -> int:
    """``append_ms`` overrides ``audio.append_ms`` (benchmarks compare sizes); ``recycle``: when
    to renew the session ahead of the service's limit (tests lower it); ``tool_prompts``: how
    ``tools.mode`` ask and confirm reach the user (modes/tool_calls.py)."""
    loaded = load_session_tools(settings)  # before any device or socket: a bad file is exit 2
    audio = settings.audio
    append_ms = float(audio.append_ms) if append_ms is None else append_ms
    # Echo handling first: "aec = on" without its library is exit 2 before any device opens.
    # Injected (fake) devices have no name to judge; a real one is looked up (None if unknown).
    echo_plan = plan_echo(
        audio, output_device_name(audio.output_device) if backend.output_factory is None else None
    )
    tap = FarEndTap() if echo_plan.cancel or echo_plan.guard else None
    echo = echo_plan.stage(tap, audio) if tap is not None else None
    speaker = Speaker(
        device=audio.output_device,
        block_ms=audio.block_ms,
        prebuffer_ms=audio.prebuffer_ms,
        max_buffer_ms=audio.max_buffer_ms,
        max_prebuffer_ms=audio.max_prebuffer_ms,
        latency=(
            audio.output_latency if backend.output_latency is None else backend.output_latency
        ),
        stream_factory=backend.output_factory,
        on_drop=view.notice,
        far_end=tap,
    )
    mic = Microphone(
        device=audio.input_device,
        # Capture in blocks of one append: audio leaves no sooner either way, and a third of the
        # device wakeups is the largest saving while listening (benchmarks/talk_cpu.py). The
        # output keeps audio.block_ms, which is what bounds how fast a barge-in cuts playback.
        block_ms=max(audio.block_ms, append_ms),
        latency=backend.input_latency,
        stream_factory=backend.input_factory,
        native_rate=backend.native_rate,
    )
    _start_devices(speaker, mic)
    try:
        async with open_session(
            settings,
            env=env,
            view=view,
            redactor=redactor,
            recycle=recycle,
            tools=loaded.entries if loaded is not None else None,
        ) as session:
            talk = _Talk(settings, session, speaker, mic, controls, view, clock, append_ms)
            talk.echo = talk.stats.echo = echo
            view.notice(echo_plan.status)
            view.echo_status(echo_plan.cancel, None)
            if loaded is not None:
                talk.tool_calls = talk.talk.tool_calls(
                    make_runner(settings, loaded, redactor, tool_prompts),
                    start_early=settings.tools.mode == "auto",
                    follow_up=follow_up_fields(settings.tools.tool_choice),
                )
                session.dispatcher.register(talk.tool_calls.table())
            if session.mcp is not None:  # approvals asked as tool prompts are; then the reply
                if session.mcp.approvals is None and tool_prompts is not None:
                    session.mcp.approvals = QuestionApprovals(tool_prompts)
                session.mcp.follow_up = talk.talk.follow_up
            try:
                await talk.run(ui)
            finally:
                talk.stats.note(final=True)
    finally:
        mic.close()
        speaker.close(discard=True)
        if echo is not None:
            echo.close()
    return 0


def _start_devices(speaker: Speaker, mic: Microphone) -> None:
    """Open both devices before connecting: a missing sound card fails fast, with exit 2."""
    failures: list[AudioDeviceError] = []
    for device in (speaker, mic):  # both tried: a user who named two wrong devices hears of both
        try:
            device.start()
        except AudioDeviceError as exc:
            failures.append(exc)
    if len(failures) == 2 and all(isinstance(f, NoDefaultDevice) for f in failures):
        first, second = failures
        assert isinstance(first, NoDefaultDevice) and isinstance(second, NoDefaultDevice)
        failures = [first.merged(second)]
    problems: list[str] = []
    for failure in failures:
        if str(failure) not in problems:  # no PortAudio: the same line for both
            problems.append(str(failure))
    if problems:
        speaker.close(discard=True)
        mic.close()
        problems[-1] += f"; {NO_DEVICE_HINT}"
        raise AudioDeviceError("\n".join(problems))


class _Talk:
    def __init__(
        self,
        settings: Settings,
        session: Session,
        speaker: Speaker,
        mic: Microphone,
        controls: TalkCommands,
        view: TalkView,
        clock: Callable[[], float],
        append_ms: float,
    ) -> None:
        td = settings.session.turn_detection
        self.append_bytes = max(1, pcm.ms_to_bytes(append_ms))
        self.pending = bytearray()  # mic audio not yet sent, < append_bytes
        # Until then a voiced block sent while listening may still turn into a user turn.
        self.voiced_until = 0.0
        self.voiced_hold_s = VOICED_HOLD_S + td.silence_duration_ms / 1000
        self.settings = settings
        self.session = session
        self.speaker = speaker
        self.mic = mic
        self.controls = controls
        self.view = view
        self.clock = clock
        self.gate = MicGate(push_to_talk=td.type == "none")
        # When the user's speech began at the microphone, for the barge-in's timing (the
        # timeline's ring sized by the microphone's block, as run_talk opens it).
        self.onsets = SpeechOnsets(
            block_ms=max(settings.audio.block_ms, append_ms),
            padding_ms=td.prefix_padding_ms if td.type == "server_vad" else SEMANTIC_VAD_PADDING_MS,
            link=session.link,
        )
        self.console = ConsoleHandlers(view, [Playback(speaker)])
        self.talk = TalkHandlers(
            view=view,
            speaker=speaker,
            console=self.console,
            send=self.send,
            interrupt_response=td.interrupt_response,
            event_log=session.event_log,
            clock=clock,
            response_timeout_s=settings.connection.response_timeout_s,
            create_response=td.type != "none" and td.create_response,
            speech_onset=self.speech_onset,
        )
        self.stats = AudioStatsNotes(speaker, mic, session.event_log, clock)
        session.dispatcher.register(self.console.table())
        session.dispatcher.register(self.talk.table())
        session.dispatcher.on(ANY, self._show_server_event)
        session.busy.append(self._busy)
        self.tool_calls: ToolCalls | None = None  # with tools.files: the model's calls
        self.echo: EchoStage | None = None  # echo cancellation / guard (audio/echo/)
        self._next_echo_status = 0.0
        self._next_playback_status = 0.0
        session.on_lost.append(self._connection_lost)
        session.on_restored.append(self._reconnected)
        session.on_renewed.append(self._sync_timeline)  # swapped or not, the hold is over
        for kind in ("input_audio_buffer.speech_stopped", "input_audio_buffer.timeout_triggered"):
            session.dispatcher.on(kind, self._turn_committed)  # both commit up to audio_end_ms

    async def send(self, event: dict[str, Any]) -> None:
        """Send; while the connection is down the event is dropped (audio in flight is lost)."""
        if not await self.session.send(event):
            return
        if self.view.shows_events and event["type"] not in _QUIET_IN_PANE:
            self.view.event_line("client", event["type"], summarize(event, "client"))

    def _busy(self) -> bool:
        """Not a moment to renew the session: someone speaks, or a reply is on its way."""
        turns = self.talk.turns
        return (
            self.gate.capturing
            or turns.state is not TalkState.LISTENING
            # Speech already sent whose speech_started has not come back: renewing now would
            # leave its start on the old session and its end on the new one, and lose the turn.
            or self.clock() < self.voiced_until
            or bool(turns.generating)
            or bool(self.talk.watch.live)
            or self.speaker.is_playing
            or (self.tool_calls is not None and self.tool_calls.running)
        )

    def _connection_lost(self) -> None:
        """The link dropped: the reply being played is cut, unsent audio is thrown away."""
        position = self.speaker.interrupt()
        dropped = self.console.dropped_responses
        if position is not None:
            dropped.add(position.response_id)
        for response_id in sorted(self.talk.turns.generating):
            dropped.add(response_id)
            self.speaker.drop_response(response_id)
            self.view.assistant_done(response_id, "incomplete")  # its response.done never comes
        self.talk.turns.generating.clear()
        self.talk.watch.forget()  # nothing on the dead connection will answer
        if self.tool_calls is not None:
            self.tool_calls.forget()
        self._drop_pending()
        self.gate.capturing = False
        if self.talk.turns.reconnecting():
            self.view.set_state(self.talk.turns.state)

    def _reconnected(self) -> None:
        self.mic.discard_queued()  # captured while reconnecting: stale, never sent
        self._sync_timeline()  # the new server session counts its audio from 0
        self.talk.watch.forget()  # a turn ended while the link was down was never sent
        self.talk.ready()

    def _show_server_event(self, event: Event) -> None:
        kind = str(event.get("type", "?"))
        if self.view.shows_events and kind not in _QUIET_IN_PANE:
            self.view.event_line("server", kind, summarize(event))

    async def run(self, ui: TalkUi | None) -> None:
        async with TaskGroup() as tasks:
            if self.tool_calls is not None:
                self.tool_calls.spawn = tasks.create_task
            if self.session.mcp is not None:
                self.session.mcp.spawn = tasks.create_task
            reader = tasks.create_task(pump_events(self.session))
            ui_task = tasks.create_task(self._run_ui(ui)) if ui is not None else None
            helpers = start_recycle(tasks, self.session)
            try:
                await configure(self.session, self.view, self.settings.connection.connect_timeout_s)
                if self.session.connected:  # else the reconnect's on_restored makes it ready
                    self.talk.ready()
                if self.gate.push_to_talk:
                    self.view.notice("push-to-talk: press space to speak, space again to send")
                helpers.append(tasks.create_task(self._pump_microphone()))
                helpers.append(tasks.create_task(self._obey_controls()))
                await self.controls.wait_quit()
            finally:
                for task in (reader, *helpers):
                    task.cancel()
                if self.tool_calls is not None:
                    self.tool_calls.cancel_all("the conversation ended")
                if self.session.mcp is not None:
                    self.session.mcp.cancel_all()  # an open approval question is withdrawn
                if ui is not None and ui_task is not None and not ui_task.done():
                    ui.exit(0)

    async def _run_ui(self, ui: TalkUi) -> None:
        try:
            await ui.run()
        finally:
            self.controls.quit()  # the app closed: the conversation is over

    async def _pump_microphone(self) -> None:
        self.mic.discard_queued()  # captured while connecting: stale, never sent
        next_level = 0.0
        async for timed in self.mic.timed_blocks():
            block: bytes | None = timed.pcm
            if self.echo is not None:  # every block, gate open or not: AEC3 must keep adapting
                block = await self.echo.process(timed.pcm, timed.start_time)
            now = self.clock()
            if now >= next_level:
                next_level = now + LEVEL_INTERVAL_S
                self.view.mic_level(pcm.rms_dbfs(timed.pcm))
                self.talk.tick()
                self._show_echo(now)
                self._show_playback(now)
                # The microphone never stops while talk runs: its clock drives the watchdog
                # too, with no timer task of its own.
                await self.talk.check_replies()
                self.stats.note()
            if not self.gate.open:
                self._drop_pending()
                continue
            if block is None:
                continue  # the echo guard held it back: the assistant's own voice
            # Its offset is where pending ends; the timeline follows the order sent.
            self.onsets.timeline.record(len(block) // pcm.SAMPLE_WIDTH, timed.start_time)
            self.pending += block
            if self.gate.capturing:
                self.gate.captured_ms += pcm.bytes_to_ms(len(block))
            if len(self.pending) >= self.append_bytes:
                await self._send_pending()

    def _show_echo(self, now: float) -> None:
        """The echo reduction AEC achieves, for the status bar, about once a second."""
        if self.echo is None or self.echo.canceller is None or now < self._next_echo_status:
            return
        self._next_echo_status = now + ECHO_STATUS_INTERVAL_S
        self.view.echo_status(True, self.echo.stats.echo_reduction_db)

    def _show_playback(self, now: float) -> None:
        """The adaptive buffer's playout delay and underruns, for the status bar, once a second:
        read here on the loop from the speaker's stats, never pushed from the audio thread.
        Every second, changed or not, so a view that was not drawn yet catches up."""
        if now < self._next_playback_status:
            return
        self._next_playback_status = now + PLAYBACK_STATUS_INTERVAL_S
        stats = self.speaker.stats
        self.view.playback_status(stats.target_ms, stats.underruns)

    def _drop_pending(self) -> None:
        """Unsent audio thrown away: it never reaches the server's timeline either."""
        if self.pending:
            self.onsets.timeline.unrecord(len(self.pending) // pcm.SAMPLE_WIDTH)
            self.pending.clear()

    def _sync_timeline(self) -> None:
        """Keep the input timeline on the server session that counts the audio (a reconnect and
        a renewal both start a new count; ``modes/speech_onsets.py``)."""
        self.onsets.sync(
            link=self.session.link,
            renewing=self.session.renewing is not None,
            unsent_samples=len(self.pending) // pcm.SAMPLE_WIDTH,
            held_dropped_samples=self.session.held_dropped_samples,
        )

    def _turn_committed(self, event: Event) -> None:
        end = event.get("audio_end_ms")
        if isinstance(end, int) and not isinstance(end, bool):
            self._sync_timeline()  # a new server session's first turn counts from its 0
            self.onsets.committed(end)

    def speech_onset(self, audio_start_ms: int) -> float | None:
        """The stream-clock time the user's speech began at the microphone, from a
        ``speech_started``'s ``audio_start_ms``; None when unknown."""
        self._sync_timeline()
        return self.onsets.onset(audio_start_ms)

    async def _send_pending(self) -> None:
        if self.pending:
            self._sync_timeline()  # before: pending is the new session's if it just changed
            audio, self.pending = bytes(self.pending), bytearray()
            if pcm.rms_dbfs(audio) > VOICED_DBFS:
                self.voiced_until = self.clock() + self.voiced_hold_s
            await self.send(input_audio_append(audio))

    async def _obey_controls(self) -> None:
        actions: dict[Command, Callable[[], Awaitable[None]]] = {
            Command.TOGGLE_MUTE: self._toggle_mute,
            Command.PTT_DOWN: self._ptt_down,
            Command.PTT_UP: self._ptt_up,
        }
        while True:
            await actions[await self.controls.next()]()

    async def _toggle_mute(self) -> None:
        self.gate.muted = not self.gate.muted
        self.view.set_muted(self.gate.muted)

    async def _ptt_down(self) -> None:
        await self.talk.interrupt()
        if not self.gate.push_to_talk or self.gate.capturing:
            return
        await self.send(input_audio_clear())
        self._drop_pending()
        self.gate.capturing = True
        self.gate.captured_ms = 0.0
        if self.talk.turns.speech_started():
            self.view.set_state(self.talk.turns.state)

    async def _ptt_up(self) -> None:
        if not self.gate.capturing:
            return
        await self._send_pending()  # the end of the turn must reach the buffer before the commit
        self.gate.capturing = False
        if self.gate.captured_ms < MIN_PTT_MS:
            await self.send(input_audio_clear())
            self.view.notice(f"too short to send (under {MIN_PTT_MS} ms of audio)")
            if self.talk.turns.turn_abandoned():
                self.view.set_state(self.talk.turns.state)
            return
        await self.send(input_audio_commit())
        self.talk.watch.ask()  # before sending: its response.created cannot slip past
        await self.send(response_create())
        self.talk.user_turn_ended()


class AudioStatsNotes:
    """``audio_stats`` meta notes in the event log: device underruns and overflows, mic drops.

    Written when the counts changed (at most every ``STATS_INTERVAL_S``) and once at the end, so
    a replay can tell a glitch heard live from one in the network.
    """

    def __init__(
        self,
        speaker: Speaker,
        mic: Microphone,
        event_log: EventLogWriter | None,
        clock: Callable[[], float],
    ) -> None:
        self.speaker = speaker
        self.mic = mic
        self.event_log = event_log
        self.clock = clock
        self._last: dict[str, Any] | None = None
        self._next_at = 0.0
        self.echo: EchoStage | None = None  # its figures join the note when echo handling is on

    def snapshot(self) -> dict[str, Any]:
        out, inp = self.speaker.stats, self.mic.stats
        return {
            "playback_underruns": out.underruns,
            "playback_underrun_ms": round(pcm.samples_to_ms(out.buffer.underrun_samples), 1),
            "playback_overflows": out.overflows,
            "playback_dropped_ms": round(out.dropped_ms, 1),
            "late_chunks": out.buffer.late_chunks,
            "output_underflows": out.output_underflows,
            "output_overflows": out.output_overflows,
            "mic_blocks": inp.blocks,
            "mic_dropped_blocks": inp.dropped_blocks,
            "input_overflows": inp.input_overflows,
            "mic_samplerate": inp.samplerate,
            "output_latency_ms": round(self.speaker.latency_ms, 1),
            "playback_target_ms": round(out.target_ms, 1),  # the adaptive playout delay
            "playback_jitter_ms": round(out.buffer.arrival_jitter_ms, 1),
            # Added by repeating pitch periods to reach the playout delay (audio/jitter.py).
            "playback_stretched_ms": round(pcm.samples_to_ms(out.buffer.stretched_samples), 1),
            **(_echo_figures(self.echo) if self.echo is not None else {}),
        }

    def note(self, *, final: bool = False) -> None:
        if self.event_log is None:
            return
        now = self.clock()
        if not final and now < self._next_at:
            return
        self._next_at = now + STATS_INTERVAL_S
        counts = self.snapshot()
        changed = {k: v for k, v in counts.items() if k not in ("mic_blocks",)}
        if not final and self._last == changed:
            return
        self._last = changed
        self.event_log.note("audio_stats", final=final, **counts)


def summarize(event: Mapping[str, Any], direction: str = "server") -> str:
    """A short summary for the event pane: the ids and sizes that matter, never audio. The same
    summariser as ``replay --types`` lines and the demo's pane (``replay.event_lines``)."""
    from realtime_console.replay.event_lines import summarize_event

    return summarize_event(direction, event)


def _echo_figures(echo: EchoStage) -> dict[str, Any]:
    """The echo stage's counters for ``audio_stats`` (docs/echo-cancellation.md)."""
    stats = echo.stats
    return {
        "echo_reduction_db": stats.echo_reduction_db,
        "echo_held_blocks": stats.held_blocks,
        "echo_resyncs": stats.resyncs,
        "echo_realignments": stats.realignments,  # the echo really moved (a speaker underflow…)
        "echo_late_reference": stats.late_reference,
        "echo_detected": stats.echo_detected,
    }
