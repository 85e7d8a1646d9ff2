"""Loads every ``--tools`` source into one :class:`ToolSet`: modules, TOML and JSON files.

A source ending in ``.toml`` or ``.json`` is a schema file; one ending in ``.py`` or holding a
path separator is a Python file; anything else is a dotted module name. Names must be unique
across all sources: two tools called ``lookup`` would leave the model's choice ambiguous.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from realtime_console.errors import ConfigError
from realtime_console.tools.model import Tool
from realtime_console.tools.modules import import_module
from realtime_console.tools.schemafile import SCHEMA_FILE_SUFFIXES, load_schema_file

__all__ = ["ToolSet", "load_source", "load_tools"]


class ToolSet(Mapping[str, Tool]):
    """The session's tools by name, in the order they were loaded."""

    def __init__(self, tools: Iterable[Tool] = ()) -> None:
        self._tools: dict[str, Tool] = {}
        for tool in tools:
            self.add(tool)

    def add(self, tool: Tool) -> None:
        earlier = self._tools.get(tool.name)
        if earlier is not None:
            where = (
                f"twice in {tool.source}"
                if earlier.source == tool.source
                else f"in {earlier.source} and in {tool.source}"
            )
            raise ConfigError(f"tool {tool.name!r} is defined {where}; tool names must be unique")
        self._tools[tool.name] = tool

    def __getitem__(self, name: str) -> Tool:
        return self._tools[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._tools)

    def __len__(self) -> int:
        return len(self._tools)

    def session_tools(self) -> list[dict[str, Any]]:
        """The ``session.tools`` list, checked against the SDK's types."""
        from realtime_console.tools.session import validated_session_tools

        return validated_session_tools(tool.session_entry() for tool in self._tools.values())


def load_source(source: str, base_dir: Path | None = None) -> list[Tool]:
    """The tools of one ``--tools`` value; relative paths are relative to ``base_dir`` (or cwd)."""
    if source.lower().endswith(SCHEMA_FILE_SUFFIXES):
        path = Path(source).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        return load_schema_file(path, source)
    from realtime_console.tools.signature import tools_from_module

    module, shown = import_module(source, base_dir)
    return tools_from_module(module, shown)


def load_tools(sources: Iterable[str], base_dir: Path | None = None) -> ToolSet:
    """All tools of all ``sources``, in order; duplicate names raise ``ConfigError``."""
    tools = ToolSet()
    for source in sources:
        for tool in load_source(source, base_dir):
            tools.add(tool)
    return tools
