"""Client frames → checked events, or a ``ServiceError`` shaped like the service's answer.

Client events are validated against the SDK's own models (``openai.types.realtime.*Event``) in
pydantic's strict mode, so ``"0.5"`` is not a threshold and ``true`` is not an integer. The
models rather than the ``*Param`` TypedDicts: the TypedDicts type arrays as ``Iterable``, which
pydantic validates lazily (errors would surface later, while the core iterates), and they drop
unknown keys silently, whereas the models keep them in ``model_extra`` so they can be reported
as ``unknown_parameter`` the way the service does.

The SDK types many fields as plain unions (conversation items, turn detection, audio formats),
so one mistake yields an error per union member. ``_pick_issue`` keeps the member the client
evidently meant (the one whose ``type``/``role`` matched) and reports the first problem there.

Before any of that, ``screen_values`` holds a parsed frame to what JSON itself allows, because
Python's ``json`` reads more: ``NaN`` and ``Infinity`` (and ``1e999``, which becomes infinity),
lone UTF-16 surrogates (``"\\ud800"``), and nesting as deep as the parser's recursion allows.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import pydantic

from realtime_console.server.service_errors import (
    ServiceError,
    invalid_type,
    invalid_value,
    json_kind,
    missing_parameter,
    unknown_parameter,
)

ModelT = TypeVar("ModelT", bound=pydantic.BaseModel)
MAX_NESTING = 128
"""Levels of arrays and objects a client frame may nest (serde_json's default limit). Copying,
validating and weighing an event recurse once per level: a deeper frame would exhaust Python's
stack (``RecursionError``) instead of being answered. Tool schemas need a few dozen at most."""
_SURROGATE = re.compile("[\ud800-\udfff]")
Loc = tuple[int | str, ...]

# The fields whose literal value selects a member of an SDK union.
_DISCRIMINATORS = frozenset({"type", "role"})

# pydantic error type → the JSON type the service says it expected.
_EXPECTED_KIND = {
    "string_type": "a string",
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a decimal",
    "bool_type": "a boolean",
    "list_type": "an array",
    "tuple_type": "an array",
    "dict_type": "an object",
    "model_type": "an object",
    "model_attributes_type": "an object",
    "typed_dict_type": "an object",
    "none_required": "null",
}


def parse_frame(data: str | bytes) -> dict[str, Any]:
    """A WebSocket frame → a JSON object; anything else is an ``invalid_json`` error."""
    try:
        text = data.decode("utf-8") if isinstance(data, bytes) else data
        parsed = json.loads(text)
    except UnicodeDecodeError:
        raise ServiceError("invalid_json", "Invalid JSON: the frame is not UTF-8 text.") from None
    except json.JSONDecodeError as exc:
        raise ServiceError(
            "invalid_json",
            f"Invalid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}.",
        ) from None
    except (ValueError, RecursionError):
        raise ServiceError("invalid_json", "Invalid JSON: the frame cannot be parsed.") from None
    if not isinstance(parsed, dict):
        raise ServiceError(
            "invalid_json",
            f"Invalid event: expected a JSON object, but got {json_kind(parsed)} instead.",
        )
    return parsed


def client_event_id(event: Mapping[str, Any]) -> str | None:
    """The client's ``event_id``, echoed in ``error.event_id`` (only if it is a string)."""
    value = event.get("event_id")
    return clean_text(value) if isinstance(value, str) else None


def clean_text(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, as lenient JSON decoders (Go's
    ``encoding/json``) read them: such a string is no Unicode text, cannot be encoded as UTF-8
    (to weigh an item, to hand it to eSpeak NG) and would be echoed back as invalid JSON text."""
    return text if text.isascii() else _SURROGATE.sub("\ufffd", text)


# A node's place in the frame, as a chain (key, parent): built only when an error names it.
_Where = tuple[int | str, "_Where"] | None


def _path(where: _Where) -> str:
    parts: list[int | str] = []
    while where is not None:
        key, where = where
        parts.append(key)
    return format_param(tuple(reversed(parts)))


def screen_values(event: dict[str, Any]) -> None:
    """Refuse a non-finite number or nesting past ``MAX_NESTING``; clean lone surrogates out of
    every string and key, in place. One pass, no recursion (the frame may be deep)."""
    stack: list[tuple[dict[str, Any] | list[Any], int, _Where]] = [(event, 1, None)]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_NESTING:
            raise ServiceError(
                "invalid_json",
                f"Invalid JSON: nested more than {MAX_NESTING} levels deep at '{_path(where)}'.",
                param=_path(where),
            )
        if isinstance(node, dict):
            if not all(key.isascii() for key in node):
                cleaned = [(clean_text(key), value) for key, value in node.items()]
                node.clear()
                node.update(cleaned)
            for key, value in node.items():
                if isinstance(value, str):
                    node[key] = clean_text(value)  # same keys: safe while iterating
                else:
                    _screen_child(stack, value, depth, (key, where))
        else:
            for index, value in enumerate(node):
                if isinstance(value, str):
                    node[index] = clean_text(value)
                else:
                    _screen_child(stack, value, depth, (index, where))


def _screen_child(
    stack: list[tuple[dict[str, Any] | list[Any], int, _Where]],
    value: Any,
    depth: int,
    where: _Where,
) -> None:
    if isinstance(value, dict | list):
        stack.append((value, depth + 1, where))
    elif isinstance(value, float) and not math.isfinite(value):
        param = _path(where)
        raise ServiceError(
            "invalid_value",
            f"Invalid '{param}': {json.dumps(value)} is not a JSON number (numbers are finite).",
            param=param,
        )


def event_type(event: Mapping[str, Any], known: Sequence[str]) -> str:
    """The event's ``type``, which must be one of ``known``."""
    if "type" not in event:
        raise missing_parameter("type")
    value = event["type"]
    if not isinstance(value, str):
        raise invalid_type("type", "a string", value)
    if value not in known:
        raise invalid_value("type", value, known)
    return value


def validate_event(model: type[ModelT], event: Mapping[str, Any]) -> ModelT:
    """``event`` checked against an SDK event model; unknown fields are errors, as on the service"""
    try:
        checked = model.model_validate(event, strict=True)
    except pydantic.ValidationError as exc:
        raise _to_service_error(exc.errors(), event) from None
    unknown = first_unknown_field(checked)
    if unknown is not None:
        raise unknown_parameter(format_param(unknown))
    return checked


def first_unknown_field(model: pydantic.BaseModel, path: Loc = ()) -> Loc | None:
    """Path of the first field the SDK model does not declare (kept by its ``extra="allow"``)."""
    if model.model_extra:
        return (*path, next(iter(model.model_extra)))
    for name, field in type(model).model_fields.items():
        found = _first_unknown_in(getattr(model, name), (*path, field.alias or name))
        if found is not None:
            return found
    return None


def _first_unknown_in(value: Any, path: Loc) -> Loc | None:
    if isinstance(value, pydantic.BaseModel):
        return first_unknown_field(value, path)
    if isinstance(value, list):
        for index, element in enumerate(value):
            found = _first_unknown_in(element, (*path, index))
            if found is not None:
                return found
    return None


def format_param(path: Loc) -> str:
    """``("session", "tools", 3, "name")`` → ``"session.tools[3].name"``, the service's notation."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


@dataclass(frozen=True)
class _Issue:
    """One pydantic error, with its location split into the data path and union-member tags."""

    kind: str
    loc: Loc  # pydantic's location, union-member tags included
    path: Loc  # the same location in the client's data
    tags: tuple[Loc, ...]  # each prefix of ``loc`` that ends at a union-member tag
    value: Any
    expected: str | None

    @property
    def is_discriminator_mismatch(self) -> bool:
        """A union member rejected on its ``type``/``role``: the client meant another member."""
        return (
            self.kind == "literal_error"
            and bool(self.path)
            and self.path[-1] in _DISCRIMINATORS
            and self.loc[:-1] in self.tags
        )


def _analyse(error: Mapping[str, Any], data: Any) -> _Issue:
    loc: Loc = tuple(error["loc"])
    path: list[int | str] = []
    tags: list[Loc] = []
    node = data
    for index, part in enumerate(loc):
        if isinstance(part, int) and isinstance(node, list) and 0 <= part < len(node):
            path.append(part)
            node = node[part]
        elif isinstance(part, str) and isinstance(node, dict) and part in node:
            path.append(part)
            node = node[part]
        elif index == len(loc) - 1 and error["type"] == "missing":
            path.append(part)  # the absent field itself
        else:
            # Neither a key nor an index of the data: a union-member tag pydantic inserted.
            tags.append(loc[: index + 1])
    ctx = error.get("ctx") or {}
    return _Issue(
        kind=str(error["type"]),
        loc=loc,
        path=tuple(path),
        tags=tuple(tags),
        value=error.get("input"),
        expected=str(ctx["expected"]) if "expected" in ctx else None,
    )


def _pick_issue(issues: Sequence[_Issue]) -> tuple[_Issue, list[Any]]:
    """The issue to report, and for a rejected discriminator every value some member accepts."""
    dead = {issue.loc[:-1] for issue in issues if issue.is_discriminator_mismatch}
    live = [i for i in issues if not any(i.loc[: len(prefix)] == prefix for prefix in dead)]
    if live:
        first = live[0]
        return first, _literal_choices(first.expected)
    # Every member was rejected on its discriminator: the closest member is the one with the
    # fewest problems; report its discriminator, listing what all members would have accepted.
    mismatches = [i for i in issues if i.is_discriminator_mismatch]

    def problems(issue: _Issue) -> int:
        prefix = issue.loc[:-1]
        return sum(1 for other in issues if other.loc[: len(prefix)] == prefix)

    best = min(mismatches, key=problems)
    choices: list[Any] = []
    for issue in mismatches:
        if issue.path == best.path:
            choices += [c for c in _literal_choices(issue.expected) if c not in choices]
    return best, choices


def _literal_choices(expected: str | None) -> list[Any]:
    """pydantic's ``"'a', 'b' or 'c'"`` / ``"24000"`` → ``['a', 'b', 'c']`` / ``[24000]``."""
    if expected is None:
        return []
    choices: list[Any] = []
    for token in re.findall(r"'(?:[^'\\]|\\.)*'|[^\s,']+", expected):
        if token == "or":
            continue
        if token.startswith("'"):
            choices.append(token[1:-1])
        else:
            try:
                choices.append(json.loads(token))
            except ValueError:
                choices.append(token)
    return choices


def _to_service_error(errors: Sequence[Mapping[str, Any]], data: Any) -> ServiceError:
    issue, choices = _pick_issue([_analyse(error, data) for error in errors])
    param = format_param(issue.path)
    if issue.kind == "missing":
        return missing_parameter(param)
    if issue.kind == "literal_error":
        return invalid_value(param, issue.value, choices)
    if issue.kind in _EXPECTED_KIND:
        return invalid_type(param, _EXPECTED_KIND[issue.kind], issue.value)
    detail = next((e["msg"] for e in errors if tuple(e["loc"]) == issue.loc), issue.kind)
    return ServiceError("invalid_value", f"Invalid '{param}': {detail}.", param=param)
