"""A scripted ``talk`` conversation in the terminal UI: no network, no audio.

    python -m realtime_console.ui.tui.demo [--push-to-talk] [--speed N] [--screenshot OUT.svg]

It shows what the UI does with each kind of call the talk loop makes: a streamed user
transcript, a streamed answer with its latency, a barge-in that cuts an answer, a reconnect and a
server error, with a moving microphone meter and the event log (press ``l``). The keys work
against a stand-in of the talk loop (:class:`DemoControls`) and change what the script does, as
they would change a conversation: muted, the user's next turn waits until ``m`` unmutes (a
muted microphone sends nothing); with ``--push-to-talk`` each of the user's turns waits for
``space`` to start it and ``space`` again to send it. ``q`` quits. The event pane's lines are
summarised by the same code as the live pane's and ``replay --types`` (``summarize_event``).
``--screenshot`` runs without a terminal, plays the whole script and saves an SVG of the last
frame (for docs).
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from realtime_console._compat import TaskGroup
from realtime_console.protocol.rate_limits import RateLimit
from realtime_console.replay.event_lines import summarize_event
from realtime_console.ui.view import TalkState, TalkView

MIC_BLOCK_S = 0.02  # the talk loop reports a level per 20 ms microphone block
ROOM_DBFS = -56.0
PEAK_DBFS = -10.0
SCREENSHOT_SIZE = (110, 36)


Sleep = Callable[[float], Awaitable[None]]


class Mic:
    """The demo's microphone: reports a level per 20 ms block, room noise or speech."""

    def __init__(self, view: TalkView) -> None:
        self._view = view
        self._speech_left_s = 0.0
        self._t = 0.0

    def speak(self, seconds: float) -> None:
        self._speech_left_s = seconds

    def block(self) -> None:
        self._t += MIC_BLOCK_S
        if self._speech_left_s > 0:
            self._speech_left_s -= MIC_BLOCK_S
            self._view.mic_level(speech_level(self._t))
        else:
            self._view.mic_level(room_level(self._t))


class Gate:
    """Where the keys meet the script: the user's turns wait here. Without controls (tests,
    screenshots) nothing waits."""

    async def turn_may_start(self, view: TalkView) -> None:
        return None

    async def turn_may_end(self, view: TalkView) -> None:
        return None


@dataclass(frozen=True)
class Do:
    call: Callable[[TalkView], None]

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep, gate: Gate) -> None:
        self.call(view)
        await sleep(0)


@dataclass(frozen=True)
class Wait:
    seconds: float

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep, gate: Gate) -> None:
        await sleep(self.seconds / speed)


@dataclass(frozen=True)
class UserTurn:
    """The user is about to speak: muted, or in push-to-talk mode, the script waits for the
    key that lets them (the talk loop would hear nothing until then)."""

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep, gate: Gate) -> None:
        await gate.turn_may_start(view)


@dataclass(frozen=True)
class Say:
    """The user speaks for ``seconds``: the meter moves, the step takes that long; with
    push-to-talk the turn then waits for the key that sends it."""

    seconds: float

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep, gate: Gate) -> None:
        mic.speak(self.seconds)
        await sleep(self.seconds / speed)
        await gate.turn_may_end(view)


@dataclass(frozen=True)
class Stream:
    """``call(view, piece)`` for each word of ``text``, ``per_word_s`` apart, as deltas come."""

    text: str
    call: Callable[[TalkView, str], None]
    per_word_s: float = 0.09

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep, gate: Gate) -> None:
        words = self.text.split(" ")
        for i, word in enumerate(words):
            self.call(view, word if i == 0 else " " + word)
            await sleep(self.per_word_s / speed)


Step = Do | Wait | UserTurn | Say | Stream

