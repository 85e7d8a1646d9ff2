"""A small JSON Schema checker for the parameters of tools defined in TOML or JSON files.

Two jobs: :func:`schema_problem` checks that a ``parameters`` value is a usable schema (an
object schema whose known keywords have the right types), and :func:`validate` checks the
model's arguments against it. The project has no JSON Schema dependency, and function
parameters use a small part of the standard, so this covers that part:

    type, enum, const, properties, required, additionalProperties, items, minItems, maxItems,
    minLength, maxLength, pattern, minimum, maximum, exclusiveMinimum, exclusiveMaximum,
    anyOf, oneOf, allOf, not, $ref (local: ``#/$defs/...`` or ``#/definitions/...``)

Other keywords (format, description, default, ...) are passed to the model but not enforced.
Tools defined as Python functions are validated by pydantic instead (``signature``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["JSON_TYPES", "schema_problem", "validate"]

JSON_TYPES = ("object", "array", "string", "number", "integer", "boolean", "null")

_SUBSCHEMA_KEYS = ("items", "not")
_SUBSCHEMA_LIST_KEYS = ("anyOf", "oneOf", "allOf")
_SUBSCHEMA_MAP_KEYS = ("properties", "$defs", "definitions")
_COUNT_KEYS = ("minItems", "maxItems", "minLength", "maxLength")
_NUMBER_KEYS = ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum")


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _show(value: object) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


# ---------------------------------------------------------------- is the schema usable?


def schema_problem(schema: object, where: str = "parameters") -> str | None:
    """Why ``schema`` cannot be a tool's parameters (``"where.key ..."``), or ``None``."""
    if not isinstance(schema, Mapping):
        return f"{where} must be a table (a JSON schema object), not {_show(schema)}"
    if schema.get("type") != "object":
        shown = _show(schema.get("type"))
        return f'{where}.type must be "object" (the arguments are named), not {shown}'
    return _node_problem(schema, where, schema)


def _node_problem(node: object, where: str, root: Mapping[str, Any]) -> str | None:
    if isinstance(node, bool):
        return None  # true / false are schemas too
    if not isinstance(node, Mapping):
        return f"{where} must be a schema object, not {_show(node)}"
    for key, check in _KEYWORD_CHECKS.items():
        if key in node:
            problem = check(node[key], f"{where}.{key}", root)
            if problem:
                return problem
    required = node.get("required")
    properties = node.get("properties")
    if isinstance(required, list) and isinstance(properties, Mapping):
        for name in required:
            if name not in properties:
                return f"{where}.required names {name!r}, which is not in {where}.properties"
    return None


