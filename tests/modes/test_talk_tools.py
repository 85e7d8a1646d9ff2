"""Function calling in ``talk`` end to end on fake sound devices: the real talk loop, the real SDK
client and the local server. The server cannot recognise speech, so ``tools.tool_choice`` names
the tool: every spoken turn then calls it (docs/local-server.md)."""

from __future__ import annotations

import asyncio
import io
import json
import os
from dataclasses import replace
from pathlib import Path

from realtime_console.config import ConnectionSettings, LogSettings, Settings
from realtime_console.config.settings import ToolsSettings
from realtime_console.eventlog import read_log
from realtime_console.modes.talk import run_talk
from realtime_console.modes.talk_controls import TalkCommands
from realtime_console.redact import Redactor
from realtime_console.ui.lines import StdinLines, ToolPrompts
from realtime_console.ui.view import TalkState
from tests.modes.test_chat_tools import CLOCK
from tests.modes.test_talk import Devices, silence, start_talk, tone, until
from tests.modes.test_talk_handlers import RecordingView


def tool_settings(log: Path, tool: str) -> Settings:
    return Settings(
        connection=ConnectionSettings(provider="local"),
        log=LogSettings(events=str(log)),
        tools=ToolsSettings(files=(CLOCK,), tool_choice=tool),
    )


def transcripts(log: Path) -> list[str]:
    return [
        r.event["transcript"]
        for r in read_log(log)
        if r.dir == "server" and r.event["type"] == "response.output_audio_transcript.done"
    ]


async def test_a_spoken_turn_runs_the_tool_while_the_filler_plays_and_the_answer_uses_it(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(tool_settings(log, "local_time"), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: any("returned" in t for t in transcripts(log)), timeout=30)
        await until(lambda: len(view.named("assistant_done")) >= 2)
        controls.quit()
        assert await asyncio.wait_for(talk, 10) == 0
    finally:
        talk.cancel()

    (call,) = view.named("tool_call")
    name, arguments, outcome, duration_ms = call
    assert (name, arguments) == ("local_time", "{}")  # no argument: its default city
    assert outcome == '-> {"city": "Paris", "time": "12:34"}'
    assert duration_ms >= 400
    # It ran while the filler was being spoken: the last state before its line is speaking.
    names = [n for n, _ in view.calls]
    before = [args[0] for n, args in view.calls[: names.index("tool_call")] if n == "set_state"]
    assert before[-1] is TalkState.ASSISTANT_SPEAKING

    records = list(read_log(log))
    client = [r.event for r in records if r.dir == "client"]
    (output,) = [
        e["item"]
        for e in client
        if e["type"] == "conversation.item.create" and e["item"]["type"] == "function_call_output"
    ]
    assert json.loads(output["output"]) == {"city": "Paris", "time": "12:34"}
    assert [e["status"] for r in records if r.dir == "meta" for e in [r.event]
            if e["type"] == "tool_call"] == ["ok"]  # fmt: skip
    said = transcripts(log)
    assert said[0] == "(local server) Calling local_time."
    assert said[1] == f"(local server) local_time returned {output['output']}."
    creates = [e for e in client if e["type"] == "response.create"]
    assert len(creates) == 1  # the voice turn's response is the server's; one after the output
    # The session forces the call; the reply to the output may choose, or it would call again.
    assert creates[0]["response"] == {"tool_choice": "auto"}
    assert not [r for r in records if r.dir == "server" and r.event["type"] == "error"]


async def test_speaking_during_a_tool_call_cancels_it_and_the_new_turn_goes_on(
    tmp_path: Path,
) -> None:
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    talk = start_talk(tool_settings(log, "slow_lookup"), devices, view, controls)
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: len(view.named("assistant_done")) >= 1)  # the filler is complete
        await asyncio.sleep(0.3)
        devices.inputs[0].feed(tone(700) + silence(400))  # the user speaks while it runs
        await until(lambda: bool(view.named("tool_call")))
        # The new turn is answered (here, by another call of the tool: tool_choice names it).
        await until(lambda: len(view.named("assistant_done")) >= 2, timeout=30)
        controls.quit()
        assert await asyncio.wait_for(talk, 10) == 0
    finally:
        talk.cancel()

    first = view.named("tool_call")[0]
    assert first[0] == "slow_lookup"
    assert first[2] == "cancelled (the user spoke)"
    records = list(read_log(log))
    notes = [r.event for r in records if r.dir == "meta" and r.event["type"] == "tool_call"]
    assert notes[0]["status"] == "cancelled"
    assert notes[0]["duration_ms"] < 5000  # cut short: the handler sleeps 10 s
    outputs = [
        r.event
        for r in records
        if r.dir == "client"
        and r.event["type"] == "conversation.item.create"
        and r.event["item"]["type"] == "function_call_output"
    ]
    assert outputs == []  # nothing is sent for a cancelled call
    server = [r.event for r in records if r.dir == "server"]
    assert not [e for e in server if e["type"] == "error"]
    done = [e["response"]["status"] for e in server if e["type"] == "response.done"]
    assert done[-1] == "completed" and len(done) >= 2  # the new turn got its reply
    assert [e for e in server if e["type"] == "input_audio_buffer.speech_started"][1:]


