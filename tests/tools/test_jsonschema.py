from __future__ import annotations

from typing import Any

import pytest

from realtime_console.tools.jsonschema import schema_problem, validate

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["city"],
    "additionalProperties": False,
    "properties": {
        "city": {"type": "string", "minLength": 2, "maxLength": 20, "pattern": "^[A-Z]"},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "ratio": {"type": "number", "exclusiveMinimum": 0, "exclusiveMaximum": 1},
        "unit": {"enum": ["c", "f"]},
        "kind": {"const": "weather"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 2},
        "when": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/Window"}]},
        "flag": {"type": ["boolean", "null"]},
        "id": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
        "name": {"allOf": [{"type": "string"}, {"not": {"const": "root"}}]},
    },
    "$defs": {
        "Window": {
            "type": "object",
            "required": ["start"],
            "properties": {"start": {"type": "integer"}},
        }
    },
}


def test_valid_arguments_pass() -> None:
    arguments = {
        "city": "Paris",
        "days": 3,
        "ratio": 0.5,
        "unit": "c",
        "kind": "weather",
        "tags": ["a"],
        "when": {"start": 1},
        "flag": None,
        "name": "x",
    }
    assert validate(arguments, SCHEMA) is None
    assert validate({"city": "Paris", "days": 3.0, "when": None}, SCHEMA) is None


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ({}, "arguments: 'city' is required"),
        ({"city": "Paris", "x": 1}, "arguments: 'x' is not a parameter of this tool"),
        ({"city": 3}, "arguments.city: expected string, got 3"),
        ({"city": "P"}, "arguments.city: must be at least 2 characters"),
        ({"city": "P" * 21}, "arguments.city: must be at most 20 characters"),
        ({"city": "paris"}, "arguments.city: \"paris\" does not match '^[A-Z]'"),
        ({"city": "Paris", "days": 0}, "arguments.days: must be >= 1, not 0"),
        ({"city": "Paris", "days": 8}, "arguments.days: must be <= 7, not 8"),
        ({"city": "Paris", "days": 2.5}, "arguments.days: expected integer, got 2.5"),
        ({"city": "Paris", "days": True}, "arguments.days: expected integer, got true"),
        ({"city": "Paris", "ratio": 0}, "arguments.ratio: must be > 0, not 0"),
        ({"city": "Paris", "ratio": 1}, "arguments.ratio: must be < 1, not 1"),
        ({"city": "Paris", "unit": "k"}, 'arguments.unit: "k" is not one of "c", "f"'),
        ({"city": "Paris", "kind": "x"}, 'arguments.kind: must be "weather", not "x"'),
        ({"city": "Paris", "tags": []}, "arguments.tags: needs at least 1 items, has 0"),
        ({"city": "Paris", "tags": ["a", "b", "c"]}, "takes at most 2 items, has 3"),
        ({"city": "Paris", "tags": ["a", 1]}, "arguments.tags[1]: expected string, got 1"),
        ({"city": "Paris", "when": {}}, "fits none of the choices"),
        ({"city": "Paris", "flag": 1}, "arguments.flag: expected boolean or null, got 1"),
        ({"city": "Paris", "id": 1}, "arguments.id: must fit exactly one of the choices, fits 2"),
        ({"city": "Paris", "name": "root"}, 'arguments.name: "root" is not allowed here'),
    ],
)
def test_arguments_that_break_the_schema(arguments: dict[str, Any], problem: str) -> None:
    found = validate(arguments, SCHEMA)
    assert found is not None and problem in found


def test_true_is_not_one_in_enums() -> None:
    assert validate({"x": True}, {"type": "object", "properties": {"x": {"enum": [1]}}})


def test_false_schema_allows_nothing() -> None:
    assert validate({"x": 1}, {"type": "object", "additionalProperties": False}) is not None
    schema = {"type": "object", "properties": {"x": False}}
    assert validate({"x": 1}, schema) == "arguments.x: no value is allowed here"


def test_unknown_keywords_are_not_enforced() -> None:
    schema = {"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}
    assert schema_problem(schema) is None
    assert validate({"d": "not a date"}, schema) is None


def test_a_good_schema_has_no_problem() -> None:
    assert schema_problem(SCHEMA) is None
    assert schema_problem({"type": "object"}) is None


@pytest.mark.parametrize(
    ("schema", "problem"),
    [
        ([], "parameters must be a table (a JSON schema object), not []"),
        (
            {"type": "string"},
            'parameters.type must be "object" (the arguments are named), not "string"',
        ),
        ({}, 'parameters.type must be "object" (the arguments are named), not null'),
        (
            {"type": "object", "properties": {"x": {"type": "strin"}}},
            'parameters.properties.x.type = "strin" is not a JSON type',
        ),
        ({"type": "object", "properties": []}, "parameters.properties must be a table of schemas"),
        (
            {"type": "object", "properties": {"x": 3}},
            "parameters.properties.x must be a schema object",
        ),
        ({"type": "object", "required": "x"}, "parameters.required must be an array of strings"),
        (
            {"type": "object", "required": ["x"], "properties": {}},
            "parameters.required names 'x', which is not in parameters.properties",
        ),
        ({"type": "object", "enum": "a"}, "parameters.enum must be an array"),
        (
            {"type": "object", "properties": {"x": {"minLength": -1}}},
            "parameters.properties.x.minLength must be a whole number >= 0, not -1",
        ),
        (
            {"type": "object", "properties": {"x": {"maximum": "7"}}},
            'parameters.properties.x.maximum must be a number, not "7"',
        ),
        (
            {"type": "object", "properties": {"x": {"pattern": "("}}},
            "parameters.properties.x.pattern is not a valid regular expression",
        ),
        (
            {"type": "object", "properties": {"x": {"anyOf": []}}},
            "parameters.properties.x.anyOf must be a non-empty array of schemas",
        ),
        (
            {"type": "object", "properties": {"x": {"items": {"type": 1}}}},
            "parameters.properties.x.items.type = 1 is not a JSON type",
        ),
        (
            {"type": "object", "properties": {"x": {"$ref": "#/$defs/Nope"}}},
            "parameters.properties.x.$ref = '#/$defs/Nope' does not point into this schema's $defs",
        ),
        (
            {"type": "object", "additionalProperties": "no"},
            'parameters.additionalProperties must be a schema object, not "no"',
        ),
    ],
)
def test_schema_problems_name_the_keyword(schema: object, problem: str) -> None:
    found = schema_problem(schema)
    assert found is not None and found.startswith(problem), found
