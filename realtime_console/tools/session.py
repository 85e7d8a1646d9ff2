"""Checks the ``session.tools`` entries against the SDK's types: the protocol contract.

The SDK types ``parameters`` as any object, so the entry is also checked against the
service's own rules the SDK does not encode (the name pattern, an object schema), and the
list is validated inside a whole ``session.update`` the way every sent event is
(``protocol/schema.py``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from realtime_console.tools.jsonschema import schema_problem
from realtime_console.tools.model import name_problem

__all__ = ["ToolSchemaError", "validated_session_tools"]

_ENTRY_KEYS = frozenset({"type", "name", "description", "parameters"})


class ToolSchemaError(ValueError):
    """An entry the service would refuse. A bug here: loading has checked every part."""


def validated_session_tools(entries: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    from openai.types.realtime import RealtimeFunctionTool
    from pydantic import ValidationError

    from realtime_console.protocol.schema import SchemaError, validate_client_event

    tools = list(entries)
    for entry in tools:
        name = entry.get("name")
        if set(entry) != _ENTRY_KEYS or entry.get("type") != "function":
            raise ToolSchemaError(
                f"tool {name!r}: entry keys must be exactly {sorted(_ENTRY_KEYS)}"
            )
        problem = name_problem(str(name)) or schema_problem(entry.get("parameters"))
        if problem:
            raise ToolSchemaError(f"tool {name!r}: {problem}")
        try:
            RealtimeFunctionTool.model_validate(entry, strict=True)
        except ValidationError as exc:
            raise ToolSchemaError(f"tool {name!r}: {exc.errors()[0]['msg']}") from None
    try:
        validate_client_event(
            {"type": "session.update", "session": {"type": "realtime", "tools": tools}}
        )
    except SchemaError as exc:
        raise ToolSchemaError(str(exc)) from None
    return tools
