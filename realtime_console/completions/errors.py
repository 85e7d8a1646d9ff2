"""Maps what the ``openai`` SDK raises during a chat completion to one line each.

This is the edge that calls the library (docs/architecture.md): every failure becomes a
``CompletionsError`` (exit 1) whose message says what happened, where, and the fix, with the
service's own message included, cleaned (control characters stripped, bounded length, known
secrets masked). Failures the user must fix locally (no credential, bad settings) are raised
before any request, as ``AuthError`` / ``ConfigError``, and keep exit code 2.

``failure_of`` is the raw material shared with the client, which logs every failed attempt and
decides whether to retry it (see ``retry.py``).
"""

from __future__ import annotations

import asyncio
import re
import socket
import ssl
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from realtime_console.errors import ConsoleError
from realtime_console.redact import Redactor

if TYPE_CHECKING:
    from realtime_console.completions.target import CompletionsTarget

MAX_MESSAGE_CHARS = 300  # a service message is quoted, not dumped: one line stays readable
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

FailureKind = Literal["status", "timeout", "connection", "stream", "other"]


class CompletionsError(ConsoleError):
    """A chat completion failed: the service said no, or could not be reached in time."""

    exit_code = 1

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.status = status
        self.code = code


class AudioNotFound(CompletionsError):
    """HTTP 400 ``audio_not_found``: an earlier reply's ``audio.id`` is unknown or expired.
    The caller re-sends the conversation with transcripts instead."""


@dataclass(frozen=True)
class Failure:
    """One failed attempt, as the event log records it and the retry policy judges it."""

    kind: FailureKind
    status: int | None
    code: str | None
    param: str | None
    message: str  # the service's message, cleaned; else what happened, in a few words
    retry_after_s: float | None = None  # the service's retry-after-ms / retry-after hint


def clean_message(text: str, redactor: Redactor | None = None) -> str:
    """One bounded line: control characters become spaces, runs of space collapse, secrets are
    masked (before cutting, so half a key is never left behind)."""
    text = " ".join(_CONTROL.sub(" ", text).split())
    if redactor is not None:
        text = redactor.text(text)
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[: MAX_MESSAGE_CHARS - 1].rstrip() + "…"
    return text


def _causes(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _connection_reason(exc: BaseException) -> str:
    """What went wrong under the SDK's generic "Connection error.", from the cause chain."""
    for cause in _causes(exc):
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host name not found (DNS)"
        if isinstance(cause, ssl.SSLError):
            return f"TLS handshake failed ({cause.reason or cause})"
        if isinstance(cause, OSError) and cause.strerror:
            return cause.strerror[:1].lower() + cause.strerror[1:]
    # httpx2 reports some of these as text only ("[Errno 111] Connection refused").
    deepest = list(_causes(exc))[-1]
    text = str(deepest)
    if "refused" in text.lower():
        return "connection refused"
    return text or type(deepest).__name__


def retry_after_s(headers: Any) -> float | None:
    """The wait a 429 / 503 asks for: ``retry-after-ms`` (Azure, OpenAI), else ``retry-after``
    in seconds or as an HTTP date."""
    import email.utils
    import time

    try:
        millis = headers.get("retry-after-ms")
        if millis is not None:
            return max(0.0, float(millis) / 1000.0)
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return max(0.0, float(value))
        except ValueError:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError, OverflowError):
        return None  # a hint we cannot read: fall back to our own back-off


def failure_of(exc: BaseException, redactor: Redactor | None = None) -> Failure:
    """Classify what ``chat.completions.create`` (or reading its stream) raised."""
    import openai

    if isinstance(exc, openai.APITimeoutError | asyncio.TimeoutError | TimeoutError):
        return Failure("timeout", None, None, None, "no answer in time")
    if isinstance(exc, openai.APIConnectionError):
        return Failure("connection", None, None, None, _connection_reason(exc))
    if isinstance(exc, openai.APIStatusError):
        body = exc.body if isinstance(exc.body, dict) else {}
        message = body.get("message") if isinstance(body.get("message"), str) else None
        if message is None:  # not the service's JSON error body: say what came back
            message = str(exc.body)[:200] if exc.body else exc.message
        return Failure(
            "status",
            exc.status_code,
            exc.code,
            exc.param,
            clean_message(message, redactor),
            retry_after_s(exc.response.headers),
        )
    if isinstance(exc, openai.APIError):  # an error event inside an SSE stream
        return Failure("stream", None, exc.code, exc.param, clean_message(exc.message, redactor))
    text = str(exc) or type(exc).__name__
    return Failure("other", None, None, None, clean_message(text, redactor))


# --- one line per case ------------------------------------------------------------------------

# What to check when a credential is refused, by where it came from (CompletionsTarget.credential).
_REJECTED_FIX = {
    "AZURE_OPENAI_API_KEY": "check that AZURE_OPENAI_API_KEY is a key of this resource "
    "(or unset it to sign in with Entra ID)",
    "OPENAI_API_KEY": "check OPENAI_API_KEY",
    "Entra ID": "sign in again (`az login`) with an account of this resource's tenant, "
    "or set AZURE_OPENAI_API_KEY",
    "local server key": "the local server did not accept its own key; this is a bug",
}
_FORBIDDEN_FIX = {
    "Entra ID": "give your account the Cognitive Services OpenAI User role on the resource",
}
_ENDPOINT_VARIABLE = {
    "azure": "AZURE_OPENAI_ENDPOINT",
    "openai": "OPENAI_BASE_URL",
    "local": "the local server",
}


