"""Arguments of local tool calls: built from the schema, always valid against it.

The oracle is the ``jsonschema`` package (Draft 2020-12), independent of the project's own
checker that the server uses.
"""

from __future__ import annotations

import json
from typing import Any

import jsonschema
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realtime_console.server.tool_arguments import build_arguments, example, message_tokens


def check(schema: dict[str, Any], arguments: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(schema).validate(arguments)


# ---------------------------------------------------------------- schemas to try


def many_valued(items: dict[str, Any]) -> bool:
    """More values fit ``items`` than any ``minItems`` here asks for."""
    if items.get("type") == "string":
        return "enum" not in items
    bounds = (
        {"minimum", "exclusiveMinimum"} & set(items),
        {"maximum", "exclusiveMaximum"} & set(items),
    )
    return items.get("type") in ("integer", "number") and not all(bounds)  # [0, 0]: one value


FORMATS = ["date", "date-time", "email", "uri", "uuid", "ipv4", "hostname"]


@st.composite
def strings(draw: st.DrawFn) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "string"}
    kind = draw(st.sampled_from(["plain", "lengths", "format", "enum", "default", "pattern"]))
    if kind == "lengths":
        low = draw(st.integers(0, 20))
        schema |= {"minLength": low, "maxLength": draw(st.integers(max(low, 1), 30))}
    elif kind == "format":
        schema["format"] = draw(st.sampled_from(FORMATS))
    elif kind == "enum":
        schema["enum"] = draw(st.lists(st.text(max_size=5), min_size=1, max_size=4, unique=True))
    elif kind == "default":
        schema["default"] = draw(st.text(max_size=8))
    elif kind == "pattern":
        schema["pattern"] = draw(st.sampled_from(["^[a-z]+$", "ex", "^.{3,}$", "[aeiou]"]))
    return schema


@st.composite
def numbers(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["integer", "number"]))
    schema: dict[str, Any] = {"type": kind}
    low = draw(st.none() | st.integers(-100, 100))
    high = draw(st.none() | st.integers(-100, 100))
    if low is not None and high is not None and low > high:
        low, high = high, low
    exclusive = draw(st.booleans())
    if low is not None:
        schema["exclusiveMinimum" if exclusive else "minimum"] = low
    if high is not None:
        bump = 2 if exclusive and low is not None else 0  # leave room for a whole number
        schema["exclusiveMaximum" if exclusive else "maximum"] = high + bump
    if high is None and draw(st.booleans()):
        schema["multipleOf"] = draw(st.integers(1, 7))
    return schema


scalars = st.one_of(
    strings(),
    numbers(),
    st.just({"type": "boolean"}),
    st.just({"type": "null"}),
    st.just({"type": ["string", "null"]}),
    st.just({"const": "fixed"}),
    st.just({}),
)


def nested(children: st.SearchStrategy[dict[str, Any]]) -> st.SearchStrategy[dict[str, Any]]:
    arrays = st.builds(
        lambda items, low, unique: {
            "type": "array",
            "items": items,
            "minItems": low,
            "maxItems": low + 3,
            # only where enough different values exist: [true, true, true] cannot be unique
            **({"uniqueItems": True} if unique and many_valued(items) else {}),
        },
        children,
        st.integers(0, 3),
        st.booleans(),
    )
    objects = st.dictionaries(st.sampled_from("abcdef"), children, max_size=3).flatmap(
        lambda properties: st.builds(
            lambda required: {"type": "object", "properties": properties, "required": required},
            st.lists(st.sampled_from(sorted(properties)), unique=True)
            if properties
            else st.just([]),
        )
    )
    choices = st.lists(children, min_size=1, max_size=3).map(lambda options: {"anyOf": options})
    return st.one_of(arrays, objects, choices)


property_schemas = st.recursive(scalars, nested, max_leaves=6)


@st.composite
def parameters(draw: st.DrawFn) -> dict[str, Any]:
    properties = draw(
        st.dictionaries(
            st.sampled_from(["city", "days", "unit", "query", "when", "tags", "opts"]),
            property_schemas,
            max_size=5,
        )
    )
    required = (
        draw(st.lists(st.sampled_from(sorted(properties)), unique=True)) if properties else []
    )
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": required}
    if draw(st.booleans()):
        schema["additionalProperties"] = False
    by_reference: bool = draw(st.booleans())
    if properties and by_reference:  # one property moved into $defs
        name = sorted(properties)[0]
        schema["$defs"] = {"shared": properties[name]}
        properties[name] = {"$ref": "#/$defs/shared"}
    return schema


def example_fits(schema: dict[str, Any]) -> bool:
    """``"example"`` fits every pattern in the schema (the one case the rule cannot promise)."""
    text = json.dumps(schema)
    return '"pattern"' not in text or all(p in ("ex", "^[a-z]+$") for p in _patterns(schema))


