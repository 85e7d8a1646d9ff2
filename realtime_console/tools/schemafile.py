"""Reads tools declared in a TOML or JSON file: name, description, parameters, one handler.

TOML::

    [[tools]]
    name = "get_time"
    description = "The current time in a time zone."
    parameters = { type = "object", properties = { tz = { type = "string" } } }
    python = "examples/tools/clock.py:get_time"     # or "pkg.mod:func"
    # command = ["python3", "lookup.py"]              arguments as JSON on stdin
    # result = "12:00"                                a canned answer
    # timeout_s = 5                                   this tool's own limit

JSON: the same tables as a list, bare or under ``"tools"``; an entry may carry
``"type": "function"``, so a ``session.tools`` list pastes in as is. Relative paths (handler
files, a command's program) are relative to the tool file, and commands run in its folder.
A Python handler without ``parameters`` gets them from its type hints, like a module tool.
Unknown keys, missing keys and wrong types raise ``ConfigError`` naming file, tool and key.
"""

from __future__ import annotations

import difflib
import inspect
import json
import shutil
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from realtime_console.errors import ConfigError
from realtime_console.tools.docstrings import parse_docstring
from realtime_console.tools.jsonschema import schema_problem, validate
from realtime_console.tools.model import (
    ArgumentsError,
    CannedResult,
    CommandHandler,
    Handler,
    PythonHandler,
    Tool,
    name_problem,
)
from realtime_console.tools.modules import one_line, resolve_callable

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["SCHEMA_FILE_SUFFIXES", "load_schema_file"]

SCHEMA_FILE_SUFFIXES = (".toml", ".json")
_HANDLER_KEYS = ("python", "command", "result")
_KEYS = ("name", "description", "parameters", "timeout_s", "type", *_HANDLER_KEYS)
_NO_PARAMETERS: dict[str, Any] = {"type": "object", "properties": {}}


def load_schema_file(path: Path, shown: str | None = None) -> list[Tool]:
    """The tools declared in ``path`` (``.toml`` or ``.json``); ``shown`` names it in errors."""
    source = shown or str(path)
    entries = _entries(_read(path, source), source)
    if not entries:
        raise ConfigError(f"{source}: declares no tools")
    return [_tool(entry, i, source, path.resolve().parent) for i, entry in enumerate(entries)]


def _read(path: Path, source: str) -> object:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{source}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(one_line(f"{source}: cannot be read: {exc}")) from None
    try:
        if path.suffix.lower() == ".toml":
            return tomllib.loads(text)
        return json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        kind = "TOML" if path.suffix.lower() == ".toml" else "JSON"
        raise ConfigError(one_line(f"{source}: invalid {kind}: {exc}")) from None


def _entries(document: object, source: str) -> list[object]:
    if isinstance(document, list):
        return document
    if not isinstance(document, Mapping):
        raise ConfigError(f"{source}: must hold a list of tools (or a table with a tools list)")
    for key in document:
        if key != "tools":
            raise ConfigError(f"{source}: key {key!r} is unknown (the file holds tools = [...])")
    tools = document.get("tools")
    if not isinstance(tools, list):
        raise ConfigError(f"{source}: tools must be a list of tools ([[tools]] tables in TOML)")
    return tools


def _tool(entry: object, index: int, source: str, folder: Path) -> Tool:
    if not isinstance(entry, Mapping):
        raise ConfigError(f"{source}: tools[{index}] must be a table, not {_kind(entry)}")
    name = entry.get("name")
    where = (
        f"{source}: tool {name!r}"
        if isinstance(name, str) and name
        else f"{source}: tools[{index}]"
    )
    for key in entry:
        if key not in _KEYS:
            hits = difflib.get_close_matches(str(key), _KEYS, n=1)
            hint = f" (did you mean {hits[0]}?)" if hits else f" (known: {', '.join(_KEYS)})"
            raise ConfigError(f"{where}: key {key!r} is unknown{hint}")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: name is missing or not a string")
    problem = name_problem(name)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    if entry.get("type", "function") != "function":
        raise ConfigError(f'{where}: type must be "function", not {entry["type"]!r}')
    handler_keys = [key for key in _HANDLER_KEYS if key in entry]
    if len(handler_keys) != 1:
        found = ", ".join(handler_keys) if handler_keys else "none"
        raise ConfigError(
            f"{where}: needs exactly one handler: python, command or result (found {found})"
        )
    handler_key = handler_keys[0]
    description = _optional_string(entry, "description", where)
    timeout_s = _timeout(entry, where)
    if handler_key == "python":
        return _python_tool(entry, name, description, timeout_s, where, source, folder)
    if description is None:
        raise ConfigError(f"{where}: description is missing (the model reads it to choose tools)")
    parameters = _parameters(entry, where)
    handler = _HANDLER_READERS[handler_key](entry[handler_key], f"{where}: {handler_key}", folder)
    return Tool(
        name=name,
        description=description,
        parameters=parameters,
        handler=handler,
        source=source,
        check=_SchemaCheck(parameters),
        timeout_s=timeout_s,
    )