async def test_confirm_mode_asks_through_the_prompts_talk_is_given(tmp_path: Path) -> None:
    """``talk --plain`` reads the answer as a line of stdin (here a piped one)."""
    log = tmp_path / "talk.jsonl"
    devices, view, controls = Devices(), RecordingView(), TalkCommands()
    settings = tool_settings(log, "local_time")
    settings = replace(settings, tools=replace(settings.tools, mode="confirm"))
    prompts = ToolPrompts(StdinLines(io.StringIO("y\n")), view)
    talk = asyncio.ensure_future(
        run_talk(
            settings,
            controls=controls,
            view=view,
            env=os.environ,
            redactor=Redactor(),
            backend=devices.backend(),
            tool_prompts=prompts,
        )
    )
    try:
        await until(lambda: TalkState.LISTENING in view.states)
        devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
        await until(lambda: any("returned" in t for t in transcripts(log)), timeout=30)
        controls.quit()
        assert await asyncio.wait_for(talk, 10) == 0
    finally:
        talk.cancel()
    assert view.named("prompt_answer") == [("tool local_time({}) run it? [y/n] ", "y")]
    (call,) = view.named("tool_call")
    assert call[2] == '-> {"city": "Paris", "time": "12:34"}'


async def test_confirm_in_the_full_screen_ui_is_a_dialog_answered_with_a_key(
    tmp_path: Path,
) -> None:
    """The real talk loop drives the Textual app (headless, under pilot) as its view; the
    call's question is a dialog, ``y`` runs the tool, and the spoken reply quotes its output."""
    from realtime_console.modes.tool_calls import ViewPrompts
    from realtime_console.ui.tui.app import TalkApp
    from realtime_console.ui.tui.conversation import AssistantTurn, ToolEntry
    from realtime_console.ui.tui.prompt_dialog import YesNoDialog

    log = tmp_path / "talk.jsonl"
    devices, controls = Devices(), TalkCommands()
    settings = tool_settings(log, "local_time")
    settings = replace(settings, tools=replace(settings.tools, mode="confirm"))
    app = TalkApp(controls, title="talk", push_to_talk=False)

    def completed_replies() -> list[AssistantTurn]:
        turns = app.conversation.turns
        return [t for t in turns if isinstance(t, AssistantTurn) and t.status == "completed"]

    async with app.run_test(size=(100, 30)) as pilot:
        talk = asyncio.ensure_future(
            run_talk(
                settings,
                controls=controls,
                view=app,
                env=os.environ,
                redactor=Redactor(),
                backend=devices.backend(),
                tool_prompts=ViewPrompts(app),  # what `talk` passes with the full-screen UI
            )
        )
        try:
            await until(lambda: app.state is TalkState.LISTENING)
            devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
            await until(lambda: isinstance(app.screen, YesNoDialog), timeout=30)
            dialog = app.screen
            assert isinstance(dialog, YesNoDialog) and dialog.call_text == "local_time({})"
            await pilot.pause()
            await pilot.press("y")
            await until(lambda: any("returned" in t for t in transcripts(log)), timeout=30)
            await until(lambda: len(completed_replies()) >= 2)
            controls.quit()
            assert await asyncio.wait_for(talk, 10) == 0
        finally:
            talk.cancel()
        assert not isinstance(app.screen, YesNoDialog)

    (entry,) = [t for t in app.conversation.turns if isinstance(t, ToolEntry)]
    assert entry.name == "local_time"
    assert entry.outcome == '-> {"city": "Paris", "time": "12:34"}'
    output = '{"city": "Paris", "time": "12:34"}'
    assert output in completed_replies()[-1].text  # the reply to the call quotes its output
    notes = [r.event for r in read_log(log) if r.dir == "meta" and r.event["type"] == "tool_call"]
    assert [n["status"] for n in notes] == ["ok"]


async def test_speaking_while_a_dialog_is_open_withdraws_it(tmp_path: Path) -> None:
    """A barge-in cancels the call whose question is on screen: its dialog closes by itself;
    the new turn's call asks again, and ``n`` declines it."""
    from realtime_console.modes.tool_calls import ViewPrompts
    from realtime_console.ui.tui.app import TalkApp
    from realtime_console.ui.tui.conversation import ToolEntry
    from realtime_console.ui.tui.prompt_dialog import YesNoDialog

    log = tmp_path / "talk.jsonl"
    devices, controls = Devices(), TalkCommands()
    settings = tool_settings(log, "local_time")
    settings = replace(settings, tools=replace(settings.tools, mode="confirm"))
    app = TalkApp(controls, title="talk", push_to_talk=False)

    def entries() -> list[ToolEntry]:
        return [t for t in app.conversation.turns if isinstance(t, ToolEntry)]

    async with app.run_test(size=(100, 30)) as pilot:
        talk = asyncio.ensure_future(
            run_talk(
                settings,
                controls=controls,
                view=app,
                env=os.environ,
                redactor=Redactor(),
                backend=devices.backend(),
                tool_prompts=ViewPrompts(app),
            )
        )
        try:
            await until(lambda: app.state is TalkState.LISTENING)
            devices.inputs[0].feed(silence(200) + tone(900) + silence(100))
            await until(lambda: isinstance(app.screen, YesNoDialog), timeout=30)
            first = app.screen
            devices.inputs[0].feed(tone(700) + silence(400))  # the user speaks instead
            await until(lambda: app.screen is not first and bool(entries()))
            assert entries()[0].outcome == "cancelled (the user spoke)"
            await until(lambda: isinstance(app.screen, YesNoDialog), timeout=30)
            await pilot.pause()
            await pilot.press("n")
            await until(lambda: len(entries()) == 2)
            assert entries()[1].outcome == "declined"
            controls.quit()
            assert await asyncio.wait_for(talk, 10) == 0
        finally:
            talk.cancel()
    assert app.questions.asked == 2
    notes = [r.event for r in read_log(log) if r.dir == "meta" and r.event["type"] == "tool_call"]
    assert [n["status"] for n in notes] == ["cancelled", "declined"]