def _patterns(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["pattern"]] if isinstance(node.get("pattern"), str) else []
        return found + [p for value in node.values() for p in _patterns(value)]
    if isinstance(node, list):
        return [p for value in node for p in _patterns(value)]
    return []


# ---------------------------------------------------------------- properties


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(parameters())
def test_the_arguments_of_any_schema_validate_against_it(schema: dict[str, Any]) -> None:
    if not example_fits(schema):
        return
    arguments = build_arguments(schema, "please call it")
    check(schema, arguments)
    assert set(arguments) == set(schema["required"])  # optional ones are left out


@settings(max_examples=200, deadline=None)
@given(parameters(), st.lists(st.text(max_size=12), min_size=1, max_size=4))
def test_tokens_never_make_arguments_invalid(schema: dict[str, Any], values: list[str]) -> None:
    if not example_fits(schema):
        return
    names = sorted(schema["properties"]) or ["city"]
    message = " ".join(
        f"{name}={json.dumps(value)}" for name, value in zip(names, values, strict=False)
    )
    check(schema, build_arguments(schema, message))


@given(st.text(max_size=40))
def test_a_quoted_string_token_arrives_exactly(value: str) -> None:
    schema = {"type": "object", "properties": {"q": {"type": "string"}}}
    message = f"search q={json.dumps(value)} please"
    assert build_arguments(schema, message) == {"q": value}


@given(st.integers(-(10**12), 10**12), st.floats(allow_nan=False, allow_infinity=False))
def test_numbers_are_converted(whole: int, real: float) -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer"}, "x": {"type": "number"}},
    }
    arguments = build_arguments(schema, f"n={whole} x={real!r}")
    assert arguments == {"n": whole, "x": real}
    assert type(arguments["n"]) is int


# ---------------------------------------------------------------- the rule, case by case


def test_tokens_are_words_or_quoted_strings_and_the_first_one_counts() -> None:
    text = 'a=1 b="two words" c=end. d="say \\"hi\\"" a=9 x= f="unterminated'
    assert message_tokens(text) == {"a": "1", "b": "two words", "c": "end", "d": 'say "hi"'}
    assert message_tokens("word=1, notatoken") == {"word": "1"}
    assert message_tokens("inside=a=b") == {"inside": "a=b"}


@pytest.mark.parametrize(
    ("schema", "expected"),
    [
        ({"type": "string"}, "example"),
        ({"type": "string", "default": "d"}, "d"),
        ({"type": "string", "enum": ["x", "y"]}, "x"),
        ({"type": "string", "maxLength": 3}, "exa"),
        ({"type": "string", "minLength": 9}, "examplexx"),
        ({"type": "string", "format": "date"}, "2026-01-01"),
        ({"type": "integer"}, 1),
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "integer", "maximum": -3}, -3),
        ({"type": "integer", "exclusiveMinimum": 5}, 6),
        ({"type": "number", "minimum": 2.5}, 2.5),
        ({"type": "integer", "minimum": 2.5}, 3),
        ({"type": "integer", "minimum": 4, "multipleOf": 3}, 6),
        ({"type": "boolean"}, True),
        ({"type": "null"}, None),
        ({"type": ["null", "integer"]}, 1),
        ({"type": "array", "items": {"type": "integer"}}, []),
        ({"type": "array", "items": {"type": "integer"}, "minItems": 2}, [1, 1]),
        (
            {"type": "array", "items": {"type": "integer"}, "minItems": 2, "uniqueItems": True},
            [1, 2],
        ),
        ({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"a": 1}),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, {}),
        ({"anyOf": [{"type": "boolean"}, {"type": "string"}]}, True),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}, {"type": "string"}]}, "example"),
        ({"const": 7}, 7),
    ],
)
def test_examples_for_required_properties(schema: dict[str, Any], expected: Any) -> None:
    assert example(schema, {}) == expected


def test_a_value_that_fits_no_type_is_ignored() -> None:
    schema = {
        "type": "object",
        "properties": {"n": {"type": "integer", "maximum": 5}, "m": {"type": "integer"}},
        "required": ["n"],
    }
    assert build_arguments(schema, "n=9 m=many") == {"n": 1}


def test_a_schema_that_refers_to_itself_still_gives_arguments() -> None:
    schema = {
        "type": "object",
        "properties": {"tree": {"$ref": "#/$defs/node"}},
        "required": ["tree"],
        "$defs": {
            "node": {
                "type": "object",
                "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/node"}}},
                "required": ["kids"],
            }
        },
    }
    arguments = build_arguments(schema, "")
    assert arguments == {"tree": {"kids": []}}
    check(schema, arguments)


@pytest.mark.parametrize("parameters", [None, "nonsense", {"type": "object"}, {"properties": 3}])
def test_missing_or_odd_parameters_give_empty_arguments(parameters: Any) -> None:
    assert build_arguments(parameters, "a=1") == {}