def _python_tool(
    entry: Mapping[str, Any],
    name: str,
    description: str | None,
    timeout_s: float | None,
    where: str,
    source: str,
    folder: Path,
) -> Tool:
    ref = entry["python"]
    if not isinstance(ref, str):
        raise ConfigError(f'{where}: python must be a string ("pkg.mod:func" or "file.py:func")')
    function = resolve_callable(ref, f"{where}: python", folder)
    is_async = inspect.iscoroutinefunction(function)
    if "parameters" not in entry:
        # The function's own hints describe its parameters, as for a --tools module.
        from realtime_console.tools.signature import tool_from_function

        generated = tool_from_function(function, where, name=name, description=description or "")
        return Tool(
            name=name,
            description=generated.description,
            parameters=generated.parameters,
            handler=generated.handler,
            source=source,
            check=generated.check,
            timeout_s=timeout_s,
        )
    description = description or parse_docstring(inspect.getdoc(function)).summary or None
    if description is None:
        raise ConfigError(
            f"{where}: description is missing (the model reads it to choose tools), "
            "and the function has no docstring"
        )
    parameters = _parameters(entry, where)
    return Tool(
        name=name,
        description=description,
        parameters=parameters,
        handler=PythonHandler(function, is_async=is_async),
        source=source,
        check=_SchemaCheck(parameters),
        timeout_s=timeout_s,
    )


def _optional_string(entry: Mapping[str, Any], key: str, where: str) -> str | None:
    value = entry.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string, not {_kind(value)}")
    return value.strip()


def _timeout(entry: Mapping[str, Any], where: str) -> float | None:
    value = entry.get("timeout_s")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise ConfigError(f"{where}: timeout_s must be a number of seconds > 0, not {value!r}")
    return float(value)


def _parameters(entry: Mapping[str, Any], where: str) -> dict[str, Any]:
    if "parameters" not in entry:
        return dict(_NO_PARAMETERS)
    parameters = entry["parameters"]
    problem = schema_problem(parameters)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    return dict(parameters)


def _command(value: object, where: str, folder: Path) -> Handler:
    if (
        not isinstance(value, list)
        or not value
        or not all(isinstance(part, str) and part for part in value)
    ):
        raise ConfigError(f'{where} must be a list of non-empty strings, e.g. ["prog", "arg"]')
    program = value[0]
    if "/" in program or "\\" in program:
        path = (folder / Path(program).expanduser()).resolve()
        if not path.is_file():
            raise ConfigError(f"{where}: program {program!r} is not a file (relative to {folder})")
        program = str(path)
    elif shutil.which(program) is None:
        raise ConfigError(f"{where}: program {program!r} is not found on PATH")
    return CommandHandler((program, *value[1:]), cwd=folder)


def _result(value: object, where: str, folder: Path) -> Handler:
    if not isinstance(value, str | int | float | bool | list | dict):
        raise ConfigError(f"{where} must be a string or any JSON value, not {_kind(value)}")
    return CannedResult(value)


_HANDLER_READERS: dict[str, Callable[[object, str, Path], Handler]] = {
    "command": _command,
    "result": _result,
}


def _kind(value: object) -> str:
    names = {dict: "a table", list: "a list", str: "a string", bool: "a boolean"}
    return names.get(type(value), type(value).__name__)


class _SchemaCheck:
    """Validates arguments against the file's JSON schema; they reach the handler unchanged."""

    def __init__(self, schema: Mapping[str, Any]) -> None:
        self._schema = schema

    def __call__(self, arguments: dict[str, Any], /) -> dict[str, Any]:
        problem = validate(arguments, self._schema)
        if problem:
            raise ArgumentsError(problem)
        return arguments
