from __future__ import annotations

import pytest

from realtime_console.redact import MASK, Redactor
from realtime_console.ui.sanitize import LINE_LIMIT, clean, screen_line, shorten

KEY = "sk-test-0123456789abcdef"


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain words, ünïcödé, 日本語 and 👩‍👩‍👧", "plain words, ünïcödé, 日本語 and 👩‍👩‍👧"),
        ("\x1b[31mred\x1b[0m", "red"),  # colour (CSI)
        ("\x1b[2J\x1b[Hcleared", "cleared"),  # clear screen, cursor home
        ("\x1b]0;pwned title\x07after", "after"),  # window title (OSC … BEL)
        ("\x1b]52;c;ZWNobyBoaQ==\x1b\\after", "after"),  # clipboard write (OSC … ST)
        ("\x1bcreset", "reset"),  # a two-character escape (full reset)
        ("safe\rEVIL", "safeEVIL"),  # carriage return would overwrite the line
        ("a\x00b\x07c\x08d\x7fe", "abcde"),  # NUL, BEL, backspace, DEL
        ("\x9b31mC1\x85x", "31mC1x"),  # C1 CSI and NEL are control characters too
        ("user\u202egnp.exe", "usergnp.exe"),  # right-to-left override
        ("\u2066iso\u2069 \u200fmark\u061c", "iso mark"),  # isolates, marks
        ("tab\there", "tab here"),
        ("\ud800 lone", "\ufffd lone"),  # a JSON "\ud800" decodes to a lone surrogate
    ],
)
def test_clean_strips_terminal_controls(raw: str, shown: str) -> None:
    assert clean(raw) == shown
    shown.encode("utf-8")  # always printable by a UTF-8 terminal


def test_line_breaks_are_spaces_in_one_line_text_and_kept_on_request() -> None:
    assert clean("one\ntwo\u2028three") == "one two three"
    assert clean("one\r\ntwo\u2029three", newlines=True) == "one\ntwo\nthree"


def test_a_long_message_is_bounded_with_an_ellipsis() -> None:
    assert shorten("x" * 5000, 300) == "x" * 299 + "…"
    assert shorten("short", 300) == "short"
    shown = screen_line("y" * 5000, Redactor())
    assert len(shown) == LINE_LIMIT and shown.endswith("…")


def test_screen_line_redacts_after_cleaning_and_before_bounding() -> None:
    redactor = Redactor([KEY])
    # A control character inside the key must not smuggle it past the redactor …
    split = KEY[:5] + "\x1b[0m" + KEY[5:]
    assert screen_line(f"key {split}\n", redactor) == f"key {MASK} "
    # … and a bound falling inside the key must not show its start.
    across_the_bound = "z" * (LINE_LIMIT - 10) + KEY + " and more" * 50
    shown = screen_line(across_the_bound, redactor)
    assert KEY[:8] not in shown and MASK in shown and shown.endswith("…")