WEATHER_Q = "What's the weather going to be like in Lisbon tomorrow?"
WEATHER_A = (
    "Tomorrow in Lisbon looks sunny and mild: around 21 degrees in the afternoon, a light breeze "
    "from the north-west, and no rain expected."
)
STORY_Q = "Tell me a long story about a lighthouse keeper."
STORY_A = (
    "Once upon a time, on a rocky island far from the coast, there lived a lighthouse keeper "
    "named Elena who had not spoken to another soul for three whole winters, until one night a "
    "small boat appeared out of the fog."
)
STORY_HEARD = "Once upon a time, on a rocky island far from the coast, there lived"
SHORT_Q = "Actually, just give me the ending."
SHORT_A = "She rescued the sailor, and they kept the light burning together."


def _user(item: str, text: str) -> Stream:
    return Stream(text, lambda view, piece: view.user_transcript(item, piece, False), 0.05)


def _final(item: str, text: str) -> Do:
    return Do(lambda view: view.user_transcript(item, text, True))


def _assistant(response: str, text: str) -> Stream:
    return Stream(text, lambda view, piece: view.assistant_delta(response, piece))


def _state(state: TalkState) -> Do:
    return Do(lambda view: view.set_state(state))


def _event(direction: str, event_type: str, **fields: Any) -> Do:
    """An event as the talk loop shows it in the pane: summarised by the one summariser."""
    summary = summarize_event(direction, {"type": event_type, **fields})
    return Do(lambda view: view.event_line(direction, event_type, summary))


_SESSION = {
    "type": "realtime",
    "audio": {
        "input": {
            "turn_detection": {"type": "server_vad"},
            "transcription": {"model": "whisper-1"},
        },
        "output": {"voice": "marin"},
    },
}


def _limits(tokens_left: int) -> list[RateLimit]:
    """What a ``rate_limits.updated`` says after a turn, for the status bar's badge."""
    return [RateLimit("requests", 5000, 4990), RateLimit("tokens", 40_000, tokens_left, 42.0)]


SCRIPT: tuple[Step, ...] = (
    _state(TalkState.CONNECTING),
    _event("client", "session.update", session=_SESSION),
    Wait(0.6),
    _event("server", "session.created", session={**_SESSION, "id": "sess_DEMO42"}),
    Do(lambda view: view.session_started("sess_DEMO42", "gpt-realtime")),
    _event("server", "session.updated", session={**_SESSION, "id": "sess_DEMO42"}),
    _state(TalkState.LISTENING),
    Wait(1.0),
    # turn 1: a question, its transcript streaming in, a streamed answer
    UserTurn(),
    _event("server", "input_audio_buffer.speech_started", item_id="item_1", audio_start_ms=1020),
    _state(TalkState.USER_SPEAKING),
    Say(2.2),
    _event("server", "input_audio_buffer.speech_stopped", item_id="item_1", audio_end_ms=3240),
    _state(TalkState.THINKING),
    _event("server", "response.created", response={"id": "resp_1", "status": "in_progress"}),
    _user("item_1", WEATHER_Q),
    _final("item_1", WEATHER_Q),
    Do(lambda view: view.turn_latency(612.0)),
    _state(TalkState.ASSISTANT_SPEAKING),
    _event(
        "server",
        "response.output_audio.delta",
        response_id="resp_1",
        item_id="item_a1",
        audio_bytes=9600,
    ),
    _assistant("resp_1", WEATHER_A),
    _event(
        "server",
        "response.done",
        response={"id": "resp_1", "status": "completed", "usage": {"total_tokens": 1840}},
    ),
    Do(lambda view: view.assistant_done("resp_1", "completed")),
    _event(
        "server",
        "rate_limits.updated",
        rate_limits=[{"name": "tokens", "limit": 40_000, "remaining": 38_200}],
    ),
    Do(lambda view: view.rate_limits(_limits(38_200))),
    _state(TalkState.LISTENING),
    Wait(1.0),
    # turn 2: the user barges in on a long answer
    UserTurn(),
    _event("server", "input_audio_buffer.speech_started", item_id="item_2", audio_start_ms=6100),
    _state(TalkState.USER_SPEAKING),
    Say(1.6),
    _state(TalkState.THINKING),
    _user("item_2", STORY_Q),
    _final("item_2", STORY_Q),
    Do(lambda view: view.turn_latency(540.0)),
    _state(TalkState.ASSISTANT_SPEAKING),
    _assistant("resp_2", STORY_A),
    UserTurn(),
    _event("server", "input_audio_buffer.speech_started", item_id="item_3", audio_start_ms=12480),
    _state(TalkState.USER_SPEAKING),
    _event("client", "response.cancel", response_id="resp_2"),
    _event("client", "conversation.item.truncate", item_id="item_a2", audio_end_ms=4380),
    Do(lambda view: view.assistant_cut("resp_2", STORY_HEARD, 4380)),
    Do(lambda view: view.assistant_done("resp_2", "cancelled")),
    _event("server", "response.done", response={"id": "resp_2", "status": "cancelled"}),
    Say(1.4),
    _state(TalkState.THINKING),
    _user("item_3", SHORT_Q),
    _final("item_3", SHORT_Q),
    Do(lambda view: view.turn_latency(498.0)),
    _state(TalkState.ASSISTANT_SPEAKING),
    _assistant("resp_3", SHORT_A),
    Do(lambda view: view.assistant_done("resp_3", "completed")),
    Do(lambda view: view.rate_limits(_limits(3_100))),  # low: the badge turns red
    _state(TalkState.LISTENING),
    Wait(1.0),
    # a dropped connection, and an error the service reports
    _event("meta", "reconnect", attempt=1, of=5, code=1006, delay_s=0.5),
    _state(TalkState.RECONNECTING),
    Do(lambda view: view.notice("connection lost (1006); reconnecting…")),
    Wait(1.0),
    Do(lambda view: view.notice("reconnected; session and history restored")),
    _state(TalkState.LISTENING),
    _event(
        "server",
        "error",
        error={
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": "Cannot update a conversation's voice if assistant audio is present.",
        },
    ),
    Do(
        lambda view: view.server_error(
            "invalid_value",
            "Cannot update a conversation's voice if assistant audio is present.",
            "evt_8Qm2",
        )
    ),
)


