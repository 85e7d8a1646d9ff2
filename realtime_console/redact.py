"""Keeps secrets out of logs, event logs and the screen.

Two nets: values under secret-looking keys are masked wherever they appear, and every string is
scrubbed of the exact secrets this process knows (API keys, bearer tokens as they are minted).

The process has one ``Redactor`` (:func:`process_redactor`): ``cli.main`` hands it to every
command, auth adds each secret to it as it is read or minted, and the views default to it, so
the screen masks exactly what the event log masks. Text printed as it streams (transcript
deltas, where a key arrives a few characters at a time) goes through a :class:`StreamRedactor`.
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
        for secret in tuple(self._secrets):  # a snapshot: auth may add one meanwhile
            if secret in value:
                value = value.replace(secret, MASK)
        return _BEARER.sub(rf"\g<1>{MASK}", value)

    def held_tail(self, value: str) -> int:
        """How many characters at the end of ``value`` could be the start of a secret.

        Streamed text shows them only once the next piece proves they are not one.
        """
        longest = 0
        for secret in tuple(self._secrets):
            i = value.find(secret[0], max(0, len(value) - len(secret) + 1))
            while i != -1 and len(value) - i > longest:
                if secret.startswith(value[i:]):
                    longest = len(value) - i
                    break
                i = value.find(secret[0], i + 1)
        return longest

    def value(self, value: Any) -> Any:
        """A redacted copy of a JSON-like value (dicts, lists, strings, scalars)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            masked = {
                k: (MASK if isinstance(k, str) and _SECRET_KEY.match(k) and v else self.value(v))
                for k, v in value.items()
            }
            headers = masked.get("headers")
            if value.get("type") == "mcp" and isinstance(headers, Mapping):
                # An MCP server's headers carry its credentials, whatever their names.
                masked["headers"] = {name: MASK for name in headers}
            return masked
        if isinstance(value, list | tuple):
            return [self.value(v) for v in value]
        return value


_PROCESS_REDACTOR = Redactor()


def process_redactor() -> Redactor:
    """This process's redactor: the one every secret is added to (see the module docstring)."""
    return _PROCESS_REDACTOR


class StreamRedactor:
    """Redacts text printed piece by piece: a secret split across pieces is masked too.

    ``feed`` returns what can be printed now and holds back an end that could be the start of
    a secret; ``flush`` (the line ends) returns what was held, redacted.
    """

    def __init__(self, redactor: Redactor) -> None:
        self._redactor = redactor
        self._held = ""

    def feed(self, piece: str) -> str:
        text = self._redactor.text(self._held + piece)
        keep = self._redactor.held_tail(text)
        self._held = text[len(text) - keep :] if keep else ""
        return text[: len(text) - keep]

    def flush(self) -> str:
        held, self._held = self._held, ""
        return self._redactor.text(held)


class RedactingFilter(logging.Filter):
    """Scrubs log records (the SDK and websockets log URLs and headers at debug level)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = self._redactor.text(record.getMessage())
        record.args = None
        return True
