"""Fault injection: network cuts, delays, bad frames, refusals, silences and HTTP errors,
reproducibly.

``FaultPlan`` says what should go wrong; it is the same for ``ServerOptions(faults=...)`` in
tests and ``serve --faults SPEC`` on the command line. ``FaultInjector`` is one connection's
pure state: the pump asks it what to do with each server event (``actions``) and with each
client frame before the core sees it (``inbound``), and carries out the ``Action``s it returns
(send a frame, sleep, abort the TCP connection, stall). Jitter comes from a ``random.Random``
seeded by ``seed`` and the connection's number, so a run is repeatable.
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
- ``no_done=N``      withhold the ``response.done`` of the first N responses (the rest of each
                     response is sent): a reply that never finishes
- ``ignore_create=N`` drop the first N ``response.create`` client events unanswered, as if
                     they never arrived
- ``no_session_created=1``  never send ``session.created``
- ``no_session_updated=1``  never send ``session.updated`` (updates still take effect)
- ``reject_update=1``  answer the first ``session.update`` with an ``error`` whose
                     ``error.event_id`` is null (the update is not applied)
- ``transcription_failed=N`` the first N input audio transcriptions fail: their deltas are
                     withheld and ``…transcription.completed`` becomes
                     ``conversation.item.input_audio_transcription.failed``
- ``drop_connections=N`` apply ``drop_after``, ``drop_at``, ``stall_after``, ``no_done``,
                     ``ignore_create``, the three start-up faults and ``transcription_failed``
                     to the first N connections only (default 0: to every one), so a client
                     that reconnects gets a healthy connection
- ``seed=N``         seed for the jitter (default 0)

The switches (``no_session_created``, ``no_session_updated``, ``reject_update``) take 1 or 0
(also true/false, yes/no, on/off).

Chat completions (HTTP):

- ``http_status=CODE``  answer chat-completion requests with this status and the service's
                        error body: 429 (rate limit, with ``retry-after``), 500, 502, 503
                        (server errors), 404 (``DeploymentNotFound``), 403 (``PermissionDenied``)
- ``http_errors=N``     ... the first N requests only (default 1); later ones are served
- ``http_retry_after_s=S`` the 429's ``retry-after`` (seconds, may be fractional: "0.1") and
                        ``retry-after-ms`` headers (default 1)
- ``http_stall_after_chunks=N`` a streamed completion sends N chunks (0: only the headers), then
                        nothing more, keeping the socket open, so client timeouts can be tested

Event counts are per connection and start at 1 with ``session.created``; a withheld event
still counts, an injected frame does not. ``no_done``, ``ignore_create`` and
``transcription_failed`` count per connection too. HTTP requests are counted per server from 1,
counting those that passed auth.
"""

from __future__ import annotations

import dataclasses
import json
import math
import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from realtime_console.errors import ConfigError

UNKNOWN_EVENT_TYPE = "local.fault.unknown"
MALFORMED_FRAME = '{"type": "response.output_audio.delta", "delta": '  # cut short: not JSON
TRANSCRIPTION_DELTA = "conversation.item.input_audio_transcription.delta"
TRANSCRIPTION_COMPLETED = "conversation.item.input_audio_transcription.completed"
TRANSCRIPTION_FAILED = "conversation.item.input_audio_transcription.failed"
TRANSCRIPTION_FAILURE = "Input audio could not be transcribed (injected fault)."
REJECTED_UPDATE = "The session update was rejected (injected fault)."

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
    no_done: int = 0
    ignore_create: int = 0
    no_session_created: bool = False
    no_session_updated: bool = False
    reject_update: bool = False
    transcription_failed: int = 0
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


_SWITCH_WORDS = dict.fromkeys(("1", "true", "yes", "on"), True)
_SWITCH_WORDS.update(dict.fromkeys(("0", "false", "no", "off"), False))


def _convert(name: str, raw: str, kind: str) -> Any:
    if kind == "bool":
        try:
            return _SWITCH_WORDS[raw.lower()]
        except KeyError:
            raise ConfigError(f"--faults: {name} must be 1 or 0, got {raw!r}") from None
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


Rewrite = Callable[[dict[str, Any]], dict[str, Any] | None]