def _check_type(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    names = value if isinstance(value, list) else [value]
    for name in names:
        if name not in JSON_TYPES:
            return f"{where} = {_show(name)} is not a JSON type ({', '.join(JSON_TYPES)})"
    return None


def _check_list(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    return None if isinstance(value, list) else f"{where} must be an array"


def _check_strings(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return None
    return f"{where} must be an array of strings"


def _check_count(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return None
    return f"{where} must be a whole number >= 0, not {_show(value)}"


def _check_number(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    return None if _is_number(value) else f"{where} must be a number, not {_show(value)}"


def _check_pattern(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return f"{where} must be a string"
    try:
        re.compile(value)
    except re.error as exc:
        return f"{where} is not a valid regular expression ({exc})"
    return None


def _check_subschema(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    return _node_problem(value, where, root)


def _check_subschema_list(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if not isinstance(value, list) or not value:
        return f"{where} must be a non-empty array of schemas"
    for i, item in enumerate(value):
        problem = _node_problem(item, f"{where}[{i}]", root)
        if problem:
            return problem
    return None


def _check_subschema_map(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if not isinstance(value, Mapping):
        return f"{where} must be a table of schemas"
    for name, item in value.items():
        problem = _node_problem(item, f"{where}.{name}", root)
        if problem:
            return problem
    return None


def _check_additional(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    return None if isinstance(value, bool) else _node_problem(value, where, root)


def _check_ref(value: object, where: str, root: Mapping[str, Any]) -> str | None:
    if not isinstance(value, str):
        return f"{where} must be a string"
    if _resolve_ref(value, root) is None:
        return f"{where} = {value!r} does not point into this schema's $defs or definitions"
    return None


_Check = Callable[[object, str, Mapping[str, Any]], "str | None"]
_KEYWORD_CHECKS: dict[str, _Check] = {
    "type": _check_type,
    "enum": _check_list,
    "required": _check_strings,
    "pattern": _check_pattern,
    "additionalProperties": _check_additional,
    "$ref": _check_ref,
    **dict.fromkeys(_COUNT_KEYS, _check_count),
    **dict.fromkeys(_NUMBER_KEYS, _check_number),
    **dict.fromkeys(_SUBSCHEMA_KEYS, _check_subschema),
    **dict.fromkeys(_SUBSCHEMA_LIST_KEYS, _check_subschema_list),
    **dict.fromkeys(_SUBSCHEMA_MAP_KEYS, _check_subschema_map),
}


def _resolve_ref(ref: str, root: Mapping[str, Any]) -> object | None:
    for prefix in ("#/$defs/", "#/definitions/"):
        if ref.startswith(prefix):
            table = root.get(prefix[2:-1])
            if isinstance(table, Mapping):
                return table.get(ref[len(prefix) :])
    return None


# ---------------------------------------------------------------- do the arguments fit?


def validate(instance: object, schema: Mapping[str, Any]) -> str | None:
    """The first way ``instance`` breaks ``schema`` (``"path: what"``), or ``None``.

    ``schema`` must have passed :func:`schema_problem`.
    """
    return _fit(instance, schema, "arguments", schema)


def _type_matches(value: object, name: str) -> bool:
    if name == "integer":
        return (isinstance(value, int) and not isinstance(value, bool)) or (
            isinstance(value, float) and value.is_integer()
        )
    checks: dict[str, Callable[[object], bool]] = {
        "object": lambda v: isinstance(v, Mapping),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "number": _is_number,
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    return checks[name](value)


def _fit(value: object, node: object, path: str, root: Mapping[str, Any]) -> str | None:
    if node is False:
        return f"{path}: no value is allowed here"
    if not isinstance(node, Mapping):
        return None  # true, or a reference that schema_problem has already ruled out
    for check in _FITS:
        problem = check(value, node, path, root)
        if problem:
            return problem
    return None


def _fit_ref(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    ref = node.get("$ref")
    return _fit(value, _resolve_ref(ref, root), path, root) if isinstance(ref, str) else None


def _fit_type(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    wanted = node.get("type")
    if wanted is None:
        return None
    names = wanted if isinstance(wanted, list) else [wanted]
    if any(_type_matches(value, name) for name in names):
        return None
    return f"{path}: expected {' or '.join(names)}, got {_show(value)}"


def _fit_enum(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    if "enum" in node and not any(_same(value, choice) for choice in node["enum"]):
        return f"{path}: {_show(value)} is not one of {', '.join(_show(c) for c in node['enum'])}"
    if "const" in node and not _same(value, node["const"]):
        return f"{path}: must be {_show(node['const'])}, not {_show(value)}"
    return None


def _same(a: object, b: object) -> bool:
    # JSON has no bool/number overlap: true is not 1.
    return isinstance(a, bool) == isinstance(b, bool) and a == b


def _fit_object(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    if not isinstance(value, Mapping):
        return None
    for name in node.get("required", []):
        if name not in value:
            return f"{path}: {name!r} is required"
    properties = node.get("properties", {})
    extra = node.get("additionalProperties", True)
    for name, item in value.items():
        if name in properties:
            problem = _fit(item, properties[name], f"{path}.{name}", root)
        elif extra is False:
            problem = f"{path}: {name!r} is not a parameter of this tool"
        else:
            problem = _fit(item, extra, f"{path}.{name}", root)
        if problem:
            return problem
    return None


def _fit_array(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    if not isinstance(value, list):
        return None
    if "minItems" in node and len(value) < node["minItems"]:
        return f"{path}: needs at least {node['minItems']} items, has {len(value)}"
    if "maxItems" in node and len(value) > node["maxItems"]:
        return f"{path}: takes at most {node['maxItems']} items, has {len(value)}"
    if "items" in node:
        for i, item in enumerate(value):
            problem = _fit(item, node["items"], f"{path}[{i}]", root)
            if problem:
                return problem
    return None


def _fit_string(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    if not isinstance(value, str):
        return None
    if "minLength" in node and len(value) < node["minLength"]:
        return f"{path}: must be at least {node['minLength']} characters"
    if "maxLength" in node and len(value) > node["maxLength"]:
        return f"{path}: must be at most {node['maxLength']} characters"
    if "pattern" in node and re.search(node["pattern"], value) is None:
        return f"{path}: {_show(value)} does not match {node['pattern']!r}"
    return None


def _fit_number(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    if not _is_number(value):
        return None
    number: float = value  # type: ignore[assignment]
    limits: list[tuple[str, Callable[[float, float], bool], str]] = [
        ("minimum", lambda v, lim: v >= lim, ">="),
        ("maximum", lambda v, lim: v <= lim, "<="),
        ("exclusiveMinimum", lambda v, lim: v > lim, ">"),
        ("exclusiveMaximum", lambda v, lim: v < lim, "<"),
    ]
    for key, ok, sign in limits:
        if key in node and not ok(number, node[key]):
            return f"{path}: must be {sign} {node[key]}, not {_show(value)}"
    return None


def _fit_combinators(
    value: object, node: Mapping[str, Any], path: str, root: Mapping[str, Any]
) -> str | None:
    for sub in node.get("allOf", []):
        problem = _fit(value, sub, path, root)
        if problem:
            return problem
    if "anyOf" in node:
        problems = [_fit(value, sub, path, root) for sub in node["anyOf"]]
        if all(problems):
            return (
                problems[0]
                if len(problems) == 1
                else f"{path}: fits none of the choices ({problems[0]})"
            )
    if "oneOf" in node:
        fits = sum(_fit(value, sub, path, root) is None for sub in node["oneOf"])
        if fits != 1:
            return f"{path}: must fit exactly one of the choices, fits {fits}"
    if "not" in node and _fit(value, node["not"], path, root) is None:
        return f"{path}: {_show(value)} is not allowed here"
    return None


_Fit = Callable[[object, Mapping[str, Any], str, Mapping[str, Any]], "str | None"]
_FITS: tuple[_Fit, ...] = (
    _fit_ref,
    _fit_type,
    _fit_enum,
    _fit_object,
    _fit_array,
    _fit_string,
    _fit_number,
    _fit_combinators,
)
