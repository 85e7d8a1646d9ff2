from __future__ import annotations

from rich.text import Text

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.tui.conversation import (
    AssistantTurn,
    Cut,
    Notice,
    ServerError,
    UserSpeech,
    UserText,
)
from realtime_console.ui.tui.render import CUT_MARK, STREAMING_CURSOR, css_class, render_turn


def styles_at(text: Text, index: int) -> str:
    """Every style covering character ``index``, joined (spans only; enough for these checks)."""
    return " ".join(str(span.style) for span in text.spans if span.start <= index < span.end)


def body(text: Text) -> str:
    return text.plain.split("\n", 1)[1]


def test_streaming_answer_has_a_cursor_and_completed_has_none() -> None:
    turn = AssistantTurn(0, 0.0, response_id="r", text="Hello")
    assert body(render_turn(turn)) == "Hello" + STREAMING_CURSOR
    turn.status = "completed"
    assert body(render_turn(turn)) == "Hello"


def test_cut_answer_marks_the_cut_and_strikes_the_unheard_rest() -> None:
    turn = AssistantTurn(
        0, 0.0, response_id="r", text="Once upon a time", status="cancelled", cut=Cut("Once", 1234)
    )
    text = render_turn(turn)
    assert body(text) == f"Once {CUT_MARK} cut at 1.2 s  upon a time [cancelled]"
    turn.cut = Cut("Once", 1234, talked_over_ms=71.5)  # the barge-in's timing, when known
    assert body(render_turn(turn)) == (
        f"Once {CUT_MARK} cut at 1.2 s, 72 ms after you spoke  upon a time [cancelled]"
    )
    plain = text.plain
    heard_at = plain.index("Once")
    unheard_at = plain.index("upon")
    assert "strike" not in styles_at(text, heard_at)
    assert "strike" in styles_at(text, unheard_at) and "dim" in styles_at(text, unheard_at)
    assert "yellow" in styles_at(text, plain.index("[cancelled]"))


def test_failed_and_unknown_statuses_are_tagged() -> None:
    failed = render_turn(AssistantTurn(0, 0.0, response_id="r", text="x", status="failed"))
    assert failed.plain.endswith("x [failed]")
    assert "red" in styles_at(failed, failed.plain.index("[failed]"))
    odd = render_turn(AssistantTurn(0, 0.0, response_id="r", text="x", status="paused"))
    assert odd.plain.endswith("x [paused]")


def test_answer_without_transcript_says_so() -> None:
    text = render_turn(AssistantTurn(0, 0.0, response_id="r", status="cancelled"))
    assert body(text) == " [cancelled] (no transcript)"


def test_latency_is_shown_in_the_answer_header() -> None:
    text = render_turn(AssistantTurn(0, 0.0, response_id="r", text="Hi", latency_ms=612.4))
    assert "↳ 612 ms" in text.plain.split("\n")[0]


def test_user_speech_placeholder_partial_and_final() -> None:
    turn = UserSpeech(0, 0.0)
    assert body(render_turn(turn)) == "speaking…"
    turn.speaking = False
    assert body(render_turn(turn)) == "(spoke; no transcript yet)"
    turn.item_id, turn.text = "i", "What's"
    assert body(render_turn(turn)) == "What's …"
    turn.text, turn.final = "What's up?", True
    assert body(render_turn(turn)) == "What's up?"
    turn.text = ""
    assert body(render_turn(turn)) == "(no words recognised)"


def test_error_notice_and_typed_text() -> None:
    error = render_turn(ServerError(0, 0.0, code=None, message="boom", event_id="evt_1"))
    assert error.plain.startswith("✖ server error [unknown]")
    assert body(error) == "boom  (event evt_1)"
    assert "red" in styles_at(error, error.plain.index("boom"))
    assert render_turn(Notice(0, 0.0, text="hello")).plain == "· hello"
    typed = render_turn(UserText(0, 0.0, text="hi there"))
    assert typed.plain.startswith("you") and body(typed) == "hi there"


def test_every_turn_kind_has_a_css_class() -> None:
    turns = [
        UserSpeech(0, 0.0),
        UserText(0, 0.0),
        AssistantTurn(0, 0.0),
        ServerError(0, 0.0),
        Notice(0, 0.0),
    ]
    assert [css_class(t) for t in turns] == ["user", "user", "assistant", "error", "notice"]


KEY = "sk-tui-0123456789abcdefgh"


def test_turn_text_is_cleaned_of_terminal_controls_but_keeps_its_lines() -> None:
    turn = AssistantTurn(
        0, 0.0, response_id="r", text="one\x1b[2J\r\nt\u202ewo\x1b]0;t\x07", status="completed"
    )
    assert body(render_turn(turn, Redactor())) == "one\ntwo"
    typed = render_turn(UserText(0, 0.0, text="hi\x1b[31m there"), Redactor())
    assert body(typed) == "hi there"
    speech = UserSpeech(0, 0.0, item_id="i", text="heard\x00 \ud800", final=True)
    assert body(render_turn(speech, Redactor())) == "heard \ufffd"


def test_a_secret_split_across_deltas_is_masked_and_never_shown_half_way() -> None:
    redactor = Redactor([KEY])
    turn = AssistantTurn(0, 0.0, response_id="r", text=f"key {KEY[:10]}")
    assert body(render_turn(turn, redactor)) == "key " + STREAMING_CURSOR  # start held back
    turn.text += KEY[10:] + " done"
    assert body(render_turn(turn, redactor)) == f"key {MASK} done" + STREAMING_CURSOR
    speech = UserSpeech(0, 0.0, item_id="i", text=f"my {KEY[:4]}")
    assert body(render_turn(speech, redactor)) == "my  …"


def test_a_secret_across_the_cut_is_masked_whole() -> None:
    redactor = Redactor([KEY])
    text = f"say {KEY} twice"
    cut = Cut(text[:12], 900)  # the listener heard part of the key
    turn = AssistantTurn(0, 0.0, response_id="r", text=text, status="cancelled", cut=cut)
    shown = body(render_turn(turn, redactor))
    assert KEY[4:8] not in shown and MASK in shown


def test_errors_and_notices_are_one_bounded_line() -> None:
    error = ServerError(0, 0.0, code="c\x1b[1m", message=f"{KEY}\n" + "m" * 5000, event_id="e\r1")
    text = render_turn(error, Redactor([KEY]))
    message = body(text)
    assert message.startswith(f"{MASK} mmm") and len(message) < 320 and "…" in message
    assert "[c]" in text.plain and "(event e1)" in text.plain
    notice = render_turn(Notice(0, 0.0, text="n\x1b[5m" * 2000), Redactor())
    assert len(notice.plain) <= 302 and "\x1b" not in notice.plain
