"""Keeps secrets out of logs, event logs and the screen.

Two nets: values under secret-looking keys are masked wherever they appear, and every string is
scrubbed of the exact secrets this process knows (API keys, bearer tokens as they are minted).
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

_SECRET_KEY = re.compile(
    r"^(api[-_]?key|authorization|client[-_]?secret|access[-_]?token|token|password|secret)$",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}")


class Redactor:
    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str) -> None:
        # Very short strings would mask ordinary words; real keys and tokens are long.
        if len(secret) >= 8:
            self._secrets.add(secret)

    def text(self, value: str) -> str:
        for secret in self._secrets:
            if secret in value:
                value = value.replace(secret, MASK)
        return _BEARER.sub(rf"\g<1>{MASK}", value)

    def value(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value (dicts, lists, strings, scalars)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {
                k: (MASK if isinstance(k, str) and _SECRET_KEY.match(k) and v else self.value(v))
                for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


class RedactingFilter(logging.Filter):
    """Scrubs log records (the SDK and websockets log URLs and headers at debug level)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        return True
