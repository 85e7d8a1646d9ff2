from __future__ import annotations

import asyncio
import io
import os
from typing import Any

import pytest

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.output import OutputClosed
from realtime_console.ui.plain_talk import PlainTalkView
from realtime_console.ui.view import TalkState, TalkView


def view(**kwargs: Any) -> tuple[PlainTalkView, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return PlainTalkView(out, err, **kwargs), out, err


def test_implements_the_talk_view_protocol() -> None:
    talk_view: TalkView = view()[0]
    assert talk_view is not None


def test_state_changes_are_status_lines_once_each() -> None:
    v, out, err = view()
    v.set_state(TalkState.LISTENING)
    v.set_state(TalkState.LISTENING)
    v.set_state(TalkState.USER_SPEAKING)
    assert err.getvalue() == "-- listening\n-- user speaking\n"
    assert out.getvalue() == ""


def test_barge_in_ends_the_open_line_and_shows_what_was_heard() -> None:
    v, out, _ = view()
    v.assistant_delta("r1", "one two three four")
    v.assistant_cut("r1", "one two", 420)
    v.assistant_done("r1", "cancelled")  # already marked: no second mark
    v.assistant_delta("r2", "Sure.")
    v.assistant_done("r2", "completed")
    assert out.getvalue() == (
        "assistant> one two three four [cut at 0.4 s; heard “one two”]\nassistant> Sure.\n"
    )


def test_cut_before_any_word_was_heard() -> None:
    v, out, _ = view()
    v.assistant_cut("r1", "", 0)
    assert out.getvalue() == "assistant (cut)> [cut at 0.0 s; heard nothing]\n"


def test_the_cut_says_how_long_the_reply_went_on_over_the_user_when_known() -> None:
    v, out, _ = view()
    v.assistant_delta("r1", "one two three four")
    v.assistant_cut("r1", "one two", 420, 72.6)
    assert out.getvalue() == (
        "assistant> one two three four [cut at 0.4 s, 73 ms after you spoke; heard “one two”]\n"
    )


def test_latency_mute_and_level() -> None:
    v, out, err = view()
    v.turn_latency(812.4)
    v.set_muted(True)
    v.set_muted(False)
    v.mic_level(-23.5)
    assert err.getvalue().splitlines() == [
        "-- turn latency 812 ms (speech stopped → first audio)",
        "-- microphone muted",
        "-- microphone on",
    ]
    assert v.last_level_dbfs == -23.5
    assert out.getvalue() == ""


def test_event_lines_only_when_asked() -> None:
    quiet, _, quiet_err = view()
    quiet.event_line("server", "response.done", "")
    assert quiet_err.getvalue() == ""
    loud, _, loud_err = view(events=True)
    loud.event_line("client", "conversation.item.truncate", "item_id=i1 audio_end_ms=420")
    assert (
        loud_err.getvalue() == "-- client conversation.item.truncate item_id=i1 audio_end_ms=420\n"
    )


def test_a_failed_response_is_still_reported() -> None:
    v, _, err = view()
    v.assistant_done("r7", "failed")
    assert "response r7 failed" in err.getvalue()


async def test_reply_text_waits_for_the_users_transcript_so_turns_read_in_order() -> None:
    v, out, _ = view()
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "Sunny ")  # the reply starts before the transcript is done
    v.assistant_delta("r1", "and mild.")
    assert out.getvalue() == ""
    v.user_transcript("item_1", "Weather tomorrow?", final=True)
    v.assistant_done("r1", "completed")
    assert out.getvalue() == "you (heard)> Weather tomorrow?\nassistant> Sunny and mild.\n"


async def test_held_text_is_released_when_no_transcript_comes() -> None:
    import asyncio

    out, err = io.StringIO(), io.StringIO()
    v = PlainTalkView(out, err, hold_s=0.05)
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "Hello")
    await asyncio.sleep(0.2)
    assert out.getvalue() == "assistant> Hello"
    v.user_transcript("item_1", "late", final=True)  # still shown, after the reply began
    assert out.getvalue() == "assistant> Hello\nyou (heard)> late\n"


def test_without_transcription_nothing_is_held() -> None:
    out, err = io.StringIO(), io.StringIO()
    v = PlainTalkView(out, err, transcripts=False)
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "Hi")
    assert out.getvalue() == "assistant> Hi"


async def test_a_cut_while_held_prints_the_text_then_the_cut() -> None:
    v, out, _ = view()
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "one two three")
    v.assistant_cut("r1", "one", 200)
    assert out.getvalue() == ("assistant> one two three [cut at 0.2 s; heard “one”]\n")


def test_cut_marks_and_event_lines_are_cleaned_and_redacted() -> None:
    key = "sk-talk-0123456789abcdef"
    v, out, err = view(events=True, transcripts=False, redactor=Redactor([key]))
    v.assistant_delta("r1", f"read {key[:6]}")
    v.assistant_delta("r1", f"{key[6:]} \x1b[31maloud")
    v.assistant_cut("r1", f"read {key} \x1b[31ma", 900)
    v.event_line("server", "error\x1b[2J", f"Incorrect key {key}\r")
    assert out.getvalue() == (
        f"assistant> read {MASK} aloud [cut at 0.9 s; heard “read {MASK} a”]\n"
    )
    assert err.getvalue() == f"-- server error Incorrect key {MASK}\n"


async def test_a_stdout_gone_while_text_was_held_ends_the_session_at_the_next_call() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    with os.fdopen(write_end, "w", encoding="utf-8") as out:
        v = PlainTalkView(out, io.StringIO(), hold_s=0.01)
        v.set_state(TalkState.USER_SPEAKING)  # a transcript is pending: the reply is held
        v.assistant_delta("r1", "held")
        await asyncio.sleep(0.05)  # released by the timer, into a pipe nobody reads
        with pytest.raises(OutputClosed) as closed:
            v.set_state(TalkState.LISTENING)
        assert closed.value.exit_code == 0


