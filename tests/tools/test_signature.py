"""Schemas generated from real functions (tests/tools/sample_tools.py and files written here)."""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import pytest

from realtime_console.errors import ConfigError
from realtime_console.tools import ArgumentsError, PythonHandler, Tool
from realtime_console.tools.loader import load_source
from realtime_console.tools.signature import tool_from_function
from tests.tools import sample_tools


def _tools() -> dict[str, Tool]:
    return {tool.name: tool for tool in load_source("tests.tools.sample_tools")}


def _props(tool: Tool) -> dict[str, Any]:
    properties: dict[str, Any] = tool.parameters["properties"]
    return properties


def test_public_functions_defined_in_the_module_become_tools_in_order() -> None:
    # join is imported, _private_helper is private, not_exported is not in __all__,
    # NotATool is a class.
    assert list(_tools()) == [
        "lookup",
        "convert",
        "search",
        "book_table",
        "slow_hello",
        "no_arguments",
        "echo",
        "forecast",
    ]


def test_scalar_types_defaults_and_required() -> None:
    tool = _tools()["lookup"]
    assert tool.description == "Find words that look like ``word``."
    assert tool.parameters["type"] == "object"
    assert tool.parameters["required"] == ["word"]
    assert tool.parameters["additionalProperties"] is False
    assert _props(tool) == {
        "word": {"type": "string", "description": "The word to look up."},
        "limit": {"type": "integer", "default": 3, "description": "At most this many answers."},
        "exact": {"type": "boolean", "default": False},
        "score": {"type": "number", "default": 0.5},
    }


def test_literal_becomes_enum_and_numpy_docs_describe() -> None:
    props = _props(_tools()["convert"])
    assert props["to"] == {
        "type": "string",
        "enum": ["celsius", "fahrenheit"],
        "default": "celsius",
        "description": "The unit to convert to.",
    }
    assert props["value"] == {"type": "number", "description": "The temperature."}


def test_optional_and_annotated_field_description_wins_over_docstring() -> None:
    tool = _tools()["search"]
    props = _props(tool)
    assert props["query"] == {"type": "string", "minLength": 1, "description": "From Annotated."}
    assert props["tags"] == {
        "anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}],
        "default": None,
        "description": "Only notes with all these tags.",
    }
    assert props["page"] == {"anyOf": [{"type": "integer"}, {"type": "null"}], "default": None}
    assert tool.parameters["required"] == ["query"]


def test_nested_model_and_typed_dict_use_defs_without_titles() -> None:
    tool = _tools()["book_table"]
    params = tool.parameters
    assert _props(tool)["place"] == {"$ref": "#/$defs/Place", "description": "Where to eat."}
    assert params["$defs"]["Place"]["properties"] == {
        "city": {"type": "string"},
        "country": {"type": "string", "default": "FR"},
    }
    assert params["$defs"]["Window"]["required"] == ["start", "end"]
    assert _props(tool)["guests"] == {"type": "object", "additionalProperties": {"type": "integer"}}
    assert "title" not in str(params)


def test_parameters_named_like_basemodel_attributes_and_keywords() -> None:
    tool = _tools()["echo"]
    assert set(_props(tool)) == {"json", "title"}  # "title" the parameter stays
    assert tool.check({"json": "x"}) == {"json": "x", "title": "t"}


def test_no_parameters_gives_an_empty_object_schema() -> None:
    tool = _tools()["no_arguments"]
    assert tool.parameters == {"type": "object", "properties": {}, "additionalProperties": False}


def test_async_and_sync_handlers_are_told_apart() -> None:
    tools = _tools()
    assert tools["slow_hello"].handler == PythonHandler(sample_tools.slow_hello, is_async=True)
    assert tools["lookup"].handler == PythonHandler(sample_tools.lookup, is_async=False)


