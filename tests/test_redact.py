from __future__ import annotations

import logging

import pytest

from realtime_console.redact import (
    MASK,
    RedactingFilter,
    Redactor,
    StreamRedactor,
    process_redactor,
)


def test_known_secrets_and_bearer_tokens_are_masked_in_nested_values() -> None:
    redactor = Redactor(["my-secret-key-123"])
    value = {
        "headers": {"Authorization": "Bearer eyJhbGciOi.payload.sig", "api-key": "x" * 10},
        "list": ["prefix my-secret-key-123 suffix", 3, None],
        "text": "call with Bearer abcdefghijklmnop now",
    }
    out = redactor.value(value)
    assert out["headers"] == {"Authorization": MASK, "api-key": MASK}
    assert out["list"] == [f"prefix {MASK} suffix", 3, None]
    assert out["text"] == f"call with Bearer {MASK} now"


def test_short_strings_are_not_treated_as_secrets() -> None:
    assert Redactor(["abc"]).text("abc abc") == "abc abc"


def test_logging_filter_scrubs_formatted_messages(caplog: pytest.LogCaptureFixture) -> None:
    redactor = Redactor()
    logger = logging.getLogger("test.redact")
    logger.addFilter(RedactingFilter(redactor))
    redactor.add("token-minted-later-0001")
    with caplog.at_level(logging.DEBUG, logger="test.redact"):
        logger.debug("headers %s", {"authorization": "token-minted-later-0001"})
    assert "token-minted-later-0001" not in caplog.text
    assert MASK in caplog.text


KEY = "sk-live-0123456789abcdef"


def test_a_secret_streamed_in_pieces_never_shows_and_other_text_is_not_held() -> None:
    stream = StreamRedactor(Redactor([KEY]))
    text = f"the key is {KEY}, as you asked."
    shown = [stream.feed(text[i : i + 3]) for i in range(0, len(text), 3)]
    shown.append(stream.flush())
    assert "".join(shown) == f"the key is {MASK}, as you asked."
    assert all(KEY[:3] not in piece for piece in shown)
    # Text that cannot be the start of a secret is shown at once, piece by piece.
    assert stream.feed("hello ") == "hello " and stream.feed("world") == "world"


def test_a_held_start_is_released_when_the_next_piece_shows_it_is_not_a_secret() -> None:
    stream = StreamRedactor(Redactor([KEY]))
    assert stream.feed("ask sk-li") == "ask "  # could be the key: held
    assert stream.feed("ne by line") == "sk-line by line"
    assert stream.feed("... sk-") == "... "
    assert stream.flush() == "sk-"  # the line ended: what was held is shown


def test_held_tail_counts_the_longest_possible_start_of_a_secret() -> None:
    redactor = Redactor([KEY, "another-secret-value"])
    assert redactor.held_tail("nothing here") == 0
    assert redactor.held_tail("say s") == 1
    assert redactor.held_tail("say sk-live-01") == len("sk-live-01")
    assert redactor.held_tail("x ano") == 3
    assert redactor.held_tail(KEY) == 0  # a whole secret is the redactor's job, not held


def test_the_process_has_one_redactor() -> None:
    assert process_redactor() is process_redactor()
