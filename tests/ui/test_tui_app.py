"""TalkApp through Textual's own pilot: keys, panes, status, lifecycle."""

from __future__ import annotations

import asyncio
import html

import pytest
from textual.pilot import Pilot
from textual.widgets import RichLog

from realtime_console._compat import TaskGroup
from realtime_console.dispatcher import Dispatcher
from realtime_console.handlers import ConsoleHandlers
from realtime_console.redact import MASK
from realtime_console.ui.tui import app as app_module
from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.conversation import AssistantTurn, Conversation
from realtime_console.ui.tui.conversation_pane import ConversationPane, TurnView
from realtime_console.ui.tui.event_pane import EventPane
from realtime_console.ui.tui.meter import FLOOR_DB, MeterBallistics
from realtime_console.ui.tui.render import CUT_MARK
from realtime_console.ui.tui.status_bar import (
    LevelMeter,
    MicBadge,
    RateLimitBadge,
    StateBadge,
    TurnInfo,
)
from realtime_console.ui.view import TalkState, TalkView

SIZE = (100, 30)


class RecordingControls:
    """A TalkControls that records what the keys asked for; ``on_quit`` plays the talk loop."""

    def __init__(self) -> None:
        self.calls: list[object] = []
        self.app: TalkApp | None = None
        self.exit_code_on_quit: int | None = None

    def toggle_mute(self) -> None:
        self.calls.append("toggle_mute")

    def push_to_talk(self, pressed: bool) -> None:
        self.calls.append(("push_to_talk", pressed))

    def quit(self) -> None:
        self.calls.append("quit")
        if self.app is not None and self.exit_code_on_quit is not None:
            self.app.exit(self.exit_code_on_quit)


def make_app(push_to_talk: bool = False) -> tuple[TalkApp, RecordingControls]:
    controls = RecordingControls()
    app = TalkApp(controls, title="talk test", push_to_talk=push_to_talk)
    controls.app = app
    return app, controls


def turn_texts(app: TalkApp) -> list[str]:
    views = app.query_one(ConversationPane).query(TurnView)
    return [str(getattr(view.content, "plain", view.content)) for view in views]


async def frame(pilot: Pilot[int]) -> None:
    """Draw what the view calls changed, as the app's frame clock does 10 times a second
    (called directly so no test depends on timing), then let Textual settle."""
    app = pilot.app
    assert isinstance(app, TalkApp)
    for _ in range(app_module.EVENT_PANE_EVERY):  # the event pane scrolls every few frames
        app.draw_frame()
    await pilot.pause()


def state_text(app: TalkApp) -> str:
    return app.query_one(StateBadge).render().plain


def test_app_is_a_talk_view() -> None:
    app, _ = make_app()
    view: TalkView = app  # checked by mypy: TalkApp implements every TalkView method
    assert view is app


async def test_mute_key_asks_the_loop_and_shows_what_it_reports() -> None:
    app, controls = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("m")
        assert controls.calls == ["toggle_mute"]
        badge = app.query_one(MicBadge)
        assert "MUTED" not in badge.render().plain  # the loop decides, not the key
        app.set_muted(True)
        await frame(pilot)
        assert "MUTED" in badge.render().plain
        app.set_muted(False)
        assert "MUTED" not in badge.render().plain


async def test_space_starts_then_sends_a_push_to_talk_turn() -> None:
    app, controls = make_app(push_to_talk=True)
    async with app.run_test(size=SIZE) as pilot:
        badge = app.query_one(MicBadge)
        assert "space to talk" in badge.render().plain
        await pilot.press("space")
        assert controls.calls == [("push_to_talk", True)]
        assert "REC" in badge.render().plain
        await pilot.press("space")
        assert controls.calls == [("push_to_talk", True), ("push_to_talk", False)]
        assert "space to talk" in badge.render().plain
        assert "Talk / send" in footer_text(app)


