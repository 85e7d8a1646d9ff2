"""The package's import graph: no cycles, and the pure core imports no I/O layer.

Read from the source (``ast``), not by importing: every module-level import counts, those under
``if TYPE_CHECKING:`` too (a cycle there is still two modules that cannot be understood apart).
Imports inside functions are the deliberate lazy ones (heavy libraries, optional parts) and are
left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import realtime_console

PACKAGE = Path(realtime_console.__file__).parent
# What the pure core (protocol/) may import from the package: itself, the exception tree, and
# the settings it turns into protocol (config.py: dataclasses and validation, no I/O of its own).
PURE_MAY_IMPORT = (
    "realtime_console.protocol",
    "realtime_console.errors",
    "realtime_console.config",
)


def module_files() -> dict[str, Path]:
    modules: dict[str, Path] = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        modules[".".join(parts)] = path
    return modules


def _module_level(body: list[ast.stmt]) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            yield node
        elif isinstance(node, ast.If | ast.Try | ast.With | ast.ClassDef):
            for block in ("body", "orelse", "finalbody", "handlers"):
                inner = getattr(node, block, [])
                for child in inner:
                    yield from _module_level(
                        child.body if isinstance(child, ast.ExceptHandler) else [child]
                    )


def imports_of(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The package's modules that ``name`` imports at module level."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in _module_level(ast.parse(path.read_text(encoding="utf-8")).body):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
            continue
        base = node.module or ""
        if node.level:
            anchor = package.split(".")[: len(package.split(".")) - (node.level - 1)]
            base = ".".join([*anchor, base] if base else anchor)
        for alias in node.names:
            # ``from pkg import submodule`` imports the submodule, not only the package.
            sub = f"{base}.{alias.name}"
            found.add(sub if sub in modules else base)
    return {m for m in found if m in modules and m != name}


def import_graph() -> dict[str, set[str]]:
    modules = module_files()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_the_checker_finds_a_cycle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert cycles(graph) == [["a", "b", "c"]]
    assert cycles({"a": {"b"}, "b": set()}) == []


def test_the_graph_is_read_from_the_source() -> None:
    graph = import_graph()
    # A runtime import, one under TYPE_CHECKING, and ``from pkg import module``.
    assert "realtime_console.errors" in graph["realtime_console.connection"]
    assert "realtime_console.dispatcher" in graph["realtime_console.connection"]
    assert "realtime_console.completions.retry" in graph["realtime_console.completions.client"]


def test_the_package_has_no_import_cycle() -> None:
    assert cycles(import_graph()) == []


def test_the_protocol_core_imports_no_outer_layer() -> None:
    graph = import_graph()
    outward = {
        name: sorted(m for m in imported if not m.startswith(PURE_MAY_IMPORT))
        for name, imported in graph.items()
        if name.startswith("realtime_console.protocol")
    }
    assert {name: bad for name, bad in outward.items() if bad} == {}
