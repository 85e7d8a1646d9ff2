"""A scripted ``talk`` conversation in the terminal UI: no network, no audio.

    python -m realtime_console.ui.tui.demo [--push-to-talk] [--speed N] [--screenshot OUT.svg]

It shows what the UI does with each kind of call the talk loop makes: a streamed user
transcript, a streamed answer with its latency, a barge-in that cuts an answer, a reconnect and a
server error, with a moving microphone meter and the event log (press ``l``). The keys work
against a stand-in of the talk loop (:class:`DemoControls`): ``m`` mutes, ``space`` in
push-to-talk mode takes a turn, ``q`` quits. ``--screenshot`` runs without a terminal, plays the
whole script and saves an SVG of the last frame (for docs).
"""

from __future__ import annotations

import argparse
import asyncio
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from realtime_console._compat import TaskGroup
from realtime_console.protocol.rate_limits import RateLimit
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


@dataclass(frozen=True)
class Do:
    call: Callable[[TalkView], None]

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep) -> None:
        self.call(view)
        await sleep(0)


@dataclass(frozen=True)
class Wait:
    seconds: float

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep) -> None:
        await sleep(self.seconds / speed)


@dataclass(frozen=True)
class Say:
    """The user speaks for ``seconds``: the meter moves, the step takes that long."""

    seconds: float

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep) -> None:
        mic.speak(self.seconds)
        await sleep(self.seconds / speed)


@dataclass(frozen=True)
class Stream:
    """``call(view, piece)`` for each word of ``text``, ``per_word_s`` apart, as deltas come."""

    text: str
    call: Callable[[TalkView, str], None]
    per_word_s: float = 0.09

    async def run(self, view: TalkView, mic: Mic, speed: float, sleep: Sleep) -> None:
        words = self.text.split(" ")
        for i, word in enumerate(words):
            self.call(view, word if i == 0 else " " + word)
            await sleep(self.per_word_s / speed)


Step = Do | Wait | Say | Stream

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


def _event(direction: str, event_type: str, summary: str = "") -> Do:
    return Do(lambda view: view.event_line(direction, event_type, summary))


def _limits(tokens_left: int) -> list[RateLimit]:
    """What a ``rate_limits.updated`` says after a turn, for the status bar's badge."""
    return [RateLimit("requests", 5000, 4990), RateLimit("tokens", 40_000, tokens_left, 42.0)]


SCRIPT: tuple[Step, ...] = (
    _state(TalkState.CONNECTING),
    _event("client", "session.update", "server_vad, voice marin, transcription on"),
    Wait(0.6),
    _event("server", "session.created", "sess_DEMO42"),
    Do(lambda view: view.session_started("sess_DEMO42", "gpt-realtime")),
    _event("server", "session.updated"),
    _state(TalkState.LISTENING),
    Wait(1.0),
    # turn 1: a question, its transcript streaming in, a streamed answer
    _event("server", "input_audio_buffer.speech_started", "item_1 at 1020 ms"),
    _state(TalkState.USER_SPEAKING),
    Say(2.2),
    _event("server", "input_audio_buffer.speech_stopped", "item_1 at 3240 ms"),
    _state(TalkState.THINKING),
    _event("server", "response.created", "resp_1"),
    _user("item_1", WEATHER_Q),
    _final("item_1", WEATHER_Q),
    Do(lambda view: view.turn_latency(612.0)),
    _state(TalkState.ASSISTANT_SPEAKING),
    _event("server", "response.output_audio.delta", "resp_1 9600 bytes"),
    _assistant("resp_1", WEATHER_A),
    _event("server", "response.done", "resp_1 completed"),
    Do(lambda view: view.assistant_done("resp_1", "completed")),
    _event("server", "rate_limits.updated", "tokens 38.2k/40k left"),
    Do(lambda view: view.rate_limits(_limits(38_200))),
    _state(TalkState.LISTENING),
    Wait(1.0),
    # turn 2: the user barges in on a long answer
    _event("server", "input_audio_buffer.speech_started", "item_2"),
    _state(TalkState.USER_SPEAKING),
    Say(1.6),
    _state(TalkState.THINKING),
    _user("item_2", STORY_Q),
    _final("item_2", STORY_Q),
    Do(lambda view: view.turn_latency(540.0)),
    _state(TalkState.ASSISTANT_SPEAKING),
    _assistant("resp_2", STORY_A),
    _event("server", "input_audio_buffer.speech_started", "barge-in during resp_2"),
    _state(TalkState.USER_SPEAKING),
    _event("client", "response.cancel", "resp_2"),
    _event("client", "conversation.item.truncate", "item_a2 audio_end_ms=4380"),
    Do(lambda view: view.assistant_cut("resp_2", STORY_HEARD, 4380)),
    Do(lambda view: view.assistant_done("resp_2", "cancelled")),
    _event("server", "response.done", "resp_2 cancelled"),
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
    _event("meta", "reconnect", "closed 1006; retrying in 0.5 s"),
    _state(TalkState.RECONNECTING),
    Do(lambda view: view.notice("connection lost (1006); reconnecting…")),
    Wait(1.0),
    Do(lambda view: view.notice("reconnected; session and history restored")),
    _state(TalkState.LISTENING),
    _event("server", "error", "invalid_value: voice cannot change once audio exists"),
    Do(
        lambda view: view.server_error(
            "invalid_value",
            "Cannot update a conversation's voice if assistant audio is present.",
            "evt_8Qm2",
        )
    ),
)


class DemoControls:
    """Stands in for the talk loop: answers the keys the way it would, through the view."""

    def __init__(self, view: TalkView | None = None) -> None:
        self.view = view
        self.muted = False
        self.quit_requested = asyncio.Event()

    def toggle_mute(self) -> None:
        self.muted = not self.muted
        if self.view is not None:
            self.view.set_muted(self.muted)

    def push_to_talk(self, pressed: bool) -> None:
        if self.view is None:
            return
        if pressed:
            self.view.set_state(TalkState.USER_SPEAKING)
        else:
            self.view.set_state(TalkState.LISTENING)
            self.view.notice("(demo) turn sent; nobody answers in the demo")

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
) -> None:
    """Run ``script`` against ``view``; ``speed`` > 1 plays faster."""
    for step in script:
        await step.run(view, mic, speed, sleep)


async def feed_mic(mic: Mic, speed: float, sleep: Sleep = asyncio.sleep) -> None:
    """A level per microphone block, forever (the talk loop does the same while running)."""
    while True:
        mic.block()
        await sleep(MIC_BLOCK_S / speed)


async def run_demo(
    *, push_to_talk: bool, speed: float, screenshot: str | None, show_events: bool
) -> int:
    from realtime_console.ui.tui.app import TalkApp  # Textual only when the demo runs

    controls = DemoControls()
    app = TalkApp(controls, title="realtime-console talk (demo)", push_to_talk=push_to_talk)
    controls.view = app
    mic = Mic(app)

    async def drive() -> None:
        if show_events:
            app.call_later(app.action_toggle_events)
        await play(app, mic, speed=speed)
        if screenshot is not None:
            await asyncio.sleep(0.5)  # let the last frame settle
            app.save_screenshot(screenshot)
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