async def test_space_in_vad_mode_only_explains() -> None:
    app, controls = make_app(push_to_talk=False)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await pilot.press("space")
        await frame(pilot)
        assert controls.calls == []
        assert "VAD" in app.query_one(MicBadge).render().plain
        toasts = [str(t.render()) for t in app.screen.query("Toast")]
        assert any("Voice activity detection is on" in t for t in toasts)
        assert "Talk / send" not in footer_text(app)


def footer_text(app: TalkApp) -> str:
    return " ".join(
        str(widget.render()) for widget in app.screen.query("FooterKey")
    )  # FooterKey renders "key description"


@pytest.mark.parametrize("key", ["q", "ctrl+q"])
async def test_quit_key_asks_the_loop_which_ends_the_app_with_its_code(key: str) -> None:
    app, controls = make_app()
    controls.exit_code_on_quit = 7
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press(key)
        await frame(pilot)
    assert controls.calls == ["quit"]
    assert app.return_value == 7
    assert not app.interrupted


async def test_quit_exits_by_itself_when_the_loop_is_slow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_module, "QUIT_GRACE_S", 0.05)
    app, controls = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await app_exited(pilot, app)
    assert controls.calls == ["quit"]
    assert app.return_value == 0


async def test_ctrl_c_quits_with_130_when_the_loop_is_slow(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(app_module, "QUIT_GRACE_S", 0.05)
    app, controls = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("ctrl+c")
        await app_exited(pilot, app)
    assert controls.calls == ["quit"]
    assert app.return_value == 130
    assert app.interrupted


async def test_second_quit_key_exits_at_once() -> None:
    app, controls = make_app()  # default 1 s grace: the second key must not wait for it
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("q")
        await pilot.press("ctrl+c")
        await frame(pilot)
        assert app.return_value == 130
    assert controls.calls == ["quit"]  # asked once


async def app_exited(pilot: Pilot[int], app: TalkApp) -> None:
    for _ in range(200):
        if app.return_value is not None:
            return
        await pilot.pause(0.01)
    raise AssertionError("the app did not exit")


async def test_view_calls_are_drawn_by_the_frame_clock_not_per_call() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.notice("hello")
        app.assistant_delta("r1", "a")
        assert turn_texts(app) == []  # a view call only records the change
        for _ in range(500):  # the clock draws it by itself, within a frame or so
            await pilot.pause(0.01)
            if len(turn_texts(app)) == 2:
                break
        assert turn_texts(app)[0] == "· hello"


async def test_conversation_pane_shows_turns_in_order() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.session_started("sess_1", "gpt-realtime")
        app.set_state(TalkState.USER_SPEAKING)
        app.set_state(TalkState.THINKING)
        app.assistant_delta("r1", "Sunny")
        app.user_transcript("item_1", "Weather", False)
        app.user_transcript("item_1", "?", False)
        await frame(pilot)
        texts = turn_texts(app)
        assert "session sess_1 started (gpt-realtime)" in texts[0]
        assert texts[1].endswith("Weather? …")  # streaming, in the place the user spoke
        assert texts[2].endswith("Sunny▍")
        app.user_transcript("item_1", "Weather tomorrow?", True)
        app.assistant_delta("r1", " all day.")
        app.assistant_done("r1", "completed")
        app.server_error("rate_limited", "slow down", "evt_9")
        app.notice("just so you know")
        app.user_text("typed line")
        await frame(pilot)
        texts = turn_texts(app)
        assert texts[1].endswith("Weather tomorrow?")
        assert texts[2].endswith("Sunny all day.")
        assert "[rate_limited]" in texts[3] and "slow down  (event evt_9)" in texts[3]
        assert texts[4] == "· just so you know"
        assert texts[5].endswith("typed line")
        classes = [sorted(v.classes) for v in app.query(TurnView)]
        assert classes == [["notice"], ["user"], ["assistant"], ["error"], ["notice"], ["user"]]
        assert "gpt-realtime · sess_1" in app.sub_title


async def test_cut_answer_is_marked_where_the_listener_stopped_hearing() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.assistant_delta("r1", "Once upon a time there was")
        app.assistant_cut("r1", "Once upon a time", 1200)
        app.assistant_done("r1", "cancelled")
        await frame(pilot)
        (text,) = turn_texts(app)
        assert text.endswith(f"Once upon a time {CUT_MARK} cut at 1.2 s  there was [cancelled]")
        view = app.query_one(TurnView)
        content = view.content
        assert hasattr(content, "spans")
        unheard = text.index("there was")
        assert any(
            "strike" in str(span.style)
            for span in content.spans
            if span.start <= unheard < span.end
        )
        svg = html.unescape(app.export_screenshot()).replace("\xa0", " ")
        assert "cut at 1.2 s" in svg and "[cancelled]" in svg


async def test_status_bar_follows_state_and_latency() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        assert "connecting" in state_text(app)
        for state in TalkState:
            app.set_state(state)
            await frame(pilot)
            assert state.value in state_text(app)
        widths = set()
        for state in TalkState:
            app.set_state(state)
            widths.add(len(state_text(app)))
        assert len(widths) == 1  # the parts to the right never jump
        info = app.query_one(TurnInfo)
        assert "—" in info.render().plain
        app.turn_latency(612.4)
        assert "612 ms" in info.render().plain


async def test_mic_meter_draws_levels_without_a_redraw_per_block() -> None:
    app, _ = make_app()
    app.meter = MeterBallistics(release_db_per_s=600.0)  # falls to the floor in a few frames
    async with app.run_test(size=SIZE) as pilot:
        meter = app.query_one(LevelMeter)
        assert meter.shown_db == FLOOR_DB
        for level in (-40.0, -6.2, -30.0):
            app.mic_level(level)
        assert meter.shown_db == FLOOR_DB  # a view call only records the level...
        meter.sample()  # ...the meter's next frame draws the loudest since the last one
        assert meter.shown_db == -6.0
        assert "-6 dB" in meter.render().plain
        app.mic_level(-120.0)
        for _ in range(400):  # on the frame clock alone the display falls back to the floor
            await pilot.pause(0.01)
            if meter.shown_db == FLOOR_DB:
                break
        assert meter.shown_db == FLOOR_DB


async def test_event_log_pane_toggles_and_keeps_the_last_500_lines() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        pane = app.query_one(EventPane)
        assert not pane.display
        for n in range(620):
            app.event_line("server" if n % 2 else "client", f"type_{n}", f"summary {n}")
        assert len(pane.lines) == 0  # hidden: nothing drawn
        await pilot.press("l")
        await frame(pilot)
        assert pane.display
        assert len(pane.lines) == 500
        assert "type_120" in pane.lines[0].text and "type_619" in pane.lines[-1].text
        assert pane.border_title == "events · last 500 (120 older dropped)"
        app.event_line("meta", "reconnect", "1006")
        await frame(pilot)
        assert len(pane.lines) == 500 and "reconnect" in pane.lines[-1].text
        await pilot.press("l")
        assert not pane.display
        assert isinstance(pane, RichLog)


async def test_calls_before_mount_are_shown_once_mounted() -> None:
    app, _ = make_app()
    app.session_started("sess_early", "gpt-realtime-mini")
    app.set_state(TalkState.LISTENING)
    app.set_muted(True)
    app.turn_latency(321.0)
    app.user_transcript("i1", "early words", True)
    app.assistant_delta("r1", "early answer")
    app.event_line("server", "session.created", "sess_early")
    app.mic_level(-20.0)
    async with app.run_test(size=SIZE) as pilot:
        await frame(pilot)
        texts = turn_texts(app)
        assert "session sess_early" in texts[0]
        assert texts[1].endswith("early words")
        assert texts[2].endswith("early answer▍")
        assert "listening" in state_text(app)
        assert "MUTED" in app.query_one(MicBadge).render().plain
        assert "321 ms" in app.query_one(TurnInfo).render().plain
        assert app.query_one(LevelMeter).shown_db > FLOOR_DB
        await pilot.press("l")
        await frame(pilot)
        assert "session.created" in app.query_one(EventPane).lines[-1].text


def every_view_call(app: TalkApp) -> None:
    app.session_started("s", "m")
    app.user_text("t")
    app.user_transcript("i", "x", False)
    app.assistant_delta("r", "y")
    app.assistant_cut("r", "", 10)
    app.assistant_done("r", "cancelled")
    app.server_error("c", "m", None)
    app.notice("n")
    app.set_state(TalkState.USER_SPEAKING)
    app.set_state(TalkState.LISTENING)
    app.set_muted(True)
    app.mic_level(-3.0)
    app.turn_latency(1.0)
    app.event_line("client", "e", "")


async def test_calls_after_exit_do_not_raise() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("l")
        app.exit(0)
        every_view_call(app)  # exiting, not yet gone
    every_view_call(app)
    assert app.conversation.turns  # the model still takes them


async def test_calls_after_the_app_task_is_cancelled_do_not_raise() -> None:
    """The talk loop's TaskGroup cancels the app task when another task fails."""
    app, _ = make_app()
    async with TaskGroup() as tasks:
        ui = tasks.create_task(app.run_async(headless=True, size=SIZE))
        for _ in range(500):
            if app.showing:
                break
            await asyncio.sleep(0.01)
        assert app.showing
        every_view_call(app)
        ui.cancel()  # (Textual ends the app and returns instead of raising CancelledError)
    assert not app.showing
    every_view_call(app)


async def test_run_the_way_the_talk_loop_does() -> None:
    """``await app.run_async()`` as one task of a TaskGroup; another task makes the view calls
    (outside Textual's context), then ends the app with its exit code."""
    app, _ = make_app()
    seen: list[str] = []

    async def talk_loop() -> None:
        every_view_call(app)  # before the first frame
        for n in range(30):
            app.assistant_delta("r_loop", f" w{n}")
            app.event_line("server", "response.output_audio_transcript.delta", f"w{n}")
            app.mic_level(-20.0 - n)
            await asyncio.sleep(0.01)
        app.assistant_done("r_loop", "completed")
        for _ in range(500):
            await asyncio.sleep(0.01)
            seen[:] = turn_texts(app) if app.showing else []
            if any(text.endswith(" w29") for text in seen):
                break
        app.exit(5)

    async with TaskGroup() as tasks:
        tasks.create_task(talk_loop())
        result = await app.run_async(headless=True, size=SIZE)
    assert result == 5
    answer = "".join(f" w{n}" for n in range(30))
    assert any(text.endswith(answer) for text in seen)  # every delta, in order, drawn
    every_view_call(app)


async def test_pane_follows_the_newest_turn_unless_scrolled_up() -> None:
    app, _ = make_app()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(ConversationPane)
        for n in range(12):
            app.notice(f"line {n}")
        await frame(pilot)
        assert pane.max_scroll_y > 0
        assert pane.scroll_y == pane.max_scroll_y
        await pilot.press("home")  # the user scrolls up to read
        await frame(pilot)
        assert pane.scroll_y == 0
        app.notice("new while reading")
        await frame(pilot)
        assert pane.scroll_y == 0  # not yanked down
        await pilot.press("end")
        app.notice("newest")
        await frame(pilot)
        assert pane.scroll_y == pane.max_scroll_y


async def test_old_turns_drop_off_the_pane() -> None:
    app, _ = make_app()
    app.conversation = Conversation(max_turns=3)
    async with app.run_test(size=SIZE) as pilot:
        for n in range(5):
            app.notice(f"n{n}")
        await frame(pilot)
        assert turn_texts(app) == ["· n2", "· n3", "· n4"]
        assert len(app.query(TurnView)) == 3


async def test_latency_is_shown_on_the_answer_it_measured() -> None:
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.user_transcript("i1", "hi", True)
        app.turn_latency(640.0)
        app.assistant_delta("r1", "Hello")
        await frame(pilot)
        assert "↳ 640 ms" in turn_texts(app)[1]
        (answer,) = (t for t in app.conversation.turns if isinstance(t, AssistantTurn))
        assert answer.latency_ms == 640.0


async def test_the_pane_shows_server_text_cleaned_and_masked_by_the_processs_redactor(
    process_secret: str,
) -> None:
    secret = process_secret
    app, _ = make_app()
    async with app.run_test(size=SIZE) as pilot:
        app.assistant_delta("r1", f"\x1b[2Jkey {secret[:7]}")
        app.assistant_delta("r1", f"{secret[7:]}\r ok")
        app.assistant_done("r1", "completed")
        app.server_error("invalid_api_key", f"Incorrect API key {secret}\x1b]0;t\x07", "evt_1")
        await frame(pilot)
        texts = turn_texts(app)
        assert texts[0].endswith(f"key {MASK} ok")
        assert texts[1].endswith(f"Incorrect API key {MASK}  (event evt_1)")
        assert not any(secret[:8] in text or "\x1b" in text for text in texts)


def wired(app: TalkApp) -> Dispatcher:
    """The app as the talk loop wires it: server events through ``ConsoleHandlers``."""
    dispatcher = Dispatcher()
    dispatcher.register(ConsoleHandlers(app).table())
    return dispatcher


def limits_event(requests_left: int, tokens_left: int) -> dict[str, object]:
    return {
        "type": "rate_limits.updated",
        "rate_limits": [
            {"name": "requests", "limit": 5000, "remaining": requests_left, "reset_seconds": 0.1},
            {"name": "tokens", "limit": 40000, "remaining": tokens_left, "reset_seconds": 7.5},
        ],
    }


async def test_status_bar_shows_the_most_constrained_rate_limit() -> None:
    app, _ = make_app()
    dispatcher = wired(app)
    await dispatcher.dispatch(limits_event(4999, 12_300))  # before mount: shown once mounted
    async with app.run_test(size=SIZE) as pilot:
        badge = app.query_one(RateLimitBadge)
        await frame(pilot)
        assert badge.render().plain.strip() == "tokens 12.3k/40k left"
        assert badge.region.width > 0  # really on the bar, not squeezed out
        await dispatcher.dispatch(limits_event(4999, 1_500))
        await frame(pilot)
        assert badge.render().plain.strip() == "tokens 1.5k/40k left, resets in 7.5 s"
        await dispatcher.dispatch(limits_event(100, 39_000))  # now requests is the tightest
        await frame(pilot)
        assert badge.render().plain.strip() == "requests 100/5k left, resets in 0.1 s"


async def test_a_final_transcript_replaces_the_turns_text() -> None:
    app, _ = make_app()
    dispatcher = wired(app)
    async with app.run_test(size=SIZE) as pilot:
        for delta in ("Helo ", "wrld"):
            await dispatcher.dispatch(
                {
                    "type": "response.output_audio_transcript.delta",
                    "response_id": "r1",
                    "item_id": "i1",
                    "delta": delta,
                }
            )
        await frame(pilot)
        assert any("Helo wrld" in text for text in turn_texts(app))
        await dispatcher.dispatch(
            {
                "type": "response.output_audio_transcript.done",
                "response_id": "r1",
                "item_id": "i1",
                "transcript": "Hello world",
            }
        )
        await dispatcher.dispatch(
            {"type": "response.done", "response": {"id": "r1", "status": "completed"}}
        )
        await frame(pilot)
        texts = turn_texts(app)
        assert any("Hello world" in text for text in texts)
        assert not any("Helo" in text for text in texts) and len(texts) == 1