class DemoControls(Gate):
    """Stands in for the talk loop: answers the keys the way it would, through the view, and
    holds the script's user turns while the keys say the user cannot speak (muted) or has not
    taken (push-to-talk) or sent (push-to-talk, second press) the turn."""

    def __init__(self, view: TalkView | None = None, *, push_to_talk: bool = False) -> None:
        self.view = view
        self.muted = False
        self.push_to_talk_mode = push_to_talk
        self.quit_requested = asyncio.Event()
        self._unmuted = asyncio.Event()
        self._unmuted.set()
        self._key = asyncio.Event()  # space, while the script waits for it
        self._waiting_for: str | None = None  # "start" or "send": what space does now

    def toggle_mute(self) -> None:
        self.muted = not self.muted
        if self.muted:
            self._unmuted.clear()
        else:
            self._unmuted.set()
        if self.view is not None:
            self.view.set_muted(self.muted)

    def push_to_talk(self, pressed: bool) -> None:
        if self._waiting_for is not None:
            self._key.set()  # the script takes it from here (state, transcript, reply)
        elif self.view is not None:
            self.view.notice("(demo) not your turn yet: the script goes on")

    async def turn_may_start(self, view: TalkView) -> None:
        if self.muted:
            view.notice("(demo) muted: the microphone sends nothing; press m to speak")
            await self._unmuted.wait()
        if self.push_to_talk_mode:
            view.notice("(demo) press space to take your turn")
            await self._wait_for_key("start")

    async def turn_may_end(self, view: TalkView) -> None:
        if self.push_to_talk_mode:
            view.notice("(demo) press space to send your turn")
            await self._wait_for_key("send")

    async def _wait_for_key(self, what: str) -> None:
        self._key.clear()
        self._waiting_for = what
        try:
            await self._key.wait()
        finally:
            self._waiting_for = None

    def quit(self) -> None:
        self.quit_requested.set()


def speech_level(t: float) -> float:
    """A plausible speech envelope in dBFS: syllables (4 Hz) in phrases, peaking near -12 dB."""
    syllables = 0.5 + 0.5 * math.sin(2 * math.pi * 4.0 * t)
    phrase = 0.6 + 0.4 * math.sin(2 * math.pi * 0.7 * t)
    return ROOM_DBFS + (PEAK_DBFS - ROOM_DBFS) * syllables * phrase


