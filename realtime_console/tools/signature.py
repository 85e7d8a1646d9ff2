"""Turns typed, documented Python functions into tools: schema by pydantic, text by docstring.

The parameters' JSON schema and the arguments' validation both come from one pydantic model
built from the signature (``create_model``), so what the model is told and what is checked
cannot drift apart. Fields carry internal names with the parameter names as aliases: a
parameter may then be called ``json`` or ``model_config`` without clashing with ``BaseModel``.
"""

from __future__ import annotations

import inspect
import typing
import warnings
from collections.abc import Callable, Mapping
from types import ModuleType
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model
from pydantic.fields import FieldInfo
from pydantic.json_schema import PydanticJsonSchemaWarning

from realtime_console.errors import ConfigError
from realtime_console.tools.docstrings import parse_docstring
from realtime_console.tools.model import ArgumentsError, PythonHandler, Tool, name_problem
from realtime_console.tools.modules import one_line

__all__ = ["module_functions", "tool_from_function", "tools_from_module"]

_VALUE_KEYWORDS = frozenset({"default", "enum", "const", "examples"})
_ACCEPTED_KINDS = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def module_functions(module: ModuleType) -> list[Callable[..., Any]]:
    """The module's public functions, in definition order.

    Public: no leading underscore, listed in ``__all__`` when the module has one, and defined
    in this module (an imported ``from os.path import join`` is not a tool).
    """
    exported = getattr(module, "__all__", None)
    functions: list[Callable[..., Any]] = []
    for name, value in vars(module).items():
        if name.startswith("_") or (exported is not None and name not in exported):
            continue
        if inspect.isfunction(value) and value.__module__ == module.__name__:
            functions.append(value)
    return functions


def tools_from_module(module: ModuleType, source: str) -> list[Tool]:
    tools = [tool_from_function(function, source) for function in module_functions(module)]
    if not tools:
        raise ConfigError(
            f"{source}: defines no public function to use as a tool "
            "(a public function has no leading underscore)"
        )
    return tools


def tool_from_function(
    function: Callable[..., Any], source: str, *, name: str | None = None, description: str = ""
) -> Tool:
    """The tool for ``function``; ``source`` names the file or module in error messages.

    ``name`` and ``description`` override the function's own (tools defined in a TOML file
    with a Python handler take theirs from the file but still get the function's docstring
    when they give none).
    """
    tool_name = name or function.__name__
    where = f"{source}: function {function.__name__}"
    problem = name_problem(tool_name)
    if problem:
        raise ConfigError(f"{where}: {problem}")
    doc = parse_docstring(inspect.getdoc(function))
    summary = description or doc.summary
    if not summary:
        raise ConfigError(
            f"{where} has no docstring (the model reads it as the tool's description)"
        )
    model = _arguments_model(function, tool_name, doc.params, where)
    try:
        with warnings.catch_warnings():
            # A default with no JSON form is left out of the schema (the model need not know
            # it); pydantic's warning about that would print a multi-line notice.
            warnings.simplefilter("ignore", PydanticJsonSchemaWarning)
            schema = _without_titles(model.model_json_schema())
    except Exception as exc:  # pydantic raises several kinds for types it cannot describe
        raise ConfigError(one_line(f"{where}: its parameters have no JSON schema: {exc}")) from None
    return Tool(
        name=tool_name,
        description=summary,
        parameters=schema,
        handler=PythonHandler(function, is_async=inspect.iscoroutinefunction(function)),
        source=source,
        check=_ModelCheck(model),
    )


def _arguments_model(
    function: Callable[..., Any], name: str, described: Mapping[str, str], where: str
) -> type[BaseModel]:
    try:
        signature = inspect.signature(function)
        hints = typing.get_type_hints(function, include_extras=True)
    except Exception as exc:  # a NameError in a postponed annotation, an unreadable signature
        raise ConfigError(one_line(f"{where}: its type hints cannot be read: {exc}")) from None
    fields: dict[str, Any] = {}
    for i, parameter in enumerate(signature.parameters.values()):
        if parameter.kind not in _ACCEPTED_KINDS:
            raise ConfigError(
                f"{where}: parameter {parameter.name!r} must be an ordinary named parameter "
                "(the model passes arguments by name; no *args, **kwargs or positional-only)"
            )
        if parameter.name not in hints:
            raise ConfigError(f"{where}: parameter {parameter.name!r} has no type hint")
        annotation = hints[parameter.name]
        field_kwargs: dict[str, Any] = {"alias": parameter.name}
        if parameter.name in described and not _has_description(annotation):
            field_kwargs["description"] = described[parameter.name]
        if parameter.default is not inspect.Parameter.empty:
            field_kwargs["default"] = parameter.default
        fields[f"p{i}"] = (annotation, Field(**field_kwargs))
    try:
        return create_model(
            name,
            __config__=ConfigDict(extra="forbid", arbitrary_types_allowed=False),
            **fields,
        )
    except Exception as exc:  # pydantic cannot build a validator for the type
        raise ConfigError(
            one_line(f"{where}: its parameter types are not supported: {exc}")
        ) from None


def _has_description(annotation: Any) -> bool:
    """``Annotated[..., Field(description=...)]``: that description wins over the docstring."""
    if typing.get_origin(annotation) is not typing.Annotated:
        return False
    return any(
        isinstance(meta, FieldInfo) and meta.description for meta in typing.get_args(annotation)[1:]
    )


def _without_titles(schema: Any) -> Any:
    """Drops pydantic's generated ``title`` keywords: noise the model pays tokens for."""
    if isinstance(schema, list):
        return [_without_titles(item) for item in schema]
    if not isinstance(schema, dict):
        return schema
    cleaned: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title":
            continue
        if key in _VALUE_KEYWORDS:
            cleaned[key] = value  # data, not schema: a default may well have a "title" key
            continue
        if key in ("properties", "$defs") and isinstance(value, dict):
            # Keys here are names (a parameter may be called "title"), not keywords.
            cleaned[key] = {name: _without_titles(sub) for name, sub in value.items()}
        else:
            cleaned[key] = _without_titles(value)
    return cleaned


class _ModelCheck:
    """Validates arguments with the pydantic model; returns the converted keyword arguments."""

    def __init__(self, model: type[BaseModel]) -> None:
        self._model = model

    def __call__(self, arguments: dict[str, Any], /) -> dict[str, Any]:
        try:
            validated = self._model.model_validate(arguments)
        except ValidationError as exc:
            raise ArgumentsError(_first_problem(exc)) from None
        return {
            info.alias or field: getattr(validated, field)
            for field, info in type(validated).model_fields.items()
        }


def _first_problem(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False)
    first = errors[0]
    where = ".".join(str(part) for part in first["loc"]) or "arguments"
    more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {first['msg']}{more}"
