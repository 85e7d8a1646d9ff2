from __future__ import annotations

import logging

import pytest

from realtime_console.redact import MASK, RedactingFilter, Redactor


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
