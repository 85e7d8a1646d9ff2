"""Validation against the SDK's ``openai.types.realtime`` types: the protocol contract.

Validating against the whole union gives dozens of unrelated errors; we pick the member by its
``type`` literal first, so a failure names the one field that is wrong. The openai package is
imported on first use only (it is slow to import).
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Mapping
from typing import Any


class SchemaError(ValueError):
    """An event does not match its SDK type; the message names the event type and the field."""


def _members(union: Any) -> list[Any]:
    args = typing.get_args(union)
    if args and typing.get_origin(union) is typing.Annotated:
        return _members(args[0])
    return list(args)


def _literal_type(member: Any) -> str | None:
    fields = getattr(member, "model_fields", None)  # pydantic models (server events)
    annotation = fields["type"].annotation if fields and "type" in fields else None
    if annotation is None:  # TypedDicts (client event params)
        annotation = typing.get_type_hints(member).get("type")
    args = typing.get_args(annotation)
    while args and typing.get_origin(annotation) is typing.Required:
        annotation = args[0]
        args = typing.get_args(annotation)
    return args[0] if args and isinstance(args[0], str) else None


@functools.cache
def _adapters(direction: str) -> dict[str, Any]:
    from openai.types.realtime import RealtimeClientEventParam, RealtimeServerEvent
    from pydantic import TypeAdapter

    union = RealtimeServerEvent if direction == "server" else RealtimeClientEventParam
    table: dict[str, Any] = {}
    for member in _members(union):
        event_type = _literal_type(member)
        if event_type is not None:
            table[event_type] = TypeAdapter(member)
    return table


def known_types(direction: str) -> frozenset[str]:
    return frozenset(_adapters(direction))


def _validate(direction: str, event: Mapping[str, Any]) -> None:
    from pydantic import ValidationError

    event_type = event.get("type")
    adapter = _adapters(direction).get(event_type) if isinstance(event_type, str) else None
    if adapter is None:
        raise SchemaError(f"{direction} event type {event_type!r} is not in the SDK's types")
    try:
        adapter.validate_python(dict(event))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise SchemaError(f"{event_type}: {where}: {first['msg']}") from None


def validate_server_event(event: Mapping[str, Any]) -> None:
    """Raise ``SchemaError`` unless ``event`` is a valid ``RealtimeServerEvent``."""
    _validate("server", event)


def validate_client_event(event: Mapping[str, Any]) -> None:
    """Raise ``SchemaError`` unless ``event`` is a valid ``RealtimeClientEventParam``."""
    _validate("client", event)