async def test_a_final_text_of_held_deltas_is_printed_instead_of_them() -> None:
    v, out, _ = view(hold_s=30.0)
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "Sunny an")
    v.assistant_final("r1", "Sunny and mild.")  # nothing of r1 printed yet: no correction line
    v.user_transcript("item_1", "Weather tomorrow?", final=True)
    v.assistant_done("r1", "completed")
    assert out.getvalue() == "you (heard)> Weather tomorrow?\nassistant> Sunny and mild.\n"


async def test_a_final_text_after_printed_deltas_is_one_corrected_line() -> None:
    v, out, _ = view(transcripts=False)
    v.assistant_delta("r1", "Sunny an")
    v.assistant_final("r1", "Sunny and mild.")
    v.assistant_done("r1", "completed")
    assert out.getvalue() == "assistant> Sunny an\nassistant (final)> Sunny and mild.\n"


async def test_a_cut_reply_keeps_its_cut_line_without_a_final_one() -> None:
    v, out, _ = view(transcripts=False)
    v.assistant_delta("r1", "one two")
    v.assistant_cut("r1", "one", 200)
    v.assistant_final("r1", "one two three")
    assert "final" not in out.getvalue()


def test_a_cut_after_the_reply_line_ended_is_one_line_naming_the_reply() -> None:
    v, out, _ = view()
    v.assistant_delta("r1", "Once upon a time there lived a keeper.")
    v.assistant_done("r1", "completed")  # the text is complete long before its audio is
    v.assistant_cut("r1", "Once upon a time", 4380)
    assert out.getvalue() == (
        "assistant> Once upon a time there lived a keeper.\n"
        "assistant (cut)> [cut at 4.4 s; heard “Once upon a time”]\n"
    )


def test_talk_status_waits_for_the_open_line_instead_of_splitting_it() -> None:
    v, out, err = view(transcripts=False)
    v.set_state(TalkState.THINKING)
    v.assistant_delta("r1", "You")
    v.set_state(TalkState.ASSISTANT_SPEAKING)
    v.turn_latency(612)
    v.assistant_delta("r1", " said")
    assert err.getvalue() == "-- thinking\n"  # nothing cut into the reply's line
    v.assistant_done("r1", "completed")
    assert out.getvalue() == "assistant> You said\n"
    assert err.getvalue() == (
        "-- thinking\n-- assistant speaking\n"
        "-- turn latency 612 ms (speech stopped → first audio)\n"
    )


def test_only_the_latest_waiting_state_is_said() -> None:
    v, _, err = view(transcripts=False)
    v.assistant_delta("r1", "Hi")
    v.set_state(TalkState.ASSISTANT_SPEAKING)
    v.set_state(TalkState.LISTENING)
    v.assistant_done("r1", "completed")
    assert err.getvalue() == "-- listening\n"


def test_push_to_talk_states_name_the_key() -> None:
    v, _, err = view(push_to_talk=True)
    v.set_state(TalkState.LISTENING)
    v.set_state(TalkState.USER_SPEAKING)
    v.set_state(TalkState.THINKING)
    assert err.getvalue() == (
        "-- ready: press space to talk\n-- recording: press space to send\n-- thinking\n"
    )


def test_finish_prints_held_text_and_ends_the_line() -> None:
    v, out, _ = view()
    v.set_state(TalkState.USER_SPEAKING)
    v.assistant_delta("r1", "held reply")  # waiting for the user's transcript
    v.finish()  # the connection was lost for good: the error comes next
    assert out.getvalue() == "assistant> held reply\n"


def test_underruns_of_a_reply_are_one_line_after_it_never_splitting_it() -> None:
    v, out, err = view(transcripts=False)
    v.playback_status(40.0, 0)  # the buffer alone is never a line
    v.set_state(TalkState.ASSISTANT_SPEAKING)
    v.assistant_delta("r1", "Hello")
    v.playback_status(80.0, 1)
    v.playback_status(100.0, 2)  # still replying: nothing yet
    v.assistant_done("r1", "completed")
    assert err.getvalue() == "-- assistant speaking\n"
    v.set_state(TalkState.LISTENING)  # the reply's audio is over
    assert out.getvalue() == "assistant> Hello\n"
    assert err.getvalue() == (
        "-- assistant speaking\n"
        "-- playback ran dry 2 times in that reply; buffer now 100 ms\n"
        "-- listening\n"
    )
    v.playback_status(90.0, 2)  # the same count again: said already
    v.playback_status(90.0, 3)  # counted a second late, after the reply: said then, once
    v.playback_status(90.0, 3)
    assert err.getvalue().endswith("-- playback ran dry once in that reply; buffer now 90 ms\n")
    assert err.getvalue().count("playback ran dry") == 2


def test_underruns_said_while_the_users_line_is_open_wait_for_it() -> None:
    v, out, err = view()
    v.set_state(TalkState.ASSISTANT_SPEAKING)
    v.playback_status(60.0, 1)
    v.user_transcript("u1", "wait", final=False)  # the user barges in, their line opens
    v.set_state(TalkState.USER_SPEAKING)
    assert err.getvalue() == "-- assistant speaking\n"
    v.user_transcript("u1", "", final=True)
    assert err.getvalue() == (
        "-- assistant speaking\n"
        "-- playback ran dry once in that reply; buffer now 60 ms\n"
        "-- user speaking\n"
    )
    assert out.getvalue().startswith("you (heard)> wait")