class FaultInjector:
    """One connection's faults: turns each outgoing event into the actions that carry it out,
    and says which client frames the core must not see."""

    def __init__(self, plan: FaultPlan, connection_number: int = 0) -> None:
        self.plan = plan
        self._rng = random.Random(plan.seed * 1_000_003 + connection_number)
        self._count = 0  # server events handled so far (injected frames not included)
        self._dead = False
        # Connections are numbered by handshake from 1, refused handshakes included.
        self._misbehaves = not plan.drop_connections or connection_number <= plan.drop_connections
        self._dones_withheld = 0
        self._creates_ignored = 0
        self._update_rejected = False
        self._transcriptions = 0  # items whose transcription started
        self._transcribing: str | None = None  # the item being transcribed now
        self._failing: set[str] = set()  # at most transcription_failed items
        # Outgoing event type → how it is changed (None from a rewrite: withheld).
        self._rewrites: dict[str, Rewrite] = {}
        if plan.no_session_created:
            self._rewrites["session.created"] = _withhold
        if plan.no_session_updated:
            self._rewrites["session.updated"] = _withhold
        if plan.no_done:
            self._rewrites["response.done"] = self._withhold_done
        if plan.transcription_failed:
            self._rewrites[TRANSCRIPTION_DELTA] = self._fail_transcription
            self._rewrites[TRANSCRIPTION_COMPLETED] = self._fail_transcription

    def actions(self, event: dict[str, Any]) -> list[Action]:
        if self._dead:
            return []
        plan = self.plan
        self._count += 1
        n = self._count
        if self._misbehaves and plan.drop_at is not None and event.get("type") == plan.drop_at:
            return self._die(Abort())
        out: list[Action] = []
        if n == plan.malformed_at:
            out.append(Send(MALFORMED_FRAME))
        if n == plan.unknown_at:
            out.append(Send(encode({"type": UNKNOWN_EVENT_TYPE, "event_id": "event_fault"})))
        if n == plan.error_at:
            out.append(Send(encode(_server_error())))
        sent: dict[str, Any] | None = event
        rewrite = self._rewrites.get(str(event.get("type"))) if self._misbehaves else None
        if rewrite is not None:
            sent = rewrite(event)
        if sent is not None:
            if str(sent.get("type", "")).endswith(".delta") and (plan.delay_ms or plan.jitter_ms):
                jitter = self._rng.uniform(0.0, plan.jitter_ms) if plan.jitter_ms else 0.0
                out.append(Sleep((plan.delay_ms + jitter) / 1000.0))
            out.append(Send(encode(sent)))
        if not self._misbehaves:
            pass
        elif n == plan.drop_after:
            out += self._die(Abort())
        elif n == plan.stall_after:
            out += self._die(Stall())
        return out

    def inbound(self, frame: str | bytes) -> list[Action] | None:
        """A client frame: None to hand it to the core, else what to do instead (the core never
        sees it). Only frames that may name a faulted event type are parsed: audio appends
        (base64, no dots) never are."""
        plan = self.plan
        if self._dead or not self._misbehaves:
            return None
        wanted = []
        if self._creates_ignored < plan.ignore_create:
            wanted.append("response.create")
        if plan.reject_update and not self._update_rejected:
            wanted.append("session.update")
        if not any(_mentions(frame, name) for name in wanted):
            return None
        kind = _frame_type(frame)
        if kind == "response.create" and kind in wanted:
            self._creates_ignored += 1
            return []
        if kind == "session.update" and kind in wanted:
            self._update_rejected = True
            return [Send(encode(_rejected_update()))]
        return None

    def _die(self, action: Action) -> list[Action]:
        self._dead = True
        return [action]

    def _withhold_done(self, event: dict[str, Any]) -> dict[str, Any] | None:
        if self._dones_withheld >= self.plan.no_done:
            return event
        self._dones_withheld += 1
        return None

    def _fail_transcription(self, event: dict[str, Any]) -> dict[str, Any] | None:
        """Items are transcribed one after another (deltas, then completed), so the first event
        of a new item decides whether its transcription fails."""
        item_id = str(event.get("item_id", ""))
        if item_id != self._transcribing:
            self._transcribing = item_id
            self._transcriptions += 1
            if self._transcriptions <= self.plan.transcription_failed:
                self._failing.add(item_id)
        if item_id not in self._failing:
            return event
        if event.get("type") == TRANSCRIPTION_DELTA:
            return None
        return {
            "type": TRANSCRIPTION_FAILED,
            "event_id": event.get("event_id", "event_fault_transcription"),
            "item_id": item_id,
            "content_index": event.get("content_index", 0),
            "error": {
                "type": "transcription_error",
                "code": "audio_unintelligible",
                "message": TRANSCRIPTION_FAILURE,
                "param": None,
            },
        }


def _withhold(event: dict[str, Any]) -> None:
    return None


def _mentions(frame: str | bytes, name: str) -> bool:
    if isinstance(frame, bytes):
        return name.encode() in frame
    return name in frame


def _frame_type(frame: str | bytes) -> str | None:
    try:
        obj = json.loads(frame)
    except (ValueError, RecursionError):
        return None  # the core answers a bad frame itself
    kind = obj.get("type") if isinstance(obj, dict) else None
    return kind if isinstance(kind, str) else None


def _rejected_update() -> dict[str, Any]:
    """An ``error`` that does not say which client event it answers (``error.event_id`` null),
    as services do for some failures."""
    return {
        "type": "error",
        "event_id": "event_fault_rejected_update",
        "error": {
            "type": "invalid_request_error",
            "code": "invalid_value",
            "message": REJECTED_UPDATE,
            "param": None,
            "event_id": None,
        },
    }


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
