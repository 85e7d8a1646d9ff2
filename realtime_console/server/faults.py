"""Fault injection: network cuts, delays, bad frames, refusals and HTTP errors, reproducibly.

``FaultPlan`` says what should go wrong; it is the same for ``ServerOptions(faults=...)`` in
tests and ``serve --faults SPEC`` on the command line. ``FaultInjector`` is one connection's
pure state: the pump asks it what to do with each server event and carries out the ``Action``s
it returns (send a frame, sleep, abort the TCP connection, stall). Jitter comes from a
``random.Random`` seeded by ``seed`` and the connection's number, so a run is repeatable.
``http_fault`` is the chat-completions routes' counterpart: the error (status, service-shaped
body, headers) to answer a numbered request with, if any.

Spec syntax: comma-separated ``name=value`` pairs, for example
``drop_after=40,delay_ms=50,jitter_ms=30,malformed_at=5,unknown_at=3,error_at=7,refuse=2,seed=1``.

- ``drop_after=N``   after the N-th server event, abort the TCP connection (no close frame: the
                     client sees 1006, as after a network cut)
- ``drop_at=TYPE``   abort instead of sending the first event of TYPE
- ``delay_ms=MS``    hold every delta event (``*.delta``) MS milliseconds before sending it
- ``jitter_ms=MS``   plus a random 0..MS milliseconds
- ``malformed_at=N`` send a frame that is not JSON just before the N-th server event
- ``unknown_at=N``   send an event of unknown type (``local.fault.unknown``) before the N-th
- ``error_at=N``     send a ``server_error`` ``error`` event before the N-th
- ``refuse=N``       refuse the first N WebSocket handshakes with HTTP 503
- ``stall_after=N``  after the N-th server event, send nothing more (the socket stays open)
- ``drop_connections=N`` apply ``drop_after`` / ``drop_at`` / ``stall_after`` to the first N
                     connections only (default 0: to every one), so a client that reconnects
                     gets a healthy connection
- ``seed=N``         seed for the jitter (default 0)

Chat completions (HTTP):

- ``http_status=CODE``  answer chat-completion requests with this status and the service's
                        error body: 429 (rate limit, with ``retry-after``), 500, 502, 503
                        (server errors), 404 (``DeploymentNotFound``), 403 (``PermissionDenied``)
- ``http_errors=N``     ... the first N requests only (default 1); later ones are served
- ``http_retry_after_s=S`` the 429's ``retry-after`` (seconds, may be fractional: "0.1") and
                        ``retry-after-ms`` headers (default 1)
- ``http_stall_after_chunks=N`` a streamed completion sends N chunks (0: only the headers), then
                        nothing more, keeping the socket open, so client timeouts can be tested

Event counts are per connection and start at 1 with ``session.created``; HTTP requests are
counted per server from 1, counting those that passed auth.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from realtime_console.errors import ConfigError

UNKNOWN_EVENT_TYPE = "local.fault.unknown"
MALFORMED_FRAME = '{"type": "response.output_audio.delta", "delta": '  # cut short: not JSON

# Injectable HTTP errors: status → (error type, code, message), worded as the services word them
# (404 and 403 are what Azure OpenAI answers for a missing deployment or a missing role).
HTTP_FAULTS: Mapping[int, tuple[str, str, str]] = MappingProxyType(
    {
        403: (
            "invalid_request_error",
            "PermissionDenied",
            "Principal does not have access to API/Operation. (injected fault)",
        ),
        404: (
            "invalid_request_error",
            "DeploymentNotFound",
            "The API deployment for this resource does not exist. If you created the deployment "
            "within the last 5 minutes, please wait a moment and try again. (injected fault)",
        ),
        429: (
            "requests",
            "rate_limit_exceeded",
            "Rate limit reached for requests. Please try again in {retry_after}s. (injected fault)",
        ),
        500: (
            "server_error",
            "server_error",
            "The server had an error while processing your request. Sorry about that! "
            "(injected fault)",
        ),
        502: ("server_error", "bad_gateway", "Bad gateway. (injected fault)"),
        503: (
            "server_error",
            "server_overloaded",
            "The server is overloaded or not ready yet. (injected fault)",
        ),
    }
)


@dataclass(frozen=True, kw_only=True)
class FaultPlan:
    drop_after: int | None = None
    drop_at: str | None = None
    delay_ms: float = 0.0
    jitter_ms: float = 0.0
    malformed_at: int | None = None
    unknown_at: int | None = None
    error_at: int | None = None
    refuse: int = 0
    stall_after: int | None = None
    drop_connections: int = 0
    seed: int = 0
    http_status: int | None = None
    http_errors: int = 1
    http_retry_after_s: float = 1.0
    http_stall_after_chunks: int | None = None

    def __post_init__(self) -> None:
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool) and value < 0:
                raise ConfigError(f"--faults: {field.name} must be >= 0, got {value}")
        for name in ("drop_after", "malformed_at", "unknown_at", "error_at", "stall_after"):
            if getattr(self, name) == 0:
                raise ConfigError(f"--faults: {name} counts events from 1, got 0")
        if self.http_status is not None and self.http_status not in HTTP_FAULTS:
            known = ", ".join(str(status) for status in sorted(HTTP_FAULTS))
            raise ConfigError(
                f"--faults: http_status must be one of {known}, got {self.http_status}"
            )
        if not math.isfinite(self.http_retry_after_s):
            raise ConfigError(
                f"--faults: http_retry_after_s must be finite, got {self.http_retry_after_s}"
            )
        if self.http_errors == 0:
            raise ConfigError("--faults: http_errors counts requests from 1, got 0")
        defaults = {field.name: field.default for field in dataclasses.fields(self)}
        if self.http_status is None and any(
            getattr(self, name) != defaults[name] for name in ("http_errors", "http_retry_after_s")
        ):
            # Otherwise the plan would look active and do nothing.
            raise ConfigError("--faults: http_errors and http_retry_after_s need http_status")

    @property
    def active(self) -> bool:
        return self != FaultPlan(seed=self.seed)

    @classmethod
    def parse(cls, spec: str) -> FaultPlan:
        """``name=value,...`` → a plan; any mistake is a ``ConfigError`` naming ``--faults``."""
        values: dict[str, Any] = {}
        kinds = {field.name: str(field.type) for field in dataclasses.fields(cls)}
        for pair in filter(None, (part.strip() for part in spec.split(","))):
            name, sep, raw = pair.partition("=")
            name, raw = name.strip(), raw.strip()
            if not sep or not raw:
                raise ConfigError(f"--faults: expected name=value, got {pair!r}")
            if name not in kinds:
                raise ConfigError(
                    f"--faults: unknown fault {name!r} (known: {', '.join(sorted(kinds))})"
                )
            if name in values:
                raise ConfigError(f"--faults: {name} given twice")
            values[name] = _convert(name, raw, kinds[name])
        return cls(**values)


def _convert(name: str, raw: str, kind: str) -> Any:
    if "str" in kind:
        return raw
    try:
        return float(raw) if "float" in kind else int(raw)
    except ValueError:
        expected = "a number" if "float" in kind else "a whole number"
        raise ConfigError(f"--faults: {name} must be {expected}, got {raw!r}") from None


@dataclass(frozen=True)
class Send:
    frame: str


@dataclass(frozen=True)
class Sleep:
    seconds: float


@dataclass(frozen=True)
class Abort:
    """Cut the TCP connection without a close frame."""


@dataclass(frozen=True)
class Stall:
    """Send nothing more on this connection."""


Action = Send | Sleep | Abort | Stall


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, separators=(",", ":"))


class FaultInjector:
    """One connection's faults: turns each outgoing event into the actions that carry it out."""

    def __init__(self, plan: FaultPlan, connection_number: int = 0) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed * 1_000_003 + connection_number)
        self._count = 0  # server events handled so far (injected frames not included)
        self._dead = False
        # Connections are numbered by handshake from 1, refused handshakes included.
        self._may_die = not plan.drop_connections or connection_number <= plan.drop_connections

    def actions(self, event: dict[str, Any]) -> list[Action]:
        if self._dead:
            return []
        plan = self.plan
        self._count += 1
        n = self._count
        if self._may_die and plan.drop_at is not None and event.get("type") == plan.drop_at:
            return self._die(Abort())
        out: list[Action] = []
        if n == plan.malformed_at:
            out.append(Send(MALFORMED_FRAME))
        if n == plan.unknown_at:
            out.append(Send(encode({"type": UNKNOWN_EVENT_TYPE, "event_id": "event_fault"})))
        if n == plan.error_at:
            out.append(Send(encode(_server_error())))
        if str(event.get("type", "")).endswith(".delta") and (plan.delay_ms or plan.jitter_ms):
            jitter = self._rng.uniform(0.0, plan.jitter_ms) if plan.jitter_ms else 0.0
            out.append(Sleep((plan.delay_ms + jitter) / 1000.0))
        out.append(Send(encode(event)))
        if not self._may_die:
            pass
        elif n == plan.drop_after:
            out += self._die(Abort())
        elif n == plan.stall_after:
            out += self._die(Stall())
        return out

    def _die(self, action: Action) -> list[Action]:
        self._dead = True
        return [action]


