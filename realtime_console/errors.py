"""The console's one exception tree.

Every failure the user can cause or the world can inflict is one of these; the CLI maps each to
an exit code and prints ``str(error)`` as a single line. Anything else is a bug and keeps its
traceback.

::

    ConsoleError                  exit 1 unless a subclass says otherwise
    ├── ConfigError               exit 2: bad flag, bad profile key/value, unknown profile
    ├── AuthError                 exit 2: no credential configured
    │   └── CredentialError       exit 1: a configured credential could not produce a token (Entra)
    ├── ConnectionLost            exit 1: handshake refused, socket dropped for good
    ├── AudioDeviceError          exit 2: no PortAudio, no device, device cannot open
    └── LogFormatError            exit 2: an event log that cannot be read at all
"""

from __future__ import annotations

import sys

if sys.version_info >= (3, 11):
    from builtins import BaseExceptionGroup as BaseExceptionGroup
else:  # pragma: no cover - exercised only on 3.10
    from exceptiongroup import BaseExceptionGroup as BaseExceptionGroup


class ConsoleError(Exception):
    """Base of every expected failure. ``str()`` is the one line shown to the user."""

    exit_code: int = 1


class ConfigError(ConsoleError):
    """A setting is unknown, mistyped or impossible. The message names the key and its source."""

    exit_code = 2


class AuthError(ConsoleError):
    """No usable credential is configured. The message names the variables to set."""

    exit_code = 2


class CredentialError(AuthError):
    """A configured credential failed to produce a token (e.g. Entra ID without ``az login``)."""

    exit_code = 1


class ConnectionLost(ConsoleError):
    """The realtime connection could not be opened, or was lost and not recovered."""

    exit_code = 1


class AudioDeviceError(ConsoleError):
    """PortAudio or the requested audio device is missing or cannot be opened."""

    exit_code = 2


class LogFormatError(ConsoleError):
    """An event log cannot be read at all (missing, not a log, unsupported version)."""

    exit_code = 2


def leaf_exceptions(exc: BaseException) -> list[BaseException]:
    """The non-group exceptions inside ``exc`` (TaskGroup wraps failures in groups)."""
    if isinstance(exc, BaseExceptionGroup):
        return [leaf for inner in exc.exceptions for leaf in leaf_exceptions(inner)]
    return [exc]
