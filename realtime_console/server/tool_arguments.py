"""The arguments of a local tool call, built from the tool's JSON schema, deterministically.

- ``name=value`` tokens in the user's message fill the top-level property of that name. The
  value is one word (trailing ``. , ; : ! ?`` dropped) or a ``"double-quoted string"`` (JSON
  escapes allowed). It is converted to the property's type (``integer``: ``3``, ``number``:
  ``2.5``, ``boolean``: true/false/yes/no/on/off/1/0, ``null``: ``null``, ``array``: a JSON
  array or comma-separated items, ``object``: a JSON object); a value that fits none of the
  property's types is ignored. The first token of a name counts.
- Every other *required* property gets an example: its ``default`` if given, else its
  ``const``, else the first ``enum`` value, else by type: string ``"example"`` (or a value of its
  ``format``, padded or cut to its length limits), integer/number ``minimum`` if given else 1
  (kept within ``maximum``), boolean true, null, array ``minItems`` examples of its ``items``
  (none without ``minItems``), object its required properties, recursively. ``anyOf``/``oneOf``
  take their first choice that fits, ``$ref`` is followed into ``$defs``/``definitions``.
- Optional properties without a token are left out.

Values are checked with the ``jsonschema`` package (Draft 2020-12; ``$defs`` and draft-07
``definitions`` both resolve), which enforces what tool schemas use and the project's own small
checker (``realtime_console.tools.jsonschema``) leaves out, such as ``multipleOf`` and
``uniqueItems``. A ``pattern`` that ``"example"`` does not match is the one thing an example
cannot promise to fit; a schema that is no valid JSON Schema gets examples unchecked.
"""

from __future__ import annotations

import copy
import json
import logging
import math
import re
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from jsonschema.protocols import Validator

log = logging.getLogger(__name__)

_TOKEN = re.compile(r'(?<!\S)([A-Za-z_][A-Za-z0-9_.-]*)=("(?:[^"\\]|\\.)*"|[^\s"]+)')
_TRAILING_PUNCTUATION = ".,;:!?"
_INTEGER = re.compile(r"[+-]?\d+")
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_BOOLEANS = {"true": True, "yes": True, "on": True, "1": True}
_BOOLEANS |= {"false": False, "no": False, "off": False, "0": False}
_FORMAT_EXAMPLES = {
    "date": "2026-01-01",
    "date-time": "2026-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "hostname": "example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "ipv4": "192.0.2.1",
    "ipv6": "2001:db8::1",
}
_MAX_DEPTH = 32  # a schema that refers to itself is cut off here
_NO_VALUE = object()


def message_tokens(message: str) -> dict[str, str]:
    """``name=value`` tokens of ``message``: name → the value's text (the first one counts)."""
    tokens: dict[str, str] = {}
    for match in _TOKEN.finditer(message):
        name, raw = match.group(1), match.group(2)
        if raw.startswith('"'):
            try:
                value = str(json.loads(raw))
            except ValueError:
                value = raw[1:-1]
        else:
            value = raw.rstrip(_TRAILING_PUNCTUATION) or raw
        tokens.setdefault(name, value)
    return tokens


def build_arguments(parameters: object, message: str) -> dict[str, Any]:
    """The arguments object for a tool with ``parameters`` (its JSON schema), asked by
    ``message`` (the latest user message)."""
    root: Mapping[str, Any] = parameters if isinstance(parameters, Mapping) else {}
    properties = root.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = root.get("required")
    required = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    tokens = message_tokens(message)
    arguments: dict[str, Any] = {}
    for name in [*properties, *(r for r in required if r not in properties)]:
        schema = properties.get(name, {})
        if name in tokens:
            value = _convert(tokens[name], schema, root)
            if value is not _NO_VALUE:
                arguments[name] = value
                continue
        if name in required:
            arguments[name] = example(schema, root)
    if root and not _fits_root(arguments, root):
        log.warning("local server: the arguments built for a tool do not fit its schema")
    return arguments


# ---------------------------------------------------------------- a token's value


def _convert(text: str, schema: object, root: Mapping[str, Any]) -> Any:
    """The first reading of ``text`` that fits ``schema``, or ``_NO_VALUE``."""
    for reading in _readings(text, schema, root, 0):
        if _fits(reading, schema, root):
            return reading
    return _NO_VALUE


def _readings(text: str, schema: object, root: Mapping[str, Any], depth: int) -> list[Any]:
    node = _resolve(schema, root)
    if depth > _MAX_DEPTH or not isinstance(node, Mapping):
        return [text]
    readings: list[Any] = []
    for choice in node.get("anyOf", []) + node.get("oneOf", []) + node.get("allOf", []):
        readings += _readings(text, choice, root, depth + 1)
    types = node.get("type")
    names = types if isinstance(types, list) else [types] if isinstance(types, str) else []
    for name in names:
        readings += _READERS.get(name, _read_string)(text, node, root, depth)
    if not names:
        readings += _read_json(text) + [text]
    return readings