def room_level(t: float) -> float:
    """Room noise: a few dB of slow wobble around ``ROOM_DBFS``."""
    return ROOM_DBFS + 2.0 * math.sin(2 * math.pi * 0.3 * t)


async def play(
    view: TalkView,
    mic: Mic,
    script: Sequence[Step] = SCRIPT,
    *,
    speed: float = 1.0,
    sleep: Sleep = asyncio.sleep,
    gate: Gate | None = None,
) -> None:
    """Run ``script`` against ``view``; ``speed`` > 1 plays faster; ``gate`` (the demo's
    controls) holds the user's turns while the keys say so."""
    for step in script:
        await step.run(view, mic, speed, sleep, gate if gate is not None else Gate())


async def feed_mic(mic: Mic, speed: float, sleep: Sleep = asyncio.sleep) -> None:
    """A level per microphone block, forever (the talk loop does the same while running)."""
    while True:
        mic.block()
        await sleep(MIC_BLOCK_S / speed)


async def _on_app(app: Any, work: Callable[[], object]) -> None:
    """Run ``work`` on the app's own message pump and wait for it. Rendering there has the
    app's context (Textual's ``active_app``); from this task, a widget not rendered yet raised
    LookupError now and then while the screenshot was taken."""
    done: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    def run() -> None:
        try:
            work()
        except Exception as exc:  # handed to the awaiting task, which fails with it
            done.set_exception(exc)
        else:
            done.set_result(None)

    app.call_later(run)
    await done


async def run_demo(
    *, push_to_talk: bool, speed: float, screenshot: str | None, show_events: bool
) -> int:
    from realtime_console.ui.tui.app import TalkApp  # Textual only when the demo runs

    controls = DemoControls(push_to_talk=push_to_talk)
    app = TalkApp(controls, title="realtime-console talk (demo)", push_to_talk=push_to_talk)
    controls.view = app
    mic = Mic(app)

    async def drive() -> None:
        if show_events:
            app.call_later(app.action_toggle_events)
        # A screenshot has nobody at the keys: the script is not held for them.
        await play(app, mic, speed=speed, gate=controls if screenshot is None else None)
        if screenshot is not None:
            await asyncio.sleep(0.5)  # let the last frame settle
            await _on_app(app, lambda: app.save_screenshot(screenshot))
            app.exit(0)
            return
        await controls.quit_requested.wait()
        app.exit(0)  # what the talk loop does once it has shut down

    async with TaskGroup() as tasks:
        driver = tasks.create_task(drive())
        meter = tasks.create_task(feed_mic(mic, speed))
        headless = screenshot is not None
        result = await app.run_async(headless=headless, size=SCREENSHOT_SIZE if headless else None)
        driver.cancel()
        meter.cancel()
    if screenshot is None:  # the screen is the terminal's again: leave the conversation on it
        lines, _ = app.closing_report(None)  # its "talk ended" line would name a log
        print("\n".join([*lines, "-- demo ended"]))
    return result if result is not None else 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m realtime_console.ui.tui.demo",
        description="The talk terminal UI with a scripted conversation (no network, no audio).",
    )
    parser.add_argument("--push-to-talk", action="store_true", help="space takes turns")
    parser.add_argument("--speed", type=float, default=1.0, help="play the script N times faster")
    parser.add_argument("--events", action="store_true", help="open the event-log pane at start")
    parser.add_argument(
        "--screenshot", metavar="OUT.svg", help="no terminal: play the script, save an SVG, exit"
    )
    args = parser.parse_args(argv)
    if args.speed <= 0:
        parser.error("--speed must be > 0")
    return asyncio.run(
        run_demo(
            push_to_talk=args.push_to_talk,
            speed=args.speed,
            screenshot=args.screenshot,
            show_events=args.events,
        )
    )


if __name__ == "__main__":
    raise SystemExit(main())
