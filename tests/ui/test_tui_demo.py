from __future__ import annotations

import asyncio
import html
from pathlib import Path

import pytest

from realtime_console.replay.event_lines import summarize_event
from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.conversation import AssistantTurn, ServerError, UserSpeech
from realtime_console.ui.tui.demo import (
    SCRIPT,
    STORY_HEARD,
    DemoControls,
    Mic,
    main,
    play,
    room_level,
    run_demo,
    speech_level,
)
from realtime_console.ui.tui.status_bar import MicBadge, StateBadge
from realtime_console.ui.view import TalkState


async def no_wait(seconds: float) -> None:
    return None


async def test_script_drives_every_kind_of_turn_through_the_app() -> None:
    controls = DemoControls()
    app = TalkApp(controls, title="demo", push_to_talk=False)
    controls.view = app
    async with app.run_test(size=(100, 30)) as pilot:
        await play(app, Mic(app), SCRIPT, sleep=no_wait)
        app.draw_frame()
        await pilot.pause()
        turns = app.conversation.turns
        users = [t for t in turns if isinstance(t, UserSpeech)]
        answers = [t for t in turns if isinstance(t, AssistantTurn)]
        assert [u.final for u in users] == [True, True, True]
        assert [a.status for a in answers] == ["completed", "cancelled", "completed"]
        cut = answers[1].cut
        assert cut is not None and cut.heard_text == STORY_HEARD
        assert answers[1].split_at_cut()[0] == STORY_HEARD
        assert any(isinstance(t, ServerError) for t in turns)
        assert app.state is TalkState.LISTENING
        assert "listening" in app.query_one(StateBadge).render().plain
        assert app.events.total > 10


def test_levels_look_like_speech_over_room_noise() -> None:
    speech = [speech_level(n * 0.02) for n in range(100)]
    assert max(speech) > -15.0 and min(speech) < -50.0
    assert all(-60.0 < room_level(n * 0.02) < -50.0 for n in range(100))


def state_of(app: TalkApp) -> TalkState:
    """The app's state now (a call, so a type checker does not carry an earlier check over)."""
    return app.state


async def test_push_to_talk_holds_each_user_turn_for_the_key() -> None:
    controls = DemoControls(push_to_talk=True)
    app = TalkApp(controls, title="demo", push_to_talk=True)
    controls.view = app
    async with app.run_test(size=(100, 30)) as pilot:
        script = asyncio.create_task(play(app, Mic(app), SCRIPT, sleep=no_wait, gate=controls))
        await pilot.pause()
        assert state_of(app) is TalkState.LISTENING and not script.done()  # waits for space
        assert not [t for t in app.conversation.turns if isinstance(t, UserSpeech)]
        await pilot.press("space")  # take the turn: the user speaks
        await pilot.pause()
        assert state_of(app) is TalkState.USER_SPEAKING and not script.done()  # waits to send
        await pilot.press("space")  # send it: the reply follows
        await pilot.pause()
        answers = [t for t in app.conversation.turns if isinstance(t, AssistantTurn)]
        assert [a.status for a in answers] == ["completed"]
        for _ in range(4):  # turn 2 (start, send), the barge-in (start, send)
            await pilot.press("space")
            await pilot.pause()
        await asyncio.wait_for(script, 5)
        answers = [t for t in app.conversation.turns if isinstance(t, AssistantTurn)]
        assert [a.status for a in answers] == ["completed", "cancelled", "completed"]


async def test_muted_the_next_user_turn_waits_until_unmuted() -> None:
    controls = DemoControls()
    app = TalkApp(controls, title="demo", push_to_talk=False)
    controls.view = app
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("m")
        assert "MUTED" in app.query_one(MicBadge).render().plain
        script = asyncio.create_task(play(app, Mic(app), SCRIPT, sleep=no_wait, gate=controls))
        await pilot.pause()
        assert not script.done() and app.state is TalkState.LISTENING
        assert not [t for t in app.conversation.turns if isinstance(t, UserSpeech)]
        await pilot.press("m")  # unmuted: the conversation goes on
        await asyncio.wait_for(script, 5)
        assert len([t for t in app.conversation.turns if isinstance(t, UserSpeech)]) == 3
        await pilot.press("q")
        assert controls.quit_requested.is_set()


async def test_the_demo_pane_uses_the_one_summariser() -> None:
    controls = DemoControls()
    app = TalkApp(controls, title="demo", push_to_talk=False)
    controls.view = app
    async with app.run_test(size=(100, 30)):
        await play(app, Mic(app), SCRIPT, sleep=no_wait)
    shown = {(line.event_type, line.summary) for line in app.events}
    cut = {"type": "conversation.item.truncate", "item_id": "item_a2", "audio_end_ms": 4380}
    assert ("conversation.item.truncate", summarize_event("client", cut)) in shown
    assert ("conversation.item.truncate", "item_a2 audio_end_ms=4380") in shown
    assert ("session.created", "sess_DEMO42, server_vad, voice marin, transcription on") in shown
    assert ("response.done", "resp_1 completed 1840 tokens") in shown


async def test_screenshot_mode_plays_the_script_and_saves_an_svg(tmp_path: Path) -> None:
    out = tmp_path / "talk.svg"
    code = await run_demo(push_to_talk=False, speed=200.0, screenshot=str(out), show_events=True)
    assert code == 0
    svg = html.unescape(out.read_text(encoding="utf-8")).replace("\xa0", " ")
    assert "cut at 4.4 s" in svg
    assert "events · last" in svg
    assert "She rescued the sailor" in svg


def test_speed_must_be_positive(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--speed", "0"])
    assert exit_info.value.code == 2
    assert "--speed must be > 0" in capsys.readouterr().err
