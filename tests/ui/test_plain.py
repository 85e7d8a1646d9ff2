from __future__ import annotations

import io
import json
import os

import pytest

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.output import OutputClosed
from realtime_console.ui.plain import PlainView


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_streamed_reply_is_one_line_per_response() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err)
    view.user_text("hi")
    for piece in ("Hel", "lo", "!"):
        view.assistant_delta("r1", piece)
    view.assistant_done("r1", "completed")
    view.assistant_delta("r2", "cut")
    view.assistant_done("r2", "cancelled")
    assert out.getvalue() == "you> hi\nassistant> Hello!\nassistant> cut [cancelled]\n"
    assert err.getvalue() == ""


def test_errors_go_to_stderr_and_leave_a_piped_transcript_whole() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err)
    view.assistant_delta("r1", "You")
    view.server_error("rate_limited", "slow down", "evt_7")
    view.notice("skipped a frame")
    view.assistant_delta("r1", " said")
    view.assistant_done("r1", "completed")
    assert out.getvalue() == "assistant> You said\n"
    assert err.getvalue() == (
        "server error [rate_limited]: slow down (event evt_7)\n-- skipped a frame\n"
    )


def test_on_a_terminal_a_status_line_breaks_and_resumes_the_reply() -> None:
    out = Terminal()
    view = PlainView(out, out)
    view.assistant_delta("r1", "You")
    view.server_error(None, "oops", None)
    view.assistant_delta("r1", " said")
    view.assistant_done("r1", "completed")
    assert out.getvalue() == ("assistant> You\nserver error [unknown]: oops\nassistant> … said\n")


def test_user_transcript_streams_then_finishes() -> None:
    out = io.StringIO()
    view = PlainView(out, io.StringIO())
    view.user_transcript("item_1", "hel", final=False)
    view.user_transcript("item_1", "lo", final=False)
    view.user_transcript("item_1", "hello", final=True)
    view.user_transcript("item_2", "whole", final=True)
    assert out.getvalue() == "you (heard)> hello\nyou (heard)> whole\n"


KEY = "sk-proj-abcdefghijklmnop0123"
HOSTILE = "\x1b[2J\x1b]0;title\x07red\x1b[31m\rover\u202eridden\x9b\x00"


def test_server_text_is_printed_without_terminal_controls_and_a_turn_stays_one_line() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err, redactor=Redactor())
    view.assistant_delta("r1", HOSTILE)
    view.assistant_delta("r1", "\nyou> forged line")
    view.assistant_done("r1", "completed")
    view.user_transcript("i1", "heard\x1b[8m hidden", final=True)
    view.server_error("code\x1b[1m", f"bad {HOSTILE}\nthing", "evt\r_1")
    view.notice(f"handler for x failed: {HOSTILE}")
    assert out.getvalue() == (
        "assistant> redoverridden you> forged line\nyou (heard)> heard hidden\n"
    )
    assert err.getvalue() == (
        "server error [code]: bad redoverridden thing (event evt_1)\n"
        "-- handler for x failed: redoverridden\n"
    )


def test_a_huge_one_line_message_is_bounded() -> None:
    err = io.StringIO()
    view = PlainView(io.StringIO(), err, redactor=Redactor())
    view.server_error("c" * 500, "m" * 5000, "e" * 500)
    view.notice("n" * 5000)
    error, notice = err.getvalue().splitlines()
    assert len(error) < 500 and error.count("…") == 3
    assert len(notice) <= 303 and notice.endswith("…")


def test_secrets_from_the_server_are_masked_as_in_the_event_log() -> None:
    out, err = io.StringIO(), io.StringIO()
    view = PlainView(out, err, redactor=Redactor([KEY]))
    reply = f"Your key is {KEY}. Keep it safe."
    for i in range(0, len(reply), 2):  # a transcript arrives a token at a time
        view.assistant_delta("r1", reply[i : i + 2])
    view.assistant_done("r1", "completed")
    view.user_transcript("i1", f"my key {KEY[:9]}", final=False)
    view.user_transcript("i1", f"{KEY[9:]} ok", final=False)
    view.user_transcript("i1", "", final=True)
    view.server_error("invalid_api_key", f"Incorrect API key provided: {KEY}", None)
    assert out.getvalue() == (
        f"assistant> Your key is {MASK}. Keep it safe.\nyou (heard)> my key {MASK} ok\n"
    )
    assert err.getvalue() == f"server error [invalid_api_key]: Incorrect API key provided: {MASK}\n"


def test_by_default_the_view_masks_the_processs_secrets(process_secret: str) -> None:
    secret = process_secret
    out = io.StringIO()
    view = PlainView(out, io.StringIO())
    view.assistant_delta("r1", f"echo {secret}")
    view.assistant_done("r1", "completed")
    assert out.getvalue() == f"assistant> echo {MASK}\n"


def test_a_lone_surrogate_shows_as_a_replacement_character() -> None:
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="utf-8")  # a real encoder, as stdout has
    view = PlainView(out, io.StringIO())
    view.assistant_delta("r1", json.loads('"caf\\ud800e"'))
    view.assistant_done("r1", "completed")
    assert raw.getvalue().decode("utf-8") == "assistant> caf\ufffde\n"


def test_a_reader_that_went_away_ends_the_session_quietly() -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)  # `| head` exited
    out = open(write_end, "w", encoding="utf-8")  # noqa: SIM115 - closed below
    try:
        view = PlainView(out, io.StringIO())
        with pytest.raises(OutputClosed) as closed:
            view.assistant_delta("r1", "hello")
        assert closed.value.exit_code == 0
        with pytest.raises(OutputClosed):  # every later call too, until the session ends
            view.assistant_done("r1", "completed")
        out.write("x" * 100_000)
        out.flush()  # the descriptor leads to /dev/null now: the exit flush cannot fail
    finally:
        out.close()


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
def test_a_full_device_is_a_failure_with_one_line() -> None:
    with open("/dev/full", "w", encoding="utf-8") as out:
        view = PlainView(out, io.StringIO())
        with pytest.raises(OutputClosed) as closed:
            view.user_text("hi")
        assert closed.value.exit_code == 1
        assert str(closed.value) == "cannot write to standard output: No space left on device"


def test_a_gone_stderr_drops_status_lines_and_the_conversation_goes_on() -> None:
    out = io.StringIO()
    err = io.StringIO()
    err.close()
    view = PlainView(out, err)
    view.notice("nobody hears this")
    view.user_text("hi")
    assert out.getvalue() == "you> hi\n"


def test_finish_ends_a_line_left_open_so_what_follows_starts_its_own() -> None:
    out = io.StringIO()
    view = PlainView(out, io.StringIO())
    view.assistant_delta("r1", "You sa")  # the command ends here: a drop for good, Ctrl+C
    view.finish()
    assert out.getvalue() == "assistant> You sa\n"
    view.finish()  # nothing open: nothing written
    assert out.getvalue() == "assistant> You sa\n"


def test_finish_on_a_closed_stdout_is_quiet() -> None:
    class Gone(io.StringIO):
        def write(self, text: str) -> int:
            raise BrokenPipeError(32, "Broken pipe")

    view = PlainView(Gone(), io.StringIO())
    with pytest.raises(OutputClosed):
        view.assistant_delta("r1", "x")
    view.finish()  # no second failure