def _server_error() -> dict[str, Any]:
    return {
        "type": "error",
        "event_id": "event_fault_error",
        "error": {
            "type": "server_error",
            "code": "server_error",
            "message": "The server had an error while processing your request (injected fault).",
            "param": None,
            "event_id": None,
        },
    }


@dataclass(frozen=True)
class HttpFault:
    """An injected HTTP error: what to answer one chat-completions request with."""

    status: int
    body: dict[str, Any]
    headers: Mapping[str, str]


def http_fault(plan: FaultPlan, request_number: int) -> HttpFault | None:
    """The error for the ``request_number``-th request (from 1), or None to serve it."""
    if plan.http_status is None or request_number > plan.http_errors:
        return None
    error_type, code, message = HTTP_FAULTS[plan.http_status]
    retry_after = _seconds(plan.http_retry_after_s)
    headers: dict[str, str] = {}
    if plan.http_status == 429:
        # The SDK prefers retry-after-ms (fractional seconds in retry-after are non-standard).
        headers = {
            "retry-after": retry_after,
            "retry-after-ms": str(round(plan.http_retry_after_s * 1000)),
        }
    error = {
        "message": message.format(retry_after=retry_after),
        "type": error_type,
        "param": None,
        "code": code,
    }
    return HttpFault(plan.http_status, {"error": error}, MappingProxyType(headers))


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
