"""Reads a tool's description and its parameters' descriptions from a docstring.

The description is the first paragraph. Parameter descriptions come from a Google-style
``Args:`` section, a NumPy-style ``Parameters`` section (underlined with dashes) or Sphinx
``:param name:`` fields, whichever the docstring has. Anything unrecognised is simply not used:
a docstring is prose, and a tool must load even when its sections are unusual.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass, field

__all__ = ["Docstring", "parse_docstring"]

_GOOGLE_HEADER = re.compile(
    r"^(Args|Arguments|Parameters|Params|Keyword Args|Keyword Arguments|Other Parameters):\s*$"
)
# "name: text", "name (int): text", "name (int, optional): text", "*name: text"
_GOOGLE_ENTRY = re.compile(r"^\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_HEADERS = {"Parameters", "Other Parameters", "Keyword Arguments"}
_NUMPY_ENTRY = re.compile(r"^([\w*]+(?:\s*,\s*[\w*]+)*)\s*(?::.*)?$")
_UNDERLINE = re.compile(r"^-{3,}\s*$")
_SPHINX_PARAM = re.compile(r"^:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


@dataclass(frozen=True)
class Docstring:
    summary: str  # the first paragraph on one line; "" when there is no docstring
    params: dict[str, str] = field(default_factory=dict)


def parse_docstring(doc: str | None) -> Docstring:
    lines = inspect.cleandoc(doc or "").splitlines()
    return Docstring(summary=_first_paragraph(lines), params=_params(lines))


def _first_paragraph(lines: list[str]) -> str:
    words: list[str] = []
    for line in lines:
        if not line.strip():
            if words:
                break
            continue
        if _GOOGLE_HEADER.match(line) or _SPHINX_PARAM.match(line):
            break  # a docstring that starts with its sections has no summary
        words.append(line.strip())
    return " ".join(words)


def _params(lines: list[str]) -> dict[str, str]:
    params: dict[str, str] = {}
    for i, line in enumerate(lines):
        if _GOOGLE_HEADER.match(line.strip()) and not line.startswith(" "):
            params.update(_google_section(lines[i + 1 :]))
        elif (
            line.strip() in _NUMPY_HEADERS
            and i + 1 < len(lines)
            and _UNDERLINE.match(lines[i + 1].strip())
        ):
            params.update(_numpy_section(lines[i + 2 :]))
    params.update(_sphinx_fields(lines))
    return params


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip())


def _google_section(lines: list[str]) -> dict[str, str]:
    """Entries at the section's first indent; deeper lines continue the entry above."""
    params: dict[str, list[str]] = {}
    entry_indent: int | None = None
    current: list[str] | None = None
    for line in lines:
        if not line.strip():
            continue
        indent = _indent(line)
        if indent == 0:
            break  # the next section, or prose after the section
        if entry_indent is None:
            entry_indent = indent
        if indent <= entry_indent:
            match = _GOOGLE_ENTRY.match(line.strip())
            if match is None:
                current = None
                continue
            current = params.setdefault(match.group(1), [])
            if match.group(2):
                current.append(match.group(2).strip())
        elif current is not None:
            current.append(line.strip())
    return {name: " ".join(words) for name, words in params.items() if words}


def _numpy_section(lines: list[str]) -> dict[str, str]:
    """``name : type`` at the left margin, the description indented below it."""
    params: dict[str, list[str]] = {}
    names: list[str] = []
    for i, line in enumerate(lines):
        if not line.strip():
            continue
        if _indent(line) == 0:
            if i + 1 < len(lines) and _UNDERLINE.match(lines[i + 1].strip()):
                break  # the next section's header
            match = _NUMPY_ENTRY.match(line.strip())
            names = (
                [name.strip().lstrip("*") for name in match.group(1).split(",")] if match else []
            )
            for name in names:
                params.setdefault(name, [])
        else:
            for name in names:
                params[name].append(line.strip())
    return {name: " ".join(words) for name, words in params.items() if words}


def _sphinx_fields(lines: list[str]) -> dict[str, str]:
    params: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in lines:
        match = _SPHINX_PARAM.match(line.strip())
        if match:
            current = params.setdefault(match.group(1), [])
            if match.group(2):
                current.append(match.group(2).strip())
        elif line.strip().startswith(":") or not line.strip():
            current = None
        elif current is not None and _indent(line) > 0:
            current.append(line.strip())
    return {name: " ".join(words) for name, words in params.items() if words}