def _read_string(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    return [text]


def _read_integer(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    return [int(text)] if _INTEGER.fullmatch(text) else []


def _read_number(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    if _INTEGER.fullmatch(text):
        return [int(text)]
    if _NUMBER.fullmatch(text) and math.isfinite(float(text)):
        return [float(text)]
    return []


def _read_boolean(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    value = _BOOLEANS.get(text.lower())
    return [] if value is None else [value]


def _read_null(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    return [None] if text == "null" else []


def _read_array(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    parsed = [v for v in _read_json(text) if isinstance(v, list)]
    items = node.get("items", {})
    pieces = [piece.strip() for piece in text.split(",")] if text else []
    converted = [_first_fit(piece, items, root, d + 1) for piece in pieces]
    if all(value is not _NO_VALUE for value in converted):
        parsed.append(converted)
    return parsed


def _read_object(text: str, node: Mapping[str, Any], root: Mapping[str, Any], d: int) -> list[Any]:
    return [v for v in _read_json(text) if isinstance(v, dict)]


def _read_json(text: str) -> list[Any]:
    try:
        return [json.loads(text)]
    except ValueError:
        return []


def _first_fit(text: str, schema: object, root: Mapping[str, Any], depth: int) -> Any:
    for reading in _readings(text, schema, root, depth):
        if _fits(reading, schema, root):
            return reading
    return _NO_VALUE


_Reader = Callable[[str, Mapping[str, Any], Mapping[str, Any], int], list[Any]]
_READERS: dict[str, _Reader] = {
    "string": _read_string,
    "integer": _read_integer,
    "number": _read_number,
    "boolean": _read_boolean,
    "null": _read_null,
    "array": _read_array,
    "object": _read_object,
}


# ---------------------------------------------------------------- an example value


def example(schema: object, root: Mapping[str, Any], depth: int = 0) -> Any:
    """A value for a required property with ``schema`` (see the module docstring)."""
    node = _resolve(schema, root)
    if depth > _MAX_DEPTH or not isinstance(node, Mapping):
        return "example"
    for key in ("default", "const"):
        if key in node:
            return copy.deepcopy(node[key])
    if isinstance(node.get("enum"), list) and node["enum"]:
        return copy.deepcopy(node["enum"][0])
    choices = list(node.get("anyOf", [])) + list(node.get("oneOf", []))
    if choices:
        candidates = [example(choice, root, depth + 1) for choice in choices]
        return next((c for c in candidates if _fits(c, node, root)), candidates[0])
    if node.get("allOf"):
        merged: dict[str, Any] = {k: v for k, v in node.items() if k != "allOf"}
        for part in node["allOf"]:
            resolved = _resolve(part, root)
            if isinstance(resolved, Mapping):
                merged = {**resolved, **merged}
        return example(merged, root, depth + 1)
    return _EXAMPLES[_main_type(node)](node, root, depth)


def _main_type(node: Mapping[str, Any]) -> str:
    types = node.get("type")
    names = types if isinstance(types, list) else [types] if isinstance(types, str) else []
    real = [name for name in names if name != "null"]
    if real and real[0] in _EXAMPLES:
        return str(real[0])
    if names:
        return str(names[0]) if names[0] in _EXAMPLES else "string"
    if "properties" in node or "required" in node:
        return "object"
    return "array" if "items" in node else "string"


def _example_string(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    text = _FORMAT_EXAMPLES.get(str(node.get("format")), "example")
    low, high = node.get("minLength"), node.get("maxLength")
    if isinstance(low, int) and len(text) < low:
        text += "x" * (low - len(text))
    if isinstance(high, int) and len(text) > high:
        text = text[:high]
    return text


def _example_number(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    integer = _main_type(node) == "integer"
    value: float = 1
    if _is_number(node.get("minimum")):
        value = node["minimum"]
    elif _is_number(node.get("exclusiveMinimum")):
        value = node["exclusiveMinimum"] + 1
    if _is_number(node.get("maximum")) and value > node["maximum"]:
        value = node["maximum"]
    elif _is_number(node.get("exclusiveMaximum")) and value >= node["exclusiveMaximum"]:
        value = node["exclusiveMaximum"] - 1
    step = node.get("multipleOf")
    if isinstance(step, int | float) and not isinstance(step, bool) and step > 0:
        value = math.ceil(value / step) * step
    if integer:
        value = math.ceil(value)
    return int(value) if float(value).is_integer() else value


def _example_array(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    count = node.get("minItems")
    count = count if isinstance(count, int) and count > 0 else 0
    items = node.get("items", {})
    item = example(items, root, depth + 1)
    if node.get("uniqueItems") and count > 1:
        return _distinct(item, count, items, root)
    return [copy.deepcopy(item) for _ in range(count)]


def _distinct(item: Any, count: int, items: object, root: Mapping[str, Any]) -> list[Any]:
    """``uniqueItems``: ``count`` different values that fit ``items``, tried in a fixed order
    (the example, enum values, the other boolean, numbers stepping up and down, strings with a
    number or letter in place of, or after, their last character)."""
    node = _resolve(items, root)
    candidates: list[Any] = [item]
    if isinstance(node, Mapping) and isinstance(node.get("enum"), list):
        candidates += node["enum"]
    if isinstance(item, bool):
        candidates.append(not item)
    elif _is_number(item):
        step = node.get("multipleOf", 1) if isinstance(node, Mapping) else 1
        step = step if _is_number(step) and step > 0 else 1
        candidates += [item + sign * step * k for k in range(1, count) for sign in (1, -1)]
    elif isinstance(item, str):
        for number in range(2, 2 * count):
            for suffix in (str(number), "abcdefghijklmnopqrstuvwxyz"[number % 26]):
                candidates.append(item[: max(0, len(item) - len(suffix))] + suffix)
                candidates.append(item + suffix)
    chosen: dict[str, Any] = {}
    for candidate in candidates:
        key = json.dumps(candidate, sort_keys=True)
        if key not in chosen and _fits(candidate, items, root):
            chosen[key] = copy.deepcopy(candidate)
        if len(chosen) == count:
            return list(chosen.values())
    return [copy.deepcopy(item) for _ in range(count)]  # no such values: the schema asks too much


def _example_object(node: Mapping[str, Any], root: Mapping[str, Any], depth: int) -> Any:
    properties = node.get("properties")
    properties = properties if isinstance(properties, Mapping) else {}
    required = node.get("required")
    names = [r for r in required if isinstance(r, str)] if isinstance(required, list) else []
    return {name: example(properties.get(name, {}), root, depth + 1) for name in names}


_Example = Callable[[Mapping[str, Any], Mapping[str, Any], int], Any]
_EXAMPLES: dict[str, _Example] = {
    "string": _example_string,
    "integer": _example_number,
    "number": _example_number,
    "boolean": lambda node, root, depth: True,
    "null": lambda node, root, depth: None,
    "array": _example_array,
    "object": _example_object,
}


# ---------------------------------------------------------------- schema helpers


def _resolve(schema: object, root: Mapping[str, Any], hops: int = 0) -> object:
    """``schema`` with a local ``$ref`` followed (its siblings are ignored, as before 2019-09)."""
    if not isinstance(schema, Mapping) or not isinstance(schema.get("$ref"), str):
        return schema
    ref: str = schema["$ref"]
    for prefix in ("#/$defs/", "#/definitions/"):
        table = root.get(prefix[2:-1])
        if ref.startswith(prefix) and isinstance(table, Mapping) and hops < _MAX_DEPTH:
            return _resolve(table.get(ref[len(prefix) :], {}), root, hops + 1)
    return {}


def _fits(value: Any, schema: object, root: Mapping[str, Any]) -> bool:
    """Does ``value`` fit ``schema`` (a part of ``root``, whose ``$defs`` it may refer to)?"""
    wrapper: dict[str, Any] = {"type": "object", "properties": {"value": schema}}
    for key in ("$defs", "definitions"):
        if isinstance(root.get(key), Mapping):
            wrapper[key] = root[key]
    return _fits_root({"value": value}, wrapper)


def _fits_root(instance: Any, schema: Mapping[str, Any]) -> bool:
    validator = _validator(json.dumps(schema, sort_keys=True, default=str))
    if validator is None:
        return True  # no valid schema: nothing to hold the value to
    try:
        return bool(validator.is_valid(instance))
    except (RecursionError, re.error, LookupError, TypeError, ValueError):
        return False  # a schema that only breaks while validating (a bad $ref, a bad regex)


@lru_cache(maxsize=256)
def _validator(schema_json: str) -> Validator | None:
    """A validator for a schema (as JSON text, so it can be cached), or None if it is invalid."""
    import jsonschema  # heavy: only once a tool is called
    import referencing.exceptions

    schema = json.loads(schema_json)
    try:
        jsonschema.Draft202012Validator.check_schema(schema)
    except (jsonschema.SchemaError, referencing.exceptions.Unresolvable):
        return None
    return jsonschema.Draft202012Validator(schema)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