def test_check_converts_arguments_to_the_declared_types() -> None:
    kwargs = _tools()["book_table"].check(
        {"place": {"city": "Lyon"}, "window": {"start": 1, "end": 2}, "guests": {"a": 1}}
    )
    assert kwargs["place"] == sample_tools.Place(city="Lyon", country="FR")
    assert kwargs["window"] == {"start": 1, "end": 2}


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({}, "word: Field required"),
        ({"word": "a", "limit": "many"}, "limit: Input should be a valid integer"),
        ({"word": "a", "colour": "red"}, "colour: Extra inputs are not permitted"),
        ({"limit": "x"}, "(and 1 more)"),
    ],
)
def test_check_rejects_arguments_that_do_not_fit(arguments: dict[str, Any], message: str) -> None:
    with pytest.raises(ArgumentsError) as caught:
        _tools()["lookup"].check(arguments)
    assert message in str(caught.value)


def test_check_enforces_field_constraints() -> None:
    with pytest.raises(ArgumentsError, match="days: Input should be less than or equal to 7"):
        _tools()["forecast"].check({"days": 8})


def _write(tmp_path: Path, body: str, name: str = "mod.py") -> str:
    path = tmp_path / name
    path.write_text("from __future__ import annotations\n" + body)
    return str(path)


def test_postponed_annotations_resolve_in_a_module_loaded_by_path(tmp_path: Path) -> None:
    source = _write(
        tmp_path,
        "from dataclasses import dataclass\n"
        "@dataclass\nclass Point:\n    x: int\n    y: int\n"
        "def move(to: Point) -> str:\n    '''Move.'''\n    return str(to)\n",
    )
    (tool,) = load_source(source)
    assert tool.parameters["$defs"]["Point"]["required"] == ["x", "y"]
    assert tool.source == source


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            "def f(x):\n    '''Doc.'''\n",
            "mod.py: function f: parameter 'x' has no type hint",
        ),
        (
            "def f(x: int):\n    pass\n",
            "mod.py: function f has no docstring (the model reads it as the tool's description)",
        ),
        (
            "def f(*names: str):\n    '''Doc.'''\n",
            "mod.py: function f: parameter 'names' must be an ordinary named parameter",
        ),
        (
            "def f(**options: str):\n    '''Doc.'''\n",
            "mod.py: function f: parameter 'options' must be an ordinary named parameter",
        ),
        (
            "def f(x: int, /):\n    '''Doc.'''\n",
            "mod.py: function f: parameter 'x' must be an ordinary named parameter",
        ),
        (
            "def f(x: Missing):\n    '''Doc.'''\n",
            "mod.py: function f: its type hints cannot be read: name 'Missing' is not defined",
        ),
        (
            "import socket\ndef f(s: socket.socket):\n    '''Doc.'''\n",
            "mod.py: function f: its parameter types are not supported:",
        ),
        (
            "def météo(x: int):\n    '''Doc.'''\n",
            "mod.py: function météo: tool name 'météo' must be 1 to 64 letters, digits",
        ),
        (
            "def _only_private(x: int):\n    '''Doc.'''\n",
            "mod.py: defines no public function to use as a tool",
        ),
    ],
)
def test_functions_that_cannot_be_tools(tmp_path: Path, body: str, message: str) -> None:
    source = _write(tmp_path, body)
    with pytest.raises(ConfigError) as caught:
        load_source(source)
    text = str(caught.value)
    assert text.startswith(source.rsplit("/", 1)[0])  # names the file as given
    assert message in text
    assert "\n" not in text


def test_a_default_without_a_json_form_is_left_out_of_the_schema(tmp_path: Path) -> None:
    source = _write(
        tmp_path, "SENTINEL = object()\ndef f(x: object = SENTINEL) -> None:\n    '''Doc.'''\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # and no warning reaches the screen
        (tool,) = load_source(source)
    assert _props(tool)["x"] == {}
    handler = tool.handler
    assert isinstance(handler, PythonHandler)
    assert tool.check({})["x"] is handler.function.__globals__["SENTINEL"]


def test_name_and_description_overrides() -> None:
    tool = tool_from_function(sample_tools.lookup, "here", name="find", description="Find it.")
    assert (tool.name, tool.description) == ("find", "Find it.")
    assert tool.source == "here"