@dataclass(frozen=True)
class _Context:
    target: CompletionsTarget
    failure: Failure
    timeout_s: float | None
    retries: int

    @property
    def where(self) -> str:
        return self.target.describe()

    @property
    def said(self) -> str:
        """``: <service message> (param P)``, or nothing when the service said nothing."""
        f = self.failure
        text = f": {f.message}" if f.message else ""
        return text + (f" (param {f.param})" if f.param else "")

    @property
    def after(self) -> str:
        n = self.retries
        return f" after {n} {'retry' if n == 1 else 'retries'}" if n else ""


def _bad_request(c: _Context) -> str:
    return f"the service refused the request (HTTP 400){c.said}"


def _unauthorized(c: _Context) -> str:
    source = c.target.credential or "the credential"
    fix = _REJECTED_FIX.get(c.target.credential, "check the credential")
    return f"{c.where} rejected the credential ({source}, HTTP 401){c.said}; {fix}"


def _forbidden(c: _Context) -> str:
    fix = _FORBIDDEN_FIX.get(
        c.target.credential, "check the resource's network rules and the credential's access"
    )
    return f"{c.where} denied access (HTTP 403){c.said}; {fix}"


def _not_found(c: _Context) -> str:
    t = c.target
    if t.api == "azure-deployments":
        return (
            f"no deployment named {t.model} at {t.base_url} (HTTP 404 with api-version "
            f"{t.api_version}){c.said}; check AZURE_OPENAI_DEPLOYMENT_NAME / completions.model, "
            "and that connection.api_version (OPENAI_API_VERSION) is one the resource supports"
        )
    if t.api == "azure-v1":
        return (
            f"no deployment named {t.model} at {t.base_url} (HTTP 404){c.said}; "
            "check AZURE_OPENAI_DEPLOYMENT_NAME / completions.model"
        )
    return (
        f"no model named {t.model} at {t.base_url} (HTTP 404){c.said}; "
        "check completions.model and the endpoint (OPENAI_BASE_URL)"
    )


def _too_large(c: _Context) -> str:
    return (
        f"the request is too large for {c.where} (HTTP 413){c.said}; "
        "send shorter audio, or /reset a long conversation"
    )


def _rate_limited(c: _Context) -> str:
    head = f"still rate limited{c.after}" if c.retries else "rate limited"
    return (
        f"{head} by {c.where} (HTTP 429){c.said}; wait a minute and try again, "
        "or raise completions.max_retries"
    )


_BY_STATUS: dict[int, Callable[[_Context], str]] = {
    400: _bad_request,
    401: _unauthorized,
    403: _forbidden,
    404: _not_found,
    413: _too_large,
    429: _rate_limited,
}


def _status_line(c: _Context) -> str:
    status = c.failure.status or 0
    line = _BY_STATUS.get(status)
    if line is not None:
        return line(c)
    if status >= 500:
        return f"{c.where} failed (HTTP {status}){c.after}{c.said}; try again later"
    return f"{c.where} answered HTTP {status}{c.said}"


def _timeout_line(c: _Context) -> str:
    limit = f"completions.timeout_s = {c.timeout_s:g} s" if c.timeout_s else "the time limit"
    return f"no answer within {limit} from {c.where}; try again, or raise completions.timeout_s"


def _connection_line(c: _Context) -> str:
    variable = _ENDPOINT_VARIABLE.get(c.target.provider, "the endpoint")
    return (
        f"cannot connect to {c.where}: {c.failure.message}{c.after}; "
        f"check the endpoint ({variable}) and the network"
    )


def _stream_line(c: _Context) -> str:
    code = f" [{c.failure.code}]" if c.failure.code else ""
    return f"{c.where} reported an error mid-reply{code}: {c.failure.message}"


def _other_line(c: _Context) -> str:
    return f"chat completion at {c.where} failed: {c.failure.message}"


_BY_KIND: dict[FailureKind, Callable[[_Context], str]] = {
    "status": _status_line,
    "timeout": _timeout_line,
    "connection": _connection_line,
    "stream": _stream_line,
    "other": _other_line,
}


def error_for(
    failure: Failure,
    target: CompletionsTarget,
    *,
    timeout_s: float | None = None,
    retries: int = 0,
) -> CompletionsError:
    """The one-line error for a classified failure (``retries``: how many were made before)."""
    line = _BY_KIND[failure.kind](_Context(target, failure, timeout_s, retries))
    cls = AudioNotFound if failure.code == "audio_not_found" else CompletionsError
    return cls(line, status=failure.status, code=failure.code)


def from_sdk_error(
    exc: BaseException,
    target: CompletionsTarget,
    *,
    redactor: Redactor | None = None,
    timeout_s: float | None = None,
    retries: int = 0,
) -> ConsoleError:
    """What the SDK raised → the ``ConsoleError`` to show. Console errors (an Entra sign-in that
    failed inside the SDK's token call) pass through unchanged."""
    if isinstance(exc, ConsoleError):
        return exc
    return error_for(failure_of(exc, redactor), target, timeout_s=timeout_s, retries=retries)
