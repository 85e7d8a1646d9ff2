from __future__ import annotations

import io

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
