"""Errors the server reports to its client as ``error`` events, shaped like the service's.

These never reach the console's own exception tree (``realtime_console.errors``): a bad client
event is answered on the wire and the connection carries on. Handlers raise ``ServiceError``; the
core turns it into one ``error`` event carrying the offending client event's ``event_id``. One
answer names no event, as on the service: a truncate past the end of the audio, which the core
then applies at the end (``SessionCore._on_item_truncate`` emits it with ``to_event(None)``).

Codes and messages follow what the service sends, for example::

    {"type": "invalid_request_error", "code": "decimal_above_max_value",
     "message": "Invalid 'session.audio.input.turn_detection.threshold': decimal above maximum
                 value. Expected a value <= 1, but got 1.5 instead.",
     "param": "session.audio.input.turn_detection.threshold", "event_id": "<client event_id>"}
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any


class ServiceError(Exception):
    """A client event the service would reject; becomes one ``error`` event."""

    def __init__(
        self,
        code: str,
        message: str,
        *,
        param: str | None = None,
        error_type: str = "invalid_request_error",
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.param = param
        self.error_type = error_type

    def to_event(self, client_event_id: str | None) -> dict[str, Any]:
        """The ``error`` server event, without its own ``event_id`` (the core stamps that)."""
        return {
            "type": "error",
            "error": {
                "type": self.error_type,
                "code": self.code,
                "message": self.message,
                "param": self.param,
                "event_id": client_event_id,
            },
        }


def show_value(value: Any) -> str:
    """A value as the service quotes it in messages: strings in single quotes, the rest as JSON."""
    if isinstance(value, str):
        return f"'{value}'"
    return json.dumps(value)


def json_kind(value: Any) -> str:
    """The JSON type of ``value`` as the service names it ("a string", "an integer", ...)."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a decimal"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"


def join_choices(values: Sequence[Any]) -> str:
    shown = [show_value(v) for v in values]
    if len(shown) <= 2:
        return " and ".join(shown)
    return ", ".join(shown[:-1]) + ", and " + shown[-1]


def invalid_value(param: str, value: Any, supported: Sequence[Any] | None = None) -> ServiceError:
    message = f"Invalid value: {show_value(value)}."
    if supported:
        message += f" Supported values are: {join_choices(supported)}."
    return ServiceError("invalid_value", message, param=param)


def invalid_type(param: str, expected: str, value: Any) -> ServiceError:
    return ServiceError(
        "invalid_type",
        f"Invalid type for '{param}': expected {expected}, but got {json_kind(value)} instead.",
        param=param,
    )


def missing_parameter(param: str) -> ServiceError:
    return ServiceError(
        "missing_required_parameter", f"Missing required parameter: '{param}'.", param=param
    )


def unknown_parameter(param: str) -> ServiceError:
    return ServiceError("unknown_parameter", f"Unknown parameter: '{param}'.", param=param)


def out_of_range(param: str, value: float, limit: float, *, above: bool) -> ServiceError:
    """``decimal_above_max_value``, ``integer_below_min_value`` and their siblings."""
    kind = "integer" if isinstance(value, int) else "decimal"
    side, word, op = ("above", "maximum", "<=") if above else ("below", "minimum", ">=")
    return ServiceError(
        f"{kind}_{side}_{'max' if above else 'min'}_value",
        f"Invalid '{param}': {kind} {side} {word} value. "
        f"Expected a value {op} {_number(limit)}, but got {_number(value)} instead.",
        param=param,
    )


def _number(value: float) -> str:
    """A limit or value as the message quotes it: ``5``, ``0.25``. Integers stay exact: an
    integer past float range (JSON allows ``1e309`` digits) cannot go through ``float``."""
    if isinstance(value, int):
        return str(value)
    return str(int(value)) if math.isfinite(value) and value.is_integer() else str(value)
