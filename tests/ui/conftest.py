from __future__ import annotations

from collections.abc import Iterator

import pytest

from realtime_console.redact import process_redactor


@pytest.fixture
def process_secret() -> Iterator[str]:
    """A secret the process knows (as auth would add it), forgotten again after the test so
    other tests' text is not masked or held back."""
    secret = "sk-process-0123456789abcdef"
    redactor = process_redactor()
    redactor.add(secret)
    try:
        yield secret
    finally:
        redactor._secrets.discard(secret)
