"""Imports the Python code tools come from: a ``.py`` file by path, or a module by dotted name.

A file is imported under a private module name derived from its resolved path, once per
process, so a module named by two ``--tools`` files (or by a module and a TOML handler) is one
module, and registering it in ``sys.modules`` lets pydantic and ``typing.get_type_hints``
resolve its postponed annotations. Any failure while importing is the user's code failing:
it becomes one ``ConfigError`` line naming the file and the exception, never a traceback.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import re
import sys
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from realtime_console.errors import ConfigError

__all__ = ["import_module", "is_path", "one_line", "resolve_callable"]

_DOTTED = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$")


def one_line(text: str, limit: int = 300) -> str:
    """Collapses whitespace (exception messages span lines) and shortens to ``limit``."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def is_path(ref: str) -> bool:
    """A file path rather than a dotted module name."""
    return ref.endswith(".py") or "/" in ref or "\\" in ref


def import_module(ref: str, base_dir: Path | None = None) -> tuple[ModuleType, str]:
    """The module ``ref`` names and how to name it in messages (the path as given)."""
    if is_path(ref):
        return _import_file(_resolve(ref, base_dir), ref), ref
    if not _DOTTED.match(ref):
        raise ConfigError(f"{ref}: not a .py file path or a dotted module name")
    try:
        return importlib.import_module(ref), ref
    except ModuleNotFoundError as exc:
        if exc.name is not None and (ref == exc.name or ref.startswith(exc.name + ".")):
            raise ConfigError(
                f"{ref}: no module of that name on the Python path "
                f"(to load a file, give its path, e.g. ./{ref.replace('.', '/')}.py)"
            ) from None
        raise ConfigError(_import_failure(ref, exc)) from None
    except Exception as exc:
        raise ConfigError(_import_failure(ref, exc)) from None


def resolve_callable(ref: str, where: str, base_dir: Path | None = None) -> Callable[..., Any]:
    """``"pkg.mod:func"`` or ``"path/file.py:func"`` to the function; ``where`` prefixes errors."""
    module_ref, sep, attr = ref.rpartition(":")
    if not sep or not module_ref or not attr:
        raise ConfigError(f'{where} = {ref!r} must be "pkg.module:function" or "file.py:function"')
    try:
        module, _ = import_module(module_ref, base_dir)
    except ConfigError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    function = getattr(module, attr, None)
    if function is None:
        raise ConfigError(f"{where}: {module_ref} has no function {attr!r}")
    if not callable(function):
        raise ConfigError(f"{where}: {module_ref}:{attr} is not a function")
    return function  # type: ignore[no-any-return]


def _resolve(ref: str, base_dir: Path | None) -> Path:
    path = Path(ref).expanduser()
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    return path.resolve()


def _import_failure(ref: str, exc: BaseException) -> str:
    return one_line(f"{ref}: importing it raised {type(exc).__name__}: {exc}")


def _import_file(path: Path, shown: str) -> ModuleType:
    if not path.is_file():
        raise ConfigError(f"{shown}: no such file")
    digest = hashlib.sha1(str(path).encode(), usedforsecurity=False).hexdigest()[:10]
    stem = re.sub(r"\W", "_", path.stem)
    name = f"_realtime_console_tools_{stem}_{digest}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ConfigError(f"{shown}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException as exc:
        del sys.modules[name]  # a half-run module must not be found next time
        if isinstance(exc, KeyboardInterrupt):
            raise
        raise ConfigError(_import_failure(shown, exc)) from None
    return module
