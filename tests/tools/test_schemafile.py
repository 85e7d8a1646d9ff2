"""TOML and JSON tool files: what loads, and the one line for each mistake."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from realtime_console.errors import ConfigError
from realtime_console.tools import CannedResult, CommandHandler, PythonHandler, Tool
from realtime_console.tools.schemafile import load_schema_file

HANDLERS = """\
def greet(name: str, polite: bool = True) -> str:
    '''Greet someone by name.

    Args:
        name: Who to greet.
    '''
    return ("Good day, " if polite else "Hi, ") + name

def undocumented(x: int) -> int:
    return x

VALUE = 3
"""


def _toml(tmp_path: Path, text: str) -> list[Tool]:
    path = tmp_path / "tools.toml"
    path.write_text(text)
    return load_schema_file(path, "tools.toml")


def _error(tmp_path: Path, text: str, name: str = "tools.toml") -> str:
    path = tmp_path / name
    path.write_text(text)
    (tmp_path / "handlers.py").write_text(HANDLERS)
    with pytest.raises(ConfigError) as caught:
        load_schema_file(path, name)
    message = str(caught.value)
    assert "\n" not in message
    return message


def test_the_three_handler_kinds(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tmp_path / "bin").mkdir()
    script = tmp_path / "bin" / "lookup.sh"
    script.write_text("#!/bin/sh\ncat\n")
    tools = _toml(
        tmp_path,
        """
        [[tools]]
        name = "greet"
        description = "Say hello."
        python = "handlers.py:greet"
        parameters = { type = "object", properties = { name = { type = "string" } } }

        [[tools]]
        name = "lookup"
        description = "Look it up."
        command = ["bin/lookup.sh", "--fast"]
        timeout_s = 2.5

        [[tools]]
        name = "where"
        description = "Where the user is."
        result = "Paris"
        """,
    )
    greet, lookup, where = tools
    assert isinstance(greet.handler, PythonHandler)
    assert greet.handler.function.__name__ == "greet" and not greet.handler.is_async
    assert greet.parameters == {"type": "object", "properties": {"name": {"type": "string"}}}
    assert lookup.handler == CommandHandler(
        (str(script.resolve()), "--fast"), cwd=tmp_path.resolve()
    )
    assert lookup.timeout_s == 2.5
    assert lookup.parameters == {"type": "object", "properties": {}}
    assert where.handler == CannedResult("Paris")
    assert where.timeout_s is None
    assert [t.source for t in tools] == ["tools.toml"] * 3
    assert greet.session_entry() == {
        "type": "function",
        "name": "greet",
        "description": "Say hello.",
        "parameters": greet.parameters,
    }


def test_file_schemas_check_arguments_and_pass_them_unchanged(tmp_path: Path) -> None:
    (tool,) = _toml(
        tmp_path,
        """
        [[tools]]
        name = "where"
        description = "Where."
        result = "Paris"
        [tools.parameters]
        type = "object"
        required = ["who"]
        properties = { who = { type = "string" } }
        """,
    )
    assert tool.check({"who": "me"}) == {"who": "me"}
    with pytest.raises(ValueError, match="arguments: 'who' is required"):
        tool.check({})


def test_a_python_handler_without_parameters_takes_them_from_its_hints(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (described, documented) = _toml(
        tmp_path,
        """
        [[tools]]
        name = "hello"
        description = "Say hello nicely."
        python = "handlers.py:greet"
        timeout_s = 1

        [[tools]]
        name = "hello2"
        python = "handlers.py:greet"
        """,
    )
    assert described.description == "Say hello nicely."
    assert described.timeout_s == 1.0
    assert described.parameters["properties"]["name"] == {
        "type": "string",
        "description": "Who to greet.",
    }
    assert described.check({"name": "Ann"}) == {"name": "Ann", "polite": True}
    assert documented.description == "Greet someone by name."
    assert documented.name == "hello2"


def test_a_python_handler_with_parameters_may_take_its_docstring(tmp_path: Path) -> None:
    (tmp_path / "handlers.py").write_text(HANDLERS)
    (tool,) = _toml(
        tmp_path,
        "[[tools]]\nname = 'g'\npython = 'handlers.py:greet'\nparameters = { type = 'object' }\n",
    )
    assert tool.description == "Greet someone by name."
    assert tool.parameters == {"type": "object"}


def test_canned_results_may_be_any_json_value(tmp_path: Path) -> None:
    tools = _toml(
        tmp_path,
        """
        [[tools]]
        name = "a"
        description = "A."
        result = { city = "Paris", n = 2 }
        [[tools]]
        name = "b"
        description = "B."
        result = [1, 2]
        [[tools]]
        name = "c"
        description = "C."
        result = 4.5
        """,
    )
    assert [t.handler for t in tools] == [
        CannedResult({"city": "Paris", "n": 2}),
        CannedResult([1, 2]),
        CannedResult(4.5),
    ]


def test_json_files_bare_list_or_under_tools_with_type_function(tmp_path: Path) -> None:
    entry = {
        "type": "function",
        "name": "where",
        "description": "Where.",
        "parameters": {"type": "object", "properties": {}},
        "result": "Paris",
    }
    for document in ([entry], {"tools": [entry]}):
        path = tmp_path / "tools.json"
        path.write_text(json.dumps(document))
        (tool,) = load_schema_file(path)
        assert tool.session_entry() == {k: v for k, v in entry.items() if k != "result"}
        assert tool.source == str(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[tools]\n", "tools.toml: invalid TOML: "),
        ("title = 'x'\n", "tools.toml: key 'title' is unknown (the file holds tools = [...])"),
        ("tools = 3\n", "tools.toml: tools must be a list of tools ([[tools]] tables in TOML)"),
        ("", "tools.toml: tools must be a list of tools"),
        ("tools = []\n", "tools.toml: declares no tools"),
        ("tools = [1]\n", "tools.toml: tools[0] must be a table, not int"),
        (
            "[[tools]]\nname = 'a'\ndescripton = 'x'\nresult = '1'\n",
            "tools.toml: tool 'a': key 'descripton' is unknown (did you mean description?)",
        ),
        (
            "[[tools]]\nname = 'a'\nzzz = 1\nresult = '1'\n",
            "tools.toml: tool 'a': key 'zzz' is unknown (known: name, description, parameters,",
        ),
        (
            "[[tools]]\ndescription = 'x'\nresult = '1'\n",
            "tools.toml: tools[0]: name is missing or not a string",
        ),
        (
            "[[tools]]\nname = 5\nresult = '1'\n",
            "tools.toml: tools[0]: name is missing or not a string",
        ),
        (
            "[[tools]]\nname = 'get weather'\nresult = '1'\n",
            "tools.toml: tool 'get weather': tool name 'get weather' must be 1 to 64 letters",
        ),
        (
            f"[[tools]]\nname = '{'x' * 65}'\nresult = '1'\n",
            "must be 1 to 64 letters, digits, '_' or '-'",
        ),
        (
            "[[tools]]\nname = 'a'\ntype = 'mcp'\nresult = '1'\n",
            "tools.toml: tool 'a': type must be \"function\", not 'mcp'",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\n",
            "tools.toml: tool 'a': needs exactly one handler: python, command or result "
            "(found none)",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\ncommand = ['ls']\n",
            "tools.toml: tool 'a': needs exactly one handler: python, command or result "
            "(found command, result)",
        ),
        (
            "[[tools]]\nname = 'a'\nresult = '1'\n",
            "tools.toml: tool 'a': description is missing (the model reads it to choose tools)",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = ['x']\nresult = '1'\n",
            "tools.toml: tool 'a': description must be a non-empty string, not a list",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = ' '\nresult = '1'\n",
            "tools.toml: tool 'a': description must be a non-empty string, not a string",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\ntimeout_s = 0\n",
            "tools.toml: tool 'a': timeout_s must be a number of seconds > 0, not 0",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\ntimeout_s = true\n",
            "tools.toml: tool 'a': timeout_s must be a number of seconds > 0, not True",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\ntimeout_s = '5'\n",
            "tools.toml: tool 'a': timeout_s must be a number of seconds > 0, not '5'",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\nparameters = 'object'\n",
            "tools.toml: tool 'a': parameters must be a table (a JSON schema object)",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\n"
            "parameters = { type = 'array' }\n",
            "tools.toml: tool 'a': parameters.type must be \"object\" (the arguments are named), "
            'not "array"',
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = '1'\n"
            "parameters = { type = 'object', properties = { n = { type = 'int' } } }\n",
            "tools.toml: tool 'a': parameters.properties.n.type = \"int\" is not a JSON type",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\nresult = 1979-05-27\n",
            "tools.toml: tool 'a': result must be a string or any JSON value, not date",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = 'ls -l'\n",
            "tools.toml: tool 'a': command must be a list of non-empty strings, "
            'e.g. ["prog", "arg"]',
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = []\n",
            "command must be a list of non-empty strings",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = ['ls', 1]\n",
            "command must be a list of non-empty",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = ['no-such-program-xyz']\n",
            "tools.toml: tool 'a': command: program 'no-such-program-xyz' is not found on PATH",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = ['./missing.sh']\n",
            "tools.toml: tool 'a': command: program './missing.sh' is not a file (relative to ",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 3\n",
            'tools.toml: tool \'a\': python must be a string ("pkg.mod:func" or "file.py:func")',
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 'handlers.py'\n",
            "tools.toml: tool 'a': python = 'handlers.py' must be \"pkg.module:function\"",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 'handlers.py:nope'\n",
            "tools.toml: tool 'a': python: handlers.py has no function 'nope'",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 'handlers.py:VALUE'\n",
            "tools.toml: tool 'a': python: handlers.py:VALUE is not a function",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 'gone.py:f'\n",
            "tools.toml: tool 'a': python: gone.py: no such file",
        ),
        (
            "[[tools]]\nname = 'a'\ndescription = 'x'\npython = 'no_such_pkg_xyz:f'\n",
            "tools.toml: tool 'a': python: no_such_pkg_xyz: no module of that name on the "
            "Python path",
        ),
        (
            "[[tools]]\nname = 'a'\npython = 'handlers.py:undocumented'\n",
            "tools.toml: tool 'a': function undocumented has no docstring",
        ),
        (
            "[[tools]]\nname = 'a'\npython = 'handlers.py:undocumented'\n"
            "parameters = { type = 'object' }\n",
            "tools.toml: tool 'a': description is missing (the model reads it to choose tools), "
            "and the function has no docstring",
        ),
    ],
)
def test_every_mistake_is_one_line_naming_file_tool_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    found = _error(tmp_path, text)
    assert found.startswith(message) or message in found, found


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "tools.json: invalid JSON: Expecting property name enclosed in double quotes"),
        ("3", "tools.json: must hold a list of tools (or a table with a tools list)"),
        (
            '[{"name": "a", "description": "x", "result": null}]',
            "tools.json: tool 'a': result must be a string or any JSON value, not NoneType",
        ),
        (
            '[{"name": "a", "description": "x", "result": "1", "strict": true}]',
            "tools.json: tool 'a': key 'strict' is unknown",
        ),
    ],
)
def test_json_mistakes(tmp_path: Path, text: str, message: str) -> None:
    assert _error(tmp_path, text, "tools.json").startswith(message)


def test_unreadable_and_missing_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"^nope\.toml: no such file$"):
        load_schema_file(tmp_path / "nope.toml", "nope.toml")
    (tmp_path / "bad.toml").write_bytes(b"\xff\xfe")
    with pytest.raises(ConfigError, match=r"^bad\.toml: cannot be read: "):
        load_schema_file(tmp_path / "bad.toml", "bad.toml")


def test_the_command_program_may_be_found_on_path(tmp_path: Path) -> None:
    (tool,) = _toml(
        tmp_path, "[[tools]]\nname = 'a'\ndescription = 'x'\ncommand = ['sh', '-c', 'cat']\n"
    )
    assert isinstance(tool.handler, CommandHandler)
    assert tool.handler.argv == ("sh", "-c", "cat")  # left for PATH to find
