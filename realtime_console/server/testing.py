"""Helpers for tests that talk to the local server (imported by tests only).

``check_server_event`` holds any server event to the protocol contract (docs/architecture.md):
it must validate against the SDK's ``RealtimeServerEvent`` union, strictly. ``EventRecorder``
reads a real SDK connection and checks every event it receives, so a test cannot see an event
that was not checked.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping, Sequence
from typing import Any, Protocol

import pydantic
from openai.types.realtime import RealtimeServerEvent

_SERVER_EVENT: pydantic.TypeAdapter[Any] = pydantic.TypeAdapter(RealtimeServerEvent)


def check_server_event(event: Mapping[str, Any]) -> None:
    """Raise ``AssertionError`` unless ``event`` is a valid GA server event with an event_id."""
    try:
        parsed = _SERVER_EVENT.validate_python(dict(event), strict=True)
    except pydantic.ValidationError as exc:
        raise AssertionError(f"invalid server event {event.get('type')!r}: {exc}") from None
    assert parsed.type == event["type"], f"validated as {parsed.type}, sent as {event['type']}"
    event_id = event.get("event_id")
    assert isinstance(event_id, str) and event_id.startswith("event_"), event_id


class _RawConnection(Protocol):
    async def recv_bytes(self) -> bytes: ...


class EventRecorder:
    """Receives server events from an SDK realtime connection, checking each one."""

    def __init__(self, connection: _RawConnection, timeout: float = 5.0) -> None:
        self._connection = connection
        self._timeout = timeout
        self.events: list[dict[str, Any]] = []
        self._event_ids: set[str] = set()

    async def next(self) -> dict[str, Any]:
        raw = await asyncio.wait_for(self._connection.recv_bytes(), self._timeout)
        event = json.loads(raw)
        assert isinstance(event, dict), raw
        check_server_event(event)
        assert event["event_id"] not in self._event_ids, f"event_id reused: {event['event_id']}"
        self._event_ids.add(event["event_id"])
        self.events.append(event)
        return event

    async def until(self, *types: str) -> list[dict[str, Any]]:
        """Events up to and including the first of one of ``types``."""
        received = []
        while True:
            event = await self.next()
            received.append(event)
            if event["type"] in types:
                return received

    async def expect(self, event_type: str) -> dict[str, Any]:
        """The next event, which must be of ``event_type``."""
        event = await self.next()
        assert event["type"] == event_type, f"expected {event_type}, got {event}"
        return event


def types_of(events: Sequence[Mapping[str, Any]]) -> list[str]:
    return [str(event["type"]) for event in events]


def collapse_deltas(types: Sequence[str]) -> list[str]:
    """Event types with each run of delta events shortened to one ``*.delta`` marker."""
    collapsed: list[str] = []
    for kind in types:
        marker = "*.delta" if kind.endswith(".delta") else kind
        if not (marker == "*.delta" and collapsed and collapsed[-1] == marker):
            collapsed.append(marker)
    return collapsed


class _Core(Protocol):
    def events_to_send(self) -> list[dict[str, Any]]: ...


def take_events(core: _Core) -> list[dict[str, Any]]:
    """Drain a ``SessionCore``'s outbox, checking every event."""
    events = core.events_to_send()
    for event in events:
        check_server_event(event)
    return events
