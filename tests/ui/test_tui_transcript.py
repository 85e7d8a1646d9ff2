"""What the full-screen UI leaves on the terminal after ``q``: the conversation and one line."""

from __future__ import annotations

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.tui.app import TalkApp
from realtime_console.ui.tui.conversation import Conversation
from realtime_console.ui.tui.demo import SCRIPT, DemoControls, Mic, play
from realtime_console.ui.tui.transcript import ended_line, transcript_lines


async def no_wait(seconds: float) -> None:
    return None


async def test_the_demo_conversation_is_left_as_lines_after_the_app_closed() -> None:
    controls = DemoControls()
    app = TalkApp(controls, title="demo", push_to_talk=False)
    controls.view = app
    async with app.run_test(size=(100, 30)):
        await play(app, Mic(app), SCRIPT, sleep=no_wait)
    lines, ended = app.closing_report("talk.jsonl")
    assert [line.split(">")[0] for line in lines] == [
        "you (heard)",
        "assistant",
        "you (heard)",
        "assistant",
        "you (heard)",
        "assistant",
        "server error [invalid_value]: Cannot update a conversation's voice if assistant audio is "
        "present.",
    ]
    assert lines[0] == "you (heard)> What's the weather going to be like in Lisbon tomorrow?"
    assert lines[3].endswith(
        " [cut at 4.4 s; heard “Once upon a time, on a rocky island far from the coast, "
        "there lived”]"
    )
    assert ended == "-- talk ended: 3 replies, 1 cut, 1 server error; event log: talk.jsonl"


def test_server_text_is_cleaned_and_redacted_and_an_empty_session_says_so() -> None:
    key = "sk-transcript-0123456789"
    conversation = Conversation()
    conversation.assistant_delta("r1", f"the key is {key}\x1b[2J")
    conversation.assistant_done("r1", "failed")
    lines = transcript_lines(conversation.turns, Redactor([key]))
    assert lines == [f"assistant> the key is {MASK} [failed]"]
    assert ended_line([], None) == (
        "-- talk ended: 0 replies; no event log (--log-events FILE keeps one)"
    )


def test_a_cut_reply_says_how_long_it_went_on_over_the_user_when_known() -> None:
    conversation = Conversation()
    conversation.assistant_delta("r1", "Once upon a time")
    conversation.assistant_cut("r1", "Once", 1234, 88.2)
    conversation.assistant_done("r1", "cancelled")
    lines = transcript_lines(conversation.turns, Redactor())
    assert lines == [
        "assistant> Once upon a time [cut at 1.2 s, 88 ms after you spoke; heard “Once”]"
    ]
